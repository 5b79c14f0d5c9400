import { formatNyTime } from '../adapters/alerts/format-alert.js';
import type { Holding } from '../core/book.js';
import { describeContract } from '../core/contract.js';
import type { Leg } from '../core/leg.js';
import type { BrokenInfo } from '../core/strategy.js';

/** `-2 SPY 2030-01-18 440 P`, `+100 AAPL`: a signed quantity and the contract as alerts and timelines name it. */
export function formatHolding(h: Holding | Leg): string {
  return `${h.qty > 0 ? '+' : ''}${h.qty} ${describeContract(h.contract)}`;
}

/** `holds -2 SPY ..., +2 SPY ...`, or `flat`. */
export function formatHoldings(hs: readonly (Holding | Leg)[]): string {
  return hs.length === 0 ? 'flat' : `holds ${hs.map(formatHolding).join(', ')}`;
}

/** `legs -2 SPY ..., +2 SPY ...`: what a strategy is defined with (a PENDING one holds nothing yet). */
export function formatLegs(legs: readonly Leg[]): string {
  return `legs ${legs.map(formatHolding).join(', ')}`;
}

/** `assignment EARLY of SPY 2030-01-18 440 P (+2) at 2030-01-15 02:30:00 ET, incident ic-spy:assignment:...`. */
export function formatBroken(b: BrokenInfo): string {
  return `${b.cause}${b.kind !== null ? ` ${b.kind}` : ''} of ${b.leg} (${b.qty > 0 ? '+' : ''}${b.qty}) at ${formatNyTime(b.at)}, incident ${b.incidentId}`;
}

/** Lines padded into columns, the last column left ragged. */
export function columns(rows: readonly (readonly string[])[], indent = '  '): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
}
