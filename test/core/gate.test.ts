import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Book } from '../../src/core/book.js';
import { contractKey, type Contract } from '../../src/core/contract.js';
import { checkOrder, type GateInput, type GateLimits, type GateResult } from '../../src/core/gate.js';
import { AccountId, type ContractKey, type StrategyId } from '../../src/core/ids.js';
import { orderRef, type OrderLeg, type OrderRequest } from '../../src/core/order.js';
import { Price, Qty } from '../../src/core/quantity.js';
import { call, put, sid, SPY } from './fixtures.js';

const NO_LIMITS: GateLimits = { maxContractsPerOrder: null, maxSharesPerOrder: null, maxNotionalPerOrder: null };

function order(strategy: string, legs: readonly OrderLeg[], quantity: number, limit: number | null = 1, extra: Partial<OrderRequest> = {}): OrderRequest {
  return {
    ref: orderRef(strategy, 'inc', 'g', 1),
    strategyId: sid(strategy),
    incidentId: null,
    account: AccountId.unsafe('DU1'),
    legs,
    quantity: Qty.unsafe(quantity),
    orderType: limit === null ? 'MKT' : 'LMT',
    limitPrice: limit === null ? null : Price.unsafe(limit),
    outsideRth: false,
    purpose: 'emergency',
    tier: 0,
    ...extra,
  };
}
const buy = (contract: Contract, ratio = 1): OrderLeg => ({ contract, action: 'BUY', ratio });
const sell = (contract: Contract, ratio = 1): OrderLeg => ({ contract, action: 'SELL', ratio });

interface World {
  book: Book;
  broker: Map<ContractKey, number>;
  working: Map<string, number>; // `${strategy}|${key}` and `*|${key}`
}

function world(): World {
  const book = new Book();
  book.addStrategy(sid('a'));
  book.addStrategy(sid('b'));
  return { book, broker: new Map(), working: new Map() };
}

/** Sets holdings and makes the broker show their net. */
function hold(w: World, holder: string | null, c: Contract, qty: number): void {
  w.book.set(holder === null ? null : sid(holder), c, Qty.unsafe(qty));
  w.broker.set(contractKey(c), w.book.net(contractKey(c)));
}

function work(w: World, strategy: string, c: Contract, qty: number): void {
  const k = contractKey(c);
  w.working.set(`${strategy}|${k}`, (w.working.get(`${strategy}|${k}`) ?? 0) + qty);
  w.working.set(`*|${k}`, (w.working.get(`*|${k}`) ?? 0) + qty);
}

function check(w: World, o: OrderRequest, extra: Partial<GateInput> = {}): GateResult {
  return checkOrder({
    order: o,
    book: w.book,
    brokerPosition: (k) => Qty.unsafe(w.broker.get(k) ?? 0),
    working: (s: StrategyId | null, k) => Qty.unsafe(w.working.get(`${s ?? '*'}|${k}`) ?? 0),
    limits: NO_LIMITS,
    state: 'REDUCING',
    ...extra,
  });
}

function refused(r: GateResult, rule: string): string {
  assert.equal(r.ok, false, 'expected a refusal');
  if (r.ok) throw new Error('unreachable');
  assert.ok(r.violations.some((v) => v.rule === rule), `expected rule ${rule}, got ${r.reason}`);
  return r.reason;
}

describe('gate: the strategy holding', () => {
  test('a close of exactly what is held passes; past zero or growing is refused with the numbers', () => {
    const w = world();
    hold(w, 'a', put(440), -2);
    assert.deepEqual(check(w, order('a', [buy(put(440))], 2)), { ok: true });
    assert.deepEqual(check(w, order('a', [buy(put(440))], 1)), { ok: true });
    const past = refused(check(w, order('a', [buy(put(440))], 3)), 'strategy-holding');
    assert.match(past, /a holds -2, its other working orders 0, this order \+3; would leave \+1/);
    assert.match(past, /SPY 2026-01-30 440 P/);
    refused(check(w, order('a', [sell(put(440))], 1)), 'strategy-holding');
  });

  test('other working orders of the strategy count: together they may not pass zero', () => {
    const w = world();
    hold(w, 'a', put(440), -2);
    work(w, 'a', put(440), +2);
    const r = refused(check(w, order('a', [buy(put(440))], 1)), 'strategy-holding');
    assert.match(r, /other working orders \+2, this order \+1; would leave -1 alone and \+1 with them/);
    assert.equal(check(w, order('a', [buy(put(440))], 1)).ok, false);
    // A working BUY does not make room for a SELL that grows the short.
    const w2 = world();
    hold(w2, 'a', put(440), -2);
    work(w2, 'a', put(440), +1);
    refused(check(w2, order('a', [sell(put(440))], 1)), 'strategy-holding');
  });

  test('a strategy that holds none of a contract cannot trade it', () => {
    const w = world();
    hold(w, 'b', put(440), -2);
    const r = refused(check(w, order('a', [buy(put(440))], 1)), 'strategy-holding');
    assert.match(r, /the strategy holds none/);
  });
});

