import type { BookView } from './book.js';
import { contractKey, deliverable, describeContract, isOption, stockFromSettlement, type Contract, type OptionContract } from './contract.js';
import type { ContractKey, StrategyId } from './ids.js';
import { Qty } from './quantity.js';
import type { StrategyDefinition } from './strategy.js';

/** One leg of a pending strategy (its legs on one contract netted), against what the broker shows. */
export interface LegPresence {
  readonly contract: Contract;
  /** What the strategy says it holds. */
  readonly want: Qty;
  /** The account's position at the broker. */
  readonly brokerQty: Qty;
  /** Strategies holding (or adopted in this pass claiming) the contract, oldest first. */
  readonly heldBy: readonly StrategyId[];
  /** True when the broker shows the leg beyond what other strategies hold. */
  readonly present: boolean;
}

export type PendingVerdict =
  /** Every leg is at the broker: the strategy holds its legs from now on. */
  | { readonly kind: 'adopt'; readonly strategyId: StrategyId; readonly legs: readonly LegPresence[] }
  /**
   * Some legs (or all) are not: it stays PENDING, holding nothing; `legs` says which are and which are not.
   * `looksAssigned` names, per underlying, stock nobody holds that is exactly what assigning its missing short options
   * would have delivered, while its other legs are there: an assignment before any guard saw the strategy looks so,
   * and so does a typo beside shares held for another reason. The guard cannot tell them apart; a person must.
   */
  | { readonly kind: 'missing'; readonly strategyId: StrategyId; readonly legs: readonly LegPresence[]; readonly looksAssigned: readonly SettlementHint[] }
  /**
   * A change on one of its underlyings waits for the detector (an option shrank, the guard's own order is trading
   * there): what the broker shows beyond the book may be another strategy's, so it is decided at a later pass.
   */
  | { readonly kind: 'wait'; readonly strategyId: StrategyId; readonly symbols: readonly string[] };

/** Stock the broker shows beyond every strategy that the settlement of `options` would have moved. */
export interface SettlementHint {
  readonly stock: Contract;
  readonly shares: Qty;
  readonly options: readonly LegPresence[];
}

export interface AdoptionInput {
  /** The PENDING strategies, oldest first. They hold nothing in `book`. */
  readonly pending: readonly StrategyDefinition[];
  readonly book: BookView;
  /** The broker's position per contract as last reported; a contract it does not list is 0. */
  readonly broker: ReadonlyMap<ContractKey, { readonly contract: Contract; readonly qty: Qty }>;
  /** True for a contract a guard order is working in or traded within the correlation window. */
  readonly busy: (key: ContractKey) => boolean;
}

export interface AdoptionResult {
  /** One per pending strategy, in the order given. */
  readonly verdicts: readonly PendingVerdict[];
  /** New outside holdings where adopted strategies took positions the book had outside any strategy. */
  readonly outside: readonly { readonly contract: Contract; readonly qty: Qty }[];
}

interface Claim {
  readonly def: StrategyDefinition;
  /** Net quantity per contract, none at zero. */
  readonly legs: ReadonlyMap<ContractKey, { readonly contract: Contract; readonly qty: number }>;
}

/**
 * Which PENDING strategies the broker holds (hardening item 7). Pure.
 *
 * What a strategy may take is what no other strategy holds: per contract, `free = broker - sum of the strategies'
 * holdings`, which is the book's outside holding plus whatever the broker shows beyond the book. A set of pending
 * strategies is held together when, in each contract, what they claim (`W`, the sum of their legs) is covered:
 * `(free - W)` has the sign of each claimant's leg, or is zero. Claims on one side add up (two strategies each short 2
 * need 4); claims on both sides net (one short 2 and one long 2 of the same put need the broker to show 0, as it does
 * when two strategies hold both sides).
 *
 * The set adopted is found by dropping, until the rest is covered: first every strategy that no set could cover (a
 * leg the broker does not show even when no other pending strategy competes for it: a typo, a position not yet
 * opened), then, where strategies compete for one position, the youngest. A strategy dropped then gets one more try
 * alone against what the adopted ones left. A strategy not adopted takes nothing: a partly present one leaves the
 * legs that are there outside any strategy, so that what the guard acts on is only ever a whole strategy.
 *
 * The part of `free` beyond the book is only taken where it can be nothing but new positions: on an underlying where
 * every contract the broker shows beyond the book grew away from zero and no guard order trades. An option that shrank
 * (an assignment, an expiry, a close) or the guard's own fills may move stock and options of the same underlying that
 * belong to another strategy; the detector explains them first, and the strategies on that underlying `wait`.
 *
 * @example
 *   // vert is -1 SPY 420 P, +1 SPY 415 P; the broker shows neither:
 *   checkPending({ pending: [vert], book, broker, busy }).verdicts
 *   // [{ kind: 'missing', legs: [{ 420 P, want -1, brokerQty 0, present: false }, { 415 P, want 1, brokerQty 0, present: false }] }]
 */
