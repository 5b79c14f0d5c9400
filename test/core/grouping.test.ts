import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { contractKey, describeContract, option, stock } from '../../src/core/contract.js';
import { groupPositions, type Grouping } from '../../src/core/grouping/group-positions.js';
import type { Leg } from '../../src/core/leg.js';
import { call, leg, put, SPY } from './fixtures.js';

const FEB = '2026-02-27';
const QQQ = stock('QQQ');
const qput = (k: number): ReturnType<typeof put> => put(k, '2026-01-30', 'QQQ');
const qcall = (k: number): ReturnType<typeof call> => call(k, '2026-01-30', 'QQQ');

/** A grouping as short text: `id kind: legs` per proposal, then `ungrouped: legs`. */
function show(g: Grouping): string[] {
  const legs = (ls: readonly Leg[]): string => ls.map((l) => `${l.qty > 0 ? '+' : ''}${l.qty} ${describeContract(l.contract)}`).join(', ');
  return [...g.proposals.map((p) => `${p.id} ${p.kind}: ${legs(p.legs)}`), `ungrouped: ${legs(g.ungrouped)}`];
}

const group = (positions: Leg[], together?: Leg[][]): string[] => show(groupPositions({ positions, ...(together ? { together } : {}) }));

describe('groupPositions: books with a known answer', () => {
  test('every kind alone', () => {
    const table: [string, Leg[], string][] = [
      ['iron condor', [leg(put(435), 2), leg(put(440), -2), leg(call(460), -2), leg(call(465), 2)], 'spy-iron-condor-2026-01-30 iron-condor'],
      ['iron butterfly', [leg(put(440), 1), leg(put(450), -1), leg(call(450), -1), leg(call(460), 1)], 'spy-iron-butterfly-2026-01-30 iron-butterfly'],
      ['vertical', [leg(put(440), -3), leg(put(435), 3)], 'spy-vertical-2026-01-30 vertical'],
      ['strangle', [leg(put(440), -1), leg(call(460), -1)], 'spy-strangle-2026-01-30 strangle'],
      ['straddle', [leg(put(450), 2), leg(call(450), 2)], 'spy-straddle-2026-01-30 straddle'],
      ['butterfly', [leg(call(450), 1), leg(call(455), -2), leg(call(460), 1)], 'spy-butterfly-2026-01-30 butterfly'],
      ['calendar', [leg(call(450), -1), leg(call(450, FEB), 1)], 'spy-calendar-2026-01-30 calendar'],
      ['diagonal', [leg(put(440), -1), leg(put(435, FEB), 1)], 'spy-diagonal-2026-01-30 diagonal'],
      ['covered call', [leg(SPY, 200), leg(call(470), -2)], 'spy-covered-call-2026-01-30 covered-call'],
      ['cash-secured put', [leg(put(430), -4)], 'spy-cash-secured-put-2026-01-30 cash-secured-put'],
      ['collar', [leg(SPY, 100), leg(put(430), 1), leg(call(470), -1)], 'spy-collar-2026-01-30 collar'],
      ['ratio spread', [leg(call(460), 1), leg(call(470), -2)], 'spy-ratio-spread-2026-01-30 ratio-spread'],
    ];
    for (const [name, positions, want] of table) {
      const out = group(positions);
      assert.equal(out.length, 2, `${name}: ${out.join(' | ')}`);
      assert.ok(out[0]!.startsWith(`${want}:`), `${name}: ${out[0]}`);
      assert.equal(out[1], 'ungrouped: ', name);
    }
  });

  test('mixed across underlyings, each kept to its own', () => {
    assert.deepEqual(
      group([
        leg(qput(400), -1),
        leg(put(435), 1),
        leg(put(440), -1),
        leg(call(460), -1),
        leg(call(465), 1),
        leg(QQQ, 100),
        leg(qcall(420), -1),
      ]),
      [
        'qqq-covered-call-2026-01-30 covered-call: +100 QQQ, -1 QQQ 2026-01-30 420 C',
        'qqq-cash-secured-put-2026-01-30 cash-secured-put: -1 QQQ 2026-01-30 400 P',
        'spy-iron-condor-2026-01-30 iron-condor: -1 SPY 2026-01-30 460 C, +1 SPY 2026-01-30 465 C, +1 SPY 2026-01-30 435 P, -1 SPY 2026-01-30 440 P',
        'ungrouped: ',
      ],
    );
  });

  test('an iron condor before two verticals, and two condors of one expiry get distinct ids', () => {
    const ic = [leg(put(435), 1), leg(put(440), -1), leg(call(460), -1), leg(call(465), 1)];
    const ic2 = [leg(put(420), 1), leg(put(425), -1), leg(call(475), -1), leg(call(480), 1)];
    const out = group([...ic2, ...ic]);
    assert.deepEqual(
      out.map((l) => l.split(':')[0]),
      ['spy-iron-condor-2026-01-30 iron-condor', 'spy-iron-condor-2026-01-30-2 iron-condor', 'ungrouped'],
    );
  });

  test('structures netted on shared strikes: two put verticals touching at 435 are one 440/430 vertical', () => {
    // +1 440 -1 435 and +1 435 -1 430: the broker shows 435 flat.
    const net = [leg(put(440), 1), leg(put(430), -1)];
    assert.deepEqual(group(net), ['spy-vertical-2026-01-30 vertical: -1 SPY 2026-01-30 430 P, +1 SPY 2026-01-30 440 P', 'ungrouped: ']);
    // A condor and a short put on its inner strike: the short put is left a cash-secured put.
    assert.deepEqual(group([leg(put(435), 1), leg(put(440), -3), leg(call(460), -1), leg(call(465), 1)]), [
      'spy-iron-condor-2026-01-30 iron-condor: -1 SPY 2026-01-30 460 C, +1 SPY 2026-01-30 465 C, +1 SPY 2026-01-30 435 P, -1 SPY 2026-01-30 440 P',
      'spy-cash-secured-put-2026-01-30 cash-secured-put: -2 SPY 2026-01-30 440 P',
      'ungrouped: ',
    ]);
  });

  test('shares covering part of a short call position: 100 shares a contract, the rest loose', () => {
    assert.deepEqual(group([leg(SPY, 250), leg(call(470), -3)]), [
      'spy-covered-call-2026-01-30 covered-call: +200 SPY, -2 SPY 2026-01-30 470 C',
      'ungrouped: +50 SPY, -1 SPY 2026-01-30 470 C',
    ]);
    // Mini options (10 shares a contract) are covered by 10 shares each.
    const mini = option({ symbol: 'SPY', right: 'C', strike: 470, expiry: '2026-01-30', multiplier: 10 });
    assert.deepEqual(group([leg(SPY, 25), leg(mini, -3)]), ['spy-covered-call-2026-01-30 covered-call: +20 SPY, -2 SPY 2026-01-30 470 C', 'ungrouped: +5 SPY, -1 SPY 2026-01-30 470 C']);
  });

  test('legs that belong to nothing stay ungrouped', () => {
    // Long calls, a long put of another expiry, short stock: no structure legguard knows.
    assert.deepEqual(group([leg(call(470), 2), leg(put(430, FEB), 1), leg(SPY, -100), leg(call(480), 1)]), [
      'ungrouped: -100 SPY, +2 SPY 2026-01-30 470 C, +1 SPY 2026-01-30 480 C, +1 SPY 2026-02-27 430 P',
    ]);
    // A short call with no shares is naked: not a covered call, not grouped.
    assert.deepEqual(group([leg(SPY, 50), leg(call(470), -1)]), ['ungrouped: +50 SPY, -1 SPY 2026-01-30 470 C']);
    assert.deepEqual(group([]), ['ungrouped: ']);
    assert.deepEqual(group([leg(put(440), 2), leg(put(440), -2)]), ['ungrouped: ']);
  });

  test('what was traded together stays together, before any pattern', () => {
    // A strangle and a vertical traded as one combo: a pattern would make an iron condor of nothing like it.
    const combo = [leg(put(440), -1), leg(put(435), 1), leg(call(460), -1)];
    const out = group([...combo, leg(call(465), 1)], [combo]);
    assert.deepEqual(out, [
      'spy-custom-2026-01-30 custom: -1 SPY 2026-01-30 460 C, +1 SPY 2026-01-30 435 P, -1 SPY 2026-01-30 440 P',
      'ungrouped: +1 SPY 2026-01-30 465 C',
    ]);
    // A 2-lot combo of which one lot was closed since: the lot left is one strategy.
    const ic = [leg(put(435), 2), leg(put(440), -2), leg(call(460), -2), leg(call(465), 2)];
    assert.deepEqual(group(ic.map((l) => leg(l.contract as ReturnType<typeof put>, l.qty / 2)), [ic]).map((l) => l.split(':')[0]), [
      'spy-iron-condor-2026-01-30 iron-condor',
      'ungrouped',
    ]);
    // A combo that closed positions (opposite signs to the book) takes nothing.
    assert.deepEqual(group([leg(put(430), -1)], [[leg(put(430), 1), leg(put(425), -1)]]), ['spy-cash-secured-put-2026-01-30 cash-secured-put: -1 SPY 2026-01-30 430 P', 'ungrouped: ']);
  });

  test('ids avoid those already taken', () => {
    const g = groupPositions({ positions: [leg(put(430), -1)], takenIds: new Set(['spy-cash-secured-put-2026-01-30']) });
    assert.equal(g.proposals[0]!.id, 'spy-cash-secured-put-2026-01-30-2');
  });

  test('the same book in another order gives the same answer', () => {
    const book = [leg(put(435), 1), leg(put(440), -1), leg(call(460), -1), leg(call(465), 1), leg(SPY, 300), leg(call(470), -2), leg(put(420, FEB), -1)];
    const a = groupPositions({ positions: book });
    const b = groupPositions({ positions: [...book].reverse() });
    assert.deepEqual(b, a);
    assert.equal(new Set(a.proposals.flatMap((p) => p.legs.map((l) => contractKey(l.contract)))).size, 7);
  });
});
