// Detection-to-orders latency in-process: the real time from a broker position event reaching the guard to the first
// closing order going out, as the engine itself measures it (`clock.perf()`; its `latency` timeline entry), with 1,
// 100 and 10,000 open strategies, on the memory store and on SQLite. One assignment at a time during regular hours,
// so nothing is deferred to an open; the broken strategy is replaced by a fresh copy so the count stays the same.
import { contractKey, isOption, type OptionContract } from '../src/core/contract.js';
import { LegguardError } from '../src/core/errors.js';
import { StrategyId } from '../src/core/ids.js';
import type { StrategyDefinition } from '../src/core/strategy.js';
import { summarize, type BenchRow } from './bench-row.js';
import { benchStore, benchStrategies, benchWorld, type BenchWorld, type StoreKind } from './bench-world.js';

const SIZES = [1, 100, 10_000] as const;
const WARMUP = 10;
/** Measured assignments per configuration; fewer at 10,000 where each costs more. */
const SAMPLES: Record<(typeof SIZES)[number], number> = { 1: 600, 100: 600, 10_000: 400 };
/** Virtual time between assignments: past the 10 s correlation window, so each one is classified at once. */
const GAP_MS = 15_000;

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const kind of ['memory', 'sqlite'] as const satisfies readonly StoreKind[]) {
    for (const n of SIZES) rows.push(...(await measure(n, kind)));
  }
  return rows;
}

async function measure(n: (typeof SIZES)[number], kind: StoreKind): Promise<BenchRow[]> {
  const { store, label, dispose } = await benchStore(kind);
  try {
    const w = await benchWorld(benchStrategies(n, { verticals: 0.4 }), store);
    const latencies: number[] = [];
    let missed = 0;
    let orders = 0;
    let next = 0;
    const total = WARMUP + SAMPLES[n];
    for (let i = 0; i < total; i++) {
      const from = w.timeline.length;
      const target = victim(w, next);
      if (target === null) throw new LegguardError('INTERNAL', `no open strategy with an assignable short leg among ${n}`);
      next = target.index + 1;
      w.broker.postAssignment(target.contract, 1);
      await w.advance(GAP_MS);
      const got = w.timeline.slice(from);
      const lat = got.find((e) => e.kind === 'latency');
      orders += got.filter((e) => e.kind === 'order-sent').length;
      if (!lat || lat.kind !== 'latency' || lat.ordersSent === 0) missed++;
      else if (i >= WARMUP) latencies.push(lat.latencyMs);
      await replaceBroken(w, got, i);
    }
    const name = `detect-to-first-order, ${n.toLocaleString('en-US')} open strategies, ${label}`;
    const note =
      `position event reaching the guard -> first closing order acknowledged by the SimBroker, real time (the engine's latency entry): ` +
      `detection, break, ${kind === 'sqlite' ? 'the write-ahead commit (fsync)' : 'the write-ahead commit'}, quotes from the sim (CRR trees), planning, ` +
      `pre-trade gate, pacer; ${WARMUP} warm-up assignments not counted; ${missed} without an order; ${orders} orders sent in all`;
    return [
      { area: 'detection', name: `set-up: store ${n.toLocaleString('en-US')} strategies (one commit), ${label}`, unit: 'ms', value: w.setupMs },
      { area: 'detection', name: `start-up: load + first reconciliation, ${n.toLocaleString('en-US')} strategies, ${label}`, unit: 'ms', value: w.startMs },
      { area: 'detection', name, unit: 'ms', ...summarize(latencies), note },
    ];
  } finally {
    await dispose();
  }
}

/**
 * The next OPEN strategy (from `start`, wrapping) with a short option the account is short in: the clearing house can
 * only assign what the account is short, and strategies netting against each other may leave a contract flat. The
 * engine attributes the assignment to the oldest strategy short that contract, which may be another one.
 */
function victim(w: BenchWorld, start: number): { index: number; contract: OptionContract } | null {
  const ids = [...w.engine.strategies.values()];
  for (let k = 0; k < ids.length; k++) {
    const index = (start + k) % ids.length;
    const rt = ids[index]!;
    if (rt.state !== 'OPEN') continue;
    for (const leg of rt.def.legs) {
      if (leg.qty < 0 && isOption(leg.contract) && w.broker.position(leg.contract) < 0) return { index, contract: leg.contract };
    }
  }
  return null;
}

/** Guards a fresh copy of every strategy that broke in this round, and puts its legs at the broker. */
async function replaceBroken(w: BenchWorld, got: BenchWorld['timeline'], round: number): Promise<void> {
  for (const e of got) {
    if (e.kind !== 'state' || e.to !== 'BROKEN') continue;
    const def = w.engine.strategies.get(e.strategyId)!.def;
    const copy: StrategyDefinition = { ...def, id: StrategyId.unsafe(`${def.id}.r${round}`), createdAt: w.clock.now() };
    await w.engine.addStrategy(copy);
    for (const leg of copy.legs) w.broker.setPosition(leg.contract, w.broker.position(leg.contract) + leg.qty);
    await w.advance(1_000);
    if (w.engine.book.net(contractKey(copy.legs[0]!.contract)) !== w.broker.position(copy.legs[0]!.contract)) {
      throw new LegguardError('INTERNAL', `replacement ${copy.id}: book and broker disagree`);
    }
  }
}
