import { formatNyTime } from '../../core/calendar.js';
import type { Alert, Severity } from '../../ports/alerts.js';

// The New York time format lives in core (the engine's notes use it too); the channels keep importing it from here.
export { formatNyTime };

export function severityLabel(s: Severity): string {
  return s.toUpperCase();
}

const SEVERITY_RANK: Readonly<Record<Severity, number>> = { info: 0, warning: 1, critical: 2 };

export function severityRank(s: Severity): number {
  return SEVERITY_RANK[s];
}

/** Cuts `s` to at most `max` characters, marking the cut. Chat APIs reject messages over their limits outright. */
export function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  return `${s.slice(0, Math.max(0, max - 1))}…`;
}

function factValue(v: string | number | boolean | null): string {
  return v === null ? '-' : String(v);
}

/** The facts as `name: value` lines, in the order given. */
export function factLines(alert: Alert): string[] {
  return Object.entries(alert.facts).map(([k, v]) => `${k}: ${factValue(v)}`);
}

/** What to do about it: for an incident, how to stop the repeats. */
export function ackHint(alert: Alert): string | null {
  if (alert.severity !== 'critical' || alert.incidentId === null) return null;
  return `Acknowledge to stop repeats: legguard ack ${alert.incidentId}`;
}

/**
 * The body every text channel sends: the alert's text, its facts, the incident and how to acknowledge it, when.
 * The title goes separately (email subject, ntfy title) or on the first line (`plainMessage`).
 */
export function alertBody(alert: Alert): string {
  const lines: string[] = [alert.text];
  const facts = factLines(alert);
  if (facts.length > 0) lines.push('', ...facts);
  lines.push('');
  if (alert.strategyId !== null) lines.push(`strategy: ${alert.strategyId}`);
  if (alert.incidentId !== null) lines.push(`incident: ${alert.incidentId}`);
  lines.push(`at: ${formatNyTime(alert.at)}`);
  const hint = ackHint(alert);
  if (hint) lines.push('', hint);
  return lines.join('\n');
}

/** `[CRITICAL] title` then the body: for channels with one text field (Telegram, console). */
export function plainMessage(alert: Alert): string {
  return `[${severityLabel(alert.severity)}] ${alert.title}\n\n${alertBody(alert)}`;
}
