import { LegguardError } from '../../core/errors.js';
import { EpochMs } from '../../core/quantity.js';

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

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      });
    } catch {
      throw new LegguardError('INVALID_INPUT', `unknown time zone ${JSON.stringify(zone)}`);
    }
    formatters.set(zone, f);
  }
  return f;
}

interface Wall {
  y: number;
  mo: number;
  d: number;
  h: number;
  mi: number;
  s: number;
}

function wallAt(t: number, zone: string): Wall {
  const p: Record<string, string> = {};
  for (const x of formatter(zone).formatToParts(new Date(t))) p[x.type] = x.value;
  return { y: Number(p.year), mo: Number(p.month), d: Number(p.day), h: Number(p.hour), mi: Number(p.minute), s: Number(p.second) };
}

function resolveZone(zone: string): string {
  return ABBREVIATIONS[zone.toUpperCase()] ?? zone;
}

/** The instant at which wall-clock time `w` is shown in `zone`. */
function wallToEpoch(w: Wall, zone: string): number {
  const target = Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s);
  let guess = target;
  // Two corrections settle every offset, DST edges included (as calendar.ts does for New York).
  for (let i = 0; i < 3; i++) {
    const seen = wallAt(guess, zone);
    const diff = target - Date.UTC(seen.y, seen.mo - 1, seen.d, seen.h, seen.mi, seen.s);
    if (diff === 0) break;
    guess += diff;
  }
  return guess;
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
  const w: Wall = { y: Number(m[1]), mo: Number(m[2]), d: Number(m[3]), h: Number(m[5]), mi: Number(m[6]), s: Number(m[7] ?? '0') };
  if (w.mo < 1 || w.mo > 12 || w.d < 1 || w.d > 31 || w.h > 23 || w.mi > 59 || w.s > 59) {
    throw new LegguardError('INVALID_INPUT', `not a valid TWS time: ${JSON.stringify(text)}`);
  }
  const zone = m[4] === '-' ? 'UTC' : resolveZone(m[8] ?? defaultZone);
  return EpochMs.unsafe(wallToEpoch(w, zone));
}

/** `YYYYMMDD HH:MM:SS <zone>`, as TWS writes execution times. */
export function formatIbTime(t: number, zone = 'US/Eastern'): string {
  const w = wallAt(t, resolveZone(zone));
  return `${w.y}${pad(w.mo)}${pad(w.d)} ${pad(w.h)}:${pad(w.mi)}:${pad(w.s)} ${zone}`;
}

/** `YYYYMMDD-HH:MM:SS` in UTC, as an execution filter's time. */
export function formatIbUtc(t: number): string {
  const d = new Date(t);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}-${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** `HH:MM` in `zone`, as account update times are written. */
export function formatIbHourMinute(t: number, zone = 'America/New_York'): string {
  const w = wallAt(t, resolveZone(zone));
  return `${pad(w.h)}:${pad(w.mi)}`;
}
