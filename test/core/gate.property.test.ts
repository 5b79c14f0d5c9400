import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { contractKey, isOption } from '../../src/core/contract.js';
import { checkOrder, type TradingState } from '../../src/core/gate.js';
import { AccountId, type ContractKey } from '../../src/core/ids.js';
import { legEffect, orderRef, type OrderLeg, type OrderRequest } from '../../src/core/order.js';
import { Price, Qty } from '../../src/core/quantity.js';
import { bookSpecArb, buildBook, strategyName, UNIVERSE, type BookSpec } from './arbitraries.js';

const legArb = fc.record({ ci: fc.integer({ min: 0, max: UNIVERSE.length - 1 }), buy: fc.boolean(), ratio: fc.integer({ min: 1, max: 2 }) });
const orderArb = fc.record({
  who: fc.nat(),
  /** Distinct contracts: an order names each contract once (core/order-shape.ts; a separate test refuses twice). */
  legs: fc.uniqueArray(legArb, { minLength: 1, maxLength: 3, selector: (l) => l.ci }),
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

/**
 * The oracle, kept apart from the gate's code: holdings summed from the spec itself (not the Book), and the rule
 * stated as what a close may do to a position, `before` to `after`: something was held, and the position ends no
 * farther from zero and not on the other side of it.
 */
const closesToward = (before: number, after: number): boolean => before !== 0 && Math.abs(after) <= Math.abs(before) && after * before >= 0;

/** Net per holder (`s<i>` or 'outside') and contract key, straight from the spec's legs. */
function specHoldings(spec: BookSpec): Map<string, Map<ContractKey, number>> {
  const out = new Map<string, Map<ContractKey, number>>();
  const add = (who: string, ci: number, q: number): void => {
    const m = out.get(who) ?? new Map<ContractKey, number>();
    const c = UNIVERSE[ci]!;
    m.set(contractKey(c), (m.get(contractKey(c)) ?? 0) + (isOption(c) ? q : q * 100));
    out.set(who, m);
  };
  spec.strategies.forEach((legs, i) => legs.forEach(([ci, q]) => add(`s${i}`, ci, q)));
  spec.outside.forEach(([ci, q]) => add('outside', ci, q));
  return out;
}

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
        // A single leg has ratio 1, its size in the units (as IB wants it); a combo's stock legs trade in lots.
        const single = o.legs.length === 1;
        let legs: OrderLeg[] = o.legs.map((l) => ({ contract: UNIVERSE[l.ci]!, action: l.buy ? 'BUY' : 'SELL', ratio: single ? 1 : lots(l.ci, l.ratio) }));
        let units = single ? lots(o.legs[0]!.ci, o.legs[0]!.ratio) * o.units : o.units;
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

        // The order's signed effect per contract, one leg each (the generator names each contract once).
        const effects = new Map<ContractKey, number>(legs.map((l) => [contractKey(l.contract), (l.action === 'BUY' ? 1 : -1) * l.ratio * units]));
        assert.equal(effects.size, legs.length, 'the generator names each contract once');
        const holds = specHoldings(spec);
        const me = `s${o.who % spec.strategies.length}`;
        const heldBy = (who: string, k: ContractKey): number => holds.get(who)?.get(k) ?? 0;
        let allowed = o.state !== 'HALTED';
        const broken = new Set<string>();
        for (const [k, e] of effects) {
          const h = heldBy(me, k);
          const w = working(id, k);
          // The strategy's holding after this order fills, alone and with its other working orders.
          if (!closesToward(h, h + e) || !closesToward(h, h + w + e)) {
            allowed = false;
            broken.add(`strategy-holding ${k}`);
          }
          // Nobody else holds the contract: the account's position is the strategy's to close, with every working order.
          if ([...holds].every(([who, m]) => who === me || (m.get(k) ?? 0) === 0)) {
            const p = broker(k);
            const all = working(null, k);
            if (!closesToward(p, p + e) || !closesToward(p, p + all + e)) {
              allowed = false;
              broken.add(`account-position ${k}`);
            }
          }
        }
        // A combo across underlyings is no order any broker takes (an IB BAG is one symbol's): refused for its shape.
        if (new Set(legs.map((l) => l.contract.symbol)).size > 1) {
          assert.equal(r.ok, false, 'accepted a combo across underlyings');
          if (!r.ok && o.state !== 'HALTED') assert.deepEqual([...new Set(r.violations.map((v) => v.rule))], ['malformed']);
          return;
        }
        assert.equal(r.ok, allowed, r.ok ? 'accepted an order that crosses zero or grows' : `refused a reducing order: ${r.reason}`);
        if (!r.ok && o.state !== 'HALTED') {
          const named = new Set(r.violations.map((v) => `${v.rule} ${v.contract ? contractKey(v.contract) : ''}`));
          assert.deepEqual([...named].sort(), [...broken].sort(), 'each refusal names the rule and the contract');
        }
        if (r.ok) {
          // An accepted order, filled, leaves every holding of the strategy no larger and on the same side: applied
          // to a copy of the book, compared before and after.
          const after = book.clone();
          for (const l of legs) after.apply(id, l.contract, legEffect(l, units));
          for (const k of effects.keys()) {
            const [b, a] = [book.holding(id, k), after.holding(id, k)];
            assert.ok(Math.abs(a) <= Math.abs(b) && a * b >= 0, `${k}: the accepted order took ${id} from ${b} to ${a}`);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
