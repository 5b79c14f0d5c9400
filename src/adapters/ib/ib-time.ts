import { LegguardError } from '../../core/errors.js';
import { EpochMs } from '../../core/quantity.js';
import { instantOfWallTime, wallTimeIn, type WallTime } from '../../core/calendar.js';

/**
 * Times on the TWS wire. TWS writes execution times as `YYYYMMDD HH:MM:SS` in its own time zone, newer versions
 * with the zone appended (`20260128 09:30:01 US/Eastern`), older ones with two spaces and no zone; filters it reads
 * as `YYYYMMDD-HH:MM:SS` in UTC. Zone abbreviations TWS prints (EST, EDT ...) stand for the region's local time.
 */

const ABBREVIATIONS: Readonly<Record<string, string>> = {
  EST: 'America/New_York',
  EDT: 'America/New_York',
  ET: 'America/New_York',
  CST: 'America/Chicago',
  CDT: 'America/Chicago',
  MST: 'America/Denver',
  MDT: 'America/Denver',
  PST: 'America/Los_Angeles',
  PDT: 'America/Los_Angeles',
  GMT: 'UTC',
  UTC: 'UTC',
  Z: 'UTC',
  MET: 'Europe/Paris',
  CET: 'Europe/Paris',
  CEST: 'Europe/Paris',
  BST: 'Europe/London',
  HKT: 'Asia/Hong_Kong',
  JST: 'Asia/Tokyo',
};

function resolveZone(zone: string): string {
  return ABBREVIATIONS[zone.toUpperCase()] ?? zone;
}

/** What a wall clock in `zone` shows; INVALID_INPUT for a zone ICU does not know. */
function wallAt(t: number, zone: string): WallTime {
  try {
    return wallTimeIn(t, zone);
  } catch {
    throw new LegguardError('INVALID_INPUT', `unknown time zone ${JSON.stringify(zone)}`);
  }
}

function wallToEpoch(w: WallTime, zone: string): number {
  wallAt(0, zone);
  return instantOfWallTime(w, zone);
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/**
 * Parses a TWS time. `defaultZone` applies when the text names none (TWS's own zone, New York for US accounts).
 *
 * @example
 *   parseIbTime('20260128 09:30:01 US/Eastern') // 2026-01-28T14:30:01Z
 *   parseIbTime('20260128-14:30:01')            // UTC: the same instant
 *   parseIbTime('1769610601')                   // epoch seconds
 */
export function parseIbTime(text: string, defaultZone = 'America/New_York'): EpochMs {
  const s = text.trim();
  if (/^\d{9,11}$/.test(s)) return EpochMs.unsafe(Number(s) * 1000);
  const m = /^(\d{4})(\d{2})(\d{2})(?:(-)|\s+)(\d{2}):(\d{2})(?::(\d{2}))?(?:\s+(\S+))?$/.exec(s);
  if (!m) throw new LegguardError('INVALID_INPUT', `not a TWS time: ${JSON.stringify(text)} (expected YYYYMMDD HH:MM:SS [zone])`);
  const w: WallTime = { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]), hour: Number(m[5]), minute: Number(m[6]), second: Number(m[7] ?? '0') };
  if (w.month < 1 || w.month > 12 || w.day < 1 || w.day > 31 || w.hour > 23 || w.minute > 59 || w.second > 59) {
    throw new LegguardError('INVALID_INPUT', `not a valid TWS time: ${JSON.stringify(text)}`);
  }
  const zone = m[4] === '-' ? 'UTC' : resolveZone(m[8] ?? defaultZone);
  return EpochMs.unsafe(wallToEpoch(w, zone));
}

/** `YYYYMMDD HH:MM:SS <zone>`, as TWS writes execution times. */
export function formatIbTime(t: number, zone = 'US/Eastern'): string {
  const w = wallAt(t, resolveZone(zone));
  return `${w.year}${pad(w.month)}${pad(w.day)} ${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)} ${zone}`;
}

/** `YYYYMMDD-HH:MM:SS` in UTC, as an execution filter's time. */
export function formatIbUtc(t: number): string {
  const d = new Date(t);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}-${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** `HH:MM` in `zone`, as account update times are written. */
export function formatIbHourMinute(t: number, zone = 'America/New_York'): string {
  const w = wallAt(t, resolveZone(zone));
  return `${pad(w.hour)}:${pad(w.minute)}`;
}
