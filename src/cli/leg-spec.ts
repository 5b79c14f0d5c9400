import { LegguardError } from '../core/errors.js';
import type { StrategyInput } from '../adapters/sim/scenario-schema.js';

type LegInput = StrategyInput['legs'][number];

const FORMS = '"SYMBOL YYYY-MM-DD C|P STRIKE QTY" for an option (e.g. "SPY 2026-01-30 P 440 -2") or "SYMBOL STK QTY" for stock (e.g. "SPY STK 100")';

/**
 * One `--leg` of `legguard strategies add`, in the scenario file's leg shape (validated afterwards with the same
 * schema). An option is `SYMBOL EXPIRY RIGHT STRIKE QTY`; the strike may also come before the right, as status and
 * alerts print a contract (`SPY 2026-01-30 440 P`), so a leg can be copied from there. Stock is `SYMBOL STK QTY`.
 * The quantity is signed: negative is short.
 *
 * @example parseLegSpec('SPY 2026-01-30 P 440 -2', 0) // { symbol: 'SPY', expiry: '2026-01-30', right: 'P', strike: 440, qty: -2 }
 */
export function parseLegSpec(spec: string, index: number): LegInput {
  const where = `--leg ${index + 1} ${JSON.stringify(spec)}`;
  const fail = (problem: string): never => {
    throw new LegguardError('INVALID_INPUT', `${where}: ${problem}`, { leg: index + 1 });
  };
  const t = spec.trim().split(/\s+/).filter((x) => x !== '');
  const qty = (s: string): number => {
    if (!/^[+-]?\d+$/.test(s)) fail(`the quantity must be a whole number, negative for short; got ${JSON.stringify(s)}`);
    const n = Number(s);
    if (n === 0) fail('the quantity must not be 0');
    return n;
  };
  if (t.length === 3 && t[1]!.toUpperCase() === 'STK') return { symbol: t[0]!, secType: 'STK', qty: qty(t[2]!) };
  if (t.length !== 5) fail(`expected ${FORMS}`);
  const [symbol, expiry, a, b, q] = t as [string, string, string, string, string];
  if (!/^\d{4}-\d{2}-\d{2}$/.test(expiry)) fail(`the expiry must be a date YYYY-MM-DD; got ${JSON.stringify(expiry)} (expected ${FORMS})`);
  const right = (s: string): 'C' | 'P' | null => {
    const u = s.toUpperCase();
    return u === 'C' || u === 'CALL' ? 'C' : u === 'P' || u === 'PUT' ? 'P' : null;
  };
  const ra = right(a);
  const rb = right(b);
  if ((ra === null) === (rb === null)) fail(`exactly one of ${JSON.stringify(a)} and ${JSON.stringify(b)} must be the right, C or P (call or put)`);
  const r = (ra ?? rb)!;
  const strikeText = ra !== null ? b : a;
  if (!/^\d+(\.\d+)?$/.test(strikeText) || Number(strikeText) <= 0) fail(`the strike must be a positive price like 440 or 432.5; got ${JSON.stringify(strikeText)}`);
  return { symbol, expiry, right: r, strike: Number(strikeText), qty: qty(q) };
}
