import type { Drop } from './ib-translate.js';

/**
 * Warnings about messages from TWS that were dropped, rate-limited per message and field: the first of a kind is
 * said at once; more of the same within `everyMs` are counted and said with the next one after it. A broken or
 * hostile TWS can send thousands a second; the log must stay readable and the guard must stay up.
 */
export class DropLog {
  private readonly kinds = new Map<string, { lastSaid: number; since: number }>();
  private dropped = 0;

  constructor(
    /** Real monotonic milliseconds. */
    private readonly perf: () => number,
    private readonly say: (line: string) => void,
    private readonly everyMs = 60_000,
  ) {}

  /** Counts the drop; says it when its kind was not said within `everyMs`. */
  drop(d: Drop): void {
    this.dropped++;
    const key = `${d.message}.${d.field}`;
    const now = this.perf();
    const k = this.kinds.get(key);
    if (k && now - k.lastSaid < this.everyMs) {
      k.since++;
      return;
    }
    const more = k && k.since > 0 ? ` (${k.since} more like it since the last warning)` : '';
    this.kinds.set(key, { lastSaid: now, since: 0 });
    // Bounded: a stream of ever-new field names cannot grow the map without end.
    if (this.kinds.size > 1000) this.kinds.delete(this.kinds.keys().next().value!);
    this.say(`dropped a ${d.message} message from TWS: ${d.field} ${d.why}${more}`);
  }

  /** Messages dropped so far. */
  get count(): number {
    return this.dropped;
  }
}
