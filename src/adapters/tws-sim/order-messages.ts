import type { ReportedContract } from './contract-directory.js';
import type { Field } from './frame-codec.js';
import { ServerMsg } from './message-ids.js';
import { UNSET_DOUBLE, UNSET_INT } from './server-messages.js';

export interface OrderViewLeg {
  readonly conId: number;
  readonly ratio: number;
  readonly action: 'BUY' | 'SELL';
}

/** An order as the gateway reports it to clients: IB's view (a combo is one BAG order with combo legs). */
export interface OrderView {
  readonly orderId: number;
  readonly clientId: number;
  readonly permId: number;
  /** The order's contract; a BAG for a combo. */
  readonly contract: ReportedContract;
  readonly comboLegs: readonly OrderViewLeg[];
  readonly action: 'BUY' | 'SELL';
  readonly totalQuantity: number;
  readonly orderType: 'LMT' | 'MKT';
  readonly lmtPrice: number | null;
  readonly tif: string;
  readonly account: string;
  readonly orderRef: string;
  readonly outsideRth: boolean;
  /** IB status text: PreSubmitted, Submitted, Filled, Cancelled, Inactive. */
  readonly status: string;
  readonly filled: number;
  readonly remaining: number;
  readonly avgFillPrice: number;
  readonly lastFillPrice: number;
  /** `YYYYMMDD HH:MM:SS Zone` when the order reached a terminal state, else empty. */
  readonly completedTime: string;
  readonly completedStatus: string;
}

function price(p: number | null): Field {
  return p === null ? '' : p;
}

function contractFields(v: OrderView): Field[] {
  const c = v.contract;
  return [c.conId, c.symbol, c.secType, c.lastTradeDate, c.strike, c.right, c.multiplier, c.exchange, c.currency, c.localSymbol, c.tradingClass];
}

function comboFields(v: OrderView): Field[] {
  const out: Field[] = [v.comboLegs.length > 0 ? comboDescription(v) : '', v.comboLegs.length];
  for (const l of v.comboLegs) out.push(l.conId, l.ratio, l.action, 'SMART', 0, 0, '', -1);
  out.push(0); // order combo leg prices
  out.push(0); // smart combo routing params
  return out;
}

/** IB's comboLegsDescription: `conId|ratio,conId|ratio`. */
function comboDescription(v: OrderView): string {
  return v.comboLegs.map((l) => `${l.conId}|${l.ratio}`).join(',');
}

/**
 * OPEN_ORDER at server version 193: no version field, every order attribute in IB's order, with the defaults TWS
 * reports for an order that does not use them.
 */
export function openOrderMessage(v: OrderView): Field[] {
  return [
    ServerMsg.OPEN_ORDER, v.orderId, ...contractFields(v),
    v.action, v.totalQuantity, v.orderType, price(v.lmtPrice), /* auxPrice */ '',
    v.tif, /* ocaGroup */ '', v.account, /* openClose */ '', /* origin */ 0, v.orderRef, v.clientId, v.permId,
    v.outsideRth, /* hidden */ 0, /* discretionaryAmt */ 0, /* goodAfterTime */ '',
    /* sharesAllocation */ '',
    /* faGroup, faMethod, faPercentage */ '', '', '',
    /* modelCode */ '', /* goodTillDate */ '', /* rule80A */ '', /* percentOffset */ '', /* settlingFirm */ '',
    /* shortSaleSlot, designatedLocation, exemptCode */ 0, '', -1,
    /* auctionStrategy */ 0,
    /* startingPrice, stockRefPrice, delta */ '', '', '',
    /* stockRangeLower, stockRangeUpper */ '', '',
    /* displaySize */ '',
    /* blockOrder, sweepToFill, allOrNone */ 0, 0, 0, /* minQty */ '', /* ocaType */ 3, /* eTradeOnly */ 0,
    /* firmQuoteOnly */ 0, /* nbboPriceCap */ '',
    /* parentId, triggerMethod */ 0, 0,
    /* volatility, volatilityType, deltaNeutralOrderType, deltaNeutralAuxPrice */ '', 0, '', '',
    /* continuousUpdate, referencePriceType */ 0, 0,
    /* trailStopPrice, trailingPercent */ '', '',
    /* basisPoints, basisPointsType */ '', '',
    ...comboFields(v),
    /* scaleInitLevelSize, scaleSubsLevelSize, scalePriceIncrement */ '', '', '',
    /* hedgeType */ '',
    /* optOutSmartRouting */ 0,
    /* clearingAccount, clearingIntent */ '', 'IB',
    /* notHeld */ 0,
    /* deltaNeutralContract */ 0,
    /* algoStrategy */ '',
    /* solicited */ 0,
    /* whatIf */ 0, v.status,
    /* initMarginBefore, maintMarginBefore, equityWithLoanBefore */ UNSET_DOUBLE, UNSET_DOUBLE, UNSET_DOUBLE,
    /* initMarginChange, maintMarginChange, equityWithLoanChange */ UNSET_DOUBLE, UNSET_DOUBLE, UNSET_DOUBLE,
    /* initMarginAfter, maintMarginAfter, equityWithLoanAfter */ UNSET_DOUBLE, UNSET_DOUBLE, UNSET_DOUBLE,
    /* commission, minCommission, maxCommission */ UNSET_DOUBLE, UNSET_DOUBLE, UNSET_DOUBLE,
    /* commissionCurrency, warningText */ '', '',
    /* randomizeSize, randomizePrice */ 0, 0,
    /* conditions */ 0,
    /* adjustedOrderType, triggerPrice, trailStopPrice, lmtPriceOffset */ 'None', '', '', '',
    /* adjustedStopPrice, adjustedStopLimitPrice, adjustedTrailingAmount, adjustableTrailingUnit */ '', '', '', 0,
    /* softDollarTier name, value, displayName */ '', '', '',
    /* cashQty */ '',
    /* dontUseAutoPriceForHedge */ 0,
    /* isOmsContainer */ 0,
    /* discretionaryUpToLimitPrice */ 0,
    /* usePriceMgmtAlgo */ 0,
    /* duration */ UNSET_INT,
    /* postToAts */ '',
    /* autoCancelParent */ 0,
    /* minTradeQty, minCompeteSize, competeAgainstBestOffset, midOffsetAtWhole, midOffsetAtHalf */ '', '', '', '', '',
    /* customerAccount */ '',
    /* professionalCustomer */ 0,
    /* bondAccruedInterest */ '',
    /* includeOvernight */ 0,
    /* extOperator, manualOrderIndicator */ '', '',
  ];
}

