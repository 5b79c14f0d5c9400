import type { OrderStatus } from '../../core/events.js';
import type { BrokerOrderId } from '../../core/ids.js';
import type { OrderView, OrderViewLeg } from './order-messages.js';
import type { ReportedContract } from './contract-directory.js';

/** IB's words for legguard's order states. */
export function ibStatus(s: OrderStatus): string {
  switch (s) {
    case 'pending':
      return 'PreSubmitted';
    case 'working':
    case 'partially-filled':
      return 'Submitted';
    case 'filled':
      return 'Filled';
    case 'cancelled':
      return 'Cancelled';
    case 'rejected':
      return 'Inactive';
  }
}

export function isTerminalIbStatus(s: string): boolean {
  return s === 'Filled' || s === 'Cancelled' || s === 'Inactive' || s === 'ApiCancelled';
}

/**
 * One order the gateway has seen: placed by a client through it, or found at the backend (a "foreign" order, placed
 * some other way: orderId 0, as TWS shows manual orders to API clients).
 */
export interface GatewayOrder {
  readonly clientId: number;
  readonly orderId: number;
  readonly permId: number;
  backendId: BrokerOrderId | null;
  /** The ref the backend knows the order by (the client's own when it was a valid, unused legguard ref). */
  readonly backendRef: string;
  /** The orderRef the client sent, reported back to it unchanged. */
  readonly clientRef: string;
  readonly account: string;
  readonly contract: ReportedContract;
  readonly comboLegs: readonly OrderViewLeg[];
  readonly action: 'BUY' | 'SELL';
  readonly totalQuantity: number;
  readonly orderType: 'LMT' | 'MKT';
  readonly lmtPrice: number | null;
  readonly tif: string;
  readonly outsideRth: boolean;
  /** -1 when the client sold a combo: the backend holds it as bought with legs reversed, at the negated price. */
  readonly priceSign: 1 | -1;
  status: string;
  filled: number;
  remaining: number;
  avgFillPrice: number;
  lastFillPrice: number;
  completedTime: string;
  completedStatus: string;
  cancelRequested: boolean;
  /** Executions per leg contract (conId): cumulative quantity and average price, as IB reports on each fill. */
  readonly legFills: Map<number, { qty: number; avg: number }>;
}

export function viewOf(o: GatewayOrder): OrderView {
  return {
    orderId: o.orderId,
    clientId: o.clientId,
    permId: o.permId,
    contract: o.contract,
    comboLegs: o.comboLegs,
    action: o.action,
    totalQuantity: o.totalQuantity,
    orderType: o.orderType,
    lmtPrice: o.lmtPrice,
    tif: o.tif,
    account: o.account,
    orderRef: o.clientRef,
    outsideRth: o.outsideRth,
    status: o.status,
    filled: o.filled,
    remaining: o.remaining,
    avgFillPrice: o.avgFillPrice,
    lastFillPrice: o.lastFillPrice,
    completedTime: o.completedTime,
    completedStatus: o.completedStatus,
  };
}

/** Every order the gateway knows, by client id and order id, by backend id, and by backend ref. Survives reconnects. */
export class OrderRegistry {
  private readonly byClientOrder = new Map<string, GatewayOrder>();
  private readonly byBackend = new Map<BrokerOrderId, GatewayOrder>();
  private readonly byRef = new Map<string, GatewayOrder>();
  private readonly maxIds = new Map<number, number>();
  private permSeq = 1_000_000;

  nextPermId(): number {
    return ++this.permSeq;
  }

  /** Records that `clientId` used `orderId`, even for an order that was refused: IB ids only go up. */
  noteId(clientId: number, orderId: number): void {
    this.maxIds.set(clientId, Math.max(this.maxIds.get(clientId) ?? 0, orderId));
  }

  /** The next id a client may use. */
  nextValidId(clientId: number): number {
    return (this.maxIds.get(clientId) ?? 0) + 1;
  }

  /** True when `orderId` is not above every id `clientId` used (IB's 103, duplicate order id). */
  isUsed(clientId: number, orderId: number): boolean {
    return orderId <= (this.maxIds.get(clientId) ?? 0);
  }

  /** Whether an order of `account` already carries `ref` (refs are unique per account: two accounts may share one). */
  refInUse(account: string, ref: string): boolean {
    return this.byRef.has(refKey(account, ref));
  }

  add(o: GatewayOrder): void {
    if (o.orderId > 0) {
      this.byClientOrder.set(`${o.clientId}/${o.orderId}`, o);
      this.noteId(o.clientId, o.orderId);
    }
    this.byRef.set(refKey(o.account, o.backendRef), o);
    if (o.backendId) this.byBackend.set(o.backendId, o);
  }

  bind(o: GatewayOrder, backendId: BrokerOrderId): void {
    o.backendId = backendId;
    this.byBackend.set(backendId, o);
  }

  get(clientId: number, orderId: number): GatewayOrder | undefined {
    return this.byClientOrder.get(`${clientId}/${orderId}`);
  }

  byBackendId(id: BrokerOrderId | null): GatewayOrder | undefined {
    return id === null ? undefined : this.byBackend.get(id);
  }

  /**
   * An order by the ref the backend knows; events that outrun `placeOrder`'s answer find their order this way. An event
   * that names no account (an order status) takes the one order with that ref, none when accounts share it.
   */
  byBackendRef(ref: string | null, account: string | null): GatewayOrder | undefined {
    if (ref === null) return undefined;
    if (account !== null) return this.byRef.get(refKey(account, ref));
    const found = [...this.byRef.values()].filter((o) => o.backendRef === ref);
    return found.length === 1 ? found[0] : undefined;
  }

  all(): IterableIterator<GatewayOrder> {
    return this.byRef.values();
  }
}

function refKey(account: string, ref: string): string {
  return `${account} ${ref}`;
}
