import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Book } from '../../src/core/book.js';
import { contractKey, isOption, type Contract } from '../../src/core/contract.js';
import { detect, type DetectorOutput, type PositionChange } from '../../src/core/detector.js';
import type { ExecutionReport } from '../../src/core/events.js';
import { AccountId, ExecId, type ContractKey, type StrategyId } from '../../src/core/ids.js';
import { EpochMs, Price, Qty } from '../../src/core/quantity.js';
import { applyDetections, bookSpecArb, buildBook, holdingsOf, legQty, permutationKeysArb, permute, settle, settleArb, UNIVERSE } from './arbitraries.js';

const AT = EpochMs.unsafe(Date.parse('2026-01-28T02:30:00-05:00'));
const WINDOW = 3000;

function changesOf(broker: Map<ContractKey, { contract: Contract; qty: number }>): PositionChange[] {
  return [...broker.values()].map((b) => ({ contract: b.contract, brokerQty: Qty.unsafe(b.qty), brokerAt: AT, firstSeenAt: AT }));
}

function run(book: Book, changes: readonly PositionChange[], execs: readonly ExecutionReport[], waited: number): DetectorOutput {
  return detect({
    book,
    changes,
    foreignExecutions: execs,
    now: EpochMs.unsafe(AT + waited),
    pairingWindowMs: WINDOW,
    underlyingPrice: () => 450,
  });
}

/** The promise every output keeps: explained contracts sum exactly to the broker's delta, the rest explains nothing. */
function assertExact(book: Book, changes: readonly PositionChange[], out: DetectorOutput): void {
  const pending = new Set(out.pending.map((p) => contractKey(p.contract)));
  const sums = new Map<ContractKey, number>();
  for (const d of out.detections) sums.set(contractKey(d.contract), (sums.get(contractKey(d.contract)) ?? 0) + d.change);
  const changed = new Map(changes.map((c) => [contractKey(c.contract), c.brokerQty - book.net(contractKey(c.contract))]));
  for (const [key, delta] of changed) {
    if (pending.has(key)) assert.equal(sums.get(key) ?? 0, 0, `pending ${key} has no detections`);
    else assert.equal(sums.get(key) ?? 0, delta, `detections on ${key} sum to the broker's delta ${delta}`);
  }
  for (const [key, s] of sums) if (!changed.has(key)) assert.equal(s, 0, `${key} did not change at the broker; its detections net to zero`);
  for (const d of out.detections) {
    // Only stock from a settlement may make a strategy hold more (or the other sign); everything else attributed
    // to a strategy shrinks its holding toward zero. Growth goes to the outside.
    if (d.strategyId !== null && d.settles === null) {
      assert.ok(Qty.reduces(d.before, Qty.unsafe(d.before + d.change)), `${d.strategyId} ${d.cause} ${contractKey(d.contract)} ${d.before}${d.change}`);
    }
  }
}

