import { LegguardError } from '../../core/errors.js';

/**
 * Reads one message's fields in order, with the conventions of the TWS API: an empty field is "unset" (0 for a
 * plain int or double, null for the `...OrNull` readers), booleans are `0`/`1`. Every error names the message and
 * the field, so a client that sends a different layout learns where it went wrong.
 */
export class FieldReader {
  private i = 0;
  /** Ids read so far (`reqId`, `orderId`), carried in error details so the error can be answered on that id. */
  private readonly context: Record<string, number> = {};

  constructor(
    private readonly fields: readonly string[],
    /** The message's name for errors: `PLACE_ORDER`. */
    readonly message: string,
    start = 0,
  ) {
    this.i = start;
  }

  private fail(name: string, problem: string): never {
    throw new LegguardError('PROTOCOL_ERROR', `${this.message}: field ${this.i} (${name}) ${problem}`, {
      ...this.context,
      message: this.message,
      field: name,
      index: this.i,
    });
  }

  str(name: string): string {
    if (this.i >= this.fields.length) this.fail(name, 'is missing: the message ended early');
    return this.fields[this.i++]!;
  }

  /** Reads the request's or order's id and remembers it for error details. */
  id(name: 'reqId' | 'orderId'): number {
    const v = this.int(name);
    this.context[name] = v;
    return v;
  }

  int(name: string): number {
    const v = this.intOrNull(name);
    return v ?? 0;
  }

  /** Empty or Integer.MAX_VALUE (IB's "unset") reads as null. */
  intOrNull(name: string): number | null {
    const s = this.str(name);
    if (s === '') return null;
    if (!/^-?\d+$/.test(s)) {
      this.i--;
      this.fail(name, `must be a whole number; got ${JSON.stringify(s)}`);
    }
    const n = Number(s);
    return n === 2147483647 ? null : n;
  }

  float(name: string): number {
    return this.floatOrNull(name) ?? 0;
  }

  /** Empty, Infinity or Double.MAX_VALUE (IB's "unset") reads as null. */
  floatOrNull(name: string): number | null {
    const s = this.str(name);
    if (s === '') return null;
    const n = Number(s);
    if (s.trim() === '' || Number.isNaN(n)) {
      this.i--;
      this.fail(name, `must be a number; got ${JSON.stringify(s)}`);
    }
    if (!Number.isFinite(n) || n >= Number.MAX_VALUE) return null;
    return n;
  }

  bool(name: string): boolean {
    const s = this.str(name);
    if (s === '' || s === '0' || s.toLowerCase() === 'false') return false;
    if (s === '1' || s.toLowerCase() === 'true') return true;
    this.i--;
    return this.fail(name, `must be 0 or 1; got ${JSON.stringify(s)}`);
  }

  /** Skips `n` fields the gateway does not use (they still have to be there). */
  skip(name: string, n = 1): void {
    for (let k = 0; k < n; k++) this.str(name);
  }

  get remaining(): number {
    return this.fields.length - this.i;
  }

  /** The message must be used up: fields left over mean the client sent a layout this gateway does not speak. */
  end(): void {
    if (this.i < this.fields.length) {
      throw new LegguardError(
        'PROTOCOL_ERROR',
        `${this.message}: ${this.fields.length - this.i} unexpected field(s) after the last one this server version reads`,
        { ...this.context, message: this.message, index: this.i },
      );
    }
  }
}
