import { VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import type { ClearingSettings } from '../../src/adapters/sim/clearing-house.js';
import type { FillModel } from '../../src/adapters/sim/fill-model.js';
import { SimBroker } from '../../src/adapters/sim/sim-broker.js';
import type { SimActivity } from '../../src/adapters/sim/sim-activity.js';
import { SimMarket, type MarketSettings, type UnderlyingSpec } from '../../src/adapters/sim/sim-market.js';
import { option, stock, type Contract, type OptionContract, type Right } from '../../src/core/contract.js';
import type { BrokerEvent } from '../../src/core/events.js';
import { AccountId, IncidentId, OrderRef, StrategyId } from '../../src/core/ids.js';
import type { OrderAction, OrderRequest } from '../../src/core/order.js';
import { Price, Qty } from '../../src/core/quantity.js';

export const ACCOUNT = AccountId.unsafe('DU0000001');

export interface SimFixture {
  readonly clock: VirtualClock;
  readonly market: SimMarket;
  readonly sim: SimBroker;
  readonly events: BrokerEvent[];
  readonly activity: SimActivity[];
  /** Runs everything due now (deliveries, immediate fills). */
  settle(): Promise<void>;
  /** Moves to a New York wall-clock instant given as an ISO string with offset. */
  to(iso: string): Promise<void>;
  of<K extends BrokerEvent['kind']>(kind: K): Extract<BrokerEvent, { kind: K }>[];
  clear(): void;
}

export async function makeSim(
  opts: {
    start?: string;
    underlyings?: UnderlyingSpec[];
    fills?: Partial<FillModel>;
    clearing?: Partial<ClearingSettings>;
    market?: Partial<MarketSettings>;
    connect?: boolean;
  } = {},
): Promise<SimFixture> {
  const clock = new VirtualClock(Date.parse(opts.start ?? '2026-01-27T10:00:00-05:00'));
  const market = new SimMarket(clock, opts.underlyings ?? [{ symbol: 'SPY', price: 445, volatility: 0.18 }], opts.market);
  const sim = new SimBroker({
    account: ACCOUNT,
    clock,
    market,
    ...(opts.fills ? { fills: opts.fills } : {}),
    ...(opts.clearing ? { clearing: opts.clearing } : {}),
  });
  const events: BrokerEvent[] = [];
  const activity: SimActivity[] = [];
  sim.subscribe((e) => events.push(e));
  sim.onActivity((a) => activity.push(a));
  if (opts.connect ?? true) await sim.connect();
  const f: SimFixture = {
    clock,
    market,
    sim,
    events,
    activity,
    settle: () => sim.advance(0),
    to: async (iso) => sim.advance(Date.parse(iso) - clock.now()),
    of: <K extends BrokerEvent['kind']>(kind: K) => events.filter((e): e is Extract<BrokerEvent, { kind: K }> => e.kind === kind),
    clear: () => {
      events.length = 0;
      activity.length = 0;
    },
  };
  await f.settle();
  return f;
}

export function spy(right: Right, strike: number, expiry = '2026-01-30'): OptionContract {
  return option({ symbol: 'SPY', right, strike, expiry });
}

export const SPY = stock('SPY');

let seq = 0;

/** An order request with sensible defaults: one unit, limit order, no RTH override. */
export function order(
  legs: readonly { contract: Contract; action: OrderAction; ratio?: number }[],
  quantity: number,
  limitPrice: number | null,
  extra: Partial<Pick<OrderRequest, 'outsideRth' | 'orderType' | 'account' | 'ref'>> = {},
): OrderRequest {
  seq++;
  return {
    ref: extra.ref ?? OrderRef.unsafe(`lg/test/inc-${seq}/g0/1`),
    strategyId: StrategyId.unsafe('test'),
    incidentId: IncidentId.unsafe(`inc-${seq}`),
    account: extra.account ?? ACCOUNT,
    legs: legs.map((l) => ({ contract: l.contract, action: l.action, ratio: l.ratio ?? 1 })),
    quantity: Qty.unsafe(quantity),
    orderType: extra.orderType ?? (limitPrice === null ? 'MKT' : 'LMT'),
    limitPrice: limitPrice === null ? null : Price.unsafe(limitPrice),
    outsideRth: extra.outsideRth ?? false,
    purpose: 'emergency',
    tier: 0,
  };
}
