import { OrderAction, OrderType, SecType, TimeInForce, type Contract as IbContract, type Order as IbOrder } from '@stoqey/ib';
import { contractKey, describeContract } from '../../core/contract.js';
import { LegguardError } from '../../core/errors.js';
import type { ContractKey } from '../../core/ids.js';
import type { OrderRequest } from '../../core/order.js';
import { requireOrderShape } from '../../core/order-shape.js';
import { toIbContract } from './ib-contracts.js';

/**
 * Checks an order before anything goes to TWS: the one order shape rule the gate also applies
 * (core/order-shape.ts), and this connection's account; INVALID_INPUT naming every problem.
 */
export function checkOrder(req: OrderRequest, account: string): void {
  requireOrderShape(req, account);
}

/**
 * IB's contract and order for a legguard order. One leg: the leg's contract, its action. Two or more: a BAG bought
 * as defined by the legs (IB's combo convention matches legguard's: the net limit is positive for a debit, negative
 * for a credit), which needs every leg's conId. Always `transmit: true` (an untransmitted order sits in TWS doing
 * nothing), always the orderRef, DAY.
 */
export function buildIbOrder(req: OrderRequest, conIds: ReadonlyMap<ContractKey, number>): { contract: IbContract; order: IbOrder } {
  const base: IbOrder = {
    orderType: req.orderType === 'MKT' ? OrderType.MKT : OrderType.LMT,
    totalQuantity: req.quantity,
    account: req.account,
    orderRef: req.ref,
    transmit: true,
    tif: TimeInForce.DAY,
    outsideRth: req.outsideRth,
    ...(req.orderType === 'LMT' && req.limitPrice !== null ? { lmtPrice: req.limitPrice } : {}),
  };
  if (req.legs.length === 1) {
    const leg = req.legs[0]!;
    const conId = conIds.get(contractKey(leg.contract));
    return {
      contract: toIbContract(leg.contract, conId),
      order: { ...base, action: leg.action === 'BUY' ? OrderAction.BUY : OrderAction.SELL },
    };
  }
  const first = req.legs[0]!.contract;
  const comboLegs = req.legs.map((leg) => {
    const conId = conIds.get(contractKey(leg.contract));
    if (conId === undefined) {
      throw new LegguardError('INTERNAL', `combo leg ${describeContract(leg.contract)} has no conId (contract details were not fetched)`);
    }
    return { conId, ratio: leg.ratio, action: leg.action === 'BUY' ? OrderAction.BUY : OrderAction.SELL, exchange: 'SMART' };
  });
  return {
    contract: { symbol: first.symbol, secType: SecType.BAG, currency: first.currency, exchange: 'SMART', comboLegs },
    order: { ...base, action: OrderAction.BUY },
  };
}