export function checkPending(input: AdoptionInput): AdoptionResult {
  const { book, broker } = input;
  const brokerQty = (key: ContractKey): number => broker.get(key)?.qty ?? 0;
  const claims: Claim[] = input.pending.map((def) => ({ def, legs: netLegs(def) }));
  if (claims.length === 0) return { verdicts: [], outside: [] };

  // Underlyings where a change beyond the book may not be new positions.
  const unsettled = new Set<string>();
  for (const key of new Set<ContractKey>([...broker.keys(), ...book.contractKeys()])) {
    const gap = brokerQty(key) - book.net(key);
    if (gap === 0) continue;
    const contract = broker.get(key)?.contract ?? book.contract(key);
    if (!contract) continue;
    const net = book.net(key);
    const grows = net === 0 || Math.sign(gap) === Math.sign(net);
    if (!grows || input.busy(key)) unsettled.add(contract.symbol);
  }
  const free = (key: ContractKey): number => brokerQty(key) - (book.net(key) - book.holding(null, key));

  const waiting = new Set<Claim>(claims.filter((c) => [...c.legs.values()].some((l) => unsettled.has(l.contract.symbol))));
  // What the members of the set claim per contract, long and short apart, kept as members leave or join: each check
  // below is then per leg, not per leg and member (10,000 pending strategies at a first start).
  const sums = new Sums();
  let members = new Set(claims.filter((c) => !waiting.has(c)));
  for (const c of members) sums.add(c);
  const covered = (c: Claim): boolean => [...c.legs].every(([key, l]) => (free(key) - sums.total(key)) * Math.sign(l.qty) >= 0);
  // Covered in the most favourable set that still holds the others: drop every other claim on the leg's side.
  const coverable = (c: Claim): boolean =>
    [...c.legs].every(([key, l]) => (free(key) - l.qty - sums.side(key, -Math.sign(l.qty))) * Math.sign(l.qty) >= 0);
  for (;;) {
    const failing = [...members].filter((c) => !covered(c));
    if (failing.length === 0) break;
    const hopeless = failing.filter((c) => !coverable(c));
    const drop = new Set(hopeless.length > 0 ? hopeless : [failing[failing.length - 1]!]);
    members = new Set([...members].filter((c) => !drop.has(c)));
    for (const c of drop) sums.remove(c);
  }
  for (const c of claims) {
    if (waiting.has(c) || members.has(c)) continue;
    // Covered with it in the set: its own legs added to the others'.
    if ([...c.legs].every(([key, l]) => (free(key) - sums.total(key) - l.qty) * Math.sign(l.qty) >= 0)) {
      members.add(c);
      sums.add(c);
    }
  }
  const set = [...members];
  const adopted = members;
  // The members claiming each contract, in the set's order.
  const claimants = new Map<ContractKey, Claim[]>();
  for (const c of set) {
    for (const key of c.legs.keys()) {
      const list = claimants.get(key);
      if (list) list.push(c);
      else claimants.set(key, [c]);
    }
  }

  const verdicts: PendingVerdict[] = claims.map((c): PendingVerdict => {
    const id = c.def.id;
    if (waiting.has(c)) {
      const symbols = [...new Set([...c.legs.values()].map((l) => l.contract.symbol).filter((s) => unsettled.has(s)))].sort();
      return { kind: 'wait', strategyId: id, symbols };
    }
    const own = adopted.has(c);
    const legs = [...c.legs].map(([key, l]): LegPresence => {
      const claimedBy = (claimants.get(key) ?? []).filter((o) => o !== c).map((o) => o.def.id);
      const others = sums.total(key) - (own ? l.qty : 0);
      return {
        contract: l.contract,
        want: Qty.unsafe(l.qty),
        brokerQty: Qty.unsafe(brokerQty(key)),
        heldBy: [...book.strategiesHolding(key), ...claimedBy],
        present: (free(key) - others - l.qty) * Math.sign(l.qty) >= 0,
      };
    });
    if (own) return { kind: 'adopt', strategyId: id, legs };
    return { kind: 'missing', strategyId: id, legs, looksAssigned: looksAssigned(c, legs, (key) => free(key) - sums.total(key)) };
  });

  // What the adopted strategies take comes first from what the broker shows beyond the book, then from the outside.
  const outside: { contract: Contract; qty: Qty }[] = [];
  for (const key of [...claimants.keys()].sort()) {
    const w = sums.total(key);
    if (w === 0) continue;
    const gap = brokerQty(key) - book.net(key);
    const fromGap = Math.sign(gap) === Math.sign(w) ? Math.sign(w) * Math.min(Math.abs(gap), Math.abs(w)) : 0;
    const rest = w - fromGap;
    if (rest === 0) continue;
    const contract = claimants.get(key)![0]!.legs.get(key)!.contract;
    outside.push({ contract, qty: Qty.unsafe(book.holding(null, key) - rest) });
  }
  return { verdicts, outside };
}

