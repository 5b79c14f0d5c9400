// A drill with real processes: `legguard sim-gateway --scenario <file> --speed <n>` and `legguard run --clock
// broker:<n>` against it over loopback, compared with `replay()` of the same file (what `legguard replay` runs).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { SystemClock } from '../../src/adapters/clock/system-clock.js';
import { IbBroker } from '../../src/adapters/ib/ib-broker.js';
import { loadScenario, type Scenario } from '../../src/adapters/sim/load-scenario.js';
import { MemoryStore } from '../../src/adapters/store/memory-store.js';
import { openStore } from '../../src/adapters/store/open-store.js';
import { replay } from '../../src/app/replay.js';
import { contractKey } from '../../src/core/contract.js';
import { AccountId } from '../../src/core/ids.js';
import type { TimelineEntry } from '../../src/engine/timeline.js';
import type { StorePort } from '../../src/ports/store.js';
import type { FinalState } from './guard-harness.js';
import { HANG_BOUND_MS, LegguardProcess } from './legguard-process.js';

export type { FinalState };

const byKey = (a: readonly [string, number], b: readonly [string, number]): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/** States and holdings as a store has them. */
export async function strategiesIn(store: StorePort, account: AccountId): Promise<FinalState['strategies']> {
  const records = await store.listStrategies(account);
  return records
    .map((r) => ({
      id: r.definition.id,
      state: r.state,
      broken: r.broken ? { cause: r.broken.cause, kind: r.broken.kind, leg: r.broken.leg, qty: r.broken.qty } : null,
      holdings: r.holdings.map((h) => [contractKey(h.contract), h.qty] as const).sort(byKey),
    }))
    .sort((a, b) => (a.id < b.id ? -1 : 1));
}

/** What `legguard replay <file>` ends with: the strategies in its store and the simulated account. */
export async function replayOutcome(scenario: Scenario): Promise<FinalState> {
  const store = new MemoryStore();
  await store.init();
  try {
    const r = await replay({ scenario, store });
    const positions = r.run.broker.allPositions().map((p) => [contractKey(p.contract), p.qty] as const);
    return { strategies: await strategiesIn(store, scenario.account), positions: positions.sort(byKey) };
  } finally {
    await store.close();
  }
}

/**
 * `legguard sim-gateway --lockstep` on an ephemeral port of 127.0.0.1: scenario time starts when the guard has
 * started up and moves only when it has handled everything, so a drill ends the same on a slow or busy machine.
 */
export class GatewayProcess {
  private constructor(
    readonly proc: LegguardProcess,
    readonly port: number,
  ) {}

  static async start(scenarioFile: string, extra: readonly string[] = []): Promise<GatewayProcess> {
    const proc = LegguardProcess.start('sim-gateway', ['sim-gateway', '--port', '0', '--host', '127.0.0.1', '--scenario', scenarioFile, '--lockstep', ...extra], {
      stdin: true,
    });
    const line = await proc.waitForLine((l) => /TWS API on 127\.0\.0\.1:\d+/.test(l), 'naming its port');
    return new GatewayProcess(proc, Number(/TWS API on 127\.0\.0\.1:(\d+)/.exec(line)![1]));
  }

  /** The refs of every order a client sent, in the order the gateway read them. */
  placedRefs(clientId = 17): string[] {
    const re = new RegExp(`gateway: client ${clientId} placed order \\d+ (\\S+):`);
    return this.proc.stdout.flatMap((l) => {
      const m = re.exec(l);
      return m ? [m[1]!] : [];
    });
  }

  /** Refs sent more than once. */
  refsSentTwice(clientId = 17): string[] {
    const seen = new Set<string>();
    const twice = new Set<string>();
    for (const r of this.placedRefs(clientId)) (seen.has(r) ? twice : seen).add(r);
    return [...twice];
  }

  /**
   * Runs the world to `at` while no guard runs (the operator's `advance`); resolves once the gateway says it got there.
   */
  async advance(at: string): Promise<void> {
    const before = this.proc.stdout.length;
    this.proc.input(`advance ${at}`);
    await this.proc.waitForLine((l) => /gateway: advanced to /.test(l) && this.proc.stdout.indexOf(l) >= before, `advancing to ${at}`);
  }

  /** Holds scenario time however idle the guard is (`pause`), or lets it go again (`resume`). */
  async pause(on: boolean): Promise<void> {
    const before = this.proc.stdout.length;
    this.proc.input(on ? 'pause' : 'resume');
    const said = on ? /gateway: paused/ : /gateway: resumed/;
    await this.proc.waitForLine((l) => said.test(l) && this.proc.stdout.indexOf(l) >= before, on ? 'pausing' : 'resuming');
  }

  /** Waits for the scenario to reach its `until`; resolves with the real time (performance.now) the line was read. */
  async finished(ms: number): Promise<number> {
    let seen = 0;
    await this.proc.waitForLine(
      (l, at) => {
        if (!l.includes('scenario finished')) return false;
        seen = at;
        return true;
      },
      'saying the scenario finished',
      ms,
    );
    return seen;
  }

