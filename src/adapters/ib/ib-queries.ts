import type { Contract as IbContract, ContractDetails } from '@stoqey/ib';
import { contractKey, describeContract, type Contract } from '../../core/contract.js';
import { LegguardError } from '../../core/errors.js';
import type { ExecutionReport, PositionReport } from '../../core/events.js';
import type { AccountId, ContractKey } from '../../core/ids.js';
import type { OrderRequest } from '../../core/order.js';
import type { EpochMs } from '../../core/quantity.js';
import type { OpenOrderReport } from '../../ports/broker.js';
import { AccountFeed, type PositionsRound } from './ib-account.js';
import type { IbConnection } from './ib-connection.js';
import type { ContractCache } from './ib-contract-cache.js';
import { toIbContract } from './ib-contracts.js';
import { DATA_PRIORITY } from './ib-market-data.js';
import type { OpenOrdersRound, OrderBook } from './ib-order-book.js';
import { endRound, type Requests } from './ib-requests.js';
import { formatIbUtc } from './ib-time.js';

/**
 * What the adapter asks TWS and waits for: the three lists a reconciliation reads (positions and open orders as
 * joined rounds, executions since a time), contract details (a combo leg's conId, the contract behind a conId).
 * The ends of the lists arrive as callbacks (`positionsEnd`, `openOrdersEnd`, `executionsEnd`, `detailsEnd`).
 */
export class IbQueries {
  /** The open orders round under way, if any: the order callbacks feed it. */
  openOrdersRound: OpenOrdersRound | null = null;
  private readonly positionsSlot = { get: (): PositionsRound | null => this.d.feed.positionsRound, set: (r: PositionsRound | null): void => void (this.d.feed.positionsRound = r) };
  private readonly openOrdersSlot = { get: (): OpenOrdersRound | null => this.openOrdersRound, set: (r: OpenOrdersRound | null): void => void (this.openOrdersRound = r) };

  constructor(
    private readonly d: {
      readonly account: AccountId;
      readonly conn: IbConnection;
      readonly requests: Requests;
      readonly feed: AccountFeed;
      readonly orders: OrderBook;
      readonly cache: ContractCache;
      readonly warn: (line: string) => void;
    },
  ) {}

  /** A list round is under way. */
  get busy(): boolean {
    return this.d.feed.positionsRound !== null || this.openOrdersRound !== null;
  }

  positionsEnd(): void {
    const round = endRound(this.positionsSlot);
    if (round) for (const w of round.waiters) w.resolve(this.d.feed.endPositions(round));
  }

  openOrdersEnd(): void {
    const round = endRound(this.openOrdersSlot);
    if (!round) return;
    this.d.orders
      .openOrders(round, {
        legOf: (conId) => this.contractForConId(conId),
        single: (c) => this.d.cache.read(c, 'openOrder'),
        unresolved: (id, conId) => this.d.warn(`open order ${id}: combo leg conId ${String(conId)} could not be resolved; the order is left out of the snapshot`),
      })
      .then(
        (list) => {
          for (const w of round.waiters) w.resolve(list);
        },
        (e: unknown) => {
          for (const w of round.waiters) w.reject(e);
        },
      );
  }

  executionsEnd(reqId: number): void {
    const req = this.d.requests.get(reqId);
    if (req?.kind !== 'executions') return;
    this.d.requests.take(reqId);
    req.done.resolve(AccountFeed.since(req.rows, req.since));
  }

  detailsEnd(reqId: number): void {
    const req = this.d.requests.get(reqId);
    if (req?.kind !== 'details') return;
    this.d.requests.take(reqId);
    req.done.resolve(req.results);
  }

  /** Fails the list rounds under way (the connection went). */
  failRounds(error: LegguardError): void {
    for (const w of endRound(this.positionsSlot)?.waiters ?? []) w.reject(error);
    for (const w of endRound(this.openOrdersSlot)?.waiters ?? []) w.reject(error);
  }

  positions(): Promise<PositionReport[]> {
    return this.d.requests.joinRound<PositionReport[], PositionsRound>(
      this.positionsSlot,
      (w) => ({ seen: new Map(), waiters: [w], timer: null }),
      'reqPositions',
      () => this.d.conn.send(DATA_PRIORITY, (api) => api.reqPositions()),
    );
  }

  openOrders(): Promise<OpenOrderReport[]> {
    return this.d.requests.joinRound<OpenOrderReport[], OpenOrdersRound>(
      this.openOrdersSlot,
      (w) => ({ orders: new Map(), statuses: new Map(), waiters: [w], timer: null }),
      'reqAllOpenOrders',
      () => this.d.conn.send(DATA_PRIORITY, (api) => api.reqAllOpenOrders()),
    );
  }

  executions(since: EpochMs | null): Promise<ExecutionReport[]> {
    // IB filters by whole seconds; legguard's own filter then keeps exactly what it asked for.
    const floor = since === null ? null : Math.floor(since / 1000) * 1000;
    return this.d.requests.request<ExecutionReport[]>(
      (done, timer) => ({ kind: 'executions', since: floor, rows: [], done, timer }),
      'reqExecutions',
      (id) => this.d.conn.send(DATA_PRIORITY, (api) => api.reqExecutions(id, { acctCode: this.d.account, ...(floor !== null ? { time: formatIbUtc(floor) } : {}) })),
    );
  }

  private contractDetails(c: IbContract, what: string, priority: number): Promise<ContractDetails[]> {
    return this.d.requests.request<ContractDetails[]>(
      (done, timer) => ({ kind: 'details', what, results: [], done, timer }),
      `contract details for ${what}`,
      (id) => this.d.conn.send(priority, (api) => api.reqContractDetails(id, c)),
    );
  }

  async contractForConId(conId: number): Promise<Contract | null> {
    const known = this.d.cache.contractOf(conId);
    if (known) return known;
    try {
      await this.contractDetails({ conId, exchange: 'SMART' }, `conId ${conId}`, DATA_PRIORITY);
    } catch {
      return null;
    }
    return this.d.cache.contractOf(conId) ?? null;
  }

  /** The conIds of a combo's legs: from what TWS already reported, else from contract details. */
  async conIdsFor(req: OrderRequest): Promise<Map<ContractKey, number>> {
    const out = new Map<ContractKey, number>();
    if (req.legs.length < 2) {
      const known = this.d.cache.conIdOf(req.legs[0]!.contract);
      if (known !== undefined) out.set(contractKey(req.legs[0]!.contract), known);
      return out;
    }
    for (const leg of req.legs) {
      let conId = this.d.cache.conIdOf(leg.contract);
      if (conId === undefined) {
        const details = await this.contractDetails(toIbContract(leg.contract), describeContract(leg.contract), req.tier);
        conId = this.d.cache.conIdOf(leg.contract) ?? details[0]?.contract.conId;
        if (conId === undefined) throw new LegguardError('BROKER_REJECTED', `IB returned no conId for ${describeContract(leg.contract)}`);
        this.d.cache.remember(leg.contract, conId);
      }
      out.set(contractKey(leg.contract), conId);
    }
    return out;
  }
}
