// The real daemon at 10,000 strategies: `legguard run` as a process (the compiled dist/, as installed) against
// `legguard sim-gateway --lockstep` holding the account's positions, the strategies listed in the config file, the
// store SQLite in a temp directory. Rows: process start to the "guarding N strategies" line, on an empty store
// (the config's strategies are written at start) and on a restart (the store has them); the daemon's RSS once it
// guards (VmRSS, and VmHWM: the peak of the start-up); and, for comparison, the first start-up from the TypeScript
// source through tsx (a development checkout).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { StrategyDefinition } from '../src/core/strategy.js';
import { BENCH_ACCOUNT, BENCH_START, benchStrategies, netPositions, UNDERLYINGS } from './bench-world.js';
import { summarize, type BenchRow } from './bench-row.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'legguard.mjs');
const N = 10_000;
const RUNS = 3;
const START_TARGET_MS = 2000;
const RSS_TARGET_MB = 200;
const MB = 1e6;
const SETTLE_MS = 5000;

/** A strategy as the config file and the scenario file state it. */
function yamlStrategy(d: StrategyDefinition): Record<string, unknown> {
  return {
    id: d.id,
    legs: d.legs.map((l) => {
      const c = l.contract;
      return c.secType === 'OPT' ? { symbol: c.symbol, right: c.right, strike: c.strike, expiry: c.expiry, qty: l.qty } : { symbol: c.symbol, qty: l.qty };
    }),
  };
}

/** A child's output as lines, with a wait for one of them. */
class Child {
  readonly lines: string[] = [];
  private waiters: { test: (l: string) => boolean; resolve: (at: number) => void }[] = [];
  readonly exited: Promise<number | null>;
  constructor(readonly proc: ChildProcess) {
    let buf = '';
    const take = (chunk: Buffer): void => {
      buf += chunk.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const l = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const at = performance.now();
        this.lines.push(l);
        this.waiters = this.waiters.filter((w) => (w.test(l) ? (w.resolve(at), false) : true));
      }
    };
    proc.stdout!.on('data', take);
    proc.stderr!.on('data', take);
    this.exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
  }

  /** performance.now() when a line passing `test` was read; rejects if the process exits or `ms` pass first. */
  waitFor(test: (l: string) => boolean, what: string, ms: number): Promise<number> {
    const seen = this.lines.find(test);
    if (seen !== undefined) return Promise.resolve(performance.now());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`bench daemon: no line ${what} within ${ms} ms:\n${this.lines.slice(-20).map((l) => l.slice(0, 500)).join('\n')}`)), ms);
      void this.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`bench daemon: exited ${code} before ${what}:\n${this.lines.slice(-20).map((l) => l.slice(0, 500)).join('\n')}`));
      });
      this.waiters.push({
        test,
        resolve: (at) => {
          clearTimeout(timer);
          resolve(at);
        },
      });
    });
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill('SIGTERM');
    const killer = setTimeout(() => this.proc.kill('SIGKILL'), 30_000);
    await this.exited;
    clearTimeout(killer);
  }
}

function start(args: readonly string[], cwd: string, from: 'dist' | 'source', extraNode: readonly string[] = []): Child {
  const env = { ...process.env, FORCE_COLOR: '0', ...(from === 'dist' ? { LEGGUARD_FROM: 'dist' } : { LEGGUARD_FROM: '' }) };
  return new Child(spawn(process.execPath, [...extraNode, BIN, ...args], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] }));
}

/** VmRSS and VmHWM of a live process, in MB. */
function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rss: (kb('VmRSS') * 1024) / MB, hwm: (kb('VmHWM') * 1024) / MB };
}

interface StartSample {
  readonly ms: number;
  readonly rss: number;
  readonly hwm: number;
  readonly settled: number;
  /** Why it exited within SETTLE_MS of its "guarding" line, or null. */
  readonly exited: string | null;
}

/** The gateway's scenario and the guard's config for `defs`, in a fresh directory. */
export function writeWorld(defs: readonly StrategyDefinition[]): { dir: string; scenario: string } {
  const dir = mkdtempSync(join(tmpdir(), 'legguard-bench-daemon-'));
  const scenario = join(dir, 'scenario.yaml');
  const strategies = defs.map(yamlStrategy);
  writeFileSync(
    scenario,
    stringify({
      name: `${defs.length} strategies, nothing happens`,
      start: new Date(BENCH_START).toISOString(),
      account: BENCH_ACCOUNT,
      underlyings: Object.fromEntries(UNDERLYINGS.map((u) => [u.symbol, { price: u.price, volatility: u.volatility }])),
      strategies,
      until: new Date(BENCH_START + 3_600_000).toISOString(),
    }),
  );
  return { dir, scenario };
}

export function writeConfig(dir: string, name: string, port: number, defs: readonly StrategyDefinition[], dataDir = `data-${name}`): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    stringify({
      account: BENCH_ACCOUNT,
      dataDir,
      broker: { type: 'ib', host: '127.0.0.1', port, clientId: 17 },
      guard: { reconcileIntervalMs: 21_600_000, ruleIntervalMs: 900_000 },
      alerts: { channels: [{ type: 'console', name: 'console' }], startupCheck: 'off' },
      strategies: defs.map(yamlStrategy),
    }),
  );
  return file;
}

const GUARDING = new RegExp(`guarding ${N} strategies`);

