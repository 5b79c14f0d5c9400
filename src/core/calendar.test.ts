import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  dte,
  expiryClose,
  isEarlyClose,
  isOpen,
  isTradingDay,
  nextOpen,
  nyDate,
  nyInstant,
  nyseHolidays,
  sessionOn,
  wallTimeIn,
} from './calendar.js';

const iso = (t: number): string => new Date(t).toISOString();

describe('calendar', () => {
  test('New York wall time to instant, across daylight saving', () => {
    assert.equal(iso(nyInstant('2026-01-28', 9, 30)), '2026-01-28T14:30:00.000Z');
    assert.equal(iso(nyInstant('2026-07-01', 9, 30)), '2026-07-01T13:30:00.000Z');
    // 2026-03-08 is the spring-forward Sunday: 04:00 is already EDT.
    assert.equal(iso(nyInstant('2026-03-08', 4, 0)), '2026-03-08T08:00:00.000Z');
    assert.equal(iso(nyInstant('2026-11-01', 12, 0)), '2026-11-01T17:00:00.000Z');
  });

  test('the New York date differs from the UTC date late in the evening', () => {
    const t = Date.parse('2026-01-28T23:30:00-05:00');
    assert.equal(new Date(t).toISOString().slice(0, 10), '2026-01-29');
    assert.equal(nyDate(t), '2026-01-28');
  });

  test('NYSE holidays as published for 2026 and 2027, observed-date rules included', () => {
    assert.deepEqual([...nyseHolidays(2026)].sort(), [
      '2026-01-01', '2026-01-19', '2026-02-16', '2026-04-03', '2026-05-25', '2026-06-19', '2026-07-03',
      '2026-09-07', '2026-11-26', '2026-12-25',
    ]);
    assert.deepEqual([...nyseHolidays(2027)].sort(), [
      '2027-01-01', '2027-01-18', '2027-02-15', '2027-03-26', '2027-05-31', '2027-06-18', '2027-07-05',
      '2027-09-06', '2027-11-25', '2027-12-24',
    ]);
    // 2022: New Year's Day on a Saturday is not observed on the Friday before.
    assert.equal(nyseHolidays(2022).has('2021-12-31'), false);
    assert.equal(nyseHolidays(2022).has('2022-06-20'), true);
    assert.equal(isTradingDay('2025-01-09'), false, 'national day of mourning');
  });

  test('early closes end the regular session at 13:00', () => {
    assert.equal(isEarlyClose('2026-11-27'), true);
    assert.equal(isEarlyClose('2026-12-24'), true);
    assert.equal(isEarlyClose('2025-07-03'), true);
    assert.equal(isEarlyClose('2026-07-02'), false);
    assert.equal(iso(sessionOn('2026-11-27', 'option')!.close), '2026-11-27T18:00:00.000Z');
  });

  test('sessions: options 09:30-16:00, stock pre-market from 04:00', () => {
    const preMarket = Date.parse('2026-01-28T02:30:00-05:00');
    assert.equal(isOpen(preMarket, 'option'), false);
    assert.equal(isOpen(preMarket, 'stock-extended'), false);
    assert.equal(iso(nextOpen(preMarket, 'stock-extended')), '2026-01-28T09:00:00.000Z');
    assert.equal(iso(nextOpen(preMarket, 'option')), '2026-01-28T14:30:00.000Z');
    const at0500 = Date.parse('2026-01-28T05:00:00-05:00');
    assert.equal(isOpen(at0500, 'stock-extended'), true);
    assert.equal(isOpen(at0500, 'stock'), false);
    assert.equal(nextOpen(at0500, 'stock-extended'), at0500);
    // Friday after the close -> Monday's open.
    assert.equal(iso(nextOpen(Date.parse('2026-01-30T16:00:00-05:00'), 'option')), '2026-02-02T14:30:00.000Z');
    assert.equal(isOpen(Date.parse('2026-01-30T15:59:59-05:00'), 'option'), true);
  });

  test('days to expiry in New York calendar days; expiry close moves off a holiday', () => {
    assert.equal(dte(Date.parse('2026-01-29T10:00:00-05:00'), '2026-01-30'), 1);
    assert.equal(dte(Date.parse('2026-01-28T23:30:00-05:00'), '2026-01-30'), 2);
    assert.equal(dte(Date.parse('2026-01-30T09:31:00-05:00'), '2026-01-30'), 0);
    assert.equal(iso(expiryClose('2026-01-30')), '2026-01-30T21:00:00.000Z');
    assert.equal(iso(expiryClose('2026-04-03')), '2026-04-02T20:00:00.000Z');
  });

  test('wall time from the memoized offset is what Intl says, at every offset change and between', () => {
    const intl = (t: number, zone: string): string =>
      new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(new Date(t));
    const ours = (t: number, zone: string): string => {
      const w = wallTimeIn(t, zone);
      const two = (n: number): string => String(n).padStart(2, '0');
      return `${two(w.month)}/${two(w.day)}/${w.year}, ${two(w.hour)}:${two(w.minute)}:${two(w.second)}`;
    };
    // New York's changes, Lord Howe's half-hour change at a half hour, Nepal's +05:45, and a pre-1900 local mean time.
    const around = [
      ['America/New_York', '2026-03-08T07:00:00Z'],
      ['America/New_York', '2026-11-01T06:00:00Z'],
      ['Australia/Lord_Howe', '2026-04-04T15:00:00Z'],
      ['Australia/Lord_Howe', '2026-10-03T15:30:00Z'],
      ['Asia/Kathmandu', '1986-01-01T00:00:00Z'],
      ['America/New_York', '1883-11-18T17:00:00Z'],
    ] as const;
    for (const [zone, at] of around) {
      const t0 = Date.parse(at);
      for (let dt = -2 * 3_600_000; dt <= 2 * 3_600_000; dt += 7 * 60_000 + 1_001) assert.equal(ours(t0 + dt, zone), intl(t0 + dt, zone), `${zone} at ${iso(t0 + dt)}`);
    }
  });
});
