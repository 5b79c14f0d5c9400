import { contractKey, isOption, type Contract } from '../contract.js';
import type { ContractKey, StrategyId } from '../ids.js';
import type { Leg } from '../leg.js';
import { Qty } from '../quantity.js';
import { inferKind } from '../strategy-kind.js';
import type { StrategyKind } from '../strategy.js';
import { proposalId } from './proposal-id.js';
import { unitsIn, type OptionSlot, type Shape, type Slot, type StockSlot, type UnderlyingBook } from './shapes.js';
import { FINDERS } from './structures.js';

export interface GroupingInput {
  /** What the broker shows, net per contract (a contract given twice is summed; zeros are dropped). */
  readonly positions: readonly Leg[];
  /**
   * Legs traded together (the legs of one combo order, told by the broker's perm id), oldest first, each signed as
   * traded. One the book still holds in the same direction forms one strategy before any pattern is looked for.
   */
  readonly together?: readonly (readonly Leg[])[];
  /** Ids a proposal must not take (strategies already in the store). */
  readonly takenIds?: ReadonlySet<string>;
}

export interface Proposal {
  readonly id: StrategyId;
  /** What `inferKind` names the legs (a combo traded together may be `custom`). */
  readonly kind: StrategyKind;
  readonly symbol: string;
  /** One leg per contract, none zero, in expiry, right, strike order (stock first). */
  readonly legs: readonly Leg[];
  /** `combo`: its legs were traded as one order; `pattern`: it was recognised in the book. */
  readonly source: 'combo' | 'pattern';
}

export interface Grouping {
  readonly proposals: readonly Proposal[];
  /** What no proposal takes, one leg per contract, in the same order. */
  readonly ungrouped: readonly Leg[];
}

/**
 * Partitions a book into strategies of the kinds legguard knows (issue 13). Pure and deterministic: the same book
 * in any order gives the same proposals with the same ids.
 *
 * Per underlying (in symbol order): first what was traded together, then the structures of `FINDERS` in their order
 * (iron condors and butterflies before verticals, a ratio spread whole before a vertical, covered calls with
 * `multiplier` shares a contract), each taken as many times as the book holds it. What is left is ungrouped.
 * Quantities are conserved exactly: the proposals' legs plus the ungrouped sum to the book, contract by contract.
 *
 * @example
 *   groupPositions({ positions: [put435 +1, put440 -1, call460 -1, call465 +1, SPY +250, call470 -2] })
 *   // proposals: spy-iron-condor-2026-01-30, spy-covered-call-2026-01-30 (200 shares, -2 470 C)
 *   // ungrouped: SPY +50
 */
export function groupPositions(input: GroupingInput): Grouping {
  const bySymbol = new Map<string, Map<ContractKey, Slot>>();
  for (const p of input.positions) {
    const key = contractKey(p.contract);
    const book = bySymbol.get(p.contract.symbol) ?? new Map<ContractKey, Slot>();
    bySymbol.set(p.contract.symbol, book);
    const slot = book.get(key);
    if (slot) slot.qty += p.qty;
    else book.set(key, { key, contract: p.contract, qty: p.qty });
  }
  const taken = new Set(input.takenIds ?? []);
  const proposals: Proposal[] = [];
  const ungrouped: Leg[] = [];
  const propose = (symbol: string, shape: Shape, units: number, source: Proposal['source']): void => {
    const legs = sortLegs(shape.map(({ slot, unit }) => ({ contract: slot.contract, qty: Qty.unsafe(unit * units) })));
    for (const { slot, unit } of shape) slot.qty -= unit * units;
    const kind = inferKind(legs);
    const id = proposalId(symbol, kind, legs, taken);
    taken.add(id);
    proposals.push({ id, kind, symbol, legs, source });
  };

  for (const symbol of [...bySymbol.keys()].sort()) {
    const slots = bySymbol.get(symbol)!;
    for (const combo of input.together ?? []) {
      const shape = comboShape(combo, symbol, slots);
      if (shape === null) continue;
      const units = Math.min(unitsIn(shape.unit), shape.lots);
      if (units > 0) propose(symbol, shape.unit, units, 'combo');
    }
    const sorted = sortSlots([...slots.values()]);
    const book: UnderlyingBook = {
      options: sorted.filter((s): s is OptionSlot => isOption(s.contract)),
      stock: (sorted.find((s) => !isOption(s.contract)) as StockSlot | undefined) ?? null,
    };
    for (const find of FINDERS) {
      for (let shape = find(book); shape !== null; shape = find(book)) propose(symbol, shape, unitsIn(shape), 'pattern');
    }
    for (const s of sorted) if (s.qty !== 0) ungrouped.push({ contract: s.contract, qty: Qty.unsafe(s.qty) });
  }
  return { proposals, ungrouped };
}

/**
 * A combo's legs as a unit (each divided by the greatest common divisor of their sizes) and how many lots were
 * traded; null when it names another underlying (or several), a contract the book does not list, or fewer than two
 * contracts once netted.
 */
function comboShape(combo: readonly Leg[], symbol: string, slots: ReadonlyMap<ContractKey, Slot>): { unit: Shape; lots: number } | null {
  const net = new Map<ContractKey, number>();
  for (const l of combo) {
    if (l.contract.symbol !== symbol) return null;
    const key = contractKey(l.contract);
    net.set(key, (net.get(key) ?? 0) + l.qty);
  }
  const legs = [...net].filter(([, q]) => q !== 0);
  if (legs.length < 2) return null;
  const lots = legs.reduce((g, [, q]) => gcd(g, Math.abs(q)), 0);
  const unit: { slot: Slot; unit: number }[] = [];
  for (const [key, q] of legs) {
    const slot = slots.get(key);
    if (!slot) return null;
    unit.push({ slot, unit: q / lots });
  }
  return { unit, lots };
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function order(a: Contract, b: Contract): number {
  if (!isOption(a) || !isOption(b)) return (isOption(a) ? 1 : 0) - (isOption(b) ? 1 : 0);
  return a.expiry < b.expiry ? -1 : a.expiry > b.expiry ? 1 : a.right < b.right ? -1 : a.right > b.right ? 1 : a.strike - b.strike || a.multiplier - b.multiplier;
}

function sortSlots(slots: Slot[]): Slot[] {
  return slots.sort((a, b) => order(a.contract, b.contract) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function sortLegs(legs: Leg[]): Leg[] {
  return legs.sort((a, b) => order(a.contract, b.contract));
}
