// The incident's cost as the journal keeps it (`incident-cost-state` notes): each contract written once and named by
// index, and read back by a new IncidentCosts (what a restarted guard does) to the same cost; a note in the format of
// earlier versions (every contract in full where it is named) still reads back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Holding } from '../../src/core/book.js';
import { expandContract } from '../../src/core/compact-contract.js';
import { contractKey, option, stock, type Contract } from '../../src/core/contract.js';
import type { Detection } from '../../src/core/detection.js';
import type { CommissionReport, ExecutionReport } from '../../src/core/events.js';
import { AccountId, type ExecId, IncidentId, type OrderRef, StrategyId } from '../../src/core/ids.js';
import { EpochMs, Price, Qty } from '../../src/core/quantity.js';
import { IncidentCosts } from '../../src/engine/incident-costs.js';
import type { Quote } from '../../src/ports/broker.js';
import type { JournalEntry } from '../../src/ports/store.js';

const ACCT = AccountId.unsafe('DU1');
const ID = StrategyId.unsafe('ic');
const INC = IncidentId.unsafe('ic:assignment:1');
const AT = EpochMs.unsafe(Date.parse('2026-01-28T07:30:00Z'));
const putShort = option({ symbol: 'SPY', right: 'P', strike: 440, expiry: '2026-01-30' });
const putLong = option({ symbol: 'SPY', right: 'P', strike: 435, expiry: '2026-01-30' });
const callShort = option({ symbol: 'SPY', right: 'C', strike: 460, expiry: '2026-01-30' });
const callLong = option({ symbol: 'SPY', right: 'C', strike: 465, expiry: '2026-01-30' });
const spy = stock('SPY');
const MIDS = new Map<string, number>([
  [contractKey(putShort), 3.1],
  [contractKey(putLong), 1.2],
  [contractKey(callShort), 0.4],
  [contractKey(callLong), 0.15],
  [contractKey(spy), 438.5],
]);

function costs(held: readonly Holding[], written: JournalEntry[]): IncidentCosts {
  return new IncidentCosts({
    now: () => AT,
    quote: (c: Contract): Quote | null => {
      const m = MIDS.get(contractKey(c));
      return m === undefined ? null : { contract: c, bid: Price.unsafe(m), ask: Price.unsafe(m), last: null, underlying: null, at: AT };
    },
    holdings: () => held,
    journal: (type, key, data, strategyId, incidentId) => ({ key, at: AT, type, account: ACCT, strategyId, incidentId, data }),
    commit: (b) => {
      written.push(...b.journal);
      return Promise.resolve();
    },
    fetchQuotes: () => Promise.resolve(undefined),
    enqueue: async (step) => {
      await step();
    },
    log: () => undefined,
  });
}

/** A condor whose short put was assigned, one closing fill of its stock, and that fill's commission. */
function brokenCondor(): { c: IncidentCosts; notes: JournalEntry[] } {
  const held: Holding[] = [
    { contract: putLong, qty: Qty.unsafe(2) },
    { contract: callShort, qty: Qty.unsafe(-2) },
    { contract: callLong, qty: Qty.unsafe(2) },
    { contract: spy, qty: Qty.unsafe(200) },
  ];
  const notes: JournalEntry[] = [];
  const c = costs(held, notes);
  const det = (contract: Contract, change: number, settles: Contract | null): Detection => ({
    strategyId: ID,
    cause: 'assignment',
    kind: 'EARLY',
    contract,
    before: Qty.unsafe(contract === spy ? 0 : -2),
    change: Qty.unsafe(change),
    settles,
    brokerAt: AT,
    reason: 'assigned',
  });
  const first = c.onDetections(INC, ID, [det(putShort, 2, null), det(spy, 200, putShort)], true);
  assert.ok(first);
  notes.push(first);
  const ref = 'lg/ic/ic:assignment:1/t1.SPY.STK/0' as OrderRef;
  const x: ExecutionReport = {
    kind: 'execution',
    account: ACCT,
    execId: 'e1' as ExecId,
    orderId: null,
    orderRef: ref,
    contract: spy,
    side: 'SELL',
    qty: Qty.unsafe(200),
    price: Price.unsafe(438.2),
    liquidation: false,
    tsEvent: AT,
    tsInit: AT,
  };
  const fill = c.onOwnFill(INC, ref, x);
  assert.ok(fill);
  notes.push(fill);
  const report: CommissionReport = { kind: 'commission', execId: 'e1' as ExecId, commission: 1.25, currency: 'USD', tsEvent: AT, tsInit: AT };
  const commission = c.onCommission(report, AT);
  assert.ok(commission);
  notes.push(...commission.journal);
  return { c, notes };
}

async function restored(notes: readonly JournalEntry[]): Promise<IncidentCosts> {
  const again = costs([], []);
  await again.restore({ journal: () => Promise.resolve(notes) }, ACCT, [{ incidentId: INC, strategyId: ID }]);
  return again;
}

test('the state names each contract once, and a restarted guard reads back the same cost', async () => {
  const { c, notes } = brokenCondor();
  const newest = notes[notes.length - 1]!;
  const data = newest.data as { v: number; contracts: Contract[]; held: unknown[]; beforeBreak: unknown[] };
  assert.equal(data.v, 2);
  assert.deepEqual(data.contracts.map((c) => contractKey(expandContract(c) as Contract)).sort(), [putShort, putLong, callShort, callLong, spy].map(contractKey).sort(), 'five contracts, each once');
  assert.equal(data.held.length, 4);
  assert.equal(data.beforeBreak.length, 4);
  const text = JSON.stringify(data);
  assert.equal(text.split('"secType"').length - 1, 5, 'no contract written twice');
  const again = await restored(notes);
  assert.deepEqual(again.cost(INC), c.cost(INC));
  assert.equal(again.cost(INC)!.commissions, 1.25);
});

test('a note written by an earlier version (every contract in full) still reads back', async () => {
  const { c, notes } = brokenCondor();
  const v2 = notes[notes.length - 1]!;
  const d = v2.data as { seq: number; closed: boolean; contracts: Contract[]; beforeBreak: [number, number, number | null][]; held: [number, number, number | null][]; breaks: [number, number, number | null][]; mids: unknown[]; fills: [string, string, number, number, number, number | null][]; commissions: unknown[] };
  const at = (i: number): Contract => expandContract(d.contracts[i]) as Contract;
  const v1 = {
    kind: 'incident-cost-state',
    seq: d.seq,
    closed: d.closed,
    beforeBreak: d.beforeBreak.map(([i, qty, mid]) => ({ contract: at(i), qty, mid })),
    held: d.held.map(([i, qty, mid]) => ({ contract: at(i), qty, mid })),
    breaks: d.breaks.map(([i, change, cash]) => ({ contract: at(i), change, cash })),
    mids: d.mids,
    fills: d.fills.map(([execId, ref, i, qty, price, midAtSend]) => ({ execId, ref, contract: at(i), qty, price, midAtSend })),
    commissions: d.commissions,
  };
  const again = await restored([{ ...v2, data: JSON.parse(JSON.stringify(v1)) as unknown }]);
  assert.deepEqual(again.cost(INC), c.cost(INC));
});

test('a state note naming a contract index it does not hold is skipped, said', async () => {
  const { notes } = brokenCondor();
  const v2 = notes[notes.length - 1]!;
  const bad = { ...(v2.data as object), contracts: [] };
  const again = await restored([{ ...v2, data: bad }]);
  assert.equal(again.cost(INC), null);
});
