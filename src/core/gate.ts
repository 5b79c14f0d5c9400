import type { BookView } from './book.js';
import { contractKey, describeContract, isOption, type Contract } from './contract.js';
import type { ContractKey, StrategyId } from './ids.js';
import { legEffect, type OrderRequest } from './order.js';
import { orderShapeProblems } from './order-shape.js';
import { Qty, type Price } from './quantity.js';

/**
 * What the account may do: the operator's trading state (`legguard halt` / `reduce-only` / `resume`), which the
 * engine passes with every order (docs/design.md "The gate"). ACTIVE and REDUCING check the same today: every order
 * legguard sends is a close, and a close must reduce in every state. HALTED refuses everything (Nautilus' trading
 * states); the sender holds its orders while HALTED rather than have them refused.
 */
export type TradingState = 'ACTIVE' | 'REDUCING' | 'HALTED';

/** Per-order limits; null switches a limit off. */
export interface GateLimits {
  /** Contracts in any one option leg (ratio x quantity). */
  readonly maxContractsPerOrder: number | null;
  /** Shares in any one stock leg. */
  readonly maxSharesPerOrder: number | null;
  /** Money the order moves at its limit: |limit| x units x multiplier (the net for a combo). */
  readonly maxNotionalPerOrder: number | null;
}

export interface GateInput {
  readonly order: OrderRequest;
  readonly book: BookView;
  /** The account's position in a contract as the broker last reported it. */
  readonly brokerPosition: (key: ContractKey) => Qty;
  /**
   * Signed quantity still to trade in `key` by legguard's working orders other than `order`: of one strategy, or
   * of every strategy when `strategyId` is null. The engine's order tracker answers this without copying.
   *
   * @example working('ic-spy', 'OPT:SPY:2026-01-30:C:460') // +1: a BUY 2 of which 1 has filled
   */
  readonly working: (strategyId: StrategyId | null, key: ContractKey) => Qty;
  readonly limits: GateLimits;
  readonly state: TradingState;
  /** A price for notional checks of orders without a limit price (MKT); null when unknown. */
  readonly referencePrice?: (contract: Contract) => Price | null;
}

export type GateRule =
  | 'halted'
  | 'malformed'
  | 'unknown-strategy'
  | 'strategy-holding'
  | 'account-position'
  | 'max-contracts'
  | 'max-shares'
  | 'max-notional';

/** One broken rule, with the numbers that broke it. */
export interface GateViolation {
  readonly rule: GateRule;
  /** The contract concerned; null for rules about the whole order. */
  readonly contract: Contract | null;
  readonly message: string;
  readonly numbers: Readonly<Record<string, number>>;
}

export type GateResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: string; readonly violations: readonly GateViolation[] };

const fmt = (n: number): string => (n > 0 ? `+${n}` : String(n));

/**
 * The pre-trade gate every order passes, emergency or not (docs/design.md "The gate"). For each contract the order
 * trades, with `h` the strategy's holding, `w` the signed rest of its other working orders there and `e` this
 * order's signed effect: `h + e` and `h + w + e` must both lie between 0 and `h` (reduce, never past zero; the first
 * keeps a working order on the other side from lending this one room). Where no other strategy and nothing outside
 * any strategy holds the contract, the same holds for the account's position `p` and every working legguard order
 * `W`: the order never grows the account's position or flips its sign. Then the configured limits.
 *
 * @example
 *   // ic-spy holds -2 of the 440 put; BUY 3 would leave +1:
 *   checkOrder({ order: buy3Put440, ... }) // { ok: false, reason: 'strategy-holding: BUY 3 SPY 2026-01-30 440 P ...' }
 */
