import { formatNyTime } from '../adapters/alerts/format-alert.js';
import type { Holding } from '../core/book.js';
import { describeContract } from '../core/contract.js';
import type { Leg } from '../core/leg.js';
import type { BrokenInfo } from '../core/strategy.js';
import type { StrategyRecord } from '../ports/store.js';

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

export interface HoldingView {
  readonly contract: string;
  readonly qty: number;
}

/** A stored strategy for `--json` output: times as ISO strings, contracts in the form a person reads. */
export interface StrategyView {
  readonly id: string;
  readonly kind: string;
  readonly state: string;
  readonly policy: string | null;
  readonly broken: {
    readonly cause: string;
    readonly kind: string | null;
    readonly incidentId: string;
    readonly leg: string;
    readonly qty: number;
    readonly at: string;
    readonly reason: string;
  } | null;
  readonly holdings: readonly HoldingView[];
  readonly legs: readonly HoldingView[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

export function strategyJson(r: StrategyRecord): StrategyView {
  const d = r.definition;
  const b = r.broken;
  return {
    id: d.id,
    kind: d.kind,
    state: r.state,
    policy: d.policy ?? null,
    broken: b === null ? null : { cause: b.cause, kind: b.kind, incidentId: b.incidentId, leg: b.leg, qty: b.qty, at: isoTime(b.at), reason: b.reason },
    holdings: r.holdings.map(holdingJson),
    legs: d.legs.map(holdingJson),
    createdAt: isoTime(d.createdAt),
    updatedAt: isoTime(r.updatedAt),
  };
}

export function holdingJson(h: Holding | Leg): HoldingView {
  return { contract: describeContract(h.contract), qty: h.qty };
}

export function isoTime(t: number): string {
  return new Date(t).toISOString();
}

export function iso(t: number | null): string | null {
  return t === null ? null : isoTime(t);
}

/** Lines padded into columns, the last column left ragged. */
export function columns(rows: readonly (readonly string[])[], indent = '  '): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
}
