import { daysBetween, nyDate } from '../../core/calendar.js';
import { contractKey, describeContract, type Contract } from '../../core/contract.js';
import { LegguardError } from '../../core/errors.js';
import type { QuoteReport } from '../../core/events.js';
import type { DividendInfo } from '../../ports/broker.js';
import type { ClientSession } from './client-session.js';
import { underlyingSecType, type ContractDirectory } from './contract-directory.js';
import type { GatewayBackend } from './gateway-backend.js';
import { TwsCode } from './message-ids.js';
import { Msg, TickType } from './server-messages.js';
import type { WireComboLeg, WireContract } from './wire-contract.js';

interface Prices {
  readonly bid: number | null;
  readonly ask: number | null;
  readonly last: number | null;
  readonly underlying: number | null;
}

/**
 * IB's generic tick 456 value (tick type 59): `past 12 months, next 12 months, next ex-date YYYYMMDD, next amount`.
 * With no upcoming dividend the date and amount are empty.
 *
 * @example dividendTick([{ exDate: '2026-03-20', amount: 1.74 }], '2026-01-28') // '0,1.74,20260320,1.74'
 */
export function dividendTick(dividends: readonly DividendInfo[], today: string): string {
  let past = 0;
  let next12 = 0;
  let next: DividendInfo | null = null;
  for (const d of [...dividends].sort((a, b) => (a.exDate < b.exDate ? -1 : 1))) {
    const days = daysBetween(today, d.exDate);
    if (days < 0 && days >= -365) past += d.amount;
    if (days >= 0 && days <= 365) {
      next12 += d.amount;
      next ??= d;
    }
  }
  const r = (n: number): string => String(Number(n.toFixed(6)));
  return `${r(past)},${r(next12)},${next ? next.exDate.replaceAll('-', '') : ''},${next ? r(next.amount) : ''}`;
}

/** Contract details and market data: REQ_CONTRACT_DATA, REQ_MKT_DATA (snapshot or streaming), CANCEL_MKT_DATA. */
export class MarketDesk {
  private readonly last = new Map<string, Prices>();

  constructor(
    private readonly backend: GatewayBackend,
    private readonly directory: ContractDirectory,
  ) {}

  /** The last price the gateway has seen for a contract (for portfolio values), or null. */
  markOf(c: Contract): number | null {
    const p = this.last.get(contractKey(c));
    if (!p) return null;
    if (p.bid !== null && p.ask !== null) return (p.bid + p.ask) / 2;
    return p.last;
  }

  /** Asks the backend for a quote now and remembers it (portfolio values on an account download). */
  async refreshMark(c: Contract): Promise<number | null> {
    const q = await this.backend.broker.quote(c);
    if (q) this.last.set(contractKey(c), { bid: q.bid, ask: q.ask, last: q.last, underlying: q.underlying });
    return this.markOf(c);
  }

  contractDetails(session: ClientSession, reqId: number, w: WireContract): void {
    let c: Contract;
    try {
      c = this.directory.resolve(w, (spec) => this.backend.resolve(spec));
    } catch (e) {
      if (!LegguardError.is(e)) throw e;
      session.error(reqId, TwsCode.NO_SECURITY_DEFINITION, `No security definition has been found for the request: ${e.message}`);
      return;
    }
    const r = this.directory.report(c);
    const opt = c.secType === 'OPT' ? c : null;
    const undType = opt ? underlyingSecType(opt) : '';
    session.send(
      Msg.contractData(reqId, r, {
        longName: opt ? `${c.symbol} ${describeContract(c)}` : c.symbol,
        minTick: 0.01,
        underConId: opt ? this.directory.conIdOfKey(undType === 'IND' ? `IND:${c.symbol}` : `STK:${c.symbol}`) : 0,
        underSymbol: opt ? c.symbol : '',
        underSecType: undType,
        timeZoneId: 'US/Eastern',
        tradingHours: '',
        liquidHours: '',
        realExpirationDate: opt ? r.lastTradeDate : '',
        stockType: opt ? '' : 'COMMON',
      }),
    );
    session.send(Msg.contractDataEnd(reqId));
  }

