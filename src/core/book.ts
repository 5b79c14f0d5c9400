import { contractKey, type Contract } from './contract.js';
import type { ContractKey, StrategyId } from './ids.js';
import { Qty } from './quantity.js';
import { invariant } from './errors.js';

/** Who holds a position: a strategy, or `null` for positions outside any strategy. */
export type Holder = StrategyId | null;

export interface Holding {
  readonly contract: Contract;
  readonly qty: Qty;
}

/** A read-only view of the book, for pure functions (detector, planner, gate). */
export interface BookView {
  holding(holder: Holder, key: ContractKey): Qty;
  /** Every non-zero holding of one holder. */
  holdings(holder: Holder): readonly Holding[];
  /** Strategies with a non-zero holding in `key`, oldest first (attribution order). */
  strategiesHolding(key: ContractKey): readonly StrategyId[];
  /** Strategies with any non-zero holding on this underlying symbol, oldest first. */
  strategiesOn(symbol: string): readonly StrategyId[];
  /** The sum over every holder: what the broker should report for `key`. */
  net(key: ContractKey): Qty;
  contract(key: ContractKey): Contract | undefined;
  /** Every contract anyone holds or held. */
  contractKeys(): Iterable<ContractKey>;
  strategyIds(): Iterable<StrategyId>;
  hasStrategy(id: StrategyId): boolean;
  isFlat(holder: Holder): boolean;
}

/**
 * Who holds what, per contract: each strategy's holdings plus positions outside any strategy. The broker reports
 * only the net per contract; the book is how legguard knows which part of a net position is whose. Invariant after
 * every reconciled update: `net(key)` equals the broker's position in `key`.
 *
 * Mutable on purpose (10,000 strategies make copying per event costly); pure code takes a `BookView`, and tests that
 * need a what-if use `clone()`.
 */
export class Book implements BookView {
  private readonly byHolder = new Map<string, Map<ContractKey, Holding>>();
  private readonly byContract = new Map<ContractKey, Set<StrategyId>>();
  private readonly contracts = new Map<ContractKey, Contract>();
  private readonly order = new Map<StrategyId, number>();
  /** The sum over every holder per contract, kept as holdings change: `net` is asked for every contract on every pass. */
  private readonly nets = new Map<ContractKey, number>();
  /** Contracts whose net or holders changed since the last `takeTouched()`: what an incremental reconciliation redoes. */
  private touched = new Set<ContractKey>();
  /** `strategiesHolding` answers, per contract, until its holders change: a burst of plans asks for the stock a
   * thousand strategies hold, once per plan. */
  private readonly sortedHolders = new Map<ContractKey, readonly StrategyId[]>();
  private seq = 0;

  private static slot(holder: Holder): string {
    return holder ?? '\u0000outside';
  }

  /** Registers a strategy; `rank` orders attribution (creation time). Holdings start empty. */
  addStrategy(id: StrategyId, rank: number = this.seq++): void {
    if (!this.order.has(id)) this.order.set(id, rank);
    if (!this.byHolder.has(Book.slot(id))) this.byHolder.set(Book.slot(id), new Map());
  }

  removeStrategy(id: StrategyId): void {
    const h = this.byHolder.get(Book.slot(id));
    if (h) {
      for (const [key, x] of h) {
        this.byContract.get(key)?.delete(id);
        this.sortedHolders.delete(key);
        this.nets.set(key, (this.nets.get(key) ?? 0) - x.qty);
        this.touched.add(key);
      }
    }
    this.byHolder.delete(Book.slot(id));
    this.order.delete(id);
  }

  hasStrategy(id: StrategyId): boolean {
    return this.order.has(id);
  }

  strategyIds(): Iterable<StrategyId> {
    return this.order.keys();
  }

  holding(holder: Holder, key: ContractKey): Qty {
    return this.byHolder.get(Book.slot(holder))?.get(key)?.qty ?? Qty.zero;
  }

  holdings(holder: Holder): readonly Holding[] {
    const h = this.byHolder.get(Book.slot(holder));
    return h ? [...h.values()].filter((x) => x.qty !== 0) : [];
  }