/** COMPLETED_ORDER at server version 193: no order id (completed orders are identified by permId). */
export function completedOrderMessage(v: OrderView): Field[] {
  return [
    ServerMsg.COMPLETED_ORDER, ...contractFields(v),
    v.action, v.totalQuantity, v.orderType, price(v.lmtPrice), /* auxPrice */ '',
    v.tif, /* ocaGroup */ '', v.account, /* openClose */ '', /* origin */ 0, v.orderRef, v.permId,
    v.outsideRth, /* hidden */ 0, /* discretionaryAmt */ 0, /* goodAfterTime */ '',
    /* faGroup, faMethod, faPercentage */ '', '', '',
    /* modelCode */ '', /* goodTillDate */ '', /* rule80A */ '', /* percentOffset */ '', /* settlingFirm */ '',
    /* shortSaleSlot, designatedLocation, exemptCode */ 0, '', -1,
    /* startingPrice, stockRefPrice, delta */ '', '', '',
    /* stockRangeLower, stockRangeUpper */ '', '',
    /* displaySize */ '',
    /* sweepToFill, allOrNone */ 0, 0, /* minQty */ '', /* ocaType */ 3,
    /* triggerMethod */ 0,
    /* volatility, volatilityType, deltaNeutralOrderType, deltaNeutralAuxPrice */ '', 0, '', '',
    /* continuousUpdate, referencePriceType */ 0, 0,
    /* trailStopPrice, trailingPercent */ '', '',
    ...comboFields(v),
    /* scaleInitLevelSize, scaleSubsLevelSize, scalePriceIncrement */ '', '', '',
    /* hedgeType */ '',
    /* clearingAccount, clearingIntent */ '', 'IB',
    /* notHeld */ 0,
    /* deltaNeutralContract */ 0,
    /* algoStrategy */ '',
    /* solicited */ 0,
    v.status,
    /* randomizeSize, randomizePrice */ 0, 0,
    /* conditions */ 0,
    /* trailStopPrice, lmtPriceOffset */ '', '',
    /* cashQty */ '',
    /* dontUseAutoPriceForHedge */ 0,
    /* isOmsContainer */ 0,
    /* autoCancelDate */ '',
    /* filledQuantity */ v.filled,
    /* refFuturesConId */ 0,
    /* autoCancelParent */ 0,
    /* shareholder */ '',
    /* imbalanceOnly, routeMarketableToBbo */ 0, 0,
    /* parentPermId */ 0,
    v.completedTime, v.completedStatus,
    /* minTradeQty, minCompeteSize, competeAgainstBestOffset, midOffsetAtWhole, midOffsetAtHalf */ '', '', '', '', '',
    /* customerAccount */ '',
    /* professionalCustomer */ 0,
  ];
}
