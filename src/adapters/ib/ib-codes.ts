/**
 * What IB's message codes mean to legguard. TWS sends errors and notices through one callback with a code and the id
 * of the request or order they concern (-1 for the connection). The sorting here decides whether an order is dead
 * (a reject), whether the link is up, or whether a person should merely read it in the journal.
 */

export const IbCode = {
  /** Connectivity between IB and TWS lost. */
  CONNECTIVITY_LOST: 1100,
  /** Restored; market and account subscriptions are gone and must be made again. */
  RESTORED_DATA_LOST: 1101,
  /** Restored; subscriptions kept. */
  RESTORED_DATA_MAINTAINED: 1102,
  /** TWS lost its own server link; TWS restores it by itself. */
  TWS_SERVER_BROKEN: 2110,
  ORDER_CANCELLED: 202,
  NO_SECURITY_DEFINITION: 200,
  CLIENT_ID_IN_USE: 326,
  CONNECT_FAIL: 502,
  NOT_CONNECTED: 504,
} as const;

/** Codes about an order that do not end it: IB's order messages and warnings. */
const ORDER_WARNINGS: ReadonlySet<number> = new Set([
  161, // cancel attempted when the order is not cancellable (it already finished)
  399, // order message: e.g. "will not be placed at the exchange until" the open
  404, // shares for this order are not immediately available for short sale (order held)
  10147, // cancel: order id not found
  10148, // cancel: order cannot be cancelled (already done)
  10149, // cancel: invalid order id
]);

/** True when an error on an order id means the order is dead: rejected by IB or the exchange. */
export function isOrderReject(code: number): boolean {
  if (code === IbCode.ORDER_CANCELLED) return false;
  if (ORDER_WARNINGS.has(code)) return false;
  // 2100-2199 are warnings (outside-RTH attribute ignored, price capped ...), as are codes above 2000 generally.
  if (code >= 2000 && code < 3000) return false;
  return true;
}

/** Market data errors that mean "no data here", not "wrong request": a quote is then null. */
export const NO_MARKET_DATA: ReadonlySet<number> = new Set([
  354, // requested market data is not subscribed
  10089, // requested market data requires additional subscription
  10090, // part of requested market data is not subscribed
  10091,
  10167, // displaying delayed market data (not an error for a delayed snapshot, but no live data)
  10168, // delayed market data not enabled
  10186, // delayed data not subscribed
  10197, // no market data during competing live session
]);
