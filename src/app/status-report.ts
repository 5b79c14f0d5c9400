import type { TradingState } from '../core/gate.js';
import type { IncidentCost } from '../core/incident-cost.js';
import { describeContract } from '../core/contract.js';
import { LegguardError } from '../core/errors.js';
import type { AccountId, IncidentId } from '../core/ids.js';
import type { LegguardConfig } from './config.js';
import { clockOfRecord, latestRecordAt } from './record-clock.js';
import { SKIPPED_DELIVERY_PREFIX, type DeliveryRecord, type OrderRecord, type StorePort, type StrategyRecord } from '../ports/store.js';
import { holdingJson, iso, isoTime, strategyJson, type HoldingView, type StrategyView } from './record-views.js';

/** How many incidents and undelivered deliveries status shows: the newest ones. */
export const STATUS_INCIDENTS = 10;
export const STATUS_UNDELIVERED = 10;
/** How far back status looks for incidents: the newest state changes and critical alerts. */
const LOOKBACK = 500;

export interface IncidentStatus {
  readonly incidentId: string;
  readonly strategyId: string | null;
  readonly firstAt: string;
  readonly lastAt: string;
  /** `OPEN -> BROKEN (assignment ...)`, in order. */
  readonly transitions: readonly string[];
  readonly criticalAlerts: number;
  readonly title: string | null;
  /** `acknowledged` (with when and by whom), `waiting` (its critical alerts repeat), `none needed` (no critical alert). */
  readonly ack: { readonly state: 'acknowledged'; readonly at: string; readonly by: string } | { readonly state: 'waiting' | 'none needed' };
  /** What its close cost, as the guard (or the replay) kept it when the close ended; null before that. */
  readonly cost: IncidentCost | null;
}

export interface ChannelStatus {
  readonly channel: string;
  /** The configured type, or null for a channel the outbox knows that the config no longer has. */
  readonly type: string | null;
  readonly delivered: number;
  readonly retrying: number;
  /** Given up after failing (skips not counted). */
  readonly dead: number;
  /** Not sent on purpose: below the channel's minimum severity, stale, acknowledged. */
  readonly skipped: number;
  /** Alerts with no attempt on this channel yet (a running guard sends them; a stopped one at its next start). */
  readonly notTried: number;
}

export interface OrderView {
  readonly ref: string;
  readonly strategyId: string;
  readonly incidentId: string | null;
  readonly status: string;
  readonly orderId: string | null;
  /** `SELL 200 SPY`, one per leg, quantities in contracts or shares. */
  readonly legs: readonly string[];
  readonly quantity: number;
  readonly orderType: 'LMT' | 'MKT';
  readonly limitPrice: number | null;
  readonly outsideRth: boolean;
  readonly filledQty: number;
  readonly avgFillPrice: number | null;
  readonly placedAt: string | null;
  readonly updatedAt: string;
  readonly reason: string | null;
}

export interface DeliveryView {
  readonly channel: string;
  readonly status: 'retrying' | 'dead';
  readonly alertKey: string;
  readonly severity: string;
  readonly title: string;
  readonly raisedAt: string;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly nextAttemptAt: string | null;
  readonly updatedAt: string;
}

/**
 * What the guard last said about a PENDING strategy's legs (its `not-at-broker` journal note); null while no guard has
 * checked the strategy, as it is defined now, against the broker.
 */
export interface NotAtBrokerView {
  readonly at: string;
  /** `-1 SPY 2026-02-20 420 P (the broker shows none)`. */
  readonly missing: readonly string[];
  /** Legs the broker does show; they stay outside any strategy while the strategy waits. */
  readonly atBroker: readonly string[];
}

export type StrategyStatusView = StrategyView & { readonly notAtBroker: NotAtBrokerView | null };

export interface StatusReport {
  readonly account: string;
  readonly store: string;
  /** When status ran, on this machine's clock. */
  readonly at: string;
  /**
   * The clock the record's times are on: `wall` for a live guard's, `scenario` for a replay's or a drill's, whose
   * times can be months from today. `latestRecordAt` is the last the guard's clock wrote; for a scenario record, ages
   * count back from it rather than from `at`.
   */
  readonly clock: { readonly kind: 'wall' | 'scenario'; readonly source: string | null; readonly latestRecordAt: string | null };
  readonly lock: { readonly owner: string; readonly acquiredAt: string; readonly expiresAt: string; readonly live: boolean } | null;
  /**
   * The account's leader lease (docs/standby.md), times on the store's clock; `live` while the store's clock is before
   * `leaseUntil`. Null when no guard ever led it.
   */
  readonly leader: { readonly holder: string; readonly epoch: number; readonly leaseUntil: string; readonly live: boolean } | null;
  /** Guards waiting to take over (`legguard run --standby`), seen within two lease lengths, with when each last asked. */
  readonly standbys: readonly { readonly holder: string; readonly seenAt: string }[];
  /** The account's trading state (`legguard halt` / `reduce-only` / `resume`); ACTIVE with nulls when never set. */
  readonly tradingState: { readonly state: TradingState; readonly reason: string | null; readonly by: string | null; readonly at: string | null };
  readonly lastReconciledAt: string | null;
  readonly lastExecutionAt: string | null;
  readonly strategies: readonly StrategyStatusView[];
  readonly outside: readonly HoldingView[];
  readonly openOrders: readonly OrderView[];
  readonly incidents: readonly IncidentStatus[];
  readonly outbox: {
    readonly alerts: number;
    readonly channels: readonly ChannelStatus[];
    readonly undelivered: readonly DeliveryView[];
    readonly unacknowledged: readonly { incidentId: string; title: string; firstAt: string; lastAt: string }[];
  };
}

