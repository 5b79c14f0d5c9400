import { addDays, nyDate, nyInstant } from '../../core/calendar.js';
import type { IncidentId } from '../../core/ids.js';
import { EpochMs } from '../../core/quantity.js';
import type { Alert, Severity } from '../../ports/alerts.js';
import type { UnackedIncident } from '../../ports/store.js';
import { formatNyTime } from './format-alert.js';

/**
 * The alerts legguard raises about its own alerting: repeats of unacknowledged critical incidents, the daily
 * heartbeat, a channel that keeps failing (and its recovery), and `alert test`. Their keys start with `legguard:` and
 * are derived from what they stand for, so a restarted guard derives the same keys and the outbox, which refuses a
 * key it already holds, keeps each one to a single delivery.
 */
export type SystemAlertKind = 'repeat' | 'heartbeat' | 'channel-failing' | 'channel-recovered' | 'test';

const PREFIX = 'legguard:';

export function systemAlertKind(key: string): SystemAlertKind | null {
  if (!key.startsWith(PREFIX)) return null;
  const kind = key.slice(PREFIX.length).split(':', 1)[0];
  switch (kind) {
    case 'repeat':
    case 'heartbeat':
    case 'channel-failing':
    case 'channel-recovered':
    case 'test':
      return kind;
    default:
      return null;
  }
}

/** The channel a channel-failing or channel-recovered alert is about (channel names hold no `:`). */
export function aboutChannel(key: string): string | null {
  const kind = systemAlertKind(key);
  if (kind !== 'channel-failing' && kind !== 'channel-recovered') return null;
  return key.slice(PREFIX.length + kind.length + 1).split(':', 1)[0] ?? null;
}

const REPEAT = `${PREFIX}repeat:`;

/** The number of a repeat's key (`legguard:repeat:3:<first key>` is 3); null for any other key. */
export function repeatNumber(key: string): number | null {
  if (!key.startsWith(REPEAT)) return null;
  const n = Number(key.slice(REPEAT.length).split(':', 1)[0]);
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

/**
 * The repeat due for an unacknowledged critical incident at `now` (the guard's clock), or null. A repeat is due once
 * `everyMs` has passed since the incident's latest alert, and is numbered one past the highest repeat the outbox
 * already holds for it: "repeat N" is the Nth time a person is told, whatever the clock did in between. Numbering by
 * periods since the first alert claimed 28 800 repeats for a guard restarted 300 days on (a drill's record read on
 * the wall clock, or a guard down for long), having sent one. Computed again before that repeat is queued (another
 * pass, a restart) it gives the same key, which the outbox keeps once. With `maxRepeats`, no more than that many.
 */
export function repeatAlert(inc: UnackedIncident, now: number, everyMs: number, maxRepeats: number | null): Alert | null {
  if (now - inc.lastAt < everyMs) return null;
  const n = 1 + inc.keys.reduce((m, k) => Math.max(m, repeatNumber(k) ?? 0), 0);
  if (maxRepeats !== null && n > maxRepeats) return null;
  const first = inc.first;
  return {
    key: `${PREFIX}repeat:${n}:${first.key}`,
    severity: 'critical',
    incidentId: inc.incidentId,
    strategyId: first.strategyId,
    title: `NOT ACKNOWLEDGED: ${first.title}`,
    text: `${first.text}\n\nFirst raised ${formatNyTime(first.at)}; this is repeat ${n}. It repeats every ${Math.round(everyMs / 60_000)} min until acknowledged.`,
    at: EpochMs.unsafe(now),
    facts: { ...first.facts, repeat: n },
  };
}

/** The next heartbeat instant strictly after `now`, at New York wall-clock `hhmm` (`"08:00"`). */
export function nextHeartbeatAt(now: number, hhmm: string): EpochMs {
  const h = Number(hhmm.slice(0, 2));
  const m = Number(hhmm.slice(3, 5));
  const today = nyDate(now);
  const t = nyInstant(today, h, m);
  return t > now ? t : nyInstant(addDays(today, 1), h, m);
}

export interface HeartbeatFacts {
  readonly channels: readonly string[];
  readonly failing: readonly string[];
  readonly unacked: readonly IncidentId[];
}

/** The daily "still here" message: keyed by New York date, so one per day however often the guard restarts. */
export function heartbeatAlert(now: number, f: HeartbeatFacts): Alert {
  const lines = [`legguard is running and its alerts reach you on: ${f.channels.join(', ') || '(no channel)'}.`];
  if (f.failing.length > 0) lines.push(`Failing channels: ${f.failing.join(', ')}.`);
  lines.push(
    f.unacked.length === 0
      ? 'No critical incident is waiting for acknowledgement.'
      : `${f.unacked.length} critical incident(s) not acknowledged: ${f.unacked.join(', ')}.`,
  );
  lines.push('If this message does not arrive one day, legguard or its alerting is down.');
  return {
    key: `${PREFIX}heartbeat:${nyDate(now)}`,
    severity: 'info',
    incidentId: null,
    strategyId: null,
    title: `legguard heartbeat ${nyDate(now)}: ${f.unacked.length === 0 ? 'all quiet' : `${f.unacked.length} unacknowledged`}`,
    text: lines.join('\n'),
    at: EpochMs.unsafe(now),
    facts: { unacknowledged: f.unacked.length, failingChannels: f.failing.length },
  };
}

/**
 * A channel that keeps failing, reported on the others. `trigger` names the failure streak (the key of the alert
 * whose failure crossed the threshold, or `startup-<date>`), so the same streak is reported once.
 */
export function channelFailingAlert(channel: string, target: string, trigger: string, failures: number, error: string, now: number): Alert {
  return {
    key: `${PREFIX}channel-failing:${channel}:${trigger}`,
    severity: 'warning',
    incidentId: null,
    strategyId: null,
    title: `ALERT CHANNEL FAILING: ${channel}`,
    text:
      `Alerts on channel "${channel}" (${target}) are not getting through: ${failures} failed attempt(s) in a row. ` +
      `Last error: ${error}\nThe other channels still deliver; "${channel}" is retried with backoff.`,
    at: EpochMs.unsafe(now),
    facts: { channel, failures, lastError: error },
  };
}

export function channelRecoveredAlert(channel: string, trigger: string, now: number): Alert {
  return {
    key: `${PREFIX}channel-recovered:${channel}:${trigger}`,
    severity: 'info',
    incidentId: null,
    strategyId: null,
    title: `Alert channel ${channel} delivers again`,
    text: `Channel "${channel}" delivered an alert again after failing. Alerts it missed are being retried.`,
    at: EpochMs.unsafe(now),
    facts: { channel },
  };
}

/** What `legguard alert test` sends: harmless, clearly a test, unique per run. Warning by default, so a phone sounds. */
export function testAlert(now: number, severity: Severity = 'warning'): Alert {
  return {
    key: `${PREFIX}test:${now}`,
    severity,
    incidentId: null,
    strategyId: null,
    title: 'legguard test alert',
    text: 'This is a test from `legguard alert test`. If you can read it, this channel works. Nothing needs doing.',
    at: EpochMs.unsafe(now),
    facts: { test: true },
  };
}
