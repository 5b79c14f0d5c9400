import type { Holding } from '../core/book.js';
import { describeContract, formatStrike, isOption, type Contract } from '../core/contract.js';
import type { Leg } from '../core/leg.js';
import type { StrategyRecord } from '../ports/store.js';

/**
 * How stored records are shown as JSON (status --json, the HTTP edge's /api/status, replay --json): times as ISO
 * strings, contracts in the form a person reads. Shared by the CLI and the web edge.
 */

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

/** Contract fields as the replay JSON writes them. */
export function contractFields(c: Contract): Record<string, string | number> {
  if (!isOption(c)) return { symbol: c.symbol, secType: 'STK' };
  return { symbol: c.symbol, secType: 'OPT', right: c.right, strike: Number(formatStrike(c.strike)), expiry: c.expiry };
}