describe('gate: the account position where nothing else shares', () => {
  test('the broker showing less than the book limits the close', () => {
    const w = world();
    hold(w, 'a', put(440), -2);
    w.broker.set(contractKey(put(440)), -1);
    assert.equal(check(w, order('a', [buy(put(440))], 1)).ok, true);
    const r = refused(check(w, order('a', [buy(put(440))], 2)), 'account-position');
    assert.match(r, /the account holds -1/);
    w.broker.set(contractKey(put(440)), 0);
    assert.match(refused(check(w, order('a', [buy(put(440))], 1)), 'account-position'), /the account holds none/);
    w.broker.set(contractKey(put(440)), 1); // the broker even shows the other sign
    refused(check(w, order('a', [buy(put(440))], 1)), 'account-position');
  });

  test("every strategy's working orders count against the account", () => {
    const w = world();
    hold(w, 'a', put(440), -2);
    work(w, 'b', put(440), +1); // a stale order of another strategy in the same contract
    assert.equal(check(w, order('a', [buy(put(440))], 1)).ok, true);
    refused(check(w, order('a', [buy(put(440))], 2)), 'account-position');
  });

  test('shared contracts are checked against the strategy only: netted legs and outside shares', () => {
    const w = world();
    hold(w, 'a', put(440), -2);
    hold(w, 'b', put(440), 1); // the broker shows -1
    assert.equal(check(w, order('a', [buy(put(440))], 2)).ok, true, 'a may close its -2 though the account holds -1');
    assert.equal(check(w, order('b', [sell(put(440))], 1)).ok, true);
    refused(check(w, order('b', [sell(put(440))], 2)), 'strategy-holding');

    const s = world();
    hold(s, 'a', SPY, -100);
    hold(s, null, SPY, 100); // the broker shows 0: the outside's 100 shares net against a's short stock
    assert.equal(check(s, order('a', [buy(SPY)], 100)).ok, true);
    refused(check(s, order('a', [buy(SPY)], 101)), 'strategy-holding');
  });
});

describe('gate: combos, state, limits, malformed orders', () => {
  test('a combo is checked leg by leg', () => {
    const w = world();
    hold(w, 'a', call(460), -2);
    hold(w, 'a', call(465), 2);
    assert.equal(check(w, order('a', [buy(call(460)), sell(call(465))], 2, 0.4)).ok, true);
    const r = check(w, order('a', [buy(call(460)), buy(call(465))], 1, 0.4));
    refused(r, 'strategy-holding');
    assert.ok(!r.ok && r.violations.length === 2, 'the long leg breaks both the strategy and the account rule');
  });

  test('a contract named twice is refused as malformed, as every broker adapter refuses it, even when its net reduces', () => {
    const w = world();
    hold(w, 'a', call(460), -2);
    hold(w, 'a', call(465), 2);
    // Net BUY 2 of the 460 call: a close, had it been one leg; named twice, no broker takes it.
    const r = check(w, order('a', [buy(call(460)), buy(call(460)), sell(call(465))], 1, 0.4));
    assert.match(refused(r, 'malformed'), /appears twice/);
    assert.ok(!r.ok && r.violations.every((v) => v.rule === 'malformed'), 'refused for its shape, before any holding is looked at');
    assert.match(refused(check(w, order('a', [buy(call(460)), sell(call(460))], 1, 0.4)), 'malformed'), /appears twice/);
  });

  test('HALTED refuses everything; ACTIVE and REDUCING check the same', () => {
    const w = world();
    hold(w, 'a', put(440), -2);
    const o = order('a', [buy(put(440))], 2);
    refused(check(w, o, { state: 'HALTED' }), 'halted');
    assert.equal(check(w, o, { state: 'ACTIVE' }).ok, true);
    refused(check(w, order('a', [sell(put(440))], 1), { state: 'ACTIVE' }), 'strategy-holding');
  });

  test('limits: contracts per option leg, shares per stock leg, notional at the limit or reference price', () => {
    const w = world();
    hold(w, 'a', put(440), -20);
    hold(w, 'a', SPY, 1000);
    const limits: GateLimits = { maxContractsPerOrder: 10, maxSharesPerOrder: 500, maxNotionalPerOrder: 20_000 };
    assert.equal(check(w, order('a', [buy(put(440))], 10, 2), { limits }).ok, true);
    assert.match(refused(check(w, order('a', [buy(put(440))], 11, 2), { limits }), 'max-contracts'), /11/);
    assert.equal(check(w, order('a', [sell(SPY)], 40, 440), { limits }).ok, true);
    refused(check(w, order('a', [sell(SPY)], 501, 1), { limits }), 'max-shares');
    // 10 x 25.00 x 100 = 25,000 > 20,000
    assert.match(refused(check(w, order('a', [buy(put(440))], 10, 25), { limits }), 'max-notional'), /25000\.00/);
    // MKT: notional from the reference price, refused when there is none.
    const mkt = order('a', [buy(put(440))], 5, null);
    assert.equal(check(w, mkt, { limits, referencePrice: () => Price.unsafe(30) }).ok, true);
    refused(check(w, mkt, { limits, referencePrice: () => Price.unsafe(50) }), 'max-notional');
    assert.match(refused(check(w, mkt, { limits }), 'max-notional'), /no limit price and no reference price/);
  });

  test('malformed orders and unknown strategies are refused before anything else', () => {
    const w = world();
    hold(w, 'a', put(440), -2);
    refused(check(w, order('a', [], 1)), 'malformed');
    refused(check(w, order('a', [buy(put(440))], 0)), 'malformed');
    refused(check(w, order('a', [buy(put(440), 0)], 1)), 'malformed');
    refused(check(w, order('a', [buy(put(440))], 1, 1, { limitPrice: null })), 'malformed');
    refused(check(w, order('a', [buy(put(440))], 1, 1, { outsideRth: true })), 'malformed');
    // A single leg has ratio 1 (the quantity carries the size), as IB wants it; a single leg's limit is not a credit.
    assert.match(refused(check(w, order('a', [buy(put(440), 2)], 1)), 'malformed'), /ratio 1/);
    assert.match(refused(check(w, order('a', [buy(put(440))], 1, -1)), 'malformed'), /cannot be negative/);
    refused(check(w, order('zz', [buy(put(440))], 1)), 'unknown-strategy');
  });
});
