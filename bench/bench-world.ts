// A guarded account at scale for the engine benchmarks: many iron condors and verticals on a handful of underlyings,
// drawn from one strike grid so that strategies share contracts (and net against each other at the broker), on the
// SimBroker with a VirtualClock the benchmark drives.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contractKey, option, type Contract } from '../src/core/contract.js';
import { LegguardError } from '../src/core/errors.js';
import { AccountId, StrategyId } from '../src/core/ids.js';
import type { Leg } from '../src/core/leg.js';
import { EpochMs, Qty } from '../src/core/quantity.js';
import { inferKind } from '../src/core/strategy-kind.js';
import type { StrategyDefinition } from '../src/core/strategy.js';
import { VirtualClock } from '../src/adapters/clock/virtual-clock.js';
import { seededRandom } from '../src/adapters/sim/seeded-random.js';
import { SimBroker } from '../src/adapters/sim/sim-broker.js';
import { SimMarket, type UnderlyingSpec } from '../src/adapters/sim/sim-market.js';
import { MemoryStore } from '../src/adapters/store/memory-store.js';
import { openStore } from '../src/adapters/store/open-store.js';
import { CollectingAlerts, guardStrategies } from '../src/app/replay.js';
import { DEFAULT_GUARD_CONFIG, type GuardConfig } from '../src/engine/guard-config.js';
import { GuardEngine } from '../src/engine/guard-engine.js';
import type { TimelineEntry } from '../src/engine/timeline.js';
import type { StorePort } from '../src/ports/store.js';

export const BENCH_ACCOUNT = AccountId.unsafe('DU0000001');

/** A Tuesday, 10:00 New York: regular hours, so closing orders go out at once. */
export const BENCH_START = EpochMs.unsafe(Date.parse('2026-01-27T10:00:00-05:00'));

/** The underlyings, with the strike step of their grid. No dividends: quotes are CRR trees either way. */
export const UNDERLYINGS: readonly (UnderlyingSpec & { readonly step: number })[] = [
  { symbol: 'SPY', price: 445, volatility: 0.18, step: 1 },
  { symbol: 'QQQ', price: 380, volatility: 0.22, step: 1 },
  { symbol: 'IWM', price: 200, volatility: 0.25, step: 1 },
  { symbol: 'AAPL', price: 190, volatility: 0.28, step: 2.5 },
  { symbol: 'MSFT', price: 410, volatility: 0.24, step: 5 },
];
const EXPIRIES = ['2026-02-20', '2026-03-20', '2026-04-17'];
const WEEKLIES = Array.from({ length: 20 }, (_, k) => new Date(Date.parse('2026-01-30T12:00:00Z') + k * 7 * 86_400_000).toISOString().slice(0, 10));

/**
 * `n` strategies, deterministic: a `verticals` fraction of put or call credit spreads, the rest iron condors, 1 or 2
 * lots. Layout `grid`: short strikes 2-8% out of the money and wings 1-3 grid steps wide on 3 monthly expiries, so
 * strategies share contracts (at 10,000, each option contract has dozens of holders, netting at the broker).
 * Layout `distinct`: every strategy has contracts of its own (weekly expiries, strikes spread further out), the most
 * broker positions `n` strategies can make.
 */
export function benchStrategies(n: number, opts: { verticals: number; layout?: 'grid' | 'distinct'; prefix?: string; seed?: string }): StrategyDefinition[] {
  const rnd = seededRandom(`bench|${opts.seed ?? '1'}`);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const distinct = opts.layout === 'distinct';
  const out: StrategyDefinition[] = [];
  for (let i = 0; i < n; i++) {
    const u = UNDERLYINGS[i % UNDERLYINGS.length]!;
    const j = Math.floor(i / UNDERLYINGS.length);
    // Distinct: one of 20 weekly Fridays from 2026-01-30, and a strike slot of its own further out for each lap.
    const slot = Math.floor(j / WEEKLIES.length);
    const expiry = distinct ? WEEKLIES[j % WEEKLIES.length]! : pick(EXPIRIES);
    const step = distinct ? 0.5 : u.step;
    const grid = (x: number): number => Math.round(x / step) * step;
    const qty = rnd() < 0.7 ? 1 : 2;
    const width = distinct ? step : (1 + Math.floor(rnd() * 3)) * step;
    const put = distinct ? grid(u.price * 0.97) - 2 * slot * step : grid(u.price * (1 - 0.02 - rnd() * 0.06));
    const call = distinct ? grid(u.price * 1.03) + 2 * slot * step : grid(u.price * (1 + 0.02 + rnd() * 0.06));
    const leg = (right: 'P' | 'C', strike: number, q: number): Leg => ({ contract: option({ symbol: u.symbol, right, strike, expiry }), qty: Qty.unsafe(q) });
    const putSpread = [leg('P', put, -qty), leg('P', put - width, qty)];
    const callSpread = [leg('C', call, -qty), leg('C', call + width, qty)];
    const legs = rnd() < opts.verticals ? (rnd() < 0.5 ? putSpread : callSpread) : [...putSpread, ...callSpread];
    out.push({
      id: StrategyId.unsafe(`${opts.prefix ?? 's'}${i}`),
      account: BENCH_ACCOUNT,
      kind: inferKind(legs),
      legs,
      createdAt: EpochMs.unsafe(BENCH_START - n + i),
    });
  }
  return out;
}

