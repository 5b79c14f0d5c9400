import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Book } from '../../src/core/book.js';
import { planClose, type ClosePlan, type PlannedOrder } from '../../src/core/close-plan.js';
import { contractKey, isOption } from '../../src/core/contract.js';
import { detect } from '../../src/core/detector.js';
import { checkOrder, type GateLimits } from '../../src/core/gate.js';
import { AccountId, type ContractKey, type StrategyId } from '../../src/core/ids.js';
import { legEffect } from '../../src/core/order.js';
import { EpochMs, Qty } from '../../src/core/quantity.js';
import { applyDetections, bookSpecArb, buildBook, holdingsOf, quoteAll, settle, settleArb } from './arbitraries.js';

const AT = EpochMs.unsafe(Date.parse('2026-01-28T02:30:00-05:00'));

const limitsArb: fc.Arbitrary<GateLimits> = fc.record({
  maxContractsPerOrder: fc.option(fc.integer({ min: 1, max: 4 }), { nil: null }),
  maxSharesPerOrder: fc.option(fc.integer({ min: 50, max: 300 }), { nil: null }),
  // Never below one unit of anything in the universe (100 shares of SPY at 440.10 is the largest unit here).
  maxNotionalPerOrder: fc.option(fc.integer({ min: 50_000, max: 200_000 }), { nil: null }),
});

const policyArb = fc.record({ combos: fc.boolean(), preMarketHedge: fc.boolean(), mode: fc.constantFrom<'close' | 'hedge'>('close', 'close', 'hedge') });

/** Random partial fills: which open order next (modulo) and how many units (modulo what is left, plus one). */
const fillsArb = fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 30 });

interface World {
  book: Book;
  broker: Map<ContractKey, number>;
}

function shared(book: Book, id: StrategyId, key: ContractKey): boolean {
  return book.strategiesHolding(key).some((s) => s !== id) || book.holding(null, key) !== 0;
}

/**
 * Places a plan's orders one after another and then fills them in random partial steps, each applied to the book as
 * the closing strategy's own fill and to the broker's position, checking the gate and the no-crossing promises
 * after every step.
 */
function placeAndFill(w: World, id: StrategyId, plan: ClosePlan, limits: GateLimits, fills: readonly (readonly [number, number])[]): void {
  const remaining = plan.orders.map((o) => o.request.quantity as number);
  const placed: boolean[] = plan.orders.map(() => false);
  const workingOf = (key: ContractKey, except: number): Qty => {
    let s = 0;
    plan.orders.forEach((o, i) => {
      if (i === except || !placed[i]) return;
      for (const l of o.request.legs) if (contractKey(l.contract) === key) s += legEffect(l, remaining[i]!);
    });
    return Qty.unsafe(s);
  };
  const gate = (o: PlannedOrder, i: number, units: number) =>
    checkOrder({
      order: { ...o.request, quantity: Qty.unsafe(units) },
      book: w.book,
      brokerPosition: (k) => Qty.unsafe(w.broker.get(k) ?? 0),
      working: (_s, k) => workingOf(k, i),
      limits,
      state: 'REDUCING',
    });
  plan.orders.forEach((o, i) => {
    const r = gate(o, i, remaining[i]!);
    assert.ok(r.ok, `order ${i} ${o.request.ref} passes the gate as placed: ${r.ok ? '' : r.reason}`);
    placed[i] = true;
  });

  const start = new Map(w.book.holdings(id).map((h) => [contractKey(h.contract), h.qty as number]));
  const unshared = [...start.keys()].filter((k) => !shared(w.book, id, k));
  const accountStart = new Map(unshared.map((k) => [k, w.broker.get(k) ?? 0]));
  const fillOne = (i: number, units: number): void => {
    const o = plan.orders[i]!;
    for (const l of o.request.legs) {
      const e = legEffect(l, units);
      w.book.apply(id, l.contract, e);
      const k = contractKey(l.contract);
      w.broker.set(k, (w.broker.get(k) ?? 0) + e);
    }
    remaining[i] = remaining[i]! - units;
    for (const [k, h0] of start) {
      const h = w.book.holding(id, k);
      assert.ok(Qty.reduces(Qty.unsafe(h0), h), `holding in ${k} went from ${h0} to ${h}: never past zero, never more`);
    }
    for (const [k, p0] of accountStart) {
      const p = w.broker.get(k) ?? 0;
      assert.ok(Qty.reduces(Qty.unsafe(p0), Qty.unsafe(p)), `account in ${k} went from ${p0} to ${p}: never flips where unshared`);
    }
    // What is still working passes the gate as it stands.
    plan.orders.forEach((x, j) => {
      if (remaining[j]! === 0) return;
      const r = gate(x, j, remaining[j]!);
      assert.ok(r.ok, `after a fill, the rest of ${x.request.ref} still passes: ${r.ok ? '' : r.reason}`);
    });
  };
  for (const [pick, size] of fills) {
    const open = remaining.map((r, i) => [r, i] as const).filter(([r]) => r > 0);
    if (open.length === 0) break;
    const [r, i] = open[pick % open.length]!;
    fillOne(i, 1 + (size % r));
  }
  remaining.forEach((r, i) => {
    if (r > 0) fillOne(i, r);
  });
}

