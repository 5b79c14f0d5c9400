/**
 * A binary min-heap: `push` and `pop` in O(log n), `peek` in O(1). The order is `before(a, b)` (true when `a` comes
 * first); give it a tie-break (a sequence number) when equal items must come out in the order they went in, as the
 * heap alone does not keep it.
 *
 * @example
 *   const h = new MinHeap<{ tier: number; seq: number }>((a, b) => a.tier < b.tier || (a.tier === b.tier && a.seq < b.seq));
 *   h.push({ tier: 3, seq: 0 }); h.push({ tier: 0, seq: 1 });
 *   h.pop(); // { tier: 0, seq: 1 }
 */
export class MinHeap<T> {
  private readonly items: T[] = [];

  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(x: T): void {
    const a = this.items;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(a[i]!, a[parent]!)) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }

  pop(): T | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.before(a[l]!, a[m]!)) m = l;
        if (r < a.length && this.before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }

  /** Removes every item and returns them, in no particular order. */
  clear(): T[] {
    return this.items.splice(0);
  }
}