describe('detector properties', () => {
  test('assignments of shorts (k of n): recovered exactly, attributed oldest first, nobody else touched', () => {
    fc.assert(
      fc.property(bookSpecArb, settleArb, (spec, picks) => {
        const book = buildBook(spec);
        const { broker, settled } = settle(book, picks, false);
        const changes = changesOf(broker);
        const out = run(book, changes, [], 0);
        assertExact(book, changes, out);
        assert.deepEqual(out.pending, [], 'assignments with their stock are matched at once');
        // Every settled contract is an assignment, attributed to the short holders oldest first, then the outside.
        for (const [key, q] of settled) {
          const expected: [string, number][] = [];
          let left = -q;
          for (const s of book.strategiesHolding(key)) {
            const h = book.holding(s, key);
            if (left === 0 || h >= 0) continue;
            const take = Math.min(left, 0 - h);
            expected.push([s, take]);
            left -= take;
          }
          if (left > 0) expected.push(['outside', left]);
          const got = out.detections.filter((d) => contractKey(d.contract) === key).map((d): [string, number] => [d.strategyId ?? 'outside', d.change]);
          assert.deepEqual(got, expected, `attribution of ${key}`);
          assert.ok(out.detections.filter((d) => contractKey(d.contract) === key).every((d) => d.cause === 'assignment' && d.kind === 'EARLY'));
        }
        // The stock of each settlement goes to whoever's option settled: per holder, the sum of what its options deliver.
        const after = book.clone();
        applyDetections(after, out.detections);
        const touched = new Set<StrategyId | null>(out.detections.map((d) => d.strategyId));
        for (const s of [...book.strategyIds(), null]) {
          if (!touched.has(s)) assert.deepEqual(holdingsOf(after, s), holdingsOf(book, s), `${s ?? 'outside'} is untouched`);
        }
        for (const d of out.detections) {
          if (d.settles === null) continue;
          const k = contractKey(d.settles);
          assert.ok(
            out.detections.some((o) => o.strategyId === d.strategyId && contractKey(o.contract) === k),
            `stock of ${k} goes to ${d.strategyId ?? 'outside'}, whose option settled`,
          );
        }
        for (const [key, b] of broker) assert.equal(after.net(key), b.qty, `book nets to the broker in ${key}`);
      }),
      { numRuns: 400 },
    );
  });

  test('any settlements, unexplained changes and foreign executions: sums always exact; after the window nothing waits', () => {
    const extraArb = fc.array(fc.tuple(fc.integer({ min: 0, max: UNIVERSE.length - 1 }), fc.integer({ min: -3, max: 3 }), fc.boolean(), fc.boolean()), { maxLength: 4 });
    fc.assert(
      fc.property(bookSpecArb, settleArb, extraArb, fc.boolean(), (spec, picks, extra, longsToo) => {
        const book = buildBook(spec);
        const { broker } = settle(book, picks, longsToo);
        // Extra changes: trades with or without an execution report, liquidations.
        const execs: ExecutionReport[] = [];
        extra.forEach(([ci, q, withExec, liquidation], i) => {
          const c = UNIVERSE[ci]!;
          const dq = legQty(c, q);
          if (dq === 0) return;
          const key = contractKey(c);
          const prev = broker.get(key) ?? { contract: c, qty: book.net(key) };
          broker.set(key, { contract: prev.contract, qty: prev.qty + dq });
          if (withExec) {
            execs.push({
              kind: 'execution', account: AccountId.unsafe('DU1'), execId: ExecId.unsafe(`x${i}`), orderId: null, orderRef: null, contract: c,
              side: dq > 0 ? 'BUY' : 'SELL', qty: Qty.unsafe(Math.abs(dq)), price: Price.unsafe(1), liquidation, tsEvent: EpochMs.unsafe(AT - 10 + i), tsInit: EpochMs.unsafe(AT),
            });
          }
        });
        const changes = changesOf(broker);
        const now = run(book, changes, execs, 0);
        assertExact(book, changes, now);
        if (now.pending.length > 0) assert.equal(now.recheckAt, AT + WINDOW);
        else assert.equal(now.recheckAt, null);
        const later = run(book, changes, execs, WINDOW);
        assertExact(book, changes, later);
        assert.deepEqual(later.pending, []);
        const after = book.clone();
        applyDetections(after, later.detections);
        for (const c of changes) assert.equal(after.net(contractKey(c.contract)), c.brokerQty);
        // Used executions are exactly what the detections from executions account for (a manual detection may also
        // be an option shrink nothing explained, classified when the window ended: those name no execution). Per
        // contract, the used ones (each once, each a real report, each named by a detection on its contract) sum to
        // the liquidation detections' change and the manual ones to the manual detections' that name executions; a
        // contract with no such detection uses none.
        assert.equal(new Set(later.usedExecIds).size, later.usedExecIds.length, 'each execution used once');
        const used = later.usedExecIds.map((id) => {
          const x = execs.find((e) => e.execId === id);
          assert.ok(x, `used ${id} is one of the reports`);
          return x;
        });
        const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
        const fromExecutions = later.detections.filter((d) => d.cause === 'liquidation' || (d.cause === 'manual' && d.reason.startsWith('trade outside legguard')));
        const keys = new Set([...execs.map((x) => contractKey(x.contract)), ...later.detections.map((d) => contractKey(d.contract))]);
        for (const k of keys) {
          for (const liquidation of [false, true]) {
            const cause = liquidation ? 'liquidation' : 'manual';
            const fromExecs = sum(used.filter((x) => contractKey(x.contract) === k && x.liquidation === liquidation).map((x) => (x.side === 'BUY' ? x.qty : 0 - x.qty)));
            const detected = sum(fromExecutions.filter((d) => contractKey(d.contract) === k && d.cause === cause).map((d) => d.change));
            assert.equal(detected, fromExecs, `${k}: ${cause} detections from executions sum to the used ${cause} executions`);
          }
          const mine = fromExecutions.filter((d) => contractKey(d.contract) === k);
          assert.equal(used.some((x) => contractKey(x.contract) === k), mine.length > 0, `${k}: executions used if and only if a detection is theirs`);
          for (const x of used.filter((u) => contractKey(u.contract) === k)) {
            assert.ok(mine.some((d) => d.reason.includes(`(${x.execId})`)), `${x.execId} is named by a detection on ${k}`);
          }
        }
        // Executions that exactly make up a contract's change (one sign, nothing else moved it) are all used.
        for (const [k, b] of broker) {
          const mine = execs.filter((x) => contractKey(x.contract) === k);
          const signed = mine.map((x) => (x.side === 'BUY' ? x.qty : 0 - x.qty));
          const delta = b.qty - book.net(k);
          if (mine.length > 0 && sum(signed) === delta && signed.every((q) => Math.sign(q) === Math.sign(delta))) {
            for (const x of mine) assert.ok(later.usedExecIds.includes(x.execId), `${x.execId} alone explains ${k}`);
          }
        }
      }),
      { numRuns: 400 },
    );
  });

  test('the order of reports does not matter', () => {
    fc.assert(
      fc.property(bookSpecArb, settleArb, fc.boolean(), permutationKeysArb, (spec, picks, longsToo, keys) => {
        const book = buildBook(spec);
        const changes = changesOf(settle(book, picks, longsToo).broker);
        const shuffled = permute(changes, keys);
        const a = run(book, changes, [], WINDOW);
        const b = run(book, shuffled, [], WINDOW);
        const norm = (o: DetectorOutput) => [...o.detections].map((d) => JSON.stringify(d)).sort();
        assert.deepEqual(norm(a), norm(b));
        // Only settled options (and their stock) appear, and options never cross zero for anyone.
        for (const d of a.detections) if (isOption(d.contract) && d.strategyId !== null) assert.ok(Qty.reduces(d.before, Qty.unsafe(d.before + d.change)));
      }),
      { numRuns: 300 },
    );
  });
});
