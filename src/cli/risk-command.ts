import { resolve } from 'node:path';
import { loadScenario, type Scenario } from '../adapters/sim/load-scenario.js';
import { ScenarioRun } from '../adapters/sim/scenario-run.js';
import type { AssessedStrategy, RiskReport } from '../app/broker-risk.js';
import { parseGuardConfig } from '../app/guard-config-schema.js';
import { legHoldings } from '../core/broker-holdings.js';
import type { Contract } from '../core/contract.js';
import { LegguardError } from '../core/errors.js';
import { EpochMs } from '../core/quantity.js';
import type { QuoteView } from '../core/quote-view.js';
import { assessStrategy, type RiskEnvironment } from '../core/rules/assignment-risk.js';
import { rollForRisk } from '../core/rules/roll.js';
import { formatMinute } from '../core/rules/early-assignment-settings.js';
import type { Command, CommandIo } from './command.js';
import { resolveConfig } from './config-source.js';
import { parseCommandArgs } from './parse-args.js';
import { brokerWhere, defaultRiskBrokerDeps, riskFromBroker, type RiskBrokerDeps } from './risk-broker.js';
import { formatRiskReport, reportAtRisk, riskReportJson } from './risk-report.js';

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/** The risk of every short leg of every strategy of a scenario, at a time within it (the market as scripted then). */
export async function scenarioRisk(scenario: Scenario, at: EpochMs): Promise<{ at: EpochMs; strategies: AssessedStrategy[]; actBy: string }> {
  const config = parseGuardConfig(scenario.guard, scenario.file);
  const run = new ScenarioRun(scenario);
  // The scripted market up to `at` (prices, volatilities); the account is as the strategies define it.
  await run.clock.advanceTo(at);
  const m = run.market;
  const env: RiskEnvironment = {
    settings: config.earlyAssignment,
    rate: m.settings.rate,
    volatility: (s) => (m.has(s) ? m.underlying(s).volatility : null),
    dividends: (s) => (m.has(s) ? m.underlying(s).dividends : []),
  };
  const spot = (s: string): number | null => (m.has(s) ? m.price(s) : null);
  const quote = (c: Contract): QuoteView | null => m.quote(c);
  const strategies = scenario.strategies.map((def) => {
    const holdings = legHoldings(def.legs);
    const risk = assessStrategy({ strategy: def, holdings, now: at, spot, quote }, env);
    const roll = rollForRisk(risk, holdings, { now: at, spot, quote, rate: env.rate, volatility: env.volatility, dividends: env.dividends });
    return { ...risk, roll };
  });
  return { at, strategies, actBy: formatMinute(config.earlyAssignment.actByMinute) };
}

/**
 * `legguard risk --config FILE [--client-id N] [--timeout SECONDS] [--json]` against the running broker, read only, or
 * `legguard risk --scenario FILE [--at TIME] [--json]` offline. Exit 0 nothing at risk, 1 something at risk, 2 bad
 * input, 7 the broker unreachable.
 */
export function riskCommand(deps: RiskBrokerDeps = defaultRiskBrokerDeps): Command {
  return {
    name: 'risk',
    summary: 'every short leg of every strategy with its early-assignment flag, the numbers, and what the guard will do (exit 1 when at risk)',
    usage:
      'legguard risk --config legguard.yaml [--account ID] [--ib host:port] [--client-id N] [--timeout SECONDS] [--json]   (the running broker, read only)\n' +
      '       legguard risk --scenario FILE [--at TIME] [--json]   (offline)\n' +
      'exit 0 nothing at risk, 1 something at risk, 2 bad input, 7 TWS / IB Gateway unreachable',
    async run(args: readonly string[], io: CommandIo): Promise<number> {
      const { values, positionals } = parseCommandArgs('risk', args, {
        scenario: { type: 'string' },
        at: { type: 'string' },
        json: { type: 'boolean' },
        config: { type: 'string' },
        ib: { type: 'string' },
        'client-id': { type: 'string' },
        timeout: { type: 'string' },
        account: { type: 'string' },
      });
      if (positionals.length > 0) throw new LegguardError('INVALID_INPUT', `unexpected argument ${JSON.stringify(positionals[0])}`);
      const str = (k: string): string | undefined => (typeof values[k] === 'string' ? values[k] : undefined);
      const json = values.json === true;
      if (str('config') !== undefined) {
        const stray = ['scenario', 'at'].filter((k) => str(k) !== undefined);
        if (stray.length > 0) throw new LegguardError('INVALID_INPUT', `--config reads the running broker; --${stray.join(' and --')} belong${stray.length === 1 ? 's' : ''} to --scenario`);
        const config = await resolveConfig({ config: str('config'), ib: str('ib'), account: str('account') }, io, Date.now());
        const { report, clientId } = await riskFromBroker(config, { clientId: str('client-id'), timeout: str('timeout') }, io, deps);
        const where = brokerWhere(config, clientId);
        if (json) {
          io.stdout.write(`${JSON.stringify(riskReportJson(report, { source: 'broker', broker: { host: config.broker.host, port: config.broker.port, clientId }, account: config.account }), null, 2)}\n`);
        } else {
          for (const line of formatRiskReport(report, `${config.account} at ${where}, the broker's time`)) io.stdout.write(`${line}\n`);
        }
        return reportAtRisk(report) ? 1 : 0;
      }
      const stray = ['ib', 'client-id', 'timeout'].filter((k) => str(k) !== undefined);
      if (typeof values.scenario !== 'string') throw new LegguardError('INVALID_INPUT', 'give --config FILE (the running broker, read only) or --scenario FILE (and optionally --at TIME)');
      if (stray.length > 0) throw new LegguardError('INVALID_INPUT', `--${stray.join(', --')} only with --config (the running broker)`);
      const scenario = await loadScenario(resolve(io.cwd, values.scenario));
      let at = scenario.start;
      if (values.at !== undefined) {
        const s = String(values.at);
        const t = Date.parse(s);
        if (!INSTANT.test(s) || Number.isNaN(t)) throw new LegguardError('INVALID_INPUT', `--at must be a time with a UTC offset, like "2026-02-12T10:00:00-05:00"; got ${JSON.stringify(s)}`);
        if (t < scenario.start || t > scenario.until) {
          throw new LegguardError('INVALID_INPUT', `--at ${s} is outside the scenario (${new Date(scenario.start).toISOString()} to ${new Date(scenario.until).toISOString()})`);
        }
        at = EpochMs.unsafe(t);
      }
      const r = await scenarioRisk(scenario, at);
      const report: RiskReport = { ...r, notes: [] };
      if (json) io.stdout.write(`${JSON.stringify(riskReportJson(report, { source: 'scenario', scenario: values.scenario }), null, 2)}\n`);
      else for (const line of formatRiskReport(report, `scenario ${scenario.name}`)) io.stdout.write(`${line}\n`);
      return reportAtRisk(report) ? 1 : 0;
    },
  };
}
