// A burst: short options of several strategies on several underlyings assigned at once (the condors' short puts, the
// strangles' short calls, which leave their short puts naked). Across strategies the most
// dangerous orders go first: every naked short option and stock hedge of every strategy before any spread or
// long-option sale. Overnight the stock goes at 04:00 and the options at the open, where every strategy's option
// orders come due at the same instant (one release, engine/order-sender.ts); intraday everything is due at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RISK_TIERS, type OrderRequest } from '../../src/core/order.js';
import { GuardHarness } from '../support/guard-harness.js';

const condor = (id: string, symbol: string, k: number, qty: number): string => `
  - id: ${id}
    legs:
      - { symbol: ${symbol}, right: P, strike: ${k}, expiry: "2026-02-20", qty: -${qty} }
      - { symbol: ${symbol}, right: P, strike: ${k - 10}, expiry: "2026-02-20", qty: ${qty} }
      - { symbol: ${symbol}, right: C, strike: ${k + 20}, expiry: "2026-02-20", qty: -${qty} }
      - { symbol: ${symbol}, right: C, strike: ${k + 25}, expiry: "2026-02-20", qty: ${qty} }`;
const strangle = (id: string, symbol: string, put: number, call: number): string => `
  - id: ${id}
    legs:
      - { symbol: ${symbol}, right: P, strike: ${put}, expiry: "2026-02-20", qty: -1 }
      - { symbol: ${symbol}, right: C, strike: ${call}, expiry: "2026-02-20", qty: -1 }`;
const assign = (at: string, symbol: string, right: 'P' | 'C', k: number, qty: number): string =>
  `  - { at: "${at}", assign: { symbol: ${symbol}, right: ${right}, strike: ${k}, expiry: "2026-02-20", qty: ${qty} } }`;

function scenario(at: string, until: string): string {
  // Listed condors first, strangles last: plans are made (and orders come due) strategy by strategy in this order.
  return `name: a burst of assignments over five strategies
start: "2026-01-27T09:45:00-05:00"
account: DU0000001
underlyings:
  SPY: { price: 436.10, volatility: 0.18 }
  QQQ: { price: 371.00, volatility: 0.22 }
  XOM: { price: 112.00, volatility: 0.25 }
  IWM: { price: 196.00, volatility: 0.25 }
strategies:${condor('ic-spy', 'SPY', 440, 2)}${condor('ic-qqq', 'QQQ', 375, 1)}${condor('ic-iwm', 'IWM', 200, 1)}${strangle('str-xom', 'XOM', 100, 110)}${strangle('str-spy', 'SPY', 420, 435)}
guard: { onAssignment: close }
events:
${[assign(at, 'SPY', 'P', 440, 2), assign(at, 'QQQ', 'P', 375, 1), assign(at, 'IWM', 'P', 200, 1), assign(at, 'XOM', 'C', 110, 1), assign(at, 'SPY', 'C', 435, 1)].join('\n')}
until: "${until}"
`;
}

const label = (o: OrderRequest): string => `${o.strategyId}:t${o.tier}`;

/** Index of the last order of tier <= `upTo` and of the first of a higher tier, among `sent`. */
function split(sent: readonly OrderRequest[], upTo: number): { lastLow: number; firstHigh: number } {
  let lastLow = -1;
  let firstHigh = -1;
  sent.forEach((o, i) => {
    if (o.tier <= upTo) lastLow = i;
    else if (firstHigh === -1) firstHigh = i;
  });
  return { lastLow, firstHigh };
}

test('overnight: the stock of every strategy at 04:00, then at the open every naked short before any spread, every spread before any long-option sale', async () => {
  const h = await GuardHarness.create(scenario('2026-01-28T02:30:00-05:00', '2026-01-28T10:30:00-05:00'));
  await h.start();
  await h.runTo('2026-01-28T09:29:00-05:00');
  const early = h.broker.sent.map(label);
  assert.deepEqual([...early].sort(), ['ic-iwm:t1', 'ic-qqq:t1', 'ic-spy:t1', 'str-spy:t1', 'str-xom:t1'], `the stock hedged before the open:\n${h.describeSent()}`);

  // The engine settles after each timer that fires, as real timers let every microtask run between two callbacks.
  await h.runTo('2026-01-28T09:30:00-05:00');
  const atOpen = h.broker.sent.slice(early.length);
  const tiers = atOpen.map((o) => o.tier);
  assert.deepEqual([...atOpen.map(label)].sort(), ['ic-iwm:t2', 'ic-iwm:t3', 'ic-qqq:t2', 'ic-qqq:t3', 'ic-spy:t2', 'ic-spy:t3', 'str-spy:t0', 'str-xom:t0'], `sent at the open:\n${h.describeSent()}`);
  // The strangles were listed (and planned) last; their naked puts still lead.
  assert.deepEqual(tiers, [...tiers].sort((a, b) => a - b), `tiers in order at the open:\n${h.describeSent()}`);
  assert.equal(tiers[0], RISK_TIERS['naked-short-option']);
  const final = await h.finish();
  assert.deepEqual(final.positions, [], 'flat');
  assert.ok(final.strategies.every((s) => s.state === 'CLOSED'), JSON.stringify(final.strategies.map((s) => [s.id, s.state])));
  assert.deepEqual(h.broker.sentTwice(), []);
});

test('intraday: every naked short and stock hedge of every strategy before any spread or long-option sale', async () => {
  const h = await GuardHarness.create(scenario('2026-01-27T10:00:00-05:00', '2026-01-27T12:00:00-05:00'));
  await h.start();
  await h.runTo('2026-01-27T10:00:00-05:00');
  const sent = [...h.broker.sent];
  const dangerous = sent.filter((o) => o.tier <= RISK_TIERS.stock).length;
  assert.equal(dangerous, 7, `two naked puts and five stock hedges:\n${h.describeSent()}`);
  const { lastLow, firstHigh } = split(sent, RISK_TIERS.stock);
  assert.ok(firstHigh > lastLow, `the last stock hedge or naked short (#${lastLow + 1}) before the first spread or long (#${firstHigh + 1}):\n${h.describeSent()}`);
  const longs = split(sent, RISK_TIERS.spread);
  assert.ok(longs.firstHigh > longs.lastLow, `every spread before any long-option sale:\n${h.describeSent()}`);
  const final = await h.finish();
  assert.deepEqual(final.positions, [], 'flat');
  assert.ok(final.strategies.every((s) => s.state === 'CLOSED'), JSON.stringify(final.strategies.map((s) => [s.id, s.state])));
});
