import type { Brand } from './brand.js';
import { LegguardError } from './errors.js';

function brandedString<B extends string>(name: B, pattern: RegExp, hint: string) {
  type T = Brand<string, B>;
  return {
    /** Checked: throws INVALID_INPUT naming the type and the problem. */
    parse(value: unknown): T {
      if (typeof value !== 'string' || !pattern.test(value)) {
        throw new LegguardError('INVALID_INPUT', `${name} must be ${hint}; got ${JSON.stringify(value)}`, {
          type: name,
        });
      }
      return value as T;
    },
    /** Unchecked: for values already validated (store rows, derived ids, tests). */
    unsafe(value: string): T {
      return value as T;
    },
    is(value: unknown): value is T {
      return typeof value === 'string' && pattern.test(value);
    },
  };
}

/** A strategy's id as the user names it: `ic-spy`, `cc_aapl.2026-03`. */
export type StrategyId = Brand<string, 'StrategyId'>;
export const StrategyId = brandedString(
  'StrategyId',
  /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
  '1-64 characters of letters, digits, ".", "_" or "-", starting with a letter or digit',
);

/** The broker account: IB paper accounts look like DU1234567, live ones U1234567. */
export type AccountId = Brand<string, 'AccountId'>;
export const AccountId = brandedString('AccountId', /^[A-Za-z0-9]{1,32}$/, '1-32 letters or digits');

/**
 * One incident: one detected break of one strategy and everything done about it. Derived from what it stands for
 * (strategy, cause, broker time), so a restarted guard derives the same id for the same incident.
 */
export type IncidentId = Brand<string, 'IncidentId'>;
export const IncidentId = brandedString('IncidentId', /^[A-Za-z0-9._:-]{1,128}$/, '1-128 characters of [A-Za-z0-9._:-]');

/**
 * The reference legguard puts on every order it sends (IB's `orderRef`). Deterministic: derived from the strategy,
 * the incident and the leg group, so after a crash the guard finds at the broker what it already sent.
 */
export type OrderRef = Brand<string, 'OrderRef'>;
export const OrderRef = brandedString('OrderRef', /^[A-Za-z0-9._:/-]{1,128}$/, '1-128 characters of [A-Za-z0-9._:/-]');

/** The broker's id for an order (IB's orderId as a decimal string; the simulator's own ids). */
export type BrokerOrderId = Brand<string, 'BrokerOrderId'>;
export const BrokerOrderId = brandedString('BrokerOrderId', /^[A-Za-z0-9._:-]{1,64}$/, 'a broker order id');

/** The broker's id for one execution (IB's execId, e.g. `0000e0d5.6571a8b2.01.01`). */
export type ExecId = Brand<string, 'ExecId'>;
export const ExecId = brandedString('ExecId', /^[A-Za-z0-9._:-]{1,96}$/, 'a broker execution id');

/** The canonical key of a contract; see `contractKey`. */
export type ContractKey = Brand<string, 'ContractKey'>;