  /** Sets a holder's quantity in a contract. */
  set(holder: Holder, contract: Contract, qty: Qty): void {
    if (holder !== null) invariant(this.order.has(holder), `unknown strategy ${holder}`, { strategyId: holder });
    const key = contractKey(contract);
    if (!this.contracts.has(key)) this.contracts.set(key, contract);
    const slot = Book.slot(holder);
    let h = this.byHolder.get(slot);
    if (!h) {
      h = new Map();
      this.byHolder.set(slot, h);
    }
    const before = h.get(key)?.qty ?? 0;
    if (qty === 0) h.delete(key);
    else h.set(key, { contract: this.contracts.get(key) ?? contract, qty });
    if (qty !== before) {
      this.nets.set(key, (this.nets.get(key) ?? 0) + qty - before);
      this.touched.add(key);
    }
    if (holder !== null) {
      let s = this.byContract.get(key);
      if (!s) {
        s = new Set();
        this.byContract.set(key, s);
      }
      const holders = s.size;
      if (qty === 0) s.delete(holder);
      else s.add(holder);
      if (s.size !== holders) this.sortedHolders.delete(key);
    }
  }

  /** Adds a signed delta to a holder's quantity; returns the new quantity. */
  apply(holder: Holder, contract: Contract, delta: number): Qty {
    const next = Qty.unsafe(this.holding(holder, contractKey(contract)) + delta);
    this.set(holder, contract, next);
    return next;
  }

  strategiesHolding(key: ContractKey): readonly StrategyId[] {
    const known = this.sortedHolders.get(key);
    if (known) return known;
    const s = this.byContract.get(key);
    if (!s || s.size === 0) return [];
    const sorted = Object.freeze([...s].sort((a, b) => (this.order.get(a) ?? 0) - (this.order.get(b) ?? 0) || (a < b ? -1 : a > b ? 1 : 0)));
    this.sortedHolders.set(key, sorted);
    return sorted;
  }

  strategiesOn(symbol: string): readonly StrategyId[] {
    const out = new Set<StrategyId>();
    for (const [key, holders] of this.byContract) {
      const c = this.contracts.get(key);
      if (c && c.symbol === symbol) for (const id of holders) out.add(id);
    }
    return [...out].sort((a, b) => (this.order.get(a) ?? 0) - (this.order.get(b) ?? 0) || (a < b ? -1 : a > b ? 1 : 0));
  }

  net(key: ContractKey): Qty {
    return Qty.unsafe(this.nets.get(key) ?? 0);
  }

  /** The contracts touched since the last `takeTouched()`, without starting a new count. */
  touchedSoFar(): ReadonlySet<ContractKey> {
    return this.touched;
  }

  /**
   * The contracts whose net or holders changed since the last call (every one the book knows at the first), and
   * starts a new count: a reconciliation that knew the book's state at the last call needs to look again only there.
   */
  takeTouched(): ReadonlySet<ContractKey> {
    const t = this.touched;
    this.touched = new Set();
    return t;
  }

  contract(key: ContractKey): Contract | undefined {
    return this.contracts.get(key);
  }

  contractKeys(): Iterable<ContractKey> {
    return this.contracts.keys();
  }

  isFlat(holder: Holder): boolean {
    const h = this.byHolder.get(Book.slot(holder));
    if (!h) return true;
    for (const x of h.values()) if (x.qty !== 0) return false;
    return true;
  }

  /** The rank given at `addStrategy`: creation order. */
  rank(id: StrategyId): number | undefined {
    return this.order.get(id);
  }

  clone(): Book {
    const b = new Book();
    for (const [id, rank] of this.order) b.addStrategy(id, rank);
    b.seq = this.seq;
    for (const [slot, h] of this.byHolder) {
      const holder = slot === Book.slot(null) ? null : (slot as StrategyId);
      for (const x of h.values()) b.set(holder, x.contract, x.qty);
    }
    return b;
  }
}
