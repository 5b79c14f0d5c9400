import { IsoDate } from './contract.js';
import { EpochMs } from './quantity.js';

/**
 * US equity market time, in New York. Pure: the time-zone rules come from the ICU data built into Node, not from the
 * machine's zone. Sessions: options 09:30-16:00; stock pre-market from 04:00 and post-market to 20:00; on NYSE early
 * closes (the day after Thanksgiving, Christmas Eve, the eve of Independence Day) the regular session ends at 13:00 and
 * the post-market at 17:00. Weekends and NYSE holidays have no session.
 */
const NY = 'America/New_York';

const formatters = new Map<string, Intl.DateTimeFormat>();

/** A memoized wall-clock formatter for an IANA zone; RangeError for a zone ICU does not know. */
function formatterFor(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
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
    formatters.set(zone, f);
  }
  return f;
}

/** Wall-clock fields of instant `t` in `zone`. */
export interface WallTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

/** What a wall clock in `zone` shows at instant `t`. */
export function wallTimeIn(t: number, zone: string): WallTime {
  const offset = offsetIn(t, zone);
  if (offset === null) return formatWallTime(t, zone);
  const d = new Date(t + offset);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds() };
}

/** What `Intl` says a wall clock in `zone` shows at `t` (one `formatToParts`, the costly way). */
function formatWallTime(t: number, zone: string): WallTime {
  const p: Record<string, string> = {};
  for (const x of formatterFor(zone).formatToParts(new Date(t))) p[x.type] = x.value;
  return { year: Number(p.year), month: Number(p.month), day: Number(p.day), hour: Number(p.hour), minute: Number(p.minute), second: Number(p.second) };
}

/** Offsets are looked up per quarter hour: no zone changes its offset twice within one. */
const OFFSET_BUCKET_MS = 15 * 60_000;
const offsetCache = new Map<string, number | null>();

/**
 * The wall clock's offset from UTC in `zone` throughout the quarter hour holding `t`, or null when it changes within
 * that quarter hour (then `Intl` answers for `t` itself). Found from the offsets at the quarter hour's first and last
 * second, and memoized: every look at the clock (a session, a date, a printed time) was an `Intl` call.
 */
function offsetIn(t: number, zone: string): number | null {
  const start = Math.floor(t / OFFSET_BUCKET_MS) * OFFSET_BUCKET_MS;
  return remember(offsetCache, `${zone}|${start}`, () => {
    const at = (x: number): number => {
      const w = formatWallTime(x, zone);
      return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - x;
    };
    const first = at(start);
    return at(start + OFFSET_BUCKET_MS - 1_000) === first ? first : null;
  });
}

/**
 * The instant at which a wall clock in `zone` shows `w`. A first guess is corrected by the offset observed there,
 * up to three times, which settles every offset, daylight-saving edges included.
 */
export function instantOfWallTime(w: WallTime, zone: string): EpochMs {
  const target = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  let guess = target;
  for (let i = 0; i < 3; i++) {
    const seen = wallTimeIn(guess, zone);
    const diff = target - Date.UTC(seen.year, seen.month - 1, seen.day, seen.hour, seen.minute, seen.second);
    if (diff === 0) break;
    guess += diff;
  }
  return EpochMs.unsafe(guess);
}

export interface NyParts {
  readonly date: IsoDate;
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  /** Minutes since New York midnight. */
  readonly minuteOfDay: number;
}

/**
 * The instants asked about lately and their answers: a burst is handled at one instant of the clock (a thousand
 * breaks plan a thousand closes at the same `now`, each waiting for the same open), and each plan asks the calendar
 * about those few instants many times over.
 */
const recentNy = new Map<number, NyParts>();
const RECENT_NY_MAX = 64;

export function nyParts(t: number): NyParts {
  const hit = recentNy.get(t);
  if (hit !== undefined) return hit;
  const w = wallTimeIn(t, NY);
  const date = IsoDate.unsafe(`${w.year}-${String(w.month).padStart(2, '0')}-${String(w.day).padStart(2, '0')}`);
  const parts: NyParts = Object.freeze({ ...w, date, minuteOfDay: w.hour * 60 + w.minute });
  if (recentNy.size >= RECENT_NY_MAX) recentNy.clear();
  recentNy.set(t, parts);
  return parts;
}

/** The New York calendar date at instant `t`. */
export function nyDate(t: number): IsoDate {
  return nyParts(t).date;
}

/**
 * `2026-01-28 02:30:05 ET`: an instant as a US options trader reads it, whatever the server's zone. Everything legguard
 * prints for a person uses this form (machine output, JSON, keeps ISO-8601 UTC).
 */
