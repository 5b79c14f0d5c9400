import { LegguardError } from '../../core/errors.js';
import { decodeExercise, type WireExercise } from './decode-exercise.js';
import { decodePlaceOrder, type WireOrder } from './decode-place-order.js';
import { FieldReader } from './field-reader.js';
import { ClientMsg, UNIMPLEMENTED_CLIENT_MSGS } from './message-ids.js';
import { readWireContract, type WireComboLeg, type WireContract } from './wire-contract.js';

export interface WireExecutionFilter {
  readonly clientId: number | null;
  readonly account: string;
  /** `yyyymmdd-hh:mm:ss` (UTC) or `yyyymmdd hh:mm:ss [zone]`; empty for no time filter. */
  readonly time: string;
  readonly symbol: string;
  readonly secType: string;
  readonly exchange: string;
  readonly side: string;
}

/** One client request, decoded at server version 193. */
export type ClientRequest =
  | { readonly kind: 'start-api'; readonly clientId: number; readonly capabilities: string }
  | {
      readonly kind: 'req-mkt-data';
      readonly reqId: number;
      readonly contract: WireContract;
      readonly comboLegs: readonly WireComboLeg[];
      readonly genericTicks: string;
      readonly snapshot: boolean;
      readonly regulatorySnapshot: boolean;
    }
  | { readonly kind: 'cancel-mkt-data'; readonly reqId: number }
  | { readonly kind: 'place-order'; readonly order: WireOrder }
  | { readonly kind: 'cancel-order'; readonly orderId: number }
  | ({ readonly kind: 'exercise-options' } & WireExercise)
  | { readonly kind: 'req-open-orders'; readonly scope: 'client' | 'all' | 'auto' }
  | { readonly kind: 'req-account-updates'; readonly subscribe: boolean; readonly account: string }
  | { readonly kind: 'req-executions'; readonly reqId: number; readonly filter: WireExecutionFilter }
  | { readonly kind: 'req-ids'; readonly count: number }
  | { readonly kind: 'req-contract-details'; readonly reqId: number; readonly contract: WireContract; readonly includeExpired: boolean }
  | { readonly kind: 'req-managed-accounts' }
  | { readonly kind: 'req-current-time' }
  | { readonly kind: 'req-global-cancel' }
  | { readonly kind: 'req-market-data-type'; readonly type: number }
  | { readonly kind: 'req-positions' }
  | { readonly kind: 'cancel-positions' }
  | { readonly kind: 'req-completed-orders'; readonly apiOnly: boolean }
  /** legguard's lockstep drill: handled up to the `seq`-th time message; wake at `deadline` (epoch ms) or never. */
  | { readonly kind: 'lockstep-idle'; readonly seq: number; readonly deadline: number | null }
  /** A message TWS knows that this gateway does not implement. */
  | { readonly kind: 'unimplemented'; readonly msgId: number; readonly name: string };

/**
 * Decodes one client message's fields (the message id first). Throws PROTOCOL_ERROR, with `details.msgId` and, where
 * one was read, `details.reqId`/`details.orderId`, for an unknown id or a layout that does not match version 193.
 */
export function decodeClientRequest(fields: readonly string[]): ClientRequest {
  const head = new FieldReader(fields, 'message');
  const msgId = head.intOrNull('message id');
  if (msgId === null) throw new LegguardError('PROTOCOL_ERROR', 'message id is empty', { msgId: null });
  try {
    return decodeBody(msgId, fields);
  } catch (e) {
    if (LegguardError.is(e)) throw new LegguardError(e.code, e.message, { msgId, ...e.details });
    throw e;
  }
}

