import type { BookView } from './book.js';
import { contractKey, describeContract, type Contract } from './contract.js';
import { ContractKeys } from './contract-keys.js';
import { isTerminalOrderStatus, type ExecutionReport, type OrderStatusReport, type PositionReport } from './events.js';
import type { BrokerOrderId, ContractKey, ExecId, OrderRef, StrategyId } from './ids.js';
import { isLegguardRef } from './order.js';
import { EpochMs, Qty } from './quantity.js';
import type { BrokerSnapshot, OpenOrderReport } from './broker-snapshot.js';
import type { OrderRecord } from './order-record.js';

export const DISCREPANCY_KINDS = ['leg-missing', 'unexpected-position', 'quantity-mismatch', 'orphan-order'] as const;
export type DiscrepancyKind = (typeof DISCREPANCY_KINDS)[number];

/** One way the broker and legguard's records disagree. */
export interface Discrepancy {
  /**
   * Derived from what it stands for, never from when it was found: the same disagreement found again (the next
   * interval, after a restart) has the same key, so the journal records it once.
   *
   * @example 'leg-missing:OPT:SPY:2026-01-30:P:440:-2->0'
   */
  readonly key: string;
  readonly kind: DiscrepancyKind;
  readonly contract: Contract | null;
  /** The book's net and the broker's position; null for orders. */
  readonly bookQty: Qty | null;
  readonly brokerQty: Qty | null;
  /** Strategies holding the contract (oldest first), or the order's strategy. */
  readonly strategies: readonly StrategyId[];
  readonly orderRef: OrderRef | null;
  readonly orderId: BrokerOrderId | null;
  /** For an orphan order: where it exists (`broker`: unknown to the store; `store`: absent at the broker). */
  readonly where: 'broker' | 'store' | null;
  /** For an orphan order absent at the broker: order units its executions in the snapshot account for. */
  readonly executedUnits: number | null;
  readonly message: string;
}

/** A store order found working at the broker: the engine adopts its id and status and never sends it again. */
export interface MatchedOrder {
  readonly ref: OrderRef;
  readonly orderId: BrokerOrderId;
  readonly storeStatus: OrderRecord['status'];
  readonly broker: OpenOrderReport;
}

export interface ReconcileInput {
  readonly snapshot: BrokerSnapshot;
  readonly book: BookView;
  /**
   * The guard's orders as the store has them, open and finished: open ones are matched with the broker's working
   * orders; finished ones (filled, cancelled, rejected) are still the guard's own, so their executions, which the
   * broker hands back for as long as they are in its lookback, are never taken for an order nobody knows.
   */
  readonly storeOrders: readonly OrderRecord[];
  /** True for executions already applied or journaled: they are not handed on again. */
  readonly isKnownExecution: (execId: ExecId) => boolean;
  /** The cursor of the last reconciliation (where `executionsSince` started); null at the first. */
  readonly executionsSince: EpochMs | null;
  /**
   * Executions younger than this at the snapshot are asked for again next time (and skipped by id when known), so a
   * report lost in one snapshot is found in the next. Default 10 minutes.
   */
  readonly executionLookbackMs?: number;
  /** This process's time, for `tsInit` of the reports it makes up. */
  readonly now: EpochMs;
}