export function formatNyTime(t: number): string {
  const p = nyParts(t);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${p.date} ${two(p.hour)}:${two(p.minute)}:${two(p.second)} ET`;
}

function ymd(date: string): [number, number, number] {
  return [Number(date.slice(0, 4)), Number(date.slice(5, 7)), Number(date.slice(8, 10))];
}

/**
 * The instant at which New York wall-clock time is `hh:mm` on `date`.
 * @example nyInstant('2026-01-28', 9, 30) // 2026-01-28T14:30:00Z (EST, UTC-5)
 */
export function nyInstant(date: string, hour: number, minute = 0): EpochMs {
  const [year, month, day] = ymd(date);
  return instantOfWallTime({ year, month, day, hour, minute, second: 0 }, NY);
}

export function addDays(date: string, n: number): IsoDate {
  const [y, m, d] = ymd(date);
  return IsoDate.unsafe(new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10));
}

/** 0 = Sunday ... 6 = Saturday. */
export function weekday(date: string): number {
  const [y, m, d] = ymd(date);
  return new Date(Date.UTC(y, m - 1, d)).getUTCDay();
}

/** Whole calendar days from `a` to `b` (positive when b is later). */
export function daysBetween(a: string, b: string): number {
  const [ay, am, ad] = ymd(a);
  const [by, bm, bd] = ymd(b);
  return Math.round((Date.UTC(by, bm - 1, bd) - Date.UTC(ay, am - 1, ad)) / 86_400_000);
}

function iso(y: number, m: number, d: number): string {
  return `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/** The n-th (1-based) given weekday of a month; n = -1 for the last. */
function nthWeekday(y: number, m: number, wd: number, n: number): string {
  if (n > 0) {
    const first = weekday(iso(y, m, 1));
    return iso(y, m, 1 + ((wd - first + 7) % 7) + (n - 1) * 7);
  }
  const lastDay = new Date(Date.UTC(y, m, 0)).getUTCDate();
  const last = weekday(iso(y, m, lastDay));
  return iso(y, m, lastDay - ((last - wd + 7) % 7));
}

/** Western Easter Sunday (anonymous Gregorian algorithm). */
function easter(y: number): string {
  const a = y % 19;
  const b = Math.floor(y / 100);
  const c = y % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return iso(y, month, day);
}

/** A fixed-date holiday moved to Friday when on Saturday, Monday when on Sunday. */
function observed(date: string): string {
  const wd = weekday(date);
  if (wd === 6) return addDays(date, -1);
  if (wd === 0) return addDays(date, 1);
  return date;
}

/** Unscheduled NYSE closures (national days of mourning). */
const SPECIAL_CLOSURES: ReadonlySet<string> = new Set(['2018-12-05', '2025-01-09']);

const holidayCache = new Map<number, ReadonlySet<string>>();

/** NYSE full-day holidays of a year. */
export function nyseHolidays(y: number): ReadonlySet<string> {
  const cached = holidayCache.get(y);
  if (cached) return cached;
  const s = new Set<string>();
  // New Year's Day: NYSE does not close the Friday before when Jan 1 is a Saturday.
  const ny = iso(y, 1, 1);
  if (weekday(ny) !== 6) s.add(observed(ny));
  s.add(nthWeekday(y, 1, 1, 3)); // Martin Luther King Jr. Day
  s.add(nthWeekday(y, 2, 1, 3)); // Washington's Birthday
  s.add(addDays(easter(y), -2)); // Good Friday
  s.add(nthWeekday(y, 5, 1, -1)); // Memorial Day
  if (y >= 2022) s.add(observed(iso(y, 6, 19))); // Juneteenth
  s.add(observed(iso(y, 7, 4))); // Independence Day
  s.add(nthWeekday(y, 9, 1, 1)); // Labor Day
  s.add(nthWeekday(y, 11, 4, 4)); // Thanksgiving
  s.add(observed(iso(y, 12, 25))); // Christmas
  for (const d of SPECIAL_CLOSURES) if (d.startsWith(`${y}-`)) s.add(d);
  holidayCache.set(y, s);
  return s;
}

export function isHoliday(date: string): boolean {
  return nyseHolidays(Number(date.slice(0, 4))).has(date);
}

export function isTradingDay(date: string): boolean {
  const wd = weekday(date);
  return wd !== 0 && wd !== 6 && !isHoliday(date);
}

/** NYSE 13:00 early closes: the day after Thanksgiving, Dec 24, and Jul 3 when they are trading days. */
export function isEarlyClose(date: string): boolean {
  if (!isTradingDay(date)) return false;
  const y = Number(date.slice(0, 4));
  if (date === addDays(nthWeekday(y, 11, 4, 4), 1)) return true;
  if (date === iso(y, 12, 24)) return true;
  if (date === iso(y, 7, 3) && isTradingDay(iso(y, 7, 4)) === false && weekday(iso(y, 7, 4)) !== 0 && weekday(iso(y, 7, 4)) !== 6) {
    return true;
  }
  return false;
}

/** The trading day on or after `date` (or strictly after, with `strict`). */
export function nextTradingDay(date: string, strict = false): IsoDate {
  let d = strict ? addDays(date, 1) : IsoDate.unsafe(date);
  while (!isTradingDay(d)) d = addDays(d, 1);
  return d;
}

/** The trading day on or before `date`. */
export function previousTradingDay(date: string, strict = false): IsoDate {
  let d = strict ? addDays(date, -1) : IsoDate.unsafe(date);
  while (!isTradingDay(d)) d = addDays(d, -1);
  return d;
}

/**
 * What can trade: `option` (regular hours only), `stock` (regular hours), `stock-extended` (pre- and post-market
 * too, for orders marked outside regular hours).
 */
export type SessionKind = 'option' | 'stock' | 'stock-extended';

export interface Session {
  readonly open: EpochMs;
  readonly close: EpochMs;
}

/** The session of `kind` on `date`, or null on a weekend or holiday. */
/**
 * Sessions by date and kind, and expiry closes by expiry: pure answers that cost an Intl formatting each, asked for
 * every contract of every position report (a thousand assignments in one posting ask a million times). Bounded: a
 * long-running guard asks about a few hundred dates.
 */
const sessionCache = new Map<string, Session | null>();
const expiryCloseCache = new Map<string, EpochMs>();
const CALENDAR_CACHE_MAX = 20_000;

function remember<V>(cache: Map<string, V>, key: string, make: () => V): V {
  const hit = cache.get(key);
  if (hit !== undefined || cache.has(key)) return hit as V;
  if (cache.size >= CALENDAR_CACHE_MAX) cache.clear();
  const v = make();
  cache.set(key, v);
  return v;
}

export function sessionOn(date: string, kind: SessionKind): Session | null {
  return remember(sessionCache, `${kind}|${date}`, () => computeSession(date, kind));
}

function computeSession(date: string, kind: SessionKind): Session | null {
  if (!isTradingDay(date)) return null;
  const early = isEarlyClose(date);
  if (kind === 'stock-extended') {
    return { open: nyInstant(date, 4, 0), close: early ? nyInstant(date, 17, 0) : nyInstant(date, 20, 0) };
  }
  return { open: nyInstant(date, 9, 30), close: early ? nyInstant(date, 13, 0) : nyInstant(date, 16, 0) };
}

export function isOpen(t: number, kind: SessionKind): boolean {
  const s = sessionOn(nyDate(t), kind);
  return s !== null && t >= s.open && t < s.close;
}

/** The last answer of `nextOpen` per session kind (see `recentNy`: a burst asks about one instant). */
const lastNextOpen = new Map<SessionKind, { readonly t: number; readonly open: EpochMs }>();

/** `t` itself when the session is open, else the start of the next session of `kind`. */
export function nextOpen(t: number, kind: SessionKind): EpochMs {
  const last = lastNextOpen.get(kind);
  if (last !== undefined && last.t === t) return last.open;
  const open = computeNextOpen(t, kind);
  lastNextOpen.set(kind, { t, open });
  return open;
}

function computeNextOpen(t: number, kind: SessionKind): EpochMs {
  if (isOpen(t, kind)) return EpochMs.unsafe(t);
  let date: string = nyDate(t);
  for (let i = 0; i < 15; i++) {
    const s = sessionOn(date, kind);
    if (s && s.open >= t) return s.open;
    date = addDays(date, 1);
  }
  // 15 days without a session cannot happen on the NYSE calendar.
  throw new RangeError(`no ${kind} session within 15 days of ${new Date(t).toISOString()}`);
}

/**
 * The last moment an option can trade: the close of its expiry date, or of the trading day before when the expiry
 * date is a holiday (Good Friday expiries move to Thursday).
 */
export function expiryClose(expiry: string): EpochMs {
  return remember(expiryCloseCache, expiry, () => sessionOn(previousTradingDay(expiry), 'option')!.close);
}

/**
 * Days to expiry counted in New York calendar days: 0 on the expiry date, 1 the day before. The time-exit rule
 * closes at `dte <= 1`.
 */
export function dte(t: number, expiry: string): number {
  return daysBetween(nyDate(t), expiry);
}
