import { describeContract, type Contract } from '../../core/contract.js';
import { LegguardError } from '../../core/errors.js';
import { EpochMs, Price } from '../../core/quantity.js';
import type { Quote, UnderlyingInfo } from '../../ports/broker.js';
import type { Clock } from '../../ports/clock.js';
import { IbCode, NO_MARKET_DATA } from './ib-codes.js';
import type { IbConnection } from './ib-connection.js';
import type { ContractCache } from './ib-contract-cache.js';
import { parseDividendTick, toIbContract, underlyingContract } from './ib-contracts.js';
import type { Req, Requests } from './ib-requests.js';

/** Data requests go after orders and cancels in the pacer's queue. */
export const DATA_PRIORITY = 10;

type QuoteReq = Extract<Req, { kind: 'quote' }>;
type UnderlyingReq = Extract<Req, { kind: 'underlying' }>;

/**
 * Quotes (a snapshot per contract) and underlyings (a price and IB's dividend tick, generic tick 456, which streams
 * only: the stream is cancelled once both are in). Ticks are checked as they come: only finite, positive prices count
 * (a bid of 0 is a real "no bid"); a quote TWS never ends answers with what arrived when its time is up.
 */
export class MarketData {
  constructor(
    private readonly deps: {
      readonly conn: IbConnection;
      readonly requests: Requests;
      readonly cache: ContractCache;
      /** Stamps quotes: the broker's time (scenario time in a drill). */
      readonly stamp: Clock;
      /** Real time: the wait for a dividend tick. */
      readonly timers: Clock;
      readonly dividendWaitMs: number;
      readonly log: (line: string) => void;
    },
  ) {}

  quote(contract: Contract): Promise<Quote | null> {
    this.deps.conn.requireReady('quote');
    const conId = this.deps.cache.conIdOf(contract);
    return this.deps.requests.request<Quote | null>(
      (done, timer) => ({ kind: 'quote', contract, bid: null, ask: null, last: null, close: null, und: null, done, timer }),
      `a quote for ${describeContract(contract)}`,
      (id) => this.deps.conn.send(DATA_PRIORITY, (api) => api.reqMktData(id, toIbContract(contract, conId), '', true, false)),
      (id) => this.finish(id, 'quote'),
    );
  }

  underlying(symbol: string): Promise<UnderlyingInfo> {
    this.deps.conn.requireReady('underlying');
    const sym = symbol.toUpperCase();
    const index = this.deps.cache.isIndex(sym);
    return this.deps.requests.request<UnderlyingInfo>(
      (done, timer) => ({ kind: 'underlying', symbol: sym, index, price: null, dividends: null, done, timer, settle: null }),
      `market data for ${sym}`,
      // Generic tick 456 (IB dividends) streams only: a snapshot refuses generic ticks.
      (id) => this.deps.conn.send(DATA_PRIORITY, (api) => api.reqMktData(id, underlyingContract(sym, index), index ? '' : '456', false, false)),
      (id) => this.finish(id, 'underlying'),
    );
  }

  onTickPrice(reqId: number, field: number, value: number): void {
    const req = this.deps.requests.get(reqId);
    if (!req || (req.kind !== 'quote' && req.kind !== 'underlying')) return;
    const v = Number.isFinite(value) && value > 0 && value < 1e9 ? value : null;
    if (req.kind === 'quote') {
      if (field === 1 || field === 66) req.bid = Number.isFinite(value) && value >= 0 && value < 1e9 ? value : null;
      else if (field === 2 || field === 67) req.ask = v;
      else if (field === 4 || field === 68) req.last = v;
      else if (field === 9 || field === 75) req.close = v;
      return;
    }
    if (v === null) return;
    if (field === 4 || field === 68 || req.price === null) req.price = v;
    this.maybeUnderlyingDone(reqId, req);
  }

  onOptionComputation(reqId: number, undPrice: number | undefined): void {
    const req = this.deps.requests.get(reqId);
    if (req?.kind === 'quote' && typeof undPrice === 'number' && Number.isFinite(undPrice) && undPrice > 0 && undPrice < 1e9) req.und = undPrice;
  }

  onTickString(reqId: number, field: number, value: string): void {
    const req = this.deps.requests.get(reqId);
    if (req?.kind !== 'underlying' || field !== 59) return;
    req.dividends = parseDividendTick(String(value));
    this.maybeUnderlyingDone(reqId, req);
  }

  /** An error on a quote or underlying request: "no data here" answers null (or no price); others fail it. */
  onError(id: number, req: QuoteReq | UnderlyingReq, code: number, message: string): void {
    this.deps.requests.take(id);
    if (req.kind === 'quote') {
      if (NO_MARKET_DATA.has(code)) {
        this.deps.log(`no market data for ${describeContract(req.contract)} (IB ${code}: ${message})`);
        req.done.resolve(null);
      } else if (code === IbCode.NO_SECURITY_DEFINITION) {
        req.done.reject(new LegguardError('NOT_FOUND', `IB knows no contract ${describeContract(req.contract)} (200: ${message})`));
      } else req.done.reject(new LegguardError('BROKER_REJECTED', `quote for ${describeContract(req.contract)}: IB ${code}: ${message}`, { code }));
      return;
    }
    if (code === IbCode.NO_SECURITY_DEFINITION) {
      req.done.reject(new LegguardError('NOT_FOUND', `IB knows no underlying ${req.symbol} (200: ${message})`));
      return;
    }
    if (NO_MARKET_DATA.has(code)) {
      req.done.resolve({ symbol: req.symbol, price: null, dividends: req.dividends ?? [] });
      return;
    }
    req.done.reject(new LegguardError('BROKER_REJECTED', `market data for ${req.symbol}: IB ${code}: ${message}`, { code }));
  }

  /** Answers a quote or an underlying with what arrived. True when there was such a request. */
  finish(reqId: number, kind: 'quote' | 'underlying'): boolean {
    const req = this.deps.requests.get(reqId);
    if (!req || req.kind !== kind) return false;
    this.deps.requests.take(reqId);
    if (req.kind === 'quote') {
      const last = req.last ?? req.close;
      if (req.bid === null && req.ask === null && last === null) {
        req.done.resolve(null);
        return true;
      }
      req.done.resolve({
        contract: req.contract,
        bid: req.bid === null ? null : Price.unsafe(req.bid),
        ask: req.ask === null ? null : Price.unsafe(req.ask),
        last: last === null ? null : Price.unsafe(last),
        underlying: req.und === null ? null : Price.unsafe(req.und),
        at: this.deps.stamp.now(),
      });
      return true;
    }
    if (req.kind === 'underlying') {
      void this.deps.conn.send(DATA_PRIORITY, (api) => api.cancelMktData(reqId)).catch(() => undefined);
      req.done.resolve({ symbol: req.symbol, price: req.price === null ? null : Price.unsafe(req.price), dividends: req.dividends ?? [] });
    }
    return true;
  }

  private maybeUnderlyingDone(reqId: number, req: UnderlyingReq): void {
    if (req.price === null) return;
    if (req.index || req.dividends !== null) {
      this.finish(reqId, 'underlying');
      return;
    }
    // A price but no dividend tick yet: give it a moment (IB sends tick 59 a little after the first prices).
    const t = this.deps.timers;
    req.settle ??= t.setTimer(EpochMs.unsafe(t.now() + this.deps.dividendWaitMs), () => this.finish(reqId, 'underlying'));
  }
}
