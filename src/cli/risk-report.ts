import type { RiskReport } from '../app/broker-risk.js';
import { formatNyTime } from '../core/calendar.js';
import { flagged, strategyAtRisk } from '../core/rules/assignment-risk.js';
import { rollJson } from '../core/rules/roll.js';

function fmtNumber(v: string | number | null): string {
  if (v === null) return '-';
  if (typeof v === 'string') return v;
  return Number.isInteger(v) ? String(v) : v.toFixed(4);
}

/** True when something is at risk now or will be when its window opens: `legguard risk` exits 1. */
export function reportAtRisk(r: RiskReport): boolean {
  return r.strategies.some(strategyAtRisk);
}

/** `legguard risk` for a person: each strategy, each short leg, each rule's finding with its numbers. */
export function formatRiskReport(r: RiskReport, source: string): string[] {
  const lines: string[] = [`assignment risk at ${formatNyTime(r.at)} (${source})`];
  if (r.strategies.length === 0) lines.push('no strategies to assess');
  for (const s of r.strategies) {
    lines.push(`${s.strategyId} (${s.kind}${s.planned ? ', assignment is the plan: reported, not acted on' : ''})`);
    if (s.legs.length === 0) lines.push('  no short option legs');
    for (const leg of s.legs) {
      lines.push(`  ${leg.qty} ${leg.leg}${leg.exempt ? `: ${leg.exempt}` : ''}`);
      if (leg.findings.length === 0 && !leg.exempt) lines.push('    no rule applies now (no dividend before expiry, not expiration day)');
      for (const f of leg.findings) {
        const when =
          f.action === 'none' ? (f.policy === 'off' && flagged(f) ? 'rule off: nothing' : 'nothing to do') : `${f.action} ${f.status === 'watch' ? `at ${formatNyTime(f.actAt!)} if still at risk` : 'now'}`;
        lines.push(`    ${f.rule}: ${f.status.toUpperCase()} (policy ${f.policy}) -> ${when}`);
        lines.push(`      ${f.reason}`);
        lines.push(`      ${Object.entries(f.numbers).map(([k, v]) => `${k} ${fmtNumber(v)}`).join(', ')}`);
      }
    }
    if (s.roll !== null) lines.push(`  to keep the position instead (shown, not sent): ${s.roll.kind === 'roll' ? s.roll.text : `no roll: ${s.roll.reason}`}`);
  }
  for (const n of r.notes) lines.push(`note: ${n}`);
  lines.push(reportAtRisk(r) ? 'at risk' : 'nothing at risk');
  return lines;
}

/** `legguard risk --json`: times as ISO instants, contracts as their description (`leg`). */
export function riskReportJson(r: RiskReport, source: Record<string, unknown>): unknown {
  return {
    at: new Date(r.at).toISOString(),
    ...source,
    actBy: r.actBy,
    atRisk: reportAtRisk(r),
    strategies: r.strategies.map((s) => ({
      ...s,
      roll: s.roll === null ? null : rollJson(s.roll),
      legs: s.legs.map((l) => ({
        ...l,
        contract: undefined,
        findings: l.findings.map((f) => ({ ...f, actAt: f.actAt === null ? null : new Date(f.actAt).toISOString(), deadline: f.deadline === null ? null : new Date(f.deadline).toISOString() })),
      })),
    })),
    notes: r.notes,
  };
}
