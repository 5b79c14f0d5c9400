import { OptionType, SecType, type Contract as IbContract, type Execution } from '@stoqey/ib';
import { INDEX_SYMBOLS, option, stock, type Contract } from '../../core/contract.js';
import type { ExecutionReport, OrderStatus, PositionReport } from '../../core/events.js';
import { BrokerOrderId, ExecId, OrderRef, type AccountId } from '../../core/ids.js';
import { EpochMs, Price, Qty } from '../../core/quantity.js';
import type { OptionTerms } from './ib-contracts.js';
import { parseIbTime } from './ib-time.js';

/**
 * Decoded IB callbacks -> legguard's broker events, validated at the edge (Nautilus parses IB messages into its own
 * types the same way): everything TWS sends is untrusted. A message that fails a check is not an event: it is a
 * `Drop` naming the message, the field and what was wrong, and never reaches the book. Pure functions, so every rule
 * is table-tested from frames (test/ib/ib-translate.test.ts).
 */

/** Why a message from TWS was not passed on. */
export interface Drop {
  readonly drop: true;
  /** IB's callback: `position`, `execDetails` ... */
  readonly message: string;
  readonly field: string;
  readonly why: string;
}

export function drop(message: string, field: string, why: string): Drop {
  return { drop: true, message, field, why };
}

export function isDrop<T>(x: T | Drop): x is Drop {
  return typeof x === 'object' && x !== null && (x as { drop?: unknown }).drop === true;
}

/** Largest quantity believed: a billion contracts or shares (a safe integer far above any real account). */
const MAX_QTY = 1e9;
const MAX_PRICE = 1e9;
const SYMBOL = /^[A-Z0-9][A-Z0-9 .\-/]{0,19}$/;
const CURRENCY = /^[A-Z]{3}$/;

function show(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v) : String(v);
}

/**
 * A legguard contract from IB's fields: null for instruments legguard does not guard (futures, forex, bags ...),
 * a `Drop` for an option or stock whose fields make no sense (no expiry, a negative strike, an unknown right).
 * `terms` says what contract details told about the underlying; without it index symbols (SPX, XSP ...) are European
 * and cash-settled, everything else American and physical.
 */
export function readContract(c: IbContract | undefined, message: string, terms: (symbol: string) => OptionTerms | null = () => null): Contract | Drop | null {
  if (c === undefined || c === null || typeof c !== 'object') return drop(message, 'contract', 'is missing');
  if (c.secType !== SecType.STK && c.secType !== SecType.OPT) return null;
  const symbol = typeof c.symbol === 'string' ? c.symbol.trim().toUpperCase() : '';
  if (!SYMBOL.test(symbol)) return drop(message, 'contract.symbol', `is not a symbol: ${show(c.symbol)}`);
  const currency = typeof c.currency === 'string' && c.currency !== '' ? c.currency.toUpperCase() : 'USD';
  if (!CURRENCY.test(currency)) return drop(message, 'contract.currency', `is not a currency: ${show(c.currency)}`);
  if (c.secType === SecType.STK) return stock(symbol, currency);
  const date = typeof c.lastTradeDateOrContractMonth === 'string' ? c.lastTradeDateOrContractMonth.trim().slice(0, 8) : '';
  const expiry = /^\d{8}$/.test(date) ? `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}` : '';
  if (expiry === '' || Number.isNaN(Date.parse(`${expiry}T00:00:00Z`)) || new Date(`${expiry}T00:00:00Z`).toISOString().slice(0, 10) !== expiry) {
    return drop(message, 'contract.lastTradeDateOrContractMonth', `is not an expiry date: ${show(c.lastTradeDateOrContractMonth)}`);
  }
  const right = c.right === OptionType.Call ? 'C' : c.right === OptionType.Put ? 'P' : null;
  if (right === null) return drop(message, 'contract.right', `is not C or P: ${show(c.right)}`);
  const strike = Number(c.strike);
  if (!(Number.isFinite(strike) && strike > 0 && strike < MAX_PRICE)) return drop(message, 'contract.strike', `must be a positive price: ${show(c.strike)}`);
  const rawMult = c.multiplier === undefined || (c.multiplier as unknown) === '' ? NaN : Number(c.multiplier);
  if (c.multiplier !== undefined && (c.multiplier as unknown) !== '' && !(Number.isFinite(rawMult) && rawMult > 0 && rawMult <= 100_000)) {
    return drop(message, 'contract.multiplier', `must be a positive number: ${show(c.multiplier)}`);
  }
  const t = terms(symbol);
  const tradingClass = typeof c.tradingClass === 'string' && c.tradingClass !== '' && c.tradingClass.toUpperCase() !== symbol ? c.tradingClass.toUpperCase() : undefined;
  if (tradingClass !== undefined && !SYMBOL.test(tradingClass)) return drop(message, 'contract.tradingClass', `is not a trading class: ${show(c.tradingClass)}`);
  return option({
    symbol,
    right,
    strike,
    expiry,
    ...(Number.isFinite(rawMult) ? { multiplier: rawMult } : {}),
    ...(t ? { style: t.style, settlement: t.settlement } : { index: INDEX_SYMBOLS.has(symbol) }),
    currency,
    ...(tradingClass !== undefined ? { tradingClass } : {}),
  });
}

/**
 * A position's quantity: finite and within range; whole for options. A stock position may be fractional at IB
 * (fractional shares); legguard counts the whole shares, toward zero: the fraction cannot be assigned or delivered
 * in lots and closing the whole shares never flips the sign.
 */
