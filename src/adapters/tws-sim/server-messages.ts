import type { ReportedContract } from './contract-directory.js';
import type { Field } from './frame-codec.js';
import { ServerMsg } from './message-ids.js';

/**
 * Server messages at version 193, field for field as TWS writes them and IB's clients (@stoqey/ib 1.6.10 among them)
 * read them. Each function returns the fields of one message, id first; the session frames and sends them.
 */

/** Java's Double.MAX_VALUE text: IB's "unset" for a double (a client reads it as undefined, not 0). */
export const UNSET_DOUBLE = '1.7976931348623157E308';
/** IB's "unset" for an int. */
export const UNSET_INT = 2147483647;

function contractHead(c: ReportedContract): Field[] {
  return [c.conId, c.symbol, c.secType, c.lastTradeDate, c.strike, c.right, c.multiplier];
}

export const Msg = {
  nextValidId(orderId: number): Field[] {
    return [ServerMsg.NEXT_VALID_ID, 1, orderId];
  },

  managedAccounts(accounts: readonly string[]): Field[] {
    return [ServerMsg.MANAGED_ACCTS, 1, accounts.join(',')];
  },

  /** An error or notice. `id` is the request or order id, -1 for the connection (a client sees those as info). */
  error(id: number, code: number, message: string, advancedOrderRejectJson = ''): Field[] {
    return [ServerMsg.ERR_MSG, 2, id, code, message, advancedOrderRejectJson];
  },

  currentTime(epochSeconds: number): Field[] {
    return [ServerMsg.CURRENT_TIME, 1, epochSeconds];
  },

  position(account: string, c: ReportedContract, qty: number, avgCost: number): Field[] {
    return [ServerMsg.POSITION, 3, account, ...contractHead(c), c.exchange, c.currency, c.localSymbol, c.tradingClass, qty, avgCost];
  },

  positionEnd(): Field[] {
    return [ServerMsg.POSITION_END, 1];
  },

  accountValue(key: string, value: string, currency: string, account: string): Field[] {
    return [ServerMsg.ACCT_VALUE, 2, key, value, currency, account];
  },

  portfolioValue(
    c: ReportedContract,
    qty: number,
    p: { marketPrice: number; marketValue: number; averageCost: number; unrealizedPnl: number; realizedPnl: number },
    account: string,
  ): Field[] {
    return [
      ServerMsg.PORTFOLIO_VALUE, 8, ...contractHead(c), c.primaryExch, c.currency, c.localSymbol, c.tradingClass,
      qty, p.marketPrice, p.marketValue, p.averageCost, p.unrealizedPnl, p.realizedPnl, account,
    ];
  },

  /** `HH:MM`, the time of the last account update. */
  accountUpdateTime(hhmm: string): Field[] {
    return [ServerMsg.ACCT_UPDATE_TIME, 1, hhmm];
  },

  accountDownloadEnd(account: string): Field[] {
    return [ServerMsg.ACCT_DOWNLOAD_END, 1, account];
  },

  /** One execution; `reqId` is -1 for a live one, the request's id when answering REQ_EXECUTIONS. */
  executionData(
    reqId: number,
    orderId: number,
    c: ReportedContract,
    e: {
      execId: string;
      /** `YYYYMMDD HH:MM:SS Zone`. */
      time: string;
      account: string;
      exchange: string;
      side: 'BOT' | 'SLD';
      shares: number;
      price: number;
      permId: number;
      clientId: number;
      liquidation: boolean;
      cumQty: number;
      avgPrice: number;
      orderRef: string;
    },
  ): Field[] {
    return [
      ServerMsg.EXECUTION_DATA, reqId, orderId, ...contractHead(c), c.exchange, c.currency, c.localSymbol, c.tradingClass,
      e.execId, e.time, e.account, e.exchange, e.side, e.shares, e.price, e.permId, e.clientId, e.liquidation ? 1 : 0,
      e.cumQty, e.avgPrice, e.orderRef, '', '', '', 0, false,
    ];
  },

  executionDataEnd(reqId: number): Field[] {
    return [ServerMsg.EXECUTION_DATA_END, 1, reqId];
  },

  commissionReport(execId: string, commission: number, currency: string): Field[] {
    return [ServerMsg.COMMISSION_REPORT, 1, execId, commission, currency, UNSET_DOUBLE, UNSET_DOUBLE, ''];
  },

  orderStatus(o: {
    orderId: number;
    status: string;
    filled: number;
    remaining: number;
    avgFillPrice: number;
    permId: number;
    lastFillPrice: number;
    clientId: number;
    whyHeld: string;
  }): Field[] {
    return [
      ServerMsg.ORDER_STATUS, o.orderId, o.status, o.filled, o.remaining, o.avgFillPrice, o.permId, 0, o.lastFillPrice,
      o.clientId, o.whyHeld, 0,
    ];
  },

  openOrderEnd(): Field[] {
    return [ServerMsg.OPEN_ORDER_END, 1];
  },

  completedOrdersEnd(): Field[] {
    return [ServerMsg.COMPLETED_ORDERS_END];
  },

  contractData(
    reqId: number,
    c: ReportedContract,
    d: {
      longName: string;
      minTick: number;
      underConId: number;
      underSymbol: string;
      underSecType: string;
      timeZoneId: string;
      tradingHours: string;
      liquidHours: string;
      /** `YYYYMMDD` for options. */
      realExpirationDate: string;
      stockType: string;
    },
  ): Field[] {
    return [
      ServerMsg.CONTRACT_DATA, reqId, c.symbol, c.secType, c.lastTradeDate, c.lastTradeDate, c.strike, c.right,
      c.exchange, c.currency, c.localSymbol, /* marketName */ c.tradingClass, c.tradingClass, c.conId, d.minTick,
      c.multiplier, /* orderTypes */ 'LMT,MKT', /* validExchanges */ 'SMART', /* priceMagnifier */ 1, d.underConId,
      d.longName, c.primaryExch, /* contractMonth */ c.lastTradeDate.slice(0, 6), /* industry */ '', /* category */ '',
      /* subcategory */ '', d.timeZoneId, d.tradingHours, d.liquidHours, /* evRule */ '', /* evMultiplier */ '',
      /* secIdList count */ 0, /* aggGroup */ 1, d.underSymbol, d.underSecType, /* marketRuleIds */ '',
      d.realExpirationDate, d.stockType, /* minSize */ 1, /* sizeIncrement */ 1, /* suggestedSizeIncrement */ 1,
      /* ineligibilityReasons count */ 0,
    ];
  },

  contractDataEnd(reqId: number): Field[] {
    return [ServerMsg.CONTRACT_DATA_END, 1, reqId];
  },

  /** Price ticks carry the size that goes with them (IB version 3: price, size, attribute mask). */
  tickPrice(reqId: number, tickType: number, price: number, size: number, attrMask = 0): Field[] {
    return [ServerMsg.TICK_PRICE, 3, reqId, tickType, price, size, attrMask];
  },

  tickSize(reqId: number, tickType: number, size: number): Field[] {
    return [ServerMsg.TICK_SIZE, 1, reqId, tickType, size];
  },

  tickString(reqId: number, tickType: number, value: string): Field[] {
    return [ServerMsg.TICK_STRING, 1, reqId, tickType, value];
  },

  /**
   * Option model values; IB marks what it has not computed with -1 (volatility, prices) and -2 (greeks), which a
   * client reads as undefined.
   */
  tickOptionComputation(
    reqId: number,
    tickType: number,
    v: { impliedVol: number | null; delta: number | null; optPrice: number | null; undPrice: number | null },
  ): Field[] {
    return [
      ServerMsg.TICK_OPTION_COMPUTATION, reqId, tickType, /* tickAttrib: price based */ 1, v.impliedVol ?? -1,
      v.delta ?? -2, v.optPrice ?? -1, /* pvDividend */ -1, /* gamma */ -2, /* vega */ -2, /* theta */ -2,
      v.undPrice ?? -1,
    ];
  },

  tickSnapshotEnd(reqId: number): Field[] {
    return [ServerMsg.TICK_SNAPSHOT_END, 1, reqId];
  },

  marketDataType(reqId: number, type: number): Field[] {
    return [ServerMsg.MARKET_DATA_TYPE, 1, reqId, type];
  },

  tickReqParams(reqId: number, minTick: number, bboExchange: string, snapshotPermissions: number): Field[] {
    return [ServerMsg.TICK_REQ_PARAMS, reqId, minTick, bboExchange, snapshotPermissions];
  },
};

/** IB tick types the gateway sends. */
export const TickType = {
  BID_SIZE: 0,
  BID: 1,
  ASK: 2,
  ASK_SIZE: 3,
  LAST: 4,
  LAST_SIZE: 5,
  CLOSE: 9,
  MODEL_OPTION: 13,
  IB_DIVIDENDS: 59,
} as const;