function decodeBody(msgId: number, fields: readonly string[]): ClientRequest {
  const r = (name: string): FieldReader => new FieldReader(fields, name, 1);
  switch (msgId) {
    case ClientMsg.START_API: {
      const x = r('START_API');
      x.int('version');
      const clientId = x.int('clientId');
      const capabilities = x.remaining > 0 ? x.str('optionalCapabilities') : '';
      x.end();
      return { kind: 'start-api', clientId, capabilities };
    }
    case ClientMsg.REQ_MKT_DATA: {
      const x = r('REQ_MKT_DATA');
      x.int('version');
      const reqId = x.id('reqId');
      const contract = readWireContract(x);
      const comboLegs: WireComboLeg[] = [];
      if (contract.secType.toUpperCase() === 'BAG') {
        const n = x.int('comboLegsCount');
        for (let i = 0; i < n; i++) {
          comboLegs.push({
            conId: x.int(`comboLegs[${i}].conId`),
            ratio: x.int(`comboLegs[${i}].ratio`),
            action: x.str(`comboLegs[${i}].action`),
            exchange: x.str(`comboLegs[${i}].exchange`),
          });
        }
      }
      if (x.bool('deltaNeutralContract')) x.skip('deltaNeutralContract conId/delta/price', 3);
      const genericTicks = x.str('genericTickList');
      const snapshot = x.bool('snapshot');
      const regulatorySnapshot = x.bool('regulatorySnapshot');
      x.skip('mktDataOptions');
      x.end();
      return { kind: 'req-mkt-data', reqId, contract, comboLegs, genericTicks, snapshot, regulatorySnapshot };
    }
    case ClientMsg.CANCEL_MKT_DATA: {
      const x = r('CANCEL_MKT_DATA');
      x.int('version');
      const reqId = x.id('reqId');
      x.end();
      return { kind: 'cancel-mkt-data', reqId };
    }
    case ClientMsg.PLACE_ORDER:
      return { kind: 'place-order', order: decodePlaceOrder(fields, 1) };
    case ClientMsg.EXERCISE_OPTIONS:
      return { kind: 'exercise-options', ...decodeExercise(fields, 1) };
    case ClientMsg.CANCEL_ORDER: {
      const x = r('CANCEL_ORDER');
      const orderId = x.int('orderId');
      x.skip('manualOrderCancelTime');
      x.skip('extOperator');
      x.skip('manualOrderIndicator');
      x.end();
      return { kind: 'cancel-order', orderId };
    }
    case ClientMsg.REQ_OPEN_ORDERS:
    case ClientMsg.REQ_ALL_OPEN_ORDERS: {
      const x = r(msgId === ClientMsg.REQ_OPEN_ORDERS ? 'REQ_OPEN_ORDERS' : 'REQ_ALL_OPEN_ORDERS');
      x.int('version');
      x.end();
      return { kind: 'req-open-orders', scope: msgId === ClientMsg.REQ_OPEN_ORDERS ? 'client' : 'all' };
    }
    case ClientMsg.REQ_AUTO_OPEN_ORDERS: {
      const x = r('REQ_AUTO_OPEN_ORDERS');
      x.int('version');
      x.bool('autoBind');
      x.end();
      return { kind: 'req-open-orders', scope: 'auto' };
    }
    case ClientMsg.REQ_ACCOUNT_DATA: {
      const x = r('REQ_ACCOUNT_DATA');
      x.int('version');
      const subscribe = x.bool('subscribe');
      const account = x.remaining > 0 ? x.str('acctCode') : '';
      x.end();
      return { kind: 'req-account-updates', subscribe, account };
    }
    case ClientMsg.REQ_EXECUTIONS: {
      const x = r('REQ_EXECUTIONS');
      x.int('version');
      const reqId = x.id('reqId');
      const filter: WireExecutionFilter = {
        clientId: x.intOrNull('filter.clientId'),
        account: x.str('filter.acctCode'),
        time: x.str('filter.time'),
        symbol: x.str('filter.symbol'),
        secType: x.str('filter.secType'),
        exchange: x.str('filter.exchange'),
        side: x.str('filter.side'),
      };
      x.end();
      return { kind: 'req-executions', reqId, filter };
    }
    case ClientMsg.REQ_IDS: {
      const x = r('REQ_IDS');
      x.int('version');
      const count = x.int('numIds');
      x.end();
      return { kind: 'req-ids', count };
    }
    case ClientMsg.REQ_CONTRACT_DATA: {
      const x = r('REQ_CONTRACT_DATA');
      x.int('version');
      const reqId = x.id('reqId');
      const contract = readWireContract(x);
      const includeExpired = x.bool('includeExpired');
      x.skip('secIdType');
      x.skip('secId');
      x.skip('issuerId');
      x.end();
      return { kind: 'req-contract-details', reqId, contract, includeExpired };
    }
    case ClientMsg.REQ_MANAGED_ACCTS:
      return simple(r('REQ_MANAGED_ACCTS'), { kind: 'req-managed-accounts' });
    case ClientMsg.REQ_CURRENT_TIME:
      return simple(r('REQ_CURRENT_TIME'), { kind: 'req-current-time' });
    case ClientMsg.REQ_GLOBAL_CANCEL: {
      const x = r('REQ_GLOBAL_CANCEL');
      // Version 1 then, from CME tagging (192), extOperator and manualOrderIndicator.
      x.skip('fields', x.remaining);
      return { kind: 'req-global-cancel' };
    }
    case ClientMsg.REQ_MARKET_DATA_TYPE: {
      const x = r('REQ_MARKET_DATA_TYPE');
      x.int('version');
      const type = x.int('marketDataType');
      x.end();
      return { kind: 'req-market-data-type', type };
    }
    case ClientMsg.REQ_POSITIONS:
      return simple(r('REQ_POSITIONS'), { kind: 'req-positions' });
    case ClientMsg.CANCEL_POSITIONS:
      return simple(r('CANCEL_POSITIONS'), { kind: 'cancel-positions' });
    case ClientMsg.REQ_COMPLETED_ORDERS: {
      const x = r('REQ_COMPLETED_ORDERS');
      const apiOnly = x.bool('apiOnly');
      x.end();
      return { kind: 'req-completed-orders', apiOnly };
    }
    case ClientMsg.LEGGUARD_LOCKSTEP_IDLE: {
      const x = r('LEGGUARD_LOCKSTEP_IDLE');
      x.int('version');
      const seq = x.int('seq');
      const deadline = x.int('deadline');
      x.end();
      if (seq < 0 || !Number.isSafeInteger(seq)) throw new LegguardError('PROTOCOL_ERROR', `LEGGUARD_LOCKSTEP_IDLE: seq must be >= 0; got ${seq}`);
      if (!Number.isSafeInteger(deadline)) throw new LegguardError('PROTOCOL_ERROR', `LEGGUARD_LOCKSTEP_IDLE: deadline out of range: ${deadline}`);
      return { kind: 'lockstep-idle', seq, deadline: deadline < 0 ? null : deadline };
    }
    default: {
      const name = UNIMPLEMENTED_CLIENT_MSGS[msgId];
      if (name !== undefined) return { kind: 'unimplemented', msgId, name };
      throw new LegguardError('PROTOCOL_ERROR', `unknown message id ${msgId}`);
    }
  }
}

function simple<T extends ClientRequest>(x: FieldReader, req: T): T {
  x.int('version');
  x.end();
  return req;
}
