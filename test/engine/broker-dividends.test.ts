// Broker dividends reach the early-assignment rules (issue 12): the engine asks the broker for every guarded
// underlying's price and dividends (IB generic tick 456, decoded by the IB adapter; the SimBroker answers from its
// market) at start and every guard.underlyingRefreshMs, keeps them per symbol (MarketData) and combines them with
// the config's or scenario's. Here the engine is told no dividend at all: the broker's announcement alone decides.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeDividends } from '../../src/core/dividends.js';
import { Price } from '../../src/core/quantity.js';
import { MarketData } from '../../src/engine/market-data.js';
import type { UnderlyingInfo } from '../../src/ports/broker.js';
import { GuardHarness } from '../support/guard-harness.js';

// The XOM strangle of scenarios/strangle-closed-before-ex-dividend.yaml.
const scenario = `
name: broker dividends
start: "2026-02-09T09:30:00-05:00"
account: DU0000001
seed: 1
underlyings:
  XOM: { price: 110.00, volatility: 0.22, dividends: [ { exDate: "2026-02-13", amount: 1.03 } ] }
strategies:
  - id: strangle-xom
    kind: strangle
    legs:
      - { symbol: XOM, right: C, strike: 120, expiry: "2026-02-20", qty: -1 }
      - { symbol: XOM, right: P, strike: 100, expiry: "2026-02-20", qty: -1 }
guard: { onAssignment: close, preMarketHedge: true, timeExitDte: null }
events:
  - { at: "2026-02-11T10:00:00-05:00", price: { XOM: 128.00 } }
until: "2026-02-12T16:00:00-05:00"
`;

/** No dividend stated: only the broker can tell the rules about XOM's. */
const NO_STATED = { rate: 0.045, volatility: () => 0.22, dividends: () => [] };

describe('broker dividends reach the rules', () => {
  test('the ex-dividend rule closes the strangle on Thursday from the dividend the broker announced', async () => {
    const h = await GuardHarness.create(scenario, { riskInputs: NO_STATED });
    await h.start();
    const final = await h.finish();
    const closes = h.entries('decision').filter((d) => d.decision.rule === 'ExDividendCall' && d.decision.action === 'CLOSE');
    assert.equal(closes.length, 1, h.entries('decision').map((d) => d.decision.reason).join('\n'));
    const c = closes[0]!.decision;
    assert.equal(c.metadata['D'], 1.03);
    assert.equal(c.metadata['exDate'], '2026-02-13');
    assert.ok(c.at < Date.parse('2026-02-12T15:30:00-05:00') && c.at >= Date.parse('2026-02-12T09:30:00-05:00'), new Date(c.at).toISOString());
    assert.ok(['CLOSING', 'CLOSED'].includes(final.strategies[0]!.state), final.strategies[0]!.state);
  });

  test('control: the same account with a broker that announces nothing is not closed for the dividend', async () => {
    const h = await GuardHarness.create(scenario, { riskInputs: NO_STATED });
    const inner = h.broker.underlying.bind(h.broker);
    h.broker.underlying = async (symbol: string): Promise<UnderlyingInfo> => ({ ...(await inner(symbol)), dividends: [] });
    await h.start();
    const final = await h.finish();
    assert.deepEqual(h.entries('decision').filter((d) => d.decision.rule === 'ExDividendCall'), []);
    assert.equal(final.strategies[0]!.state, 'OPEN');
  });

  test('MarketData keeps the broker dividends per symbol, tells a change once, and keeps them through an empty answer', () => {
    const changed: string[] = [];
    const md = new MarketData({ quote: () => Promise.resolve(null), underlying: () => Promise.reject(new Error('unused')) }, () => {}, (s) => changed.push(s));
    const xom = (dividends: UnderlyingInfo['dividends'], price = 128): UnderlyingInfo => ({ symbol: 'XOM', price: Price.unsafe(price), dividends });
    md.applyUnderlying(xom([{ exDate: '2026-02-13', amount: 1.03 }]));
    md.applyUnderlying(xom([{ exDate: '2026-02-13', amount: 1.03 }]));
    assert.deepEqual(changed, ['XOM', 'XOM'], 'the price (first seen) and the dividends, once each');
    md.applyUnderlying(xom([]));
    assert.deepEqual(md.dividendsOf('xom'), [{ exDate: '2026-02-13', amount: 1.03 }], 'no tick in time is not "no dividend"');
    md.applyUnderlying(xom([{ exDate: '2026-05-14', amount: 1.03 }], 129));
    assert.deepEqual(md.dividendsOf('XOM'), [{ exDate: '2026-05-14', amount: 1.03 }]);
    assert.deepEqual(changed, ['XOM', 'XOM', 'XOM', 'XOM']);
  });

  test('stated dividends (config, scenario) and the broker’s combine, one per ex-date, the stated amount first', () => {
    assert.deepEqual(
      mergeDividends(
        [{ exDate: '2026-02-13', amount: 1.03 }],
        [
          { exDate: '2026-05-14', amount: 1.03 },
          { exDate: '2026-02-13', amount: 0.99 },
        ],
      ),
      [
        { exDate: '2026-02-13', amount: 1.03 },
        { exDate: '2026-05-14', amount: 1.03 },
      ],
    );
    assert.deepEqual(mergeDividends([], []), []);
  });
});
