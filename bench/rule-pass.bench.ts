// Events first, measured: the engine's early-assignment rule pass over 10,000 iron condors (risk-world.ts, American
// pricing) on the SimBroker, and the real-time wait of a broker event posted while it runs, from the moment it is
// posted to the moment the engine starts handling it. Sliced (the default, DEFAULT_RULE_SLICE strategies per step of the rule lane,
// a turn of the event loop between slices) against the same pass as one step (`ruleSlice: Infinity`, the engine
// before slicing), in the same run. Events are posted by real timers at 10, 30, 50, 70 and 90 % of the unsliced pass
// time; an unsliced pass keeps the timer itself from firing, so its wait counts from when the event was due.
import { performance } from 'node:perf_hooks';
import { contractKey, IsoDate } from '../src/core/contract.js';
import { LegguardError } from '../src/core/errors.js';
import type { BrokerEvent } from '../src/core/events.js';
import { VirtualClock } from '../src/adapters/clock/virtual-clock.js';
import { SimBroker } from '../src/adapters/sim/sim-broker.js';
import { SimMarket } from '../src/adapters/sim/sim-market.js';
import { MemoryStore } from '../src/adapters/store/memory-store.js';
import { CollectingAlerts, guardStrategies } from '../src/app/replay.js';
import { DEFAULT_GUARD_CONFIG, type GuardConfig } from '../src/engine/guard-config.js';
import { GuardEngine } from '../src/engine/guard-engine.js';
import { DEFAULT_RULE_SLICE } from '../src/engine/rule-passes.js';
import type { BrokerPort } from '../src/ports/broker.js';
import { summarize, type BenchRow } from './bench-row.js';
import { RISK_ACCOUNT, RISK_N, RISK_NOW, RISK_SYMBOLS, RISK_VOLATILITY, riskDividends, riskSpot, riskStrategies } from './risk-world.js';

/** What a person would accept: a broker event (an assignment) never waits behind rule work longer than this. */
const TARGET_MS = 50;
const PASSES = 5;
const AT = [0.1, 0.3, 0.5, 0.7, 0.9];

interface Mode {
  readonly label: string;
  readonly slice: number;
}

interface Measured {
  readonly passMs: number[];
  readonly waitMs: number[];
  readonly flagged: number;
}

/** Alerts only (no closes), so every pass evaluates the same 10,000 open strategies; no time exit, no reconciliation. */
function config(): GuardConfig {
  return {
    ...DEFAULT_GUARD_CONFIG,
    timeExitDte: null,
    reconcileIntervalMs: 7 * 86_400_000,
    ruleIntervalMs: 7 * 86_400_000,
    earlyAssignment: { ...DEFAULT_GUARD_CONFIG.earlyAssignment, exDividend: 'alert', deepItmPut: 'alert', expiration: 'alert' },
  };
}

