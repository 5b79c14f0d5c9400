import type { Contract } from './contract.js';
import type { AccountId, IncidentId, OrderRef, StrategyId } from './ids.js';
import type { Price, Qty } from './quantity.js';
import { Qty as Q } from './quantity.js';

export type OrderAction = 'BUY' | 'SELL';

/**
 * The kind of position an order closes, and its priority when the broker's message pacing makes orders queue (lower
 * first): naked short options, then stock, then covered short options (spreads, closed as combos where the venue
 * allows), then long options. Within a plan the order is by exposure (core/close-plan.ts), the tier breaking ties.
 */
export const RISK_TIERS = { 'naked-short-option': 0, stock: 1, spread: 2, 'long-option': 3 } as const;
export type RiskTierName = keyof typeof RISK_TIERS;
export type RiskTier = (typeof RISK_TIERS)[RiskTierName];

export interface OrderLeg {
  readonly contract: Contract;
  readonly action: OrderAction;
  /** Contracts or shares of this leg per order unit; 1 for a single-leg order. */
  readonly ratio: number;
}

/**
 * An order legguard wants sent. One leg is a plain order; two or more are a combo (IB BAG) bought as defined by the
 * legs' actions, so `limitPrice` is the net per unit: positive pays a debit, negative receives a credit.
 */
export interface OrderRequest {
  /** Deterministic: `lg/<strategy>/<incident or exit>/<group>/<attempt>`; see `orderRef`. */
  readonly ref: OrderRef;
  readonly strategyId: StrategyId;
  readonly incidentId: IncidentId | null;
  readonly account: AccountId;
  readonly legs: readonly OrderLeg[];
  /** Order units, positive. Each leg trades `ratio * quantity`. */
  readonly quantity: Qty;
  readonly orderType: 'LMT' | 'MKT';
  readonly limitPrice: Price | null;
  /** Stock may trade pre- and post-market; options never. */
  readonly outsideRth: boolean;
  readonly purpose: 'emergency' | 'normal';
  readonly tier: RiskTier;
}

/** The signed change an order leg makes to a position when `units` order units fill. */
export function legEffect(leg: OrderLeg, units: number): Qty {
  return Q.unsafe((leg.action === 'BUY' ? 1 : -1) * leg.ratio * units);
}

/** The action that moves a position of sign `qty` toward zero. */
export function closingAction(qty: number): OrderAction {
  return qty < 0 ? 'BUY' : 'SELL';
}

/**
 * legguard's order reference. Derived, never random, so that a restarted guard recognises at the broker the orders
 * it sent before a crash. `attempt` counts re-sends of the same group after a reject or a price walk.
 *
 * @example orderRef('ic-spy', 'ic-spy:assignment:1769585400000', 'g0', 1) // 'lg/ic-spy/ic-spy:assignment:1769585400000/g0/1'
 */
export function orderRef(strategyId: string, incident: string, group: string, attempt: number): OrderRef {
  return `lg/${strategyId}/${incident}/${group}/${attempt}` as OrderRef;
}

export function parseOrderRef(ref: string): { strategyId: string; incident: string; group: string; attempt: number } | null {
  const m = /^lg\/([^/]+)\/([^/]+)\/([^/]+)\/(\d+)$/.exec(ref);
  if (!m) return null;
  return { strategyId: m[1]!, incident: m[2]!, group: m[3]!, attempt: Number(m[4]) };
}

export function isLegguardRef(ref: string | null): boolean {
  return ref !== null && ref.startsWith('lg/');
}