export interface ReconcileResult {
  readonly discrepancies: readonly Discrepancy[];
  /**
   * What to feed the engine, in this order, exactly as if they had arrived live: new executions (oldest first; own
   * fills update holdings, foreign ones wait for the detector), status of store orders the broker has moved on,
   * then the position of every contract where the broker differs from the book (0 where it shows none).
   */
  readonly events: readonly (ExecutionReport | OrderStatusReport | PositionReport)[];
  readonly executions: readonly ExecutionReport[];
  readonly positions: readonly PositionReport[];
  readonly matchedOrders: readonly MatchedOrder[];
  /** Where the next snapshot's executions should start. */
  readonly cursor: { readonly executionsSince: EpochMs | null; readonly lastExecId: ExecId | null };
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The pure diff of a broker snapshot against the book and the store's open orders (issue 3 item 4). Reports are
 * deduplicated (executions by id, open orders by broker id, positions by contract) and sorted, so the result does
 * not depend on the order the broker sent them or on how often it repeated one. Reports for other accounts are
 * ignored. Made-up reports say `reconciled: true` and carry the snapshot's time.
 *
 * @example
 *   // The store knows ic-spy -2 SPY 440 P; the broker shows no 440 put and +200 SPY:
 *   reconcile({ snapshot, book, ... }).positions
 *   // [position OPT:SPY:...:P:440 qty 0, position STK:SPY qty 200]: the detector makes them an assignment
 */
export function reconcile(input: ReconcileInput): ReconcileResult {
  const { snapshot, book } = input;
  const brokerPos = latestPositions(snapshot);
  // Every contract the broker or the book knows, where they differ.
  const differing: ContractKey[] = [];
  for (const [key, p] of brokerPos) if (p.qty !== book.net(key)) differing.push(key);
  for (const key of book.contractKeys()) if (!brokerPos.has(key) && book.net(key) !== 0) differing.push(key);
  return reconcileDiffering(input, differing, (key) => brokerPos.get(key));
}

/**
 * Keys of the contracts snapshots name, found by their fields (contract-keys.ts): a memo, so `reconcile` stays a
 * function of its input.
 */
const snapshotKeys = new ContractKeys();

/** The snapshot's positions of its account, one per contract: among repeats, the latest (then a fixed order). */
export function latestPositions(snapshot: BrokerSnapshot): Map<ContractKey, PositionReport> {
  const brokerPos = new Map<ContractKey, PositionReport>();
  for (const p of snapshot.positions) {
    if (p.account !== snapshot.account) continue;
    const key = snapshotKeys.keyOf(p.contract);
    const prev = brokerPos.get(key);
    if (!prev || comparePosition(p, prev) > 0) brokerPos.set(key, p);
  }
  return brokerPos;
}

/**
 * The reconciliation, given the contracts where the broker's position (`reported`, none for 0) and the book's net
 * differ: `reconcile` finds them by looking at every contract, the incremental reconciler by looking again only where
 * something changed since its last pass (incremental-reconcile.ts). Everything else is the same for both.
 */
export function reconcileDiffering(
  input: ReconcileInput,
  differing: readonly ContractKey[],
  reported: (key: ContractKey) => PositionReport | undefined,
): ReconcileResult {
  const { snapshot, book } = input;
  const account = snapshot.account;
  const discrepancies: Discrepancy[] = [];
  const made = { tsEvent: snapshot.at, tsInit: input.now, reconciled: true as const };

  // Executions: unique, this account, oldest first; the new ones are handed on.
  const execById = new Map<ExecId, ExecutionReport>();
  for (const x of snapshot.executions) {
    if (x.account !== account) continue;
    const prev = execById.get(x.execId);
    if (!prev || compareExec(x, prev) > 0) execById.set(x.execId, x);
  }
  const allExecs = [...execById.values()].sort((a, b) => a.tsEvent - b.tsEvent || byString(a.execId, b.execId));
  const executions = allExecs.filter((x) => !input.isKnownExecution(x.execId)).map((x) => ({ ...x, reconciled: true as const }));

  // Orders: the broker's working orders against the store's open ones, by orderRef (then broker id).
  const brokerOrders = new Map<BrokerOrderId, OpenOrderReport>();
  for (const o of snapshot.openOrders) {
    if (o.account !== account) continue;
    const prev = brokerOrders.get(o.orderId);
    if (!prev || compareOpenOrder(o, prev) > 0) brokerOrders.set(o.orderId, o);
  }
  // Only open store orders can match a working one: a finished order never reopens (the order state machine), so a
  // broker order still working under a finished order's ref is an orphan to cancel, said as such.
  const openOrders = input.storeOrders.filter((r) => isOpenStoreStatus(r.status));
  const storeByRef = new Map<OrderRef, OrderRecord>();
  const storeById = new Map<BrokerOrderId, OrderRecord>();
  for (const r of openOrders) {
    storeByRef.set(r.request.ref, r);
    if (r.orderId !== null) storeById.set(r.orderId, r);
  }
  const finishedByRef = new Map<OrderRef, OrderRecord>();
  for (const r of input.storeOrders) if (!isOpenStoreStatus(r.status)) finishedByRef.set(r.request.ref, r);
  const executedByRef = new Map<OrderRef, ExecutionReport[]>();
  for (const x of allExecs) {
    if (x.orderRef === null) continue;
    const list = executedByRef.get(x.orderRef);
    if (list) list.push(x);
    else executedByRef.set(x.orderRef, [x]);
  }
  const matchedOrders: MatchedOrder[] = [];
  const statusEvents: OrderStatusReport[] = [];
  const atBroker = new Set<OrderRef>();
  for (const b of [...brokerOrders.values()].sort((x, y) => byString(x.orderId, y.orderId))) {
    const rec = (b.orderRef !== null ? storeByRef.get(b.orderRef) : undefined) ?? storeById.get(b.orderId);
    if (rec) {
      atBroker.add(rec.request.ref);
      matchedOrders.push({ ref: rec.request.ref, orderId: b.orderId, storeStatus: rec.status, broker: b });
      if (rec.status !== b.status || rec.filledQty !== b.filledQty || rec.orderId !== b.orderId) {
        statusEvents.push({
          kind: 'order-status',
          orderId: b.orderId,
          orderRef: rec.request.ref,
          status: b.status,
          filledQty: b.filledQty,
          remainingQty: b.remainingQty,
          avgFillPrice: null,
          reason: null,
          code: null,
          ...made,
        });
      }
    } else if (isLegguardRef(b.orderRef)) {
      const finished = finishedByRef.get(b.orderRef!);
      discrepancies.push({
        key: `orphan-order:broker:${b.orderRef}:${b.orderId}`,
        kind: 'orphan-order',
        contract: b.legs[0]?.contract ?? null,
        bookQty: null,
        brokerQty: null,
        strategies: [],
        orderRef: b.orderRef,
        orderId: b.orderId,
        where: 'broker',
        executedUnits: null,
        message: finished
          ? `order ${b.orderRef} (${b.orderId}) is working at the broker, yet the store has it ${finished.status}`
          : `order ${b.orderRef} (${b.orderId}) is working at the broker but the store does not know it`,
      });
    }
  }
  for (const rec of [...openOrders].sort((a, b) => byString(a.request.ref, b.request.ref))) {
    if (atBroker.has(rec.request.ref)) continue;
    const xs = executedByRef.get(rec.request.ref) ?? [];
    const units = executedUnits(rec, xs);
    if (rec.status === 'planned' && xs.length === 0) continue; // written ahead, not sent yet: nothing to find
    discrepancies.push({
      key: `orphan-order:store:${rec.request.ref}`,
      kind: 'orphan-order',
      contract: rec.request.legs[0]?.contract ?? null,
      bookQty: null,
      brokerQty: null,
      strategies: [rec.request.strategyId],
      orderRef: rec.request.ref,
      orderId: rec.orderId ?? xs[0]?.orderId ?? null,
      where: 'store',
      executedUnits: units,
      message:
        rec.status === 'planned'
          ? `order ${rec.request.ref} is only planned in the store, yet the broker executed ${units} unit(s) of it: it went out before the store knew`
          : `order ${rec.request.ref} is ${rec.status} in the store but not working at the broker; its executions here account for ${units} of ${rec.request.quantity} unit(s)`,
    });
  }
  // Executions under a legguard ref nobody knows (no order of the store, open or finished, and none working): an
  // order sent and forgotten.
  const workingRefs = new Set<string>();
  for (const o of brokerOrders.values()) if (o.orderRef !== null) workingRefs.add(o.orderRef);
  for (const [ref, xs] of [...executedByRef].sort(([a], [b]) => byString(a, b))) {
    if (!isLegguardRef(ref) || storeByRef.has(ref) || finishedByRef.has(ref) || workingRefs.has(ref)) continue;
    discrepancies.push({
      key: `orphan-order:broker:${ref}:executed`,
      kind: 'orphan-order',
      contract: xs[0]!.contract,
      bookQty: null,
      brokerQty: null,
      strategies: [],
      orderRef: ref,
      orderId: xs[0]!.orderId,
      where: 'broker',
      executedUnits: null,
      message: `the broker executed ${xs.map((x) => `${x.side} ${x.qty} ${describeContract(x.contract)}`).join(', ')} under ${ref}, which the store does not know`,
    });
  }

  // Positions: the contracts where the broker and the book differ, in key order.
  const positions: PositionReport[] = [];
  for (const key of [...differing].sort(byString)) {
    const rep = reported(key);
    const b = rep?.qty ?? Qty.zero;
    const n = book.net(key);
    if (b === n) continue;
    const contract = rep?.contract ?? book.contract(key);
    if (!contract) continue;
    const holders = book.strategiesHolding(key);
    const kind: DiscrepancyKind =
      b === 0 && holders.length > 0 ? 'leg-missing' : holders.length === 0 && book.holding(null, key) === 0 ? 'unexpected-position' : 'quantity-mismatch';
    const what = describeContract(contract);
    discrepancies.push({
      key: `${kind}:${key}:${n}->${b}`,
      kind,
      contract,
      bookQty: n,
      brokerQty: b,
      strategies: holders,
      orderRef: null,
      orderId: null,
      where: null,
      executedUnits: null,
      message:
        kind === 'leg-missing'
          ? `${what} is missing at the broker; the book has ${n} (held by ${holders.join(', ')})`
          : kind === 'unexpected-position'
            ? `the broker shows ${b} ${what}, which nobody in the book holds`
            : `the broker shows ${b} ${what}; the book has ${n}`,
    });
    positions.push({ kind: 'position', account, contract, qty: b, avgCost: rep?.avgCost ?? null, ...made });
  }

  discrepancies.sort((a, b) => byString(a.key, b.key));
  const lookback = input.executionLookbackMs ?? 600_000;
  const horizon = snapshot.at - lookback;
  const since = input.executionsSince === null ? horizon : Math.max(input.executionsSince, horizon);
  const last = allExecs[allExecs.length - 1];
  return {
    discrepancies,
    events: [...executions, ...statusEvents, ...positions],
    executions,
    positions,
    matchedOrders,
    cursor: { executionsSince: EpochMs.unsafe(since), lastExecId: last?.execId ?? null },
  };
}

/** Open: planned (written ahead) or not yet in a terminal status at the broker. */
function isOpenStoreStatus(s: OrderRecord['status']): boolean {
  return s === 'planned' || !isTerminalOrderStatus(s);
}

/** Order units an order's executions account for: its first leg's executed quantity over the leg's ratio. */
function executedUnits(rec: OrderRecord, xs: readonly ExecutionReport[]): number {
  const leg = rec.request.legs[0];
  if (!leg) return 0;
  const key = contractKey(leg.contract);
  const qty = xs.filter((x) => contractKey(x.contract) === key).reduce((s, x) => s + x.qty, 0);
  return Math.floor(qty / leg.ratio);
}

// Conflicting duplicates (the same id, different content) resolve the same way whatever their order: the later
// report wins, and among equal times a fixed order of the content.
function compareExec(a: ExecutionReport, b: ExecutionReport): number {
  return a.tsEvent - b.tsEvent || a.qty - b.qty || byString(JSON.stringify(a), JSON.stringify(b));
}

function compareOpenOrder(a: OpenOrderReport, b: OpenOrderReport): number {
  return a.filledQty - b.filledQty || byString(JSON.stringify(a), JSON.stringify(b));
}

/** Repeated position reports of one contract: the later wins, then a fixed order of the content. */
export function comparePosition(a: PositionReport, b: PositionReport): number {
  return a.tsEvent - b.tsEvent || byString(JSON.stringify(a), JSON.stringify(b));
}