export function readPositionQty(contract: Contract, pos: unknown): { qty: Qty; fraction: boolean } | Drop {
  const n = typeof pos === 'number' ? pos : typeof pos === 'string' && pos.trim() !== '' ? Number(pos) : NaN;
  if (!Number.isFinite(n)) return drop('position', 'pos', `is not a finite number: ${show(pos)}`);
  if (Math.abs(n) > MAX_QTY) return drop('position', 'pos', `is out of range: ${show(pos)}`);
  if (Number.isInteger(n)) return { qty: Qty.unsafe(n), fraction: false };
  if (contract.secType === 'OPT') return drop('position', 'pos', `is not a whole number of contracts: ${show(pos)}`);
  return { qty: Qty.unsafe(Math.trunc(n)), fraction: true };
}

/** A price that may be absent: finite and not negative, or null. */
export function readOptionalPrice(v: unknown): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) && n >= 0 && n < MAX_PRICE ? n : null;
}

export function readPosition(o: { account: AccountId; contract: Contract; pos: unknown; avgCost: unknown; at: EpochMs }): PositionReport | Drop {
  const q = readPositionQty(o.contract, o.pos);
  if (isDrop(q)) return q;
  return {
    kind: 'position',
    account: o.account,
    contract: o.contract,
    qty: q.qty,
    avgCost: readOptionalPrice(o.avgCost),
    tsEvent: o.at,
    tsInit: o.at,
  };
}

/**
 * One execution: a known id, a positive whole quantity in range, a finite price, BOT or SLD. `own` says the order
 * was placed by this client (its order id is then the broker order id the guard knows).
 */
export function readExecution(o: { account: AccountId; contract: Contract; x: Execution | undefined; own: boolean; at: EpochMs; twsTimeZone?: string | undefined }): ExecutionReport | Drop {
  const x = o.x;
  if (x === undefined || x === null || typeof x !== 'object') return drop('execDetails', 'execution', 'is missing');
  if (typeof x.execId !== 'string' || !ExecId.is(x.execId)) return drop('execDetails', 'execId', `is not an execution id: ${show(x.execId)}`);
  const shares = Number(x.shares);
  if (!(Number.isSafeInteger(shares) && shares > 0 && shares <= MAX_QTY)) return drop('execDetails', 'shares', `must be a positive whole number: ${show(x.shares)}`);
  const price = Number(x.price);
  if (!(Number.isFinite(price) && price >= 0 && price < MAX_PRICE)) return drop('execDetails', 'price', `must be a finite price: ${show(x.price)}`);
  const side = x.side === 'BOT' || x.side === 'BUY' ? 'BUY' : x.side === 'SLD' || x.side === 'SELL' ? 'SELL' : null;
  if (side === null) return drop('execDetails', 'side', `is not BOT or SLD: ${show(x.side)}`);
  let tsEvent: EpochMs;
  try {
    tsEvent = parseIbTime(x.time ?? '', o.twsTimeZone);
  } catch {
    tsEvent = o.at;
  }
  const own = o.own && typeof x.orderId === 'number' && Number.isSafeInteger(x.orderId) && x.orderId > 0;
  return {
    kind: 'execution',
    account: o.account,
    execId: ExecId.unsafe(x.execId),
    orderId: own ? BrokerOrderId.unsafe(String(x.orderId)) : null,
    orderRef: typeof x.orderRef === 'string' && OrderRef.is(x.orderRef) ? x.orderRef : null,
    contract: o.contract,
    side,
    qty: Qty.unsafe(shares),
    price: Price.unsafe(price),
    liquidation: Number(x.liquidation ?? 0) !== 0,
    permId: typeof x.permId === 'number' && Number.isSafeInteger(x.permId) && x.permId > 0 ? x.permId : null,
    tsEvent,
    tsInit: o.at,
  };
}

/** Filled and remaining quantities of an order status: whole, not negative, in range. */
export function readOrderQuantities(filled: unknown, remaining: unknown): { filled: number; remaining: number } | Drop {
  const f = Number(filled ?? 0);
  const r = Number(remaining ?? 0);
  if (!(Number.isFinite(f) && f >= 0 && f <= MAX_QTY)) return drop('orderStatus', 'filled', `must be a quantity: ${show(filled)}`);
  if (!(Number.isFinite(r) && r >= 0 && r <= MAX_QTY)) return drop('orderStatus', 'remaining', `must be a quantity: ${show(remaining)}`);
  return { filled: Math.round(f), remaining: Math.round(r) };
}

/** An id TWS hands out (next valid order id, request ids it echoes): a positive safe integer. */
export function readId(v: unknown, message: string, field: string): number | Drop {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : drop(message, field, `is not a positive whole number: ${show(v)}`);
}

/** TWS's current time in epoch seconds: a positive safe integer. */
export function readServerTime(seconds: unknown): EpochMs | Drop {
  return typeof seconds === 'number' && Number.isSafeInteger(seconds) && seconds > 0 && seconds < 1e11
    ? EpochMs.unsafe(seconds * 1000)
    : drop('currentTime', 'time', `is not a time: ${show(seconds)}`);
}

/** IB's order status in legguard's words; null for states that change nothing (PendingCancel, Unknown). */
export function mapStatus(status: string, filled: number): OrderStatus | null {
  switch (status) {
    case 'PendingSubmit':
    case 'ApiPending':
    case 'PreSubmitted':
      return filled > 0 ? 'partially-filled' : 'pending';
    case 'Submitted':
      return filled > 0 ? 'partially-filled' : 'working';
    case 'Filled':
      return 'filled';
    case 'Cancelled':
    case 'ApiCancelled':
      return 'cancelled';
    case 'Inactive':
      return 'rejected';
    default:
      return null;
  }
}