  /** The account's non-zero positions, asked over the TWS API as another client (99) would. */
  async positions(account: string): Promise<FinalState['positions']> {
    const ib = new IbBroker({ host: '127.0.0.1', port: this.port, clientId: 99, account: AccountId.unsafe(account), clock: new SystemClock(), connectTimeoutMs: 5000 });
    await ib.connect();
    try {
      const snap = await ib.snapshot({ executionsSince: null });
      return snap.positions.map((p) => [contractKey(p.contract), p.qty] as const).sort(byKey);
    } finally {
      await ib.disconnect();
    }
  }

  stop(): Promise<unknown> {
    return this.proc.stop('SIGTERM');
  }
}

export interface GuardSetup {
  /** The directory holding the config file (and the SQLite data directory). */
  readonly dir: string;
  readonly configFile: string;
  readonly account: AccountId;
  /** Postgres URL (with `?schema=`) or null for SQLite in `dir/data`. */
  readonly databaseUrl: string | null;
}

/**
 * A config file for `legguard run` guarding the scenario's strategies (its `strategies:` and `guard:` blocks as they
 * are, reconciliation every six hours and rules every quarter hour unless the scenario says) at the gateway's port, alerts on the
 * console.
 */
export function guardSetup(
  scenarioFile: string,
  port: number,
  opts: { databaseUrl?: string | null; guard?: Record<string, unknown>; broker?: Record<string, unknown> } = {},
): GuardSetup {
  const raw = parse(readFileSync(scenarioFile, 'utf8')) as { account: string; strategies?: unknown[]; guard?: Record<string, unknown> };
  const dir = mkdtempSync(join(tmpdir(), 'legguard-drill-'));
  const configFile = join(dir, 'legguard.yaml');
  writeFileSync(
    configFile,
    stringify({
      account: raw.account,
      dataDir: 'data',
      broker: { type: 'ib', host: '127.0.0.1', port, clientId: 17, ...(opts.broker ?? {}) },
      // Periodic passes as a drill needs them, not a minute apart: each reconciliation is three requests, paced at
      // IB's 40 messages a real second, and a nine-day scenario has 13,000 minutes. What they would find, live
      // events tell the guard first.
      guard: { reconcileIntervalMs: 21_600_000, ruleIntervalMs: 900_000, ...(raw.guard ?? {}), ...(opts.guard ?? {}) },
      alerts: { channels: [{ type: 'console', name: 'console' }], startupCheck: 'off' },
      strategies: raw.strategies ?? [],
    }),
  );
  return { dir, configFile, account: AccountId.unsafe(raw.account), databaseUrl: opts.databaseUrl ?? null };
}

/** `legguard run --config <file> --clock lockstep --json`, its timeline parsed as it comes. */
export class GuardProcess {
  private constructor(readonly proc: LegguardProcess) {}

  /**
   * The production `legguard run`; with `crashAt` (`<point>[:<n>]`) the drills' own entry point instead, which kills
   * the guard with SIGKILL there.
   */
  static start(setup: GuardSetup, opts: { crashAt?: string; env?: NodeJS.ProcessEnv; args?: readonly string[] } = {}): GuardProcess {
    const proc = LegguardProcess.start('guard', ['run', '--config', setup.configFile, '--clock', 'lockstep', '--json', ...(opts.args ?? [])], {
      cwd: setup.dir,
      env: { ...opts.env, LEGGUARD_DRILL_CRASH_AT: opts.crashAt ?? '', DATABASE_URL: setup.databaseUrl ?? '' },
      drillEntry: opts.crashAt !== undefined,
    });
    return new GuardProcess(proc);
  }

  /** Timeline entries (and log lines, as `{ level, text }`) printed so far. */
  entries(): (TimelineEntry | { kind: 'log'; level: string; text: string })[] {
    return this.proc.stdout.flatMap((l) => {
      if (!l.startsWith('{')) return [];
      const o = JSON.parse(l) as Record<string, unknown>;
      return [typeof o.kind === 'string' ? (o as unknown as TimelineEntry) : { kind: 'log' as const, level: String(o.level), text: String(o.text) }];
    });
  }

  /** Waits for a timeline entry (a JSON line) passing `test`, read after real time `after` (performance.now). */
  waitFor(test: (e: Record<string, unknown>) => boolean, what: string, ms = HANG_BOUND_MS, after = 0): Promise<Record<string, unknown>> {
    return this.proc
      .waitForLine(
        (l, at) => at > after && l.startsWith('{') && test(JSON.parse(l) as Record<string, unknown>),
        what,
        ms,
      )
      .then((l) => JSON.parse(l) as Record<string, unknown>);
  }

  /** Log lines (not timeline entries) whose text matches. */
  logs(re: RegExp): string[] {
    return this.entries().flatMap((e) => (e.kind === 'log' && re.test(e.text) ? [e.text] : []));
  }
}

/** The guard's store, opened as `legguard run` opens it. */
export function openGuardStore(setup: GuardSetup): Promise<StorePort> {
  return openStore({ dataDir: join(setup.dir, 'data'), databaseUrl: setup.databaseUrl });
}

export async function loadSeed(name: string): Promise<{ file: string; scenario: Scenario }> {
  const file = new URL(`../../scenarios/${name}`, import.meta.url).pathname;
  return { file, scenario: await loadScenario(file) };
}
