// The running guard's edge over several accounts (one engine each, one store): reads cover every account unless one
// is named, an account the process does not guard is NOT_FOUND naming those it does, mutations act on the account
// named and wake only its guard, and the event stream tags each entry with its account. Two replays' engines (the
// condor as one account, the put spread as another, in one memory store) stand for two running guards.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { SystemClock } from '../../src/adapters/clock/system-clock.js';
import { MemoryStore } from '../../src/adapters/store/memory-store.js';
import { parseConfig } from '../../src/app/config.js';
import { LegguardError } from '../../src/core/errors.js';
import { AccountId, IncidentId } from '../../src/core/ids.js';
import { EpochMs } from '../../src/core/quantity.js';
import type { EdgeApi } from '../../src/web/edge-api.js';
import { guardEdgeApi, sortedGuards, type RunningGuard } from '../../src/web/guard-edge-api.js';
import { guardMetrics } from '../../src/web/guard-edge.js';
import { CONDOR_ACCOUNT, SPREAD_ACCOUNT, twoAccountRecord } from '../support/two-account-record.js';

const store = new MemoryStore();
const woken: string[] = [];
let guards: RunningGuard[];
let api: EdgeApi;

before(async () => {
  await store.init();
  const { condor, spread } = await twoAccountRecord(store);
  const real = new SystemClock();
  // The condor's guard holds its lock; the spread's does not (its guard lost it).
  await store.acquireLock(CONDOR_ACCOUNT, 'box/1', EpochMs.unsafe(real.now()), 60_000);
  guards = [
    // Listed out of order: the edge sorts them.
    { account: SPREAD_ACCOUNT, engine: spread.engine, lockOwner: 'box/2', tradingStateWritten: () => woken.push(SPREAD_ACCOUNT) },
    { account: CONDOR_ACCOUNT, engine: condor.engine, lockOwner: 'box/1', tradingStateWritten: () => woken.push(CONDOR_ACCOUNT) },
  ];
  const config = parseConfig(`account: ${CONDOR_ACCOUNT}\n`, 'test', {}, Date.now());
  api = guardEdgeApi({ guards, store, config, storeName: 'memory', real, metrics: guardMetrics(guards, store) });
});
after(() => store.close());

test('reads: every account unless one is named; one not guarded here is NOT_FOUND naming those that are', async () => {
  assert.deepEqual(await api.accounts(), [CONDOR_ACCOUNT, SPREAD_ACCOUNT]);
  // From the engines' memory: both CLOSED; each account's critical incident waits.
  assert.deepEqual(
    (await api.summaries()).map((x) => `${x.account} ${x.tradingState} ${x.strategies} ${JSON.stringify(x.attention)} ${x.unacknowledged}`),
    [`${CONDOR_ACCOUNT} ACTIVE 1 {} 1`, `${SPREAD_ACCOUNT} ACTIVE 1 {} 1`],
  );
  const all = (await api.status(null)) as { account: string; accounts: { account: string; strategies: { id: string }[] }[] };
  assert.deepEqual(all.accounts.map((r) => `${r.account} ${r.strategies.map((s) => s.id).join(' ')}`), [`${CONDOR_ACCOUNT} ic-spy`, `${SPREAD_ACCOUNT} bps-spy`]);
  assert.equal(((await api.status(SPREAD_ACCOUNT)) as { account: string }).account, SPREAD_ACCOUNT);
  assert.deepEqual((await api.payoff(null)).strategies.map((p) => `${p.account} ${p.id}`), [`${CONDOR_ACCOUNT} ic-spy`, `${SPREAD_ACCOUNT} bps-spy`]);
  assert.ok((await api.history(CONDOR_ACCOUNT)).entries.every((e) => e.account === CONDOR_ACCOUNT));
  const unknown = AccountId.parse('DU9');
  await assert.rejects(api.status(unknown), (e: unknown) => LegguardError.is(e, 'NOT_FOUND') && e.message === `no account DU9 in this guard; its accounts: ${CONDOR_ACCOUNT}, ${SPREAD_ACCOUNT}`);
  await assert.rejects(api.ack(unknown, IncidentId.parse('x'), 'alice'), (e: unknown) => LegguardError.is(e, 'NOT_FOUND'));
});

