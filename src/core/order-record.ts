import type { BrokerOrderId, ContractKey } from './ids.js';
import type { OrderRequest } from './order.js';
import type { EpochMs, Price, Qty } from './quantity.js';

import type { StoredOrderStatus } from './order-state.js';

/** `planned` is written before the order goes out (write-ahead); the rest mirror the broker (see order-state). */
export type { StoredOrderStatus } from './order-state.js';

/** One order legguard placed (or is about to place), as the store keeps it. */
export interface OrderRecord {
  readonly request: OrderRequest;
  readonly orderId: BrokerOrderId | null;
  readonly status: StoredOrderStatus;
  /** Order units. */
  readonly filledQty: Qty;
  readonly avgFillPrice: Price | null;
  readonly placedAt: EpochMs | null;
  /** The account's position in each leg's contract when the order was sent. */
  readonly positionBefore: Readonly<Record<ContractKey, number>>;
  readonly reason: string | null;
  readonly updatedAt: EpochMs;
}