  async marketData(
    session: ClientSession,
    req: { reqId: number; contract: WireContract; comboLegs: readonly WireComboLeg[]; genericTicks: string; snapshot: boolean },
  ): Promise<void> {
    const { reqId } = req;
    const generic = new Set(req.genericTicks.split(',').map((s) => s.trim()).filter((s) => s !== ''));
    if (req.snapshot && generic.size > 0) {
      session.error(reqId, TwsCode.ERROR_VALIDATING_REQUEST, "Error validating request.-'bW' : cause - Snapshot market data subscription is not applicable to generic ticks");
      return;
    }
    const secType = req.contract.secType.toUpperCase();
    if (secType === 'BAG') {
      session.error(reqId, TwsCode.ERROR_VALIDATING_REQUEST, 'Error validating request: combo market data is not supported by the legguard sim gateway');
      return;
    }
    let key: string;
    let prices: Prices | null;
    let symbol: string;
    let isStock = false;
    if (secType === 'IND') {
      symbol = req.contract.symbol.toUpperCase();
      key = `IND:${symbol}`;
      const info = await this.underlyingInfo(symbol);
      if (!info) {
        session.error(reqId, TwsCode.NO_SECURITY_DEFINITION, `No security definition has been found for the request: index ${symbol}`);
        return;
      }
      prices = { bid: null, ask: null, last: info.price, underlying: null };
    } else {
      let c: Contract;
      try {
        c = this.directory.resolve(req.contract, (spec) => this.backend.resolve(spec));
      } catch (e) {
        if (!LegguardError.is(e)) throw e;
        session.error(reqId, TwsCode.NO_SECURITY_DEFINITION, `No security definition has been found for the request: ${e.message}`);
        return;
      }
      key = contractKey(c);
      symbol = c.symbol;
      isStock = c.secType === 'STK';
      const q = await this.backend.broker.quote(c);
      prices = q ? { bid: q.bid, ask: q.ask, last: q.last, underlying: q.underlying } : null;
      if (isStock && (prices === null || (prices.bid === null && prices.ask === null && prices.last === null))) {
        const info = await this.underlyingInfo(symbol);
        if (info && info.price !== null) prices = { bid: null, ask: null, last: info.price, underlying: null };
      }
      if (prices) this.last.set(key, prices);
    }
    session.send(Msg.tickReqParams(reqId, 0.01, 'SMART', 3));
    session.send(Msg.marketDataType(reqId, 1));
    if (prices) this.sendPrices(session, reqId, prices, secType === 'OPT');
    if (generic.has('456') && isStock) {
      const info = await this.underlyingInfo(symbol);
      session.send(Msg.tickString(reqId, TickType.IB_DIVIDENDS, dividendTick(info?.dividends ?? [], nyDate(this.backend.clock.now()))));
    }
    if (req.snapshot) {
      session.send(Msg.tickSnapshotEnd(reqId));
      return;
    }
    session.marketData.set(reqId, { reqId, key, genericTicks: generic });
  }

  cancel(session: ClientSession, reqId: number): void {
    session.marketData.delete(reqId);
  }

  /** A quote from the backend: remembered, and streamed to every client subscribed to its contract. */
  onQuote(ev: QuoteReport, sessions: Iterable<ClientSession>): void {
    const key = contractKey(ev.contract);
    const prev = this.last.get(key);
    const p: Prices = { bid: ev.bid, ask: ev.ask, last: ev.last, underlying: prev?.underlying ?? null };
    this.last.set(key, p);
    for (const s of sessions) {
      for (const sub of s.marketData.values()) {
        if (sub.key === key) this.sendPrices(s, sub.reqId, { ...p, underlying: null }, false);
      }
    }
  }

  private sendPrices(s: ClientSession, reqId: number, p: Prices, option: boolean): void {
    if (p.bid !== null) s.send(Msg.tickPrice(reqId, TickType.BID, p.bid, 0));
    if (p.ask !== null) s.send(Msg.tickPrice(reqId, TickType.ASK, p.ask, 0));
    if (p.last !== null) s.send(Msg.tickPrice(reqId, TickType.LAST, p.last, 0));
    if (option) {
      const mid = p.bid !== null && p.ask !== null ? (p.bid + p.ask) / 2 : p.last;
      s.send(Msg.tickOptionComputation(reqId, TickType.MODEL_OPTION, { impliedVol: null, delta: null, optPrice: mid, undPrice: p.underlying }));
    }
  }

  private async underlyingInfo(symbol: string): Promise<{ price: number | null; dividends: readonly DividendInfo[] } | null> {
    try {
      return await this.backend.broker.underlying(symbol);
    } catch (e) {
      if (LegguardError.is(e)) return null;
      throw e;
    }
  }
}
