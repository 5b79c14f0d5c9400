// Records for store tests: an iron condor on SPY, its orders, journal entries and alerts, with every optional field
// somewhere in use so a round trip that drops one shows.
import { option, stock, type Contract } from '../../src/core/contract.js';
import { AccountId, BrokerOrderId, IncidentId, OrderRef, StrategyId } from '../../src/core/ids.js';
import type { Holding } from '../../src/core/book.js';
import { EpochMs, Price, Qty } from '../../src/core/quantity.js';
import type { StrategyState } from '../../src/core/strategy-state.js';
import type { Alert, Severity } from '../../src/ports/alerts.js';
import type { JournalEntry, JournalType, OrderRecord, StoredOrderStatus, StrategyRecord } from '../../src/ports/store.js';
import type { OrderRequest } from '../../src/core/order.js';

export const ACCT = AccountId.unsafe('DU111');
export const ACCT2 = AccountId.unsafe('DU222');
export const T0 = Date.parse('2026-01-28T14:30:00Z');
export const at = (ms: number): EpochMs => EpochMs.unsafe(T0 + ms);

export const put435 = option({ symbol: 'SPY', right: 'P', strike: 435, expiry: '2026-01-30' });
export const put440 = option({ symbol: 'SPY', right: 'P', strike: 440, expiry: '2026-01-30' });
export const call460 = option({ symbol: 'SPY', right: 'C', strike: 460, expiry: '2026-01-30' });
export const call465 = option({ symbol: 'SPY', right: 'C', strike: 465, expiry: '2026-01-30' });
export const spxw = option({ symbol: 'SPX', right: 'P', strike: 5432.5, expiry: '2026-02-20', tradingClass: 'SPXW' });
export const spy = stock('SPY');

export function holding(contract: Contract, qty: number): Holding {
  return { contract, qty: Qty.unsafe(qty) };
}

export function condor(id: string, opts: { account?: AccountId; createdAt?: number; state?: StrategyState; broken?: boolean } = {}): StrategyRecord {
  const account = opts.account ?? ACCT;
  const sid = StrategyId.unsafe(id);
  const legs = [holding(put440, -2), holding(put435, 2), holding(call460, -2), holding(call465, 2)];
  const broken = opts.broken === true;
  return {
    definition: {
      id: sid,
      account,
      kind: 'iron-condor',
      legs,
      ...(broken ? { policy: 'close' as const } : {}),
      createdAt: EpochMs.unsafe(opts.createdAt ?? T0),
    },
    state: opts.state ?? (broken ? 'BROKEN' : 'OPEN'),
    broken: broken
      ? {
          cause: 'assignment',
          kind: 'EARLY',
          incidentId: IncidentId.unsafe(`${id}:assignment:${T0}`),
          leg: 'SPY 2026-01-30 440 P',
          qty: 2,
          at: at(1000),
          reason: 'short put assigned: +200 SPY',
        }
      : null,
    holdings: broken ? [holding(put435, 2), holding(call460, -2), holding(call465, 2), holding(spy, 200)] : legs,
    updatedAt: at(broken ? 1000 : 0),
  };
}

export function request(strategy: string, group: string, opts: { account?: AccountId; incident?: string | null; limit?: number } = {}): OrderRequest {
  const incident = opts.incident === undefined ? `${strategy}:assignment:${T0}` : opts.incident;
  return {
    ref: OrderRef.unsafe(`lg/${strategy}/${incident ?? 'exit'}/${group}/1`),
    strategyId: StrategyId.unsafe(strategy),
    incidentId: incident === null ? null : IncidentId.unsafe(incident),
    account: opts.account ?? ACCT,
    legs: [
      { contract: call460, action: 'BUY', ratio: 1 },
      { contract: call465, action: 'SELL', ratio: 1 },
    ],
    quantity: Qty.unsafe(2),
    orderType: 'LMT',
    limitPrice: Price.unsafe(opts.limit ?? 1.35),
    outsideRth: false,
    purpose: 'emergency',
    tier: 2,
  };
}

export function order(req: OrderRequest, status: StoredOrderStatus, opts: { filled?: number; price?: number | null; updatedAt?: number; orderId?: string | null; reason?: string | null } = {}): OrderRecord {
  const sent = status !== 'planned';
  return {
    request: req,
    orderId: opts.orderId === undefined ? (sent ? BrokerOrderId.unsafe('1001') : null) : opts.orderId === null ? null : BrokerOrderId.unsafe(opts.orderId),
    status,
    filledQty: Qty.unsafe(opts.filled ?? 0),
    avgFillPrice: opts.price === undefined ? null : opts.price === null ? null : Price.unsafe(opts.price),
    placedAt: sent ? at(2000) : null,
    positionBefore: { 'OPT:SPY:2026-01-30:C:460': -2, 'OPT:SPY:2026-01-30:C:465': 2 } as OrderRecord['positionBefore'],
    reason: opts.reason ?? null,
    updatedAt: at(opts.updatedAt ?? 2000),
  };
}

export function entry(key: string, type: JournalType, ms: number, data: unknown = { key }, opts: { account?: AccountId; strategy?: string | null; incident?: string | null } = {}): JournalEntry {
  return {
    key,
    at: at(ms),
    type,
    account: opts.account ?? ACCT,
    strategyId: opts.strategy === undefined || opts.strategy === null ? null : StrategyId.unsafe(opts.strategy),
    incidentId: opts.incident === undefined || opts.incident === null ? null : IncidentId.unsafe(opts.incident),
    data,
  };
}

export function alert(key: string, severity: Severity, ms: number, incident: string | null = null, title = `alert ${key}`): Alert {
  return {
    key,
    severity,
    incidentId: incident === null ? null : IncidentId.unsafe(incident),
    strategyId: incident === null ? null : StrategyId.unsafe('ic-spy'),
    title,
    text: `What happened: ${key}.\nWhat legguard did: nothing yet.`,
    at: at(ms),
    facts: { leg: 'SPY 2026-01-30 440 P', qty: -2, emergency: true, note: null },
  };
}

/**
 * What schema 5 (before contracts were stored compact) holds for a broken condor with an index option among its
 * holdings and one of its orders: every contract field and the whole request written out. `sql` rewrites the rows
 * of a store that holds `strategy` and `order` (committed now) into that form and sets the version back to 5.
 */
export function schema5Rows(): { strategy: StrategyRecord; order: OrderRecord; sql: string } {
  const base = condor('ic-v5', { broken: true });
  const strategy: StrategyRecord = { ...base, holdings: [...base.holdings, holding(spxw, -1)] };
  const o = order(request('ic-v5', 'g1'), 'working');
  const text = (x: unknown): string => `'${JSON.stringify(x).replaceAll("'", "''")}'`;
  const sql = [
    `update legguard_strategies set definition = ${text(strategy.definition)} where strategy_id = 'ic-v5'`,
    ...strategy.holdings.map((h, i) => `update legguard_holdings set contract = ${text(h.contract)} where strategy_id = 'ic-v5' and idx = ${i}`),
    `update legguard_orders set request = ${text(o.request)} where ref = '${o.request.ref}'`,
    `update legguard_meta set value = '5' where key = 'schema_version'`,
  ].join(';\n');
  return { strategy, order: o, sql };
}
