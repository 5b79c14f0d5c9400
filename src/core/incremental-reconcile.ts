import { ContractKeys } from './contract-keys.js';
import type { PositionReport } from './events.js';
import type { ContractKey } from './ids.js';
import type { Qty } from './quantity.js';
import { comparePosition, reconcileDiffering, type ReconcileInput, type ReconcileResult } from './reconcile.js';

/** What the last pass saw of one contract at the broker. */
interface Seen {
  qty: Qty;
  report: PositionReport;
  /** The pass that saw it last. */
  pass: number;
}

export interface IncrementalResult extends ReconcileResult {
  /** The contract key of each of the snapshot's positions, in the snapshot's order (computed once, for the caller). */
  readonly keys: readonly ContractKey[];
}

/**
 * Reconciliation that looks again only where something changed since its last pass: the contracts whose position
 * at the broker changed from the last snapshot (or appeared, or went), and those the book says it changed
 * (`Book.takeTouched()`). Everywhere else the broker and the book are as they were, and so is whether they differ.
 * A quiet pass over 40,000 positions is one key and one comparison each; its result equals `reconcile()`'s on the
 * same snapshot and book (property-tested), which stays the definition.
 *
 * Its first pass, and the first after `reset()`, looks at every contract: a full pass.
 *
 * @example
 *   const inc = new IncrementalReconciler();
 *   inc.pass(input, book.takeTouched()); // full: every contract
 *   inc.pass(input2, book.takeTouched()); // only the contracts touched since
 */
export class IncrementalReconciler {
  private readonly last = new Map<ContractKey, Seen>();
  private readonly differing = new Set<ContractKey>();
  private readonly keyOf = new ContractKeys();
  private passes = 0;
  private primed = false;

  /** Forgets what the passes saw: the next one is full. */
  reset(): void {
    this.last.clear();
    this.differing.clear();
    this.primed = false;
  }

  /**
   * The reconciliation of `input.snapshot` against `input.book`. `bookTouched` names every contract whose net or
   * holders changed in the book since the previous pass (ignored on a full pass).
   */
  pass(input: ReconcileInput, bookTouched: Iterable<ContractKey>): IncrementalResult {
    const { snapshot, book } = input;
    const pass = ++this.passes;
    const recheck = new Set<ContractKey>(this.primed ? bookTouched : book.contractKeys());
    this.primed = true;
    const keys: ContractKey[] = new Array<ContractKey>(snapshot.positions.length);
    const before = this.last.size;
    let again = 0;
    for (let i = 0; i < snapshot.positions.length; i++) {
      const p = snapshot.positions[i]!;
      const key = this.keyOf.keyOf(p.contract);
      keys[i] = key;
      if (p.account !== snapshot.account) continue;
      const seen = this.last.get(key);
      if (seen === undefined) {
        this.last.set(key, { qty: p.qty, report: p, pass });
        recheck.add(key);
      } else if (seen.pass === pass) {
        // The same contract twice in one snapshot: the later report wins, as in `reconcile()`.
        if (comparePosition(p, seen.report) > 0) {
          if (p.qty !== seen.qty) recheck.add(key);
          seen.qty = p.qty;
          seen.report = p;
        }
      } else {
        again++;
        seen.pass = pass;
        seen.report = p;
        if (seen.qty !== p.qty) {
          seen.qty = p.qty;
          recheck.add(key);
        }
      }
    }
    // Gone from the broker since the last pass: 0 now. (When every contract of the last pass was seen again, none.)
    if (again < before) {
      for (const [key, seen] of this.last) {
        if (seen.pass === pass) continue;
        this.last.delete(key);
        recheck.add(key);
      }
    }
    for (const key of recheck) {
      if ((this.last.get(key)?.qty ?? 0) !== book.net(key)) this.differing.add(key);
      else this.differing.delete(key);
    }
    return { ...reconcileDiffering(input, [...this.differing], (key) => this.last.get(key)?.report), keys };
  }

  /** True when the last pass's snapshot had a position in `key` (for the snapshot's account). */
  present(key: ContractKey): boolean {
    return this.last.has(key);
  }
}
