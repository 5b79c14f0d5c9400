import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { contractKey, isOption } from '../../src/core/contract.js';
import { checkOrder, type TradingState } from '../../src/core/gate.js';
import { AccountId, type ContractKey } from '../../src/core/ids.js';
import { legEffect, orderRef, type OrderLeg, type OrderRequest } from '../../src/core/order.js';
import { Price, Qty } from '../../src/core/quantity.js';
import { bookSpecArb, buildBook, strategyName, UNIVERSE } from './arbitraries.js';

const legArb = fc.record({ ci: fc.integer({ min: 0, max: UNIVERSE.length - 1 }), buy: fc.boolean(), ratio: fc.integer({ min: 1, max: 2 }) });
const orderArb = fc.record({
  who: fc.nat(),
  legs: fc.array(legArb, { minLength: 1, maxLength: 3 }),
  units: fc.integer({ min: 1, max: 4 }),
  /** Broker positions off the book by this much, per universe index (a change not yet classified). */
  skew: fc.array(fc.constantFrom(0, 0, 0, 0, -1, 1, -2, 2), { minLength: UNIVERSE.length, maxLength: UNIVERSE.length }),
  /** Other working orders: per universe index, the strategy's and everyone else's signed remaining quantity. */
  mine: fc.array(fc.constantFrom(0, 0, 0, -1, 1, -2, 2), { minLength: UNIVERSE.length, maxLength: UNIVERSE.length }),
  theirs: fc.array(fc.constantFrom(0, 0, 0, -1, 1), { minLength: UNIVERSE.length, maxLength: UNIVERSE.length }),
  /** Half the orders close what the strategy holds (some too much): the ones a gate must let through. */
  close: fc.option(fc.tuple(fc.nat(), fc.nat(), fc.nat()), { nil: null }),
  state: fc.constantFrom<TradingState>('ACTIVE', 'REDUCING', 'REDUCING', 'HALTED'),
});

/** `x` lies between 0 and `h` (inclusive), the whole rule in one line, written apart from the gate's own code. */
const within = (h: number, x: number): boolean => h !== 0 && Math.min(0, h) <= x && x <= Math.max(0, h);

describe('gate properties', () => {
  test('an order that would cross zero or grow a holding (or the unshared account) is always refused, and only then', () => {
    fc.assert(
      fc.property(bookSpecArb, orderArb, (spec, o) => {
        const book = buildBook(spec);
        const id = strategyName(o.who % spec.strategies.length);
        const index = new Map(UNIVERSE.map((c, i) => [contractKey(c), i]));
        const lots = (i: number, n: number): number => (isOption(UNIVERSE[i]!) ? n : n * 100);
        const broker = (k: ContractKey): Qty => Qty.unsafe(book.net(k) + lots(index.get(k)!, o.skew[index.get(k)!]!));
        const working = (s: unknown, k: ContractKey): Qty => {
          const i = index.get(k)!;
          return Qty.unsafe(lots(i, o.mine[i]!) + (s === null ? lots(i, o.theirs[i]!) : 0));
        };
        let legs: OrderLeg[] = o.legs.map((l) => ({ contract: UNIVERSE[l.ci]!, action: l.buy ? 'BUY' : 'SELL', ratio: lots(l.ci, l.ratio) }));
        let units = o.units;
        const held = book.holdings(id);
        if (o.close !== null && held.length > 0) {
          // One or two of its holdings, closed by up to one more than held.
          const [a, b, n] = o.close;
          const picks = [...new Set([held[a % held.length]!, held[b % held.length]!])];
          legs = picks.map((h) => ({ contract: h.contract, action: h.qty < 0 ? 'BUY' : 'SELL', ratio: 1 }));
          const most = Math.min(...picks.map((h) => Math.abs(h.qty)));
          units = 1 + (n % (most + 1));
        }
        const order: OrderRequest = {
          ref: orderRef(id, 'i', 'g', 0),
          strategyId: id,
          incidentId: null,
          account: AccountId.unsafe('DU1'),
          legs,
          quantity: Qty.unsafe(units),
          orderType: 'LMT',
          limitPrice: Price.unsafe(1),
          outsideRth: false,
          purpose: 'emergency',
          tier: 0,
        };
        const r = checkOrder({
          order,
          book,
          brokerPosition: broker,
          working,
          limits: { maxContractsPerOrder: null, maxSharesPerOrder: null, maxNotionalPerOrder: null },
          state: o.state,
        });

        const effects = new Map<ContractKey, number>();
        for (const l of legs) effects.set(contractKey(l.contract), (effects.get(contractKey(l.contract)) ?? 0) + legEffect(l, units));
        let allowed = o.state !== 'HALTED';
        const broken = new Set<string>();
        for (const [k, e] of effects) {
          const h = book.holding(id, k);
          const w = working(id, k);
          if (!within(h, h + e) || !within(h, h + w + e)) {
            allowed = false;
            broken.add(`strategy-holding ${k}`);
          }
          const sharedK = book.strategiesHolding(k).some((s) => s !== id) || book.holding(null, k) !== 0;
          if (!sharedK) {
            const p = broker(k);
            const all = working(null, k);
            if (!within(p, p + e) || !within(p, p + all + e)) {
              allowed = false;
              broken.add(`account-position ${k}`);
            }
          }
        }
        assert.equal(r.ok, allowed, r.ok ? 'accepted an order that crosses zero or grows' : `refused a reducing order: ${r.reason}`);
        if (!r.ok && o.state !== 'HALTED') {
          const named = new Set(r.violations.map((v) => `${v.rule} ${v.contract ? contractKey(v.contract) : ''}`));
          assert.deepEqual([...named].sort(), [...broken].sort(), 'each refusal names the rule and the contract');
        }
      }),
      { numRuns: 500 },
    );
  });
});
