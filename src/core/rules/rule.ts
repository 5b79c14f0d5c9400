import type { Holding } from '../book.js';
import type { Contract } from '../contract.js';
import type { Decision } from '../decision.js';
import type { EpochMs } from '../quantity.js';
import type { Dividend, QuoteView } from '../quote-view.js';
import type { StrategyDefinition } from '../strategy.js';
import type { StrategyState } from '../strategy-state.js';

/**
 * What a rule sees of one strategy and its market. Rich enough for the rules to come (ex-dividend call risk needs
 * dividends and the calls' extrinsic value from quotes; deep ITM put risk needs the underlying's price; pin risk
 * needs the strikes held near expiry).
 */
export interface RuleContext {
  readonly strategy: StrategyDefinition;
  readonly state: StrategyState;
  /** What the strategy holds now (the book), not its definition. */
  readonly holdings: readonly Holding[];
  readonly now: EpochMs;
  readonly quote: (contract: Contract) => QuoteView | null;
  readonly underlyingPrice: (symbol: string) => number | null;
  /** Announced dividends of an underlying; empty when unknown. */
  readonly dividends?: (symbol: string) => readonly Dividend[];
}

/** One rule: lower `priority` runs first; `evaluate` returns a decision, or null when it has nothing to say. */
export interface Rule {
  readonly name: string;
  readonly priority: number;
  evaluate(ctx: RuleContext): Decision | null;
}

/**
 * The first decision by priority (ties by name, so the order never depends on how the list was built), or null.
 * Only OPEN strategies are evaluated: a strategy closing, broken or closed is the engine's, not the rules'.
 *
 * @example evaluateRules([timeExitRule(1)], ctx) // { action: 'CLOSE', rule: 'TimeExit', ... } at DTE 1
 */
export function evaluateRules(rules: readonly Rule[], ctx: RuleContext): Decision | null {
  if (ctx.state !== 'OPEN') return null;
  const ordered = [...rules].sort((a, b) => a.priority - b.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const rule of ordered) {
    const d = rule.evaluate(ctx);
    if (d !== null) return d;
  }
  return null;
}

/**
 * Every rule's decision, by priority (ties by name): what the engine acts on. A rule's ALERT_ONLY does not hide a
 * CLOSE of a rule after it (the engine raises the alerts and acts on the first other decision); only OPEN strategies
 * are evaluated.
 */
export function evaluateAllRules(rules: readonly Rule[], ctx: RuleContext): Decision[] {
  if (ctx.state !== 'OPEN') return [];
  const ordered = inPriorityOrder(rules);
  const out: Decision[] = [];
  for (const rule of ordered) {
    const d = rule.evaluate(ctx);
    if (d !== null) out.push(d);
  }
  return out;
}

/** A rule list in evaluation order, sorted once per list (a pass evaluates the same list for thousands of strategies). */
const orderedLists = new WeakMap<readonly Rule[], readonly Rule[]>();
function inPriorityOrder(rules: readonly Rule[]): readonly Rule[] {
  let o = orderedLists.get(rules);
  if (!o) {
    o = [...rules].sort((a, b) => a.priority - b.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    orderedLists.set(rules, o);
  }
  return o;
}