/** Per contract, the sum of the long claims and of the short claims of a set of claims. */
class Sums {
  private readonly long = new Map<ContractKey, number>();
  private readonly short = new Map<ContractKey, number>();

  add(c: Claim, by = 1): void {
    for (const [key, l] of c.legs) {
      const m = l.qty > 0 ? this.long : this.short;
      m.set(key, (m.get(key) ?? 0) + by * l.qty);
    }
  }

  remove(c: Claim): void {
    this.add(c, -1);
  }

  total(key: ContractKey): number {
    return (this.long.get(key) ?? 0) + (this.short.get(key) ?? 0);
  }

  /** The sum of the claims with this sign (1 long, -1 short). */
  side(key: ContractKey, sign: number): number {
    return (sign > 0 ? this.long : this.short).get(key) ?? 0;
  }
}

/**
 * Per underlying of a partly present strategy without a stock leg there: the unclaimed stock (`unclaimed`) when it is
 * non-zero and exactly what assigning the strategy's missing short options on that underlying would have delivered.
 */
function looksAssigned(c: Claim, legs: readonly LegPresence[], unclaimed: (key: ContractKey) => number): SettlementHint[] {
  if (!legs.some((l) => l.present)) return [];
  const out: SettlementHint[] = [];
  const shorts = legs.filter((l) => !l.present && l.want < 0 && isOption(l.contract) && deliverable(l.contract) !== null);
  for (const symbol of [...new Set(shorts.map((l) => l.contract.symbol))].sort()) {
    const options = shorts.filter((l) => l.contract.symbol === symbol);
    const stock = deliverable(options[0]!.contract as OptionContract)!;
    const key = contractKey(stock);
    if (c.legs.has(key)) continue;
    const shares = options.reduce((sum, l) => sum + stockFromSettlement(l.contract as OptionContract, l.want), 0);
    if (shares !== 0 && unclaimed(key) === shares) out.push({ stock, shares: Qty.unsafe(shares), options });
  }
  return out;
}

/** A definition's legs netted per contract, none at zero, in the order first given. */
function netLegs(def: StrategyDefinition): Map<ContractKey, { contract: Contract; qty: number }> {
  const out = new Map<ContractKey, { contract: Contract; qty: number }>();
  for (const leg of def.legs) {
    const key = contractKey(leg.contract);
    const prev = out.get(key);
    out.set(key, { contract: prev?.contract ?? leg.contract, qty: (prev?.qty ?? 0) + leg.qty });
  }
  for (const [key, l] of out) if (l.qty === 0) out.delete(key);
  return out;
}

const signed = (n: number): string => (n > 0 ? `+${n}` : String(n));

/** `-1 SPY 2026-02-20 420 P (the broker shows none)`, `-2 SPY ... 440 P (the broker shows -2, held by ic)`. */
export function describeMissingLeg(l: LegPresence): string {
  const shows = l.brokerQty === 0 ? 'none' : signed(l.brokerQty);
  return `${signed(l.want)} ${describeContract(l.contract)} (the broker shows ${shows}${l.heldBy.length > 0 ? `, held by ${l.heldBy.join(', ')}` : ''})`;
}

/** `-1 SPY 2026-02-20 400 P`. */
export function describeLeg(l: LegPresence): string {
  return `${signed(l.want)} ${describeContract(l.contract)}`;
}