test('health: each account with its own lock; the whole is healthy only when every account is', async () => {
  const h = await api.health(null);
  assert.equal(h.ok, false, "the spread's guard lost its lock");
  assert.deepEqual(h.accounts.map((a) => [a.account, a.store.ok]), [[CONDOR_ACCOUNT, true], [SPREAD_ACCOUNT, false]]);
  assert.match(h.store.detail, new RegExp(`^${SPREAD_ACCOUNT}: the guard lost its lock`));
  const condor = await api.health(CONDOR_ACCOUNT);
  assert.deepEqual(condor.accounts.map((a) => a.account), [CONDOR_ACCOUNT]);
  assert.equal(condor.store.ok, true);
});

test("mutations: the account named, and only its guard woken; the other account's state untouched", async () => {
  const r = await api.setTradingState(SPREAD_ACCOUNT, 'HALTED', 'checking', 'alice');
  assert.equal(r.after.state, 'HALTED');
  assert.deepEqual(woken, [SPREAD_ACCOUNT]);
  assert.equal((await store.tradingState(SPREAD_ACCOUNT)).state, 'HALTED');
  assert.equal((await store.tradingState(CONDOR_ACCOUNT)).state, 'ACTIVE');
  const waiting = (await store.unackedCritical(CONDOR_ACCOUNT))[0]!;
  await assert.rejects(api.ack(SPREAD_ACCOUNT, waiting.incidentId, 'alice'), /no alert of DU0000002 names incident/, "the other account's incident is not this one's");
  assert.equal((await api.ack(CONDOR_ACCOUNT, waiting.incidentId, 'alice')).wasWaiting, true);
});

test('events: each entry with its account; unsubscribing stops all', () => {
  const got: object[] = [];
  const off = api.subscribe((e) => got.push(e));
  guards[0]!.engine.emit({ kind: 'note', at: EpochMs.unsafe(1), strategyId: null, text: 'from the spread' });
  guards[1]!.engine.emit({ kind: 'note', at: EpochMs.unsafe(2), strategyId: null, text: 'from the condor' });
  off();
  guards[0]!.engine.emit({ kind: 'note', at: EpochMs.unsafe(3), strategyId: null, text: 'after' });
  assert.deepEqual(got.map((e) => `${(e as { account: string }).account} ${(e as { text: string }).text}`), [`${SPREAD_ACCOUNT} from the spread`, `${CONDOR_ACCOUNT} from the condor`]);
});

test("a guard the daemon restarts: its account unhealthy while it is down; the event stream follows the daemon's timeline, not one engine", async () => {
  const relay: ((e: object) => void)[] = [];
  let running = false;
  const restarting: RunningGuard = {
    ...guards[0]!,
    get running() {
      return running;
    },
    onTimeline: (fn) => {
      relay.push(fn as (e: object) => void);
      return () => relay.splice(relay.indexOf(fn as (e: object) => void), 1);
    },
  };
  const config = parseConfig(`account: ${CONDOR_ACCOUNT}\n`, 'test', {}, Date.now());
  const edge = guardEdgeApi({ guards: [restarting], store, config, storeName: 'memory', real: new SystemClock(), metrics: guardMetrics([restarting], store) });
  const down = await edge.health(null);
  assert.equal(down.ok, false);
  assert.match(down.store.detail, /the guard of DU0000002 stopped and is being restarted: DU0000002 is not guarded now/);
  running = true;
  assert.doesNotMatch((await edge.health(null)).store.detail, /being restarted/);
  const got: object[] = [];
  const before = relay.length; // the metrics listen there too
  const off = edge.subscribe((e) => got.push(e));
  guards[0]!.engine.emit({ kind: 'note', at: EpochMs.unsafe(4), strategyId: null, text: 'old engine' });
  for (const l of relay) l({ kind: 'note', at: 5, strategyId: null, text: 'via the daemon' });
  off();
  assert.equal(relay.length, before, 'unsubscribed');
  assert.deepEqual(got.map((e) => (e as { text: string }).text), ['via the daemon']);
});

test('composition errors: no guard, an account twice, an engine of another account', () => {
  assert.throws(() => sortedGuards([]), /at least one running guard/);
  assert.throws(() => sortedGuards([guards[0]!, guards[0]!]), /got account DU0000002 twice/);
  assert.throws(() => sortedGuards([{ ...guards[0]!, account: CONDOR_ACCOUNT }]), /the guard listed for DU0000001 guards DU0000002/);
});
