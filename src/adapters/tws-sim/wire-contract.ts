import type { FieldReader } from './field-reader.js';

/** A contract as the TWS API carries it: IB's field names, every field present (empty when unset). */
export interface WireContract {
  readonly conId: number;
  readonly symbol: string;
  readonly secType: string;
  /** `YYYYMMDD` for an option's expiry (`YYYYMM` asks for a month). */
  readonly lastTradeDateOrContractMonth: string;
  readonly strike: number;
  /** `C`, `P`, `CALL`, `PUT` or empty. */
  readonly right: string;
  readonly multiplier: string;
  readonly exchange: string;
  readonly primaryExch: string;
  readonly currency: string;
  readonly localSymbol: string;
  readonly tradingClass: string;
}

export interface WireComboLeg {
  readonly conId: number;
  readonly ratio: number;
  readonly action: string;
  readonly exchange: string;
}

/** The 12 contract fields that open REQ_MKT_DATA, PLACE_ORDER and REQ_CONTRACT_DATA at server version 193. */
export function readWireContract(r: FieldReader): WireContract {
  return {
    conId: r.int('conId'),
    symbol: r.str('symbol'),
    secType: r.str('secType'),
    lastTradeDateOrContractMonth: r.str('lastTradeDateOrContractMonth'),
    strike: r.float('strike'),
    right: r.str('right'),
    multiplier: r.str('multiplier'),
    exchange: r.str('exchange'),
    primaryExch: r.str('primaryExch'),
    currency: r.str('currency'),
    localSymbol: r.str('localSymbol'),
    tradingClass: r.str('tradingClass'),
  };
}

export function emptyWireContract(): WireContract {
  return {
    conId: 0,
    symbol: '',
    secType: '',
    lastTradeDateOrContractMonth: '',
    strike: 0,
    right: '',
    multiplier: '',
    exchange: '',
    primaryExch: '',
    currency: '',
    localSymbol: '',
    tradingClass: '',
  };
}