/** One `legguard run` from spawn to its "guarding" line, its memory then, stopped. */
async function onceGuarding(config: string, dir: string, from: 'dist' | 'source', extraNode: readonly string[] = []): Promise<StartSample> {
  const t0 = performance.now();
  const guard = start(['run', '--config', config, '--clock', 'lockstep'], dir, from, extraNode);
  try {
    const at = await guard.waitFor((l) => GUARDING.test(l), `"guarding ${N} strategies"`, 300_000);
    const mem = memoryOf(guard.proc.pid!);
    // And once it has had a few seconds to settle (a garbage collection or two after the start-up's peak).
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    if (guard.proc.exitCode !== null || guard.proc.signalCode !== null) {
      // Said in the rows' notes, not hidden: a guard that stepped down (its start-up held the event loop past its lease).
      const why = guard.lines.find((l) => /stepping down|internal error/.test(l)) ?? guard.lines.at(-1) ?? '';
      return { ms: at - t0, ...mem, settled: Number.NaN, exited: `exit ${guard.proc.exitCode ?? guard.proc.signalCode}: ${why.slice(0, 200)}` };
    }
    return { ms: at - t0, ...mem, settled: memoryOf(guard.proc.pid!).rss, exited: null };
  } finally {
    await guard.stop();
  }
}

export async function run(): Promise<BenchRow[]> {
  // What an installed legguard runs: build it now, so the rows never measure a stale dist/.
  const built = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`bench daemon: npm run build failed:\n${built.stdout}\n${built.stderr}`);

  const defs = benchStrategies(N, { verticals: 0.3 });
  const positions = [...netPositions(defs).values()].filter((p) => p.qty !== 0).length;
  const { dir, scenario } = writeWorld(defs);
  const gateway = start(['sim-gateway', '--port', '0', '--host', '127.0.0.1', '--scenario', scenario, '--lockstep'], dir, 'dist');
  try {
    await gateway.waitFor((l) => /TWS API on 127\.0\.0\.1:\d+/.test(l), 'naming its port', 300_000);
    const port = Number(/TWS API on 127\.0\.0\.1:(\d+)/.exec(gateway.lines.find((l) => /TWS API on/.test(l))!)![1]);

    const cold: StartSample[] = [];
    const warm: StartSample[] = [];
    const stored: StartSample[] = [];
    for (let i = 0; i < RUNS; i++) {
      const config = writeConfig(dir, `run${i}`, port, defs);
      cold.push(await onceGuarding(config, dir, 'dist'));
      warm.push(await onceGuarding(config, dir, 'dist'));
      // The same store, the config listing none of them (added by `strategies import` or `discover --apply`).
      stored.push(await onceGuarding(writeConfig(dir, `bare${i}`, port, [], `data-run${i}`), dir, 'dist'));
    }
    const source = await onceGuarding(writeConfig(dir, 'source', port, defs), dir, 'source');

    const where = `${N} strategies (${positions} broker positions) in the config, SQLite in a temp dir, against legguard sim-gateway --lockstep on loopback`;
    const row = (name: string, samples: readonly StartSample[], pick: (s: StartSample) => number, unit: string, target: number | null, note: string): BenchRow => {
      const s = summarize(samples.map(pick).filter((x) => !Number.isNaN(x)));
      const exits = samples.flatMap((x) => (x.exited === null ? [] : [x.exited]));
      const said = exits.length === 0 ? note : `${note}; ${exits.length} of ${samples.length} runs EXITED within ${SETTLE_MS / 1000} s of guarding (${exits[0]})`;
      return { area: 'daemon', name, unit, median: s.median, p99: s.p99, samples: s.samples, note: said, ...(target === null ? {} : { target: { value: target, of: 'median' as const } }) };
    };
    return [
      row('process start to "guarding", empty store', cold, (s) => s.ms, 'ms', START_TARGET_MS, `node bin/legguard.mjs run (dist/), ${where}; the config's strategies are written to the store at start`),
      row('process start to "guarding", restart', warm, (s) => s.ms, 'ms', START_TARGET_MS, `the same, the store already holding the strategies`),
      row('RSS once guarding, empty store', cold, (s) => s.rss, 'MB', RSS_TARGET_MB, '/proc/PID/status VmRSS when the "guarding" line is read'),
      row('peak RSS of the start-up (VmHWM), empty store', cold, (s) => s.hwm, 'MB', RSS_TARGET_MB, '/proc/PID/status VmHWM when the "guarding" line is read'),
      row('RSS 5 s after "guarding", empty store', cold, (s) => s.settled, 'MB', RSS_TARGET_MB, `VmRSS ${SETTLE_MS / 1000} s after the line, idle meanwhile`),
      row('RSS once guarding, restart', warm, (s) => s.rss, 'MB', RSS_TARGET_MB, 'VmRSS on a restart'),
      row('RSS 5 s after "guarding", restart', warm, (s) => s.settled, 'MB', RSS_TARGET_MB, 'VmRSS on a restart, 5 s after the line'),
      row('process start to "guarding", strategies in the store only', stored, (s) => s.ms, 'ms', START_TARGET_MS, 'a restart with the config listing none of them: no YAML of 10,000 strategies to parse'),
      row('RSS 5 s after "guarding", strategies in the store only', stored, (s) => s.settled, 'MB', RSS_TARGET_MB, 'VmRSS, the config listing none of them'),
      row('process start to "guarding" from src/ through tsx', [source], (s) => s.ms, 'ms', null, `one run, for comparison: a development checkout, empty store; RSS ${source.rss.toFixed(0)} MB, peak ${source.hwm.toFixed(0)} MB`),
    ];
  } finally {
    await gateway.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
