import { contractKey, describeContract, isOption, type Contract } from './contract.js';
import { LegguardError } from './errors.js';
import type { ContractKey } from './ids.js';
import type { OrderRequest } from './order.js';

export type OrderShapeRule =
  | 'no-legs'
  | 'quantity'
  | 'ratio'
  | 'single-leg-ratio'
  | 'contract-twice'
  | 'mixed-underlyings'
  | 'limit-price'
  | 'options-outside-rth';

/** One way an order is not an order any broker takes, whatever the account holds. */
export interface OrderShapeProblem {
  readonly rule: OrderShapeRule;
  /** The leg's contract concerned; null for the whole order. */
  readonly contract: Contract | null;
  readonly message: string;
}

/**
 * The one rule for what an order must look like, shared by the pre-trade gate (which calls it first) and the broker
 * adapters (IB, the simulator), so that an order the gate passes is never refused for its shape downstream: at least
 * one leg; a positive whole quantity; positive whole leg ratios, 1 for a single leg (IB's rule: the quantity carries
 * the size); no contract twice (a combo names each contract once: two legs in one contract are one leg with their
 * net); every leg on one underlying (an IB BAG is one symbol's); a limit order's price finite, and not negative for a
 * single leg (only a combo's net may be a credit); no option leg outside regular hours. Pure; every problem named.
 *
 * @example orderShapeProblems(buyTwiceSamePut) // [{ rule: 'contract-twice', contract: put, message: '... appears twice' }]
 */
export function orderShapeProblems(order: OrderRequest): OrderShapeProblem[] {
  const out: OrderShapeProblem[] = [];
  const bad = (rule: OrderShapeRule, contract: Contract | null, message: string): void => void out.push({ rule, contract, message });
  if (order.legs.length === 0) bad('no-legs', null, 'an order needs at least one leg');
  if (!Number.isSafeInteger(order.quantity) || order.quantity <= 0) bad('quantity', null, `order quantity must be a positive whole number; got ${order.quantity}`);
  const seen = new Set<ContractKey>();
  for (const l of order.legs) {
    const what = describeContract(l.contract);
    if (!Number.isSafeInteger(l.ratio) || l.ratio <= 0) bad('ratio', l.contract, `leg ${what}: ratio must be a positive whole number; got ${l.ratio}`);
    const key = contractKey(l.contract);
    if (seen.has(key)) bad('contract-twice', l.contract, `${what} appears twice: a combo names each contract once`);
    seen.add(key);
  }
  if (order.legs.length === 1 && order.legs[0]!.ratio !== 1 && Number.isSafeInteger(order.legs[0]!.ratio) && order.legs[0]!.ratio > 0) {
    bad('single-leg-ratio', order.legs[0]!.contract, `a single-leg order has ratio 1 (the quantity carries the size); got ${order.legs[0]!.ratio}`);
  }
  const symbols = new Set(order.legs.map((l) => l.contract.symbol));
  if (symbols.size > 1) bad('mixed-underlyings', null, `combo legs must share one underlying; got ${[...symbols].join(', ')}`);
  if (order.orderType === 'LMT') {
    if (order.limitPrice === null || !Number.isFinite(order.limitPrice)) bad('limit-price', null, `a limit order needs a finite limit price; got ${order.limitPrice}`);
    else if (order.legs.length === 1 && order.limitPrice < 0) bad('limit-price', null, `the limit price of a single-leg order cannot be negative; got ${order.limitPrice}`);
  }
  if (order.outsideRth && order.legs.some((l) => isOption(l.contract))) {
    bad('options-outside-rth', null, 'options trade only in regular hours; outsideRth must be false for an order with option legs');
  }
  return out;
}

/**
 * What a broker adapter calls before it sends: the shape rule, and the order is for this connection's account.
 * Throws INVALID_INPUT naming the order and every problem (`details.rules`).
 */
export function requireOrderShape(order: OrderRequest, account: string): void {
  const problems = orderShapeProblems(order);
  const messages = problems.map((p) => p.message);
  const rules: string[] = problems.map((p) => p.rule);
  if (order.account !== account) {
    messages.unshift(`account ${order.account} is not this connection's account ${account}`);
    rules.unshift('account');
  }
  if (messages.length > 0) {
    throw new LegguardError('INVALID_INPUT', `order ${order.ref}: ${messages.join('; ')}`, { orderRef: order.ref, rules: rules.join(',') });
  }
}