async function world(slice: number) {
  const clock = new VirtualClock(RISK_NOW);
  const market = new SimMarket(
    clock,
    RISK_SYMBOLS.map((symbol) => ({ symbol, price: riskSpot(symbol), volatility: RISK_VOLATILITY, dividends: riskDividends(symbol).map((d) => ({ exDate: IsoDate.unsafe(d.exDate), amount: d.amount })) })),
  );
  const sim = new SimBroker({ account: RISK_ACCOUNT, clock, market, name: 'bench' });
  const defs = riskStrategies();
  const net = new Map<string, { contract: (typeof defs)[number]['legs'][number]['contract']; qty: number }>();
  for (const d of defs) for (const l of d.legs) {
    const k = contractKey(l.contract);
    const p = net.get(k) ?? { contract: l.contract, qty: 0 };
    p.qty += l.qty;
    net.set(k, p);
  }
  for (const p of net.values()) if (p.qty !== 0) sim.setPosition(p.contract, p.qty);
  // The bench posts events to the engine as the broker would: it keeps the engine's listener.
  const listeners: ((e: BrokerEvent) => void)[] = [];
  const broker = new Proxy(sim, {
    get(t, p) {
      if (p === 'subscribe') return (fn: (e: BrokerEvent) => void) => (listeners.push(fn), t.subscribe(fn));
      const v: unknown = Reflect.get(t, p, t);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  }) as BrokerPort;
  const store = new MemoryStore();
  await store.init();
  const alerts = new CollectingAlerts();
  const engine = new GuardEngine({
    account: RISK_ACCOUNT,
    broker,
    store,
    alerts,
    clock,
    config: config(),
    ruleSlice: slice,
    riskInputs: { rate: 0.045, volatility: () => RISK_VOLATILITY, dividends: riskDividends },
  });
  const settle = async (): Promise<void> => {
    await engine.idle();
    const f = engine.failure;
    if (f !== null) throw f instanceof Error ? f : new LegguardError('INTERNAL', `the guard stopped: ${JSON.stringify(f)}`);
  };
  await guardStrategies(store, defs, clock.now());
  await engine.start();
  await clock.advanceTo(clock.now() + 1_000, settle);
  // The spots, as streamed quotes (the SimBroker sends one per price change).
  for (const s of RISK_SYMBOLS) market.setPrice(s, riskSpot(s));
  await clock.advanceTo(clock.now() + 1_000, settle);
  const post = (code: number): void => {
    const at = clock.now();
    for (const l of listeners) l({ kind: 'notice', code, message: 'posted during a rule pass', orderId: null, tsEvent: at, tsInit: at });
  };
  return { engine, store, settle, post, alerts };
}

async function measure(mode: Mode, offsetsMs: readonly number[] | null): Promise<Measured> {
  const w = await world(mode.slice);
  const handled = new Map<number, number>();
  w.engine.onTimeline((e) => {
    if (e.kind === 'broker-event' && e.event.kind === 'notice') handled.set(e.event.code, performance.now());
  });
  // Warm-up: one more pass before measuring (the alerts were raised at start-up, once per leg and day).
  await w.engine.evaluateRules();
  await w.settle();
  // The start-up passes (and those the broker's prices and dividends triggered) raised them: once per leg and day.
  const alertsRaised = w.alerts.raised.filter((a) => a.title.endsWith('assignment risk')).length;
  const passMs: number[] = [];
  const waitMs: number[] = [];
  let code = 10_000;
  for (let i = 0; i < PASSES; i++) {
    const due: { code: number; at: number }[] = [];
    const t0 = performance.now();
    const pass = w.engine.evaluateRules();
    for (const off of offsetsMs ?? []) {
      const c = code++;
      // From when it was due, or from when it was posted if the timer fired early (Node's timers are coarse, up to
      // a millisecond either way): a timer held back by a pass that blocks the loop counts from when it was due.
      const d = { code: c, at: t0 + off };
      due.push(d);
      setTimeout(() => {
        d.at = Math.min(d.at, performance.now());
        w.post(c);
      }, off);
    }
    await pass;
    passMs.push(performance.now() - t0);
    // Every timer fired and its event was handled (an unsliced pass holds them all until it ends).
    const last = Math.max(0, ...(offsetsMs ?? [0]));
    await new Promise((r) => setTimeout(r, Math.max(0, t0 + last - performance.now()) + 2));
    await w.settle();
    for (const d of due) {
      const h = handled.get(d.code);
      if (h === undefined) throw new LegguardError('INTERNAL', `event ${d.code} was never handled`);
      waitMs.push(h - d.at);
    }
  }
  await w.engine.stop();
  await w.store.close();
  return { passMs, waitMs, flagged: alertsRaised };
}

export async function run(): Promise<BenchRow[]> {
  const sliced: Mode = { label: `sliced (${DEFAULT_RULE_SLICE} strategies a step, events first)`, slice: DEFAULT_RULE_SLICE };
  const whole: Mode = { label: 'unsliced (the pass as one step, before)', slice: Infinity };
  // The unsliced pass's time sets when events are posted, so both modes see events at the same points of a pass.
  const probe = await measure(whole, null);
  const passTime = summarize(probe.passMs).median;
  const offsets = AT.map((f) => Math.round(f * passTime));
  const a = await measure(sliced, offsets);
  const b = await measure(whole, offsets);
  const sa = summarize(a.waitMs);
  const sb = summarize(b.waitMs);
  const maxA = Math.max(...a.waitMs);
  const maxB = Math.max(...b.waitMs);
  const pa = summarize(a.passMs);
  const pb = summarize(b.passMs);
  const n = RISK_N.toLocaleString('en-US');
  return [
    { area: 'risk', name: `engine rule pass, ${n} iron condors, ${sliced.label}`, unit: 'ms', ...pa, note: `${a.flagged} risk alerts raised at start-up (later passes decide the same, raise nothing new); ${(pa.median / pb.median).toFixed(2)}x the unsliced pass` },
    { area: 'risk', name: `engine rule pass, ${n} iron condors, ${whole.label}`, unit: 'ms', ...pb },
    {
      area: 'risk',
      name: `broker event wait during a ${n}-strategy rule pass, ${sliced.label}`,
      unit: 'ms',
      ...sa,
      target: { value: TARGET_MS, of: 'p99' },
      note: `max ${maxA.toFixed(1)} ms (target: every event under ${TARGET_MS} ms: ${maxA < TARGET_MS ? 'met' : 'MISSED'}); posted at ${offsets.join('/')} ms into the pass; median ${(sb.median / sa.median).toFixed(0)}x, max ${(maxB / maxA).toFixed(0)}x shorter than unsliced`,
    },
    { area: 'risk', name: `broker event wait during a ${n}-strategy rule pass, ${whole.label}`, unit: 'ms', ...sb, target: { value: TARGET_MS, of: 'p99' }, note: `max ${maxB.toFixed(1)} ms: the event waits for the rest of the pass` },
  ];
}
