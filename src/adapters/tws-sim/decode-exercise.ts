import { FieldReader } from './field-reader.js';
import type { WireContract } from './wire-contract.js';

/** An EXERCISE_OPTIONS request as a client sent it; what the numbers mean is checked by the gateway. */
export interface WireExercise {
  readonly reqId: number;
  readonly contract: WireContract;
  /** IB's exerciseAction: 1 exercise, 2 lapse. */
  readonly action: number;
  readonly quantity: number;
  readonly account: string;
  /** 0 or 1. */
  readonly override: number;
}

/**
 * Reads EXERCISE_OPTIONS (message 21) at server version 193, field for field as IB's clients write it: version 2,
 * reqId, the contract without primaryExch (conId, symbol, secType, lastTradeDateOrContractMonth, strike, right,
 * multiplier, exchange, currency, localSymbol, tradingClass), exerciseAction, exerciseQuantity, account, override,
 * then manualOrderTime (server 180+), customerAccount (183+) and professionalCustomer (184+). Throws PROTOCOL_ERROR
 * naming the field on a layout that does not match.
 */
export function decodeExercise(fields: readonly string[], start: number): WireExercise {
  const x = new FieldReader(fields, 'EXERCISE_OPTIONS', start);
  x.int('version');
  const reqId = x.id('reqId');
  const contract: WireContract = {
    conId: x.intOrNull('conId') ?? 0,
    symbol: x.str('symbol'),
    secType: x.str('secType'),
    lastTradeDateOrContractMonth: x.str('lastTradeDateOrContractMonth'),
    strike: x.floatOrNull('strike') ?? 0,
    right: x.str('right'),
    multiplier: x.str('multiplier'),
    exchange: x.str('exchange'),
    primaryExch: '',
    currency: x.str('currency'),
    localSymbol: x.str('localSymbol'),
    tradingClass: x.str('tradingClass'),
  };
  const action = x.int('exerciseAction');
  const quantity = x.int('exerciseQuantity');
  const account = x.str('account');
  const override = x.int('override');
  x.skip('manualOrderTime');
  x.skip('customerAccount');
  x.bool('professionalCustomer');
  x.end();
  return { reqId, contract, action, quantity, account, override };
}