export function checkOrder(input: GateInput): GateResult {
  const { order, book, state } = input;
  const violations: GateViolation[] = [];
  const refuse = (rule: GateRule, contract: Contract | null, message: string, numbers: Record<string, number> = {}): void => {
    violations.push({ rule, contract, message, numbers });
  };

  if (state === 'HALTED') {
    refuse('halted', null, 'trading is HALTED: no order passes');
    return result(violations);
  }

  // The shape every broker adapter checks too (core/order-shape.ts): one rule, so nothing the gate passes is refused
  // downstream for its shape.
  for (const p of orderShapeProblems(order)) refuse('malformed', p.contract, p.message);
  if (!book.hasStrategy(order.strategyId)) {
    refuse('unknown-strategy', null, `strategy ${order.strategyId} is not in the book`);
  }
  if (violations.length > 0) return result(violations);

  // The shape rule names each contract once: one leg, one effect.
  for (const l of order.legs) {
    const contract = l.contract;
    const key = contractKey(contract);
    const e = legEffect(l, order.quantity);
    const what = `${e > 0 ? 'BUY' : 'SELL'} ${Math.abs(e)} ${describeContract(contract)}`;
    const sid = order.strategyId;
    const h = book.holding(sid, key);
    const w = input.working(sid, key);
    const alone = Qty.unsafe(h + e);
    const total = Qty.unsafe(h + w + e);
    if (h === 0 || !Qty.reduces(h, alone) || !Qty.reduces(h, total)) {
      refuse(
        'strategy-holding',
        contract,
        `${what}: ${sid} holds ${fmt(h)}, its other working orders ${fmt(w)}, this order ${fmt(e)}; ` +
          `would leave ${fmt(alone)} alone and ${fmt(total)} with them, outside [${Math.min(0, h)}, ${Math.max(0, h)}]` +
          (h === 0 ? ' (the strategy holds none)' : ''),
        { holding: h, working: w, effect: e, after: total },
      );
    }
    const shared = book.strategiesHolding(key).some((s) => s !== sid) || book.holding(null, key) !== 0;
    if (!shared) {
      const p = input.brokerPosition(key);
      const all = input.working(null, key);
      const pAlone = Qty.unsafe(p + e);
      const pTotal = Qty.unsafe(p + all + e);
      if (p === 0 || !Qty.reduces(p, pAlone) || !Qty.reduces(p, pTotal)) {
        refuse(
          'account-position',
          contract,
          `${what}: the account holds ${fmt(p)}, legguard's other working orders ${fmt(all)}, this order ${fmt(e)}; ` +
            `would leave ${fmt(pAlone)} alone and ${fmt(pTotal)} with them, outside [${Math.min(0, p)}, ${Math.max(0, p)}]` +
            (p === 0 ? ' (the account holds none)' : ''),
          { position: p, working: all, effect: e, after: pTotal },
        );
      }
    }
  }

  const { maxContractsPerOrder, maxSharesPerOrder, maxNotionalPerOrder } = input.limits;
  for (const l of order.legs) {
    const n = l.ratio * order.quantity;
    if (isOption(l.contract)) {
      if (maxContractsPerOrder !== null && n > maxContractsPerOrder) {
        refuse('max-contracts', l.contract, `${l.action} ${n} ${describeContract(l.contract)}: more than ${maxContractsPerOrder} contracts in one order`, { contracts: n, max: maxContractsPerOrder });
      }
    } else if (maxSharesPerOrder !== null && n > maxSharesPerOrder) {
      refuse('max-shares', l.contract, `${l.action} ${n} ${describeContract(l.contract)}: more than ${maxSharesPerOrder} shares in one order`, { shares: n, max: maxSharesPerOrder });
    }
  }
  if (maxNotionalPerOrder !== null) {
    const notional = orderNotional(order, input.referencePrice);
    if (notional === null) {
      refuse('max-notional', null, `cannot check the notional limit of ${maxNotionalPerOrder}: the order has no limit price and no reference price`, { max: maxNotionalPerOrder });
    } else if (notional > maxNotionalPerOrder) {
      refuse('max-notional', null, `notional ${notional.toFixed(2)} is more than the limit of ${maxNotionalPerOrder}`, { notional, max: maxNotionalPerOrder });
    }
  }
  return result(violations);
}

function multiplierOf(c: Contract): number {
  return isOption(c) ? c.multiplier : 1;
}

/**
 * Money an order moves: at its limit, |limit| x units x the multiplier (a combo's limit is per unit, so this is its
 * net); without a limit, the legs at their reference prices. Null when neither is known.
 */
export function orderNotional(order: OrderRequest, referencePrice?: (c: Contract) => Price | null): number | null {
  if (order.limitPrice !== null) {
    const mult = Math.max(...order.legs.map((l) => multiplierOf(l.contract)));
    return Math.abs(order.limitPrice) * mult * order.quantity;
  }
  if (!referencePrice) return null;
  let sum = 0;
  for (const l of order.legs) {
    const p = referencePrice(l.contract);
    if (p === null) return null;
    sum += Math.abs(p) * l.ratio * order.quantity * multiplierOf(l.contract);
  }
  return sum;
}

function result(violations: readonly GateViolation[]): GateResult {
  if (violations.length === 0) return { ok: true };
  return { ok: false, reason: violations.map((v) => `${v.rule}: ${v.message}`).join('; '), violations };
}