/** The account's net position per contract for these strategies, as a broker reports it. */
export function netPositions(defs: readonly StrategyDefinition[]): Map<string, { contract: Contract; qty: number }> {
  const net = new Map<string, { contract: Contract; qty: number }>();
  for (const d of defs) {
    for (const l of d.legs) {
      const k = contractKey(l.contract);
      const p = net.get(k) ?? { contract: l.contract, qty: 0 };
      p.qty += l.qty;
      net.set(k, p);
    }
  }
  return net;
}

export type StoreKind = 'memory' | 'sqlite';

/** A store for a benchmark; `dispose` closes it and removes its temp directory. */
export async function benchStore(kind: StoreKind): Promise<{ store: StorePort; label: string; dispose: () => Promise<void> }> {
  if (kind === 'memory') {
    const store = new MemoryStore();
    await store.init();
    return { store, label: 'memory store', dispose: () => store.close() };
  }
  const dir = mkdtempSync(join(tmpdir(), 'legguard-bench-'));
  const store = await openStore({ dataDir: dir });
  return {
    store,
    label: 'SQLite (WAL, synchronous=FULL)',
    dispose: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The guard's settings in the benchmarks: defaults, minus what would run on its own while samples are taken. */
export function benchConfig(): GuardConfig {
  // No time exit (nothing would close on a timer) and reconciliation only when the benchmark asks for it: a 60 s
  // interval would put a full pass over every strategy into the samples of the detection benchmark.
  return { ...DEFAULT_GUARD_CONFIG, timeExitDte: null, reconcileIntervalMs: 7 * 86_400_000 };
}

export interface BenchWorld {
  readonly clock: VirtualClock;
  readonly broker: SimBroker;
  readonly engine: GuardEngine;
  readonly store: StorePort;
  readonly defs: StrategyDefinition[];
  readonly timeline: TimelineEntry[];
  /** Real milliseconds: committing the strategies to the store, and the engine's start (load + first reconciliation). */
  readonly setupMs: number;
  readonly startMs: number;
  /** Runs the virtual clock `ms` on, letting the engine finish every step. */
  advance(ms: number): Promise<void>;
}

/**
 * The account with `defs` at the broker and in the store, and a started engine: strategies are written to the store
 * in one batch (as `legguard strategies add` or an import does), then the engine loads them and reconciles with the
 * broker at start, as the daemon would.
 */
export async function benchWorld(defs: StrategyDefinition[], store: StorePort): Promise<BenchWorld> {
  const clock = new VirtualClock(BENCH_START);
  const market = new SimMarket(clock, UNDERLYINGS);
  const broker = new SimBroker({ account: BENCH_ACCOUNT, clock, market, name: 'bench' });
  for (const p of netPositions(defs).values()) if (p.qty !== 0) broker.setPosition(p.contract, p.qty);
  const timeline: TimelineEntry[] = [];
  const engine = new GuardEngine({ account: BENCH_ACCOUNT, broker, store, alerts: new CollectingAlerts(), clock, config: benchConfig() });
  engine.onTimeline((e) => {
    if (e.kind !== 'broker-event') timeline.push(e);
  });
  const settle = async (): Promise<void> => {
    await engine.idle();
    const f = engine.failure;
    if (f !== null) throw f instanceof Error ? f : new LegguardError('INTERNAL', `the guard stopped: ${JSON.stringify(f)}`);
  };
  const advance = (ms: number): Promise<void> => clock.advanceTo(clock.now() + ms, settle);
  await advance(0);
  const t0 = performance.now();
  await guardStrategies(store, defs, clock.now());
  const setupMs = performance.now() - t0;
  const t1 = performance.now();
  await engine.start();
  const startMs = performance.now() - t1;
  await advance(1_000);
  return { clock, broker, engine, store, defs, timeline, setupMs, startMs, advance };
}