function orderJson(o: OrderRecord): OrderView {
  const r = o.request;
  return {
    ref: r.ref,
    strategyId: r.strategyId,
    incidentId: r.incidentId,
    status: o.status,
    orderId: o.orderId,
    legs: r.legs.map((l) => `${l.action} ${l.ratio * r.quantity} ${describeContract(l.contract)}`),
    quantity: r.quantity,
    orderType: r.orderType,
    limitPrice: r.limitPrice,
    outsideRth: r.outsideRth,
    filledQty: o.filledQty,
    avgFillPrice: o.avgFillPrice,
    placedAt: iso(o.placedAt),
    updatedAt: isoTime(o.updatedAt),
    reason: o.reason,
  };
}

function deliveryJson(d: DeliveryRecord): DeliveryView {
  return {
    channel: d.channel,
    status: d.status === 'pending' ? 'retrying' : 'dead',
    alertKey: d.alert.key,
    severity: d.alert.severity,
    title: d.alert.title,
    raisedAt: isoTime(d.alert.at),
    attempts: d.attempts,
    lastError: d.lastError,
    nextAttemptAt: iso(d.nextAttemptAt),
    updatedAt: isoTime(d.updatedAt),
  };
}

/**
 * Everything `legguard status` shows, read from the store alone (never the broker): strategies and what they hold,
 * open orders, recent incidents with their acknowledgement, the alerts outbox, the lock and the reconciliation
 * cursor. Text in it is as stored; the caller redacts secrets from what it prints.
 */
