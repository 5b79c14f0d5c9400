import { fstatSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { formatNyTime } from '../adapters/alerts/format-alert.js';
import { loadScenario, parseScenario, type Scenario } from '../adapters/sim/load-scenario.js';
import { ScenarioRun } from '../adapters/sim/scenario-run.js';
import { checkResetWindow, type ResetWindow } from '../adapters/tws-sim/nightly-reset.js';
import { checkShapeOptions, type ShapeOptions } from '../adapters/tws-sim/outgoing-shaper.js';
import { Lockstep } from '../adapters/tws-sim/lockstep.js';
import { simLoginBackend } from '../adapters/tws-sim/sim-backend.js';
import { TwsGateway } from '../adapters/tws-sim/tws-gateway.js';
import { LegguardError } from '../core/errors.js';
import type { Command, CommandIo } from './command.js';

export interface SimGatewayDeps {
  /** Resolves when the gateway should stop (SIGINT/SIGTERM by default; tests resolve it themselves). */
  readonly stopSignal: () => Promise<string>;
  /** Real time now, epoch ms (the built-in world starts at it). */
  readonly now: () => number;
  /** Reads operator commands (`drop`, `notice 1100` ...) line by line; null: none. */
  readonly input: NodeJS.ReadableStream | null;
}

const defaultDeps: SimGatewayDeps = {
  stopSignal: () =>
    new Promise((res) => {
      process.once('SIGINT', () => res('SIGINT'));
      process.once('SIGTERM', () => res('SIGTERM'));
    }),
  now: () => Date.now(),
  input: commandInput(),
};

/** Operator commands come from a terminal or a pipe (a drill's test writes `advance ...`); not from /dev/null. */
function commandInput(): NodeJS.ReadableStream | null {
  if (process.stdin.isTTY) return process.stdin;
  try {
    const st = fstatSync(0);
    return st.isFIFO() || st.isSocket() ? process.stdin : null;
  } catch {
    return null;
  }
}

/** The world served when no scenario is given: a flat paper account, a few underlyings, starting now. */
function builtInWorld(now: number): Scenario {
  const start = new Date(Math.floor(now / 1000) * 1000).toISOString();
  const until = new Date(now + 366 * 86_400_000).toISOString();
  const text = [
    'name: built-in sim world (flat account)',
    `start: "${start}"`,
    'account: DU0000001',
    'underlyings:',
    '  SPY: { price: 445.00, volatility: 0.18 }',
    '  QQQ: { price: 380.00, volatility: 0.22 }',
    '  IWM: { price: 195.00, volatility: 0.24 }',
    '  SPX: { price: 4450, volatility: 0.16, kind: index }',
    `until: "${until}"`,
  ].join('\n');
  return parseScenario(text, '(built-in)');
}

/** `--reset 23:45/60/notice` -> a reset window; minutes default 60, mode default drop. */
function parseReset(text: string): ResetWindow {
  const [start = '', minutes = '60', mode = 'drop'] = text.split('/');
  const w: ResetWindow = { start, minutes: Number(minutes), mode: mode as ResetWindow['mode'] };
  checkResetWindow(w);
  return w;
}

/** `--shape delay=50,duplicate=0.1,reorder=3,seed=7` -> fault shaping of everything sent. */
function parseShape(text: string): ShapeOptions {
  const o: Record<string, number> = {};
  for (const part of text.split(',').filter((p) => p.trim() !== '')) {
    const [k = '', v = ''] = part.split('=');
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new LegguardError('INVALID_INPUT', `--shape: ${part} needs a number (key=value)`);
    const key = { delay: 'delayMs', duplicate: 'duplicateRate', reorder: 'reorderWindow', seed: 'seed' }[k.trim()];
    if (!key) throw new LegguardError('INVALID_INPUT', `--shape: unknown key ${JSON.stringify(k)} (delay, duplicate, reorder, seed)`);
    o[key] = n;
  }
  checkShapeOptions(o);
  return o;
}

function intOption(value: string | undefined, name: string, def: number, min: number, max: number): number {
  if (value === undefined) return def;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new LegguardError('INVALID_INPUT', `--${name} must be a whole number from ${min} to ${max}; got ${JSON.stringify(value)}`);
  return n;
}

const USAGE =
  'legguard sim-gateway [--port 7497] [--host 127.0.0.1] [--scenario file.yaml [--scenario account2.yaml ...]] [--speed 1] [--lockstep] [--master-client-id N] ' +
  '[--reset HH:MM[/minutes[/drop|notice]]] [--shape delay=ms,duplicate=p,reorder=n,seed=s]';

/**
 * `legguard sim-gateway`: a TWS API server (server version 193) in front of legguard's simulator, so any TWS API
 * client (legguard itself, or your own) can drill against an account where assignments happen on cue. The scenario
 * runs on the real clock (`--speed 60` runs a minute of scenario time per second); its scripted assignments,
 * trades, liquidations and disconnects reach clients as IB would show them. With `--lockstep` scenario time waits
 * for the guard instead (`legguard run --clock lockstep`): it starts when the guard has started up and moves only
 * when the guard has handled everything (`--speed` then caps it). Typed commands (`drop`, `notice 1100`,
 * `notice 1102`, `advance <time>`, `status`, `quit`) inject faults while it runs.
 */
export function simGatewayCommand(deps: SimGatewayDeps = defaultDeps): Command {
  return {
    name: 'sim-gateway',
    summary: 'serve the simulator over the TWS API (port 7497) for any TWS client to drill against',
    usage: USAGE,
    async run(args: readonly string[], io: CommandIo): Promise<number> {
      let values: Record<string, string | boolean | string[] | undefined>;
      try {
        ({ values } = parseArgs({
          args: [...args],
          options: {
            port: { type: 'string' },
            host: { type: 'string' },
            scenario: { type: 'string', multiple: true },
            speed: { type: 'string' },
            'master-client-id': { type: 'string' },
            reset: { type: 'string' },
            shape: { type: 'string' },
            lockstep: { type: 'boolean' },
          },
          strict: true,
          allowPositionals: false,
        }));
      } catch (e) {
        throw new LegguardError('INVALID_INPUT', `${e instanceof Error ? e.message : String(e)}; usage: ${USAGE}`);
      }
      const str = (k: string): string | undefined => (typeof values[k] === 'string' ? values[k] : undefined);
      const scenarioFiles = Array.isArray(values.scenario) ? values.scenario : [];
      const lockstep = values.lockstep === true;
      const port = intOption(str('port'), 'port', 7497, 0, 65535);
      const speed = str('speed') === undefined ? 1 : Number(str('speed'));
      if (!(Number.isFinite(speed) && speed > 0 && speed <= 1_000_000)) {
        throw new LegguardError('INVALID_INPUT', `--speed must be a number above 0 and at most 1000000 (1 = real time); got ${JSON.stringify(values.speed)}`);
      }
      const master = str('master-client-id') === undefined ? 'all' : intOption(str('master-client-id'), 'master-client-id', 0, 0, 2 ** 31 - 1);
      const reset = str('reset') === undefined ? null : parseReset(str('reset')!);
      const shape = str('shape') === undefined ? null : parseShape(str('shape')!);
      const scenarios = scenarioFiles.length === 0 ? [builtInWorld(deps.now())] : await Promise.all(scenarioFiles.map((f) => loadScenario(resolve(io.cwd, f))));
      const runs = accountRuns(scenarios, scenarioFiles);
      const run = runs[0]!;
      // The world runs until the last account's scenario ends.
      const scenario = { ...run.scenario, until: Math.max(...runs.map((r) => r.scenario.until)) as Scenario['until'] };

      const out = (line: string): void => {
        io.stdout.write(`${line}\n`);
      };
      const stamp = (): string => formatNyTime(run.clock.now());
      const several = runs.length > 1;
      for (const r of runs) {
        const who = several ? ` [${r.broker.account}]` : '';
        r.onApplied((a) => out(`${formatNyTime(a.at)}  scenario${who}: ${a.text}`));
        r.broker.onActivity((a) => {
          if (a.kind !== 'price') out(`${formatNyTime(a.at)}  sim${who}: ${a.text}`);
        });
      }
      const gateway = new TwsGateway({
        backend: simLoginBackend(runs.map((r) => r.broker)),
        port,
        ...(str('host') !== undefined ? { host: str('host')! } : {}),
        masterClientId: master,
        log: (l) => out(`${stamp()}  gateway: ${l}`),
      });
      const { host, port: bound } = await gateway.start();
      if (reset) gateway.setNightlyReset(reset);
      if (shape) gateway.shapeOutgoing(shape);
      out(`legguard sim-gateway: TWS API on ${host}:${bound}, server version 193, account${several ? 's' : ''} ${runs.map((r) => r.broker.account).join(', ')}`);
      const pace = lockstep
        ? `lockstep with its clients${str('speed') === undefined ? '' : `, at most x${speed}`}; time starts when the first has started up`
        : `speed x${speed}`;
      out(`scenario: ${runs.map((r) => r.scenario.name).join(' + ')} (${formatNyTime(scenario.start)} to ${formatNyTime(scenario.until)}, ${pace})`);
      out(`commands: drop | notice <code> (1100, 1101, 1102, 2110 ...) |${lockstep ? ' advance <time|+30m> | pause | resume |' : ''} status | quit`);

      const state: { failure: LegguardError | null } = { failure: null };
      let stop!: (why: string) => void;
      const stopped = new Promise<string>((res) => (stop = res));
      const finishedLine = (): void => out(`${stamp()}  scenario finished; the gateway keeps serving the account as it stands (quit to stop)`);
      const step = lockstep
        ? new Lockstep({
            clock: run.clock,
            until: scenario.until,
            speed: str('speed') === undefined ? null : speed,
            refusing: () => gateway.isRefusing,
            settle: () => yieldToLoop(),
            perf: () => performance.now(),
            log: (l) => out(`${stamp()}  gateway: ${l}`),
            onFinished: finishedLine,
            onFailure: (e) => {
              state.failure = e;
              stop('scenario failed');
            },
          })
        : null;
      if (step) gateway.attachLockstep(step);
      const pump = step ? null : freeRunning(run, scenario, speed, finishedLine, (e) => {
        state.failure = e;
        stop('scenario failed');
      });

      const rl = deps.input ? createInterface({ input: deps.input }) : null;
      rl?.on('line', (line) => operatorCommand(line.trim(), gateway, runs, step, out, stop));
      void deps.stopSignal().then((why) => stop(why));
      const why = await stopped;
      if (pump) clearInterval(pump);
      step?.stop();
      rl?.close();
      await gateway.stop();
      if (state.failure !== null) throw state.failure;
      out(`legguard sim-gateway: stopped (${why})`);
      return 0;
    },
  };
}

/**
 * One run per scenario file, one account each, on one clock and one market (the first file's underlyings and
 * prices): the accounts of one login. Their starts must be the same instant and their accounts differ.
 */
function accountRuns(scenarios: readonly Scenario[], files: readonly string[]): ScenarioRun[] {
  const first = new ScenarioRun(scenarios[0]!);
  const runs = [first];
  const seen = new Map<string, string>([[first.broker.account, files[0] ?? '(built-in)']]);
  scenarios.slice(1).forEach((sc, i) => {
    const file = files[i + 1]!;
    if (sc.start !== first.scenario.start) {
      throw new LegguardError(
        'INVALID_INPUT',
        `--scenario ${file}: starts at ${new Date(sc.start).toISOString()}, ${files[0]!} at ${new Date(first.scenario.start).toISOString()}: the accounts of one login share one clock, so their scenarios start together`,
      );
    }
    const other = seen.get(sc.account);
    if (other !== undefined) throw new LegguardError('INVALID_INPUT', `--scenario ${file}: account ${sc.account} is also ${other}'s: one scenario per account`);
    seen.set(sc.account, file);
    runs.push(new ScenarioRun(sc, { clock: first.clock, market: first.market, idSpace: i + 1 }));
  });
  return runs;
}

/** Scenario time follows real time from now on, `speed` times as fast, whatever the clients do. */
function freeRunning(run: ScenarioRun, scenario: Scenario, speed: number, finishedLine: () => void, fail: (e: LegguardError) => void): NodeJS.Timeout {
  const realStart = performance.now();
  let busy = false;
  let finished = false;
  let failed = false;
  return setInterval(() => {
    if (busy || failed) return;
    busy = true;
    const target = Math.min(scenario.until, scenario.start + (performance.now() - realStart) * speed);
    run.clock
      .advanceTo(Math.max(target, run.clock.now()), () => yieldToLoop())
      .then(() => {
        if (!finished && run.clock.now() >= scenario.until) {
          finished = true;
          finishedLine();
        }
      })
      .catch((e: unknown) => {
        failed = true;
        fail(LegguardError.is(e) ? e : new LegguardError('INTERNAL', e instanceof Error ? e.message : String(e), {}, { cause: e }));
      })
      .finally(() => {
        busy = false;
      });
  }, 20);
}

function operatorCommand(line: string, gw: TwsGateway, runs: readonly ScenarioRun[], lockstep: Lockstep | null, out: (l: string) => void, stop: (why: string) => void): void {
  const run = runs[0]!;
  const [cmd = '', arg] = line.split(/\s+/);
  switch (cmd) {
    case '':
      return;
    case 'drop':
      gw.dropConnections();
      return;
    case 'notice': {
      const code = Number(arg);
      if (!Number.isInteger(code) || code <= 0) {
        out('notice needs a code: notice 1100 | notice 1101 | notice 1102 | notice 2110');
        return;
      }
      gw.notice(code);
      return;
    }
    case 'advance': {
      if (!lockstep) {
        out('advance: only with --lockstep (otherwise time follows the real clock)');
        return;
      }
      const t = parseAdvance(arg ?? '', run.clock.now());
      out(t === null ? 'advance needs a time: advance 2026-01-28T10:01:00-05:00 | advance +30m | advance +2h' : `${formatNyTime(run.clock.now())}  ${lockstep.advance(t)}`);
      return;
    }
    case 'pause':
    case 'resume':
      out(lockstep ? `${formatNyTime(run.clock.now())}  gateway: ${lockstep.pause(cmd === 'pause')}` : `${cmd}: only with --lockstep`);
      return;
    case 'status': {
      out(`${formatNyTime(run.clock.now())}  clients: ${gw.sessionsInfo().map((s) => `${s.clientId ?? '-'}@${s.remote}`).join(', ') || 'none'}`);
      for (const r of runs) {
        for (const p of r.broker.allPositions()) {
          out(`  position ${runs.length > 1 ? `${r.broker.account} ` : ''}${p.contract.symbol} ${p.contract.secType === 'OPT' ? `${p.contract.expiry} ${p.contract.strike} ${p.contract.right}` : ''} ${p.qty}`);
        }
      }
      return;
    }
    case 'quit':
    case 'exit':
      stop('quit');
      return;
    default:
      out(`unknown command ${JSON.stringify(cmd)}: drop | notice <code> | advance <time> | pause | resume | status | quit`);
  }
}

/** `+30m`, `+2h`, `+90s` after `now`, or an ISO time with its offset; null when neither. */
function parseAdvance(text: string, now: number): number | null {
  const rel = /^\+(\d{1,6})([smhd])$/.exec(text);
  if (rel) return now + Number(rel[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as 's' | 'm' | 'h' | 'd'];
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2})$/.test(text)) return null;
  const t = Date.parse(text);
  return Number.isFinite(t) ? t : null;
}
