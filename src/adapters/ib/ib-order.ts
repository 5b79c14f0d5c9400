import { OrderAction, OrderType, SecType, TimeInForce, type Contract as IbContract, type Order as IbOrder } from '@stoqey/ib';
import { contractKey, describeContract } from '../../core/contract.js';
import { LegguardError } from '../../core/errors.js';
import type { ContractKey } from '../../core/ids.js';
import type { OrderRequest } from '../../core/order.js';
import { toIbContract } from './ib-contracts.js';

/**
 * Checks an order before anything goes to TWS; every problem is named. (The pre-trade gate has already passed it;
 * these are the things IB itself would refuse, caught before a message is spent on them.)
 */
export function checkOrder(req: OrderRequest, account: string): void {
  const bad = (why: string): never => {
    throw new LegguardError('INVALID_INPUT', `order ${req.ref}: ${why}`, { orderRef: req.ref });
  };
  if (req.account !== account) bad(`account ${req.account} is not this connection's account ${account}`);
  if (req.legs.length === 0) bad('an order needs at least one leg');
  if (!Number.isSafeInteger(req.quantity) || req.quantity <= 0) bad(`quantity must be a positive whole number; got ${req.quantity}`);
  if (req.orderType === 'LMT' && (req.limitPrice === null || !Number.isFinite(req.limitPrice))) bad('a limit order needs a limit price');
  if (req.legs.length === 1 && req.legs[0]!.ratio !== 1) bad(`a single-leg order has ratio 1; got ${req.legs[0]!.ratio}`);
  const keys = new Set<string>();
  for (const leg of req.legs) {
    if (!Number.isSafeInteger(leg.ratio) || leg.ratio <= 0) bad(`leg ratio must be a positive whole number; got ${leg.ratio}`);
    const key = contractKey(leg.contract);
    if (keys.has(key)) bad(`${describeContract(leg.contract)} appears twice`);
    keys.add(key);
  }
  if (req.legs.length > 1) {
    const symbols = new Set(req.legs.map((l) => l.contract.symbol));
    if (symbols.size > 1) bad(`combo legs must share one underlying; got ${[...symbols].join(', ')}`);
  }
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