describe('close plan properties', () => {
  test('after random assignments: every order passes the gate, partial fills never cross zero, the strategy ends flat and nobody else moves', () => {
    fc.assert(
      fc.property(bookSpecArb, settleArb, fc.nat(), policyArb, limitsArb, fillsArb, (spec, picks, who, policy, limits, fills) => {
        const book = buildBook(spec);
        const { broker: changed } = settle(book, picks, true);
        const out = detect({
          book,
          changes: [...changed.values()].map((b) => ({ contract: b.contract, brokerQty: Qty.unsafe(b.qty), brokerAt: AT, firstSeenAt: AT })),
          foreignExecutions: [],
          now: EpochMs.unsafe(AT + 3000),
          pairingWindowMs: 3000,
          underlyingPrice: () => 450,
        });
        applyDetections(book, out.detections);
        const broker = new Map<ContractKey, number>();
        for (const k of book.contractKeys()) broker.set(k, book.net(k));
        for (const [k, b] of changed) assert.equal(broker.get(k) ?? 0, b.qty, 'the book nets to the broker after detection');

        const ids = [...book.strategyIds()];
        const id = ids[who % ids.length]!;
        const others = new Map([...ids.filter((s) => s !== id), null].map((s) => [s, holdingsOf(book, s)]));
        const before = new Map(book.holdings(id).map((h) => [contractKey(h.contract), h.qty as number]));
        const mk = (): ClosePlan =>
          planClose({
            strategyId: id,
            account: AccountId.unsafe('DU1'),
            incidentId: null,
            incidentKey: `${id}:assignment:${AT}`,
            revision: 0,
            book,
            brokerPosition: (k) => Qty.unsafe(broker.get(k) ?? 0),
            quote: quoteAll,
            now: AT,
            purpose: 'emergency',
            limits,
            ...policy,
          });
        const plan = mk();
        assert.deepEqual(mk(), plan, 'the same holdings give the same plan');
        const refs = plan.orders.map((o) => o.request.ref);
        assert.equal(new Set(refs).size, refs.length, 'refs are unique within a plan');
        assert.deepEqual([plan.blocked, plan.clamped], [[], []], 'all quoted, limits allow a unit, broker agrees');
        for (let i = 1; i < plan.orders.length; i++) assert.ok(plan.orders[i - 1]!.notBefore <= plan.orders[i]!.notBefore, 'in sending order');
        for (const o of plan.orders) {
          const options = o.request.legs.some((l) => isOption(l.contract));
          // Stock may go outside regular hours, except the part that covers short options: it waits for them.
          assert.equal(o.request.outsideRth, !options && policy.preMarketHedge && !o.group.includes('.cover'));
          assert.ok(o.notBefore >= AT);
        }

        placeAndFill({ book, broker }, id, plan, limits, fills);

        if (policy.mode === 'close') {
          assert.ok(book.isFlat(id), `${id} is flat once everything filled; holds ${holdingsOf(book, id).join(', ')}`);
        } else {
          const held = new Map(plan.held.map((h) => [contractKey(h.contract), h.qty as number]));
          for (const [k, q] of before) {
            const want = isOption(book.contract(k)!) ? q : (held.get(k) ?? 0);
            assert.equal(book.holding(id, k), want, `hedge: ${k} ends at ${want}`);
          }
        }
        for (const [s, hs] of others) assert.deepEqual(holdingsOf(book, s), hs, `${s ?? 'outside'} is untouched`);
      }),
      { numRuns: 400 },
    );
  });

  test('a broker that shows less than the book (a change not yet classified): the plan is clamped and still never flips the account', () => {
    const skewArb = fc.array(fc.tuple(fc.nat(), fc.integer({ min: -3, max: 3 })), { maxLength: 3 });
    fc.assert(
      fc.property(bookSpecArb, fc.nat(), skewArb, policyArb, fillsArb, (spec, who, skew, policy, fills) => {
        const book = buildBook(spec);
        const ids = [...book.strategyIds()];
        const id = ids[who % ids.length]!;
        const broker = new Map<ContractKey, number>();
        for (const k of book.contractKeys()) broker.set(k, book.net(k));
        const mine = book.holdings(id);
        for (const [pick, d] of skew) {
          if (mine.length === 0) break;
          const h = mine[pick % mine.length]!;
          const k = contractKey(h.contract);
          broker.set(k, (broker.get(k) ?? 0) + (isOption(h.contract) ? d : d * 100));
        }
        const limits: GateLimits = { maxContractsPerOrder: null, maxSharesPerOrder: null, maxNotionalPerOrder: null };
        const plan = planClose({
          strategyId: id,
          account: AccountId.unsafe('DU1'),
          incidentId: null,
          incidentKey: 'k',
          revision: 3,
          book,
          brokerPosition: (k) => Qty.unsafe(broker.get(k) ?? 0),
          quote: quoteAll,
          now: AT,
          purpose: 'emergency',
          ...policy,
        });
        for (const c of plan.clamped) {
          const k = contractKey(c.contract);
          assert.ok(!shared(book, id, k));
          assert.ok(Qty.reduces(c.holding, c.closing));
        }
        placeAndFill({ book, broker }, id, plan, limits, fills);
      }),
      { numRuns: 300 },
    );
  });
});
