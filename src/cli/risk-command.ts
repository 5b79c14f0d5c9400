import { resolve } from 'node:path';
import { loadScenario, type Scenario } from '../adapters/sim/load-scenario.js';
import { ScenarioRun } from '../adapters/sim/scenario-run.js';
import { parseGuardConfig } from '../app/guard-config-schema.js';
import { formatNyTime } from '../core/calendar.js';
import { contractKey } from '../core/contract.js';
import { LegguardError } from '../core/errors.js';
import { EpochMs, Qty } from '../core/quantity.js';
import { assessStrategy, flagged, strategyAtRisk, type RiskEnvironment, type StrategyRisk } from '../core/rules/assignment-risk.js';
import { formatMinute } from '../core/rules/early-assignment-settings.js';
import type { Command, CommandIo } from './command.js';
import { parseCommandArgs } from './parse-args.js';

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/** The risk of every short leg of every strategy of a scenario, at a time within it (the market as scripted then). */
export async function scenarioRisk(scenario: Scenario, at: EpochMs): Promise<{ at: EpochMs; strategies: StrategyRisk[]; actBy: string }> {
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
  const strategies = scenario.strategies.map((def) => {
    const net = new Map<string, { contract: (typeof def.legs)[number]['contract']; qty: number }>();
    for (const l of def.legs) {
      const k = contractKey(l.contract);
      net.set(k, { contract: l.contract, qty: (net.get(k)?.qty ?? 0) + l.qty });
    }
    const holdings = [...net.values()].filter((h) => h.qty !== 0).map((h) => ({ contract: h.contract, qty: Qty.unsafe(h.qty) }));
    return assessStrategy(
      { strategy: def, holdings, now: at, spot: (s) => (m.has(s) ? m.price(s) : null), quote: (c) => m.quote(c) },
      env,
    );
  });
  return { at, strategies, actBy: formatMinute(config.earlyAssignment.actByMinute) };
}

function fmtNumber(v: string | number | null): string {
  if (v === null) return '-';
  if (typeof v === 'string') return v;
  return Number.isInteger(v) ? String(v) : v.toFixed(4);
}

function describe(r: StrategyRisk[], at: EpochMs): string[] {
  const lines: string[] = [`assignment risk at ${formatNyTime(at)}`];
  for (const s of r) {
    lines.push(`${s.strategyId} (${s.kind}${s.planned ? ', assignment is the plan: reported, not acted on' : ''})`);
    if (s.legs.length === 0) lines.push('  no short option legs');
    for (const leg of s.legs) {
      lines.push(`  ${leg.qty} ${leg.leg}${leg.exempt ? `: ${leg.exempt}` : ''}`);
      if (leg.findings.length === 0 && !leg.exempt) lines.push('    no rule applies now (no dividend before expiry, not expiration day)');
      for (const f of leg.findings) {
        const when =
          f.action === 'none' ? (f.policy === 'off' && flagged(f) ? 'rule off: nothing' : 'nothing to do') : `${f.action} ${f.status === 'watch' ? `at ${formatNyTime(f.actAt!)} if still at risk` : 'now'}`;
        lines.push(`    ${f.rule}: ${f.status.toUpperCase()} (policy ${f.policy}) -> ${when}`);
        lines.push(`      ${f.reason}`);
        lines.push(`      ${Object.entries(f.numbers).map(([k, v]) => `${k} ${fmtNumber(v)}`).join(', ')}`);
      }
    }
  }
  return lines;
}

/** `legguard risk --scenario FILE [--at TIME] [--json]`: exit 0 nothing at risk, 1 something at risk, 2 bad input. */
export function riskCommand(): Command {
  return {
    name: 'risk',
    summary: 'every short leg of every strategy with its early-assignment flag, the numbers, and what the guard will do (exit 1 when at risk)',
    usage: 'legguard risk --scenario FILE [--at TIME] [--json]',
    async run(args: readonly string[], io: CommandIo): Promise<number> {
      const { values, positionals } = parseCommandArgs('risk', args, { scenario: { type: 'string' }, at: { type: 'string' }, json: { type: 'boolean' }, config: { type: 'string' } });
      if (positionals.length > 0) throw new LegguardError('INVALID_INPUT', `risk: unexpected argument ${JSON.stringify(positionals[0])}`);
      if (values.config !== undefined) {
        throw new LegguardError('INVALID_INPUT', 'risk: --config (against the running broker) is not supported yet; use --scenario FILE [--at TIME]');
      }
      if (typeof values.scenario !== 'string') throw new LegguardError('INVALID_INPUT', 'risk: give --scenario FILE (and optionally --at TIME)');
      const scenario = await loadScenario(resolve(io.cwd, values.scenario));
      let at = scenario.start;
      if (values.at !== undefined) {
        const s = String(values.at);
        const t = Date.parse(s);
        if (!INSTANT.test(s) || Number.isNaN(t)) throw new LegguardError('INVALID_INPUT', `risk: --at must be a time with a UTC offset, like "2026-02-12T10:00:00-05:00"; got ${JSON.stringify(s)}`);
        if (t < scenario.start || t > scenario.until) {
          throw new LegguardError('INVALID_INPUT', `risk: --at ${s} is outside the scenario (${new Date(scenario.start).toISOString()} to ${new Date(scenario.until).toISOString()})`);
        }
        at = EpochMs.unsafe(t);
      }
      const r = await scenarioRisk(scenario, at);
      const risky = r.strategies.some(strategyAtRisk);
      if (values.json === true) {
        const out = {
          at: new Date(at).toISOString(),
          actBy: r.actBy,
          atRisk: risky,
          strategies: r.strategies.map((s) => ({
            ...s,
            legs: s.legs.map((l) => ({
              ...l,
              contract: undefined,
              findings: l.findings.map((f) => ({ ...f, actAt: f.actAt === null ? null : new Date(f.actAt).toISOString(), deadline: f.deadline === null ? null : new Date(f.deadline).toISOString() })),
            })),
          })),
        };
        io.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      } else {
        for (const line of describe(r.strategies, at)) io.stdout.write(`${line}\n`);
        io.stdout.write(risky ? 'at risk\n' : 'nothing at risk\n');
      }
      return risky ? 1 : 0;
    },
  };
}