export async function gatherStatus(store: StorePort, account: AccountId, config: LegguardConfig, storeName: string, now: number): Promise<StatusReport> {
  const loaded = await store.load(account);
  const lock = await store.lockHolder(account);
  const leadership = await store.leadership(account, 2 * config.leader.leaseMs);
  const lease = leadership.lease;
  const trading = await store.tradingState(account);
  const clock = (await clockOfRecord(store, account)) ?? { kind: 'wall' };
  const latest = await latestRecordAt(store, account, loaded.cursor);
  const history = await store.stateHistory({ account, limit: LOOKBACK });
  // Every account has its own outbox: its critical alerts about incidents.
  const critical = (await store.recentAlerts({ account, severities: ['critical'], limit: LOOKBACK })).filter((a) => a.incidentId !== null);

  interface Acc { id: string; strategyId: string | null; first: number; last: number; transitions: string[]; critical: number; title: string | null }
  const by = new Map<string, Acc>();
  const get = (id: string, strategyId: string | null, at: number): Acc => {
    let a = by.get(id);
    if (!a) by.set(id, (a = { id, strategyId, first: at, last: at, transitions: [], critical: 0, title: null }));
    a.first = Math.min(a.first, at);
    a.last = Math.max(a.last, at);
    return a;
  };
  for (const h of history) {
    if (h.incidentId === null) continue;
    get(h.incidentId, h.strategyId, h.at).transitions.push(`${h.from ?? '(new)'} -> ${h.to} (${h.reason})`);
  }
  for (const a of critical) {
    const acc = get(a.incidentId!, a.strategyId, a.at);
    acc.critical++;
    acc.title ??= a.title;
  }
  const recent = [...by.values()].sort((x, y) => y.last - x.last || (x.id < y.id ? -1 : 1)).slice(0, STATUS_INCIDENTS);
  const costs = new Map<string, IncidentCost>();
  for (const n of await store.journal({ account, types: ['note'], limit: LOOKBACK })) {
    const d = n.data as { kind?: unknown; cost?: unknown } | null;
    if (d?.kind === 'incident-cost' && n.incidentId !== null && typeof d.cost === 'object' && d.cost !== null) costs.set(n.incidentId, d.cost as IncidentCost);
  }
  const acks = new Map((await store.acknowledgements(account, recent.map((r) => r.id as IncidentId))).map((k) => [k.incidentId as string, k]));
  const incidents: IncidentStatus[] = recent.map((r) => {
    const k = acks.get(r.id);
    return {
      incidentId: r.id,
      strategyId: r.strategyId,
      firstAt: isoTime(r.first),
      lastAt: isoTime(r.last),
      transitions: r.transitions,
      criticalAlerts: r.critical,
      title: r.title,
      ack: k ? { state: 'acknowledged', at: isoTime(k.at), by: k.by } : { state: r.critical > 0 ? 'waiting' : 'none needed' },
      cost: costs.get(r.id) ?? null,
    };
  });

  const summary = await store.outboxSummary(account);
  // The account's own channels (`accounts[n].alerts`), else the shared ones.
  const alerts = config.accounts.find((a) => a.account === account)?.alerts ?? config.alerts;
  const configured = new Map(alerts.channels.map((c) => [c.name, c.type as string]));
  const counted = new Map(summary.channels.map((c) => [c.channel, c]));
  const names = [...configured.keys(), ...summary.channels.map((c) => c.channel).filter((n) => !configured.has(n))];
  const channels: ChannelStatus[] = names.map((channel) => {
    const c = counted.get(channel) ?? { delivered: 0, pending: 0, dead: 0, skipped: 0 };
    return {
      channel,
      type: configured.get(channel) ?? null,
      delivered: c.delivered,
      retrying: c.pending,
      dead: c.dead - c.skipped,
      skipped: c.skipped,
      notTried: Math.max(0, summary.alerts - c.delivered - c.pending - c.dead),
    };
  });
  // Skips are decisions, not failures: the list shows what could not be delivered.
  const undelivered = (await store.deliveries({ account, statuses: ['pending', 'dead'], limit: LOOKBACK }))
    .filter((d) => !(d.lastError ?? '').startsWith(SKIPPED_DELIVERY_PREFIX))
    .slice(0, STATUS_UNDELIVERED)
    .map(deliveryJson);
  const unacknowledged = (await store.unackedCritical(account)).map((u) => ({ incidentId: u.incidentId, title: u.first.title, firstAt: isoTime(u.first.at), lastAt: isoTime(u.lastAt) }));

  return {
    account,
    store: storeName,
    at: isoTime(now),
    clock: { kind: clock.kind, source: clock.kind === 'scenario' ? clock.source : null, latestRecordAt: iso(latest) },
    lock: lock === null ? null : { owner: lock.owner, acquiredAt: isoTime(lock.acquiredAt), expiresAt: isoTime(lock.expiresAt), live: now < lock.expiresAt },
    leader: lease === null ? null : { holder: lease.holder, epoch: lease.epoch, leaseUntil: isoTime(lease.leaseUntil), live: lease.now < lease.leaseUntil },
    standbys: leadership.standbys.map((x) => ({ holder: x.holder, seenAt: isoTime(x.seenAt) })),
    tradingState: { state: trading.state, reason: trading.reason, by: trading.by, at: iso(trading.at) },
    lastReconciledAt: iso(loaded.cursor.lastReconciledAt),
    lastExecutionAt: iso(loaded.cursor.lastExecutionAt),
    strategies: await Promise.all(loaded.strategies.map(async (r) => ({ ...strategyJson(r), notAtBroker: r.state === 'PENDING' ? await notAtBroker(store, account, r) : null }))),
    outside: loaded.outside.map(holdingJson),
    openOrders: loaded.openOrders.map(orderJson),
    incidents,
    outbox: { alerts: summary.alerts, channels, undelivered, unacknowledged },
  };
}

/**
 * Status of several accounts: `accounts` holds each one's report, in the order given; the top level is the first's
 * report, so that a reader of the one-account object (`.strategies`, `.leader` ...) reads the first account as before.
 */
export type AccountsStatus = StatusReport & { readonly accounts: readonly StatusReport[] };

export async function gatherAccountsStatus(
  store: StorePort,
  accounts: readonly AccountId[],
  config: LegguardConfig,
  storeName: string,
  now: number,
): Promise<AccountsStatus> {
  if (accounts.length === 0) throw new LegguardError('INTERNAL', 'status of no account');
  const reports: StatusReport[] = [];
  // One account after another: a store of many accounts is not asked everything at once.
  for (const a of accounts) reports.push(await gatherStatus(store, a, config, storeName, now));
  return { ...reports[0]!, accounts: reports };
}

/** The guard's latest `not-at-broker` note about the strategy as it is defined now (a replaced one starts afresh). */
async function notAtBroker(store: StorePort, account: AccountId, r: StrategyRecord): Promise<NotAtBrokerView | null> {
  const notes = await store.journal({ account, strategyId: r.definition.id, types: ['note'], limit: LOOKBACK });
  for (let i = notes.length - 1; i >= 0; i--) {
    const d = notes[i]!.data as { kind?: unknown; definedAt?: unknown; missing?: unknown; atBroker?: unknown } | null;
    if (d?.kind !== 'not-at-broker' || d.definedAt !== r.definition.createdAt) continue;
    const strings = (x: unknown): string[] => (Array.isArray(x) ? x.filter((v): v is string => typeof v === 'string') : []);
    return { at: isoTime(notes[i]!.at), missing: strings(d.missing), atBroker: strings(d.atBroker) };
  }
  return null;
}
