// An assignment posted seconds after the guard's own trade in the same stock. The stock it delivers arrives while
// the guard's stock order is inside its correlation window (its executions explain changes there), so the stock's
// change is held back; its option, judged alone once the pairing window passed, was taken for a manual trade: the
// strategy went to NEEDS_ATTENTION (policy alert) and the delivered shares were booked outside as an unknown change
// that nobody closed. The option now waits with the stock, and both are judged together when the window closes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { play } from '../support/play.js';

const TWO_ASSIGNMENTS = `name: two assignments seconds apart on one underlying
start: "2026-01-28T09:50:00-05:00"
account: DU0000001
underlyings: { SPY: { price: 436.10, volatility: 0.18 } }
strategies:
  - id: a
    legs:
      - { symbol: SPY, right: P, strike: 440, expiry: "2026-02-20", qty: -1 }
      - { symbol: SPY, right: P, strike: 430, expiry: "2026-02-20", qty: 1 }
  - id: b
    legs:
      - { symbol: SPY, right: P, strike: 441, expiry: "2026-02-20", qty: -1 }
      - { symbol: SPY, right: P, strike: 431, expiry: "2026-02-20", qty: 1 }
guard: { onAssignment: close, timeExitDte: null }
events:
  - { at: "2026-01-28T10:00:00-05:00", assign: { symbol: SPY, right: P, strike: 440, expiry: "2026-02-20", qty: 1 } }
  - { at: "2026-01-28T10:00:02-05:00", assign: { symbol: SPY, right: P, strike: 441, expiry: "2026-02-20", qty: 1 } }
until: "2026-01-28T11:00:00-05:00"
`;

test("an assignment within the correlation window of the guard's own stock trade is an assignment, and is closed", async () => {
  const r = await play(TWO_ASSIGNMENTS);
  const found = r.timeline.flatMap((e) => (e.kind === 'detection' ? [`${e.detection.strategyId ?? 'outside'} ${e.detection.cause} ${e.detection.contract.secType}`] : []));
  assert.deepEqual(found, ['a assignment OPT', 'a assignment STK', 'b assignment OPT', 'b assignment STK'], 'both assignments, nothing manual or unknown');
  assert.deepEqual(
    r.report.strategies.map((s) => [s.id, s.state, s.holdings.length]),
    [
      ['a', 'CLOSED', 0],
      ['b', 'CLOSED', 0],
    ],
  );
  const b = r.timeline.find((e) => e.kind === 'detection' && e.detection.strategyId === 'b');
  assert.ok(b !== undefined && b.at - Date.parse('2026-01-28T10:00:02-05:00') <= 10_000, "judged when the 10 s window of the guard's stock sale closed");
});
