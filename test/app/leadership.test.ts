// The leader's side of the lease when time runs out on it: a store that stops answering (a partition drops packets:
// a renewal neither comes back nor fails), a process blocked past its lease with nobody taking over (a long start-up
// or GC pause), and a freeze during which a standby took over. The guard counts its lease on its own monotonic clock
// and sends nothing once it ran out; it goes on leading only when the store confirms nobody else took the lease.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from '../../src/adapters/store/memory-store.js';
import { AccountId, BrokerOrderId } from '../../src/core/ids.js';
import { Leadership } from '../../src/app/leadership.js';
import { LeaderBroker } from '../../src/app/leader-broker.js';
import type { BrokerPort } from '../../src/ports/broker.js';

const ACCT = AccountId.unsafe('DU0000001');

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 20));
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await tick();
}

function leadershipOn(store: MemoryStore, clock: { perf: number }, lost: string[], logs: string[] = [], holder = 'machine-a/1'): Leadership {
  return new Leadership({
    store,
    account: ACCT,
    holder,
    leaseMs: 6000,
    renewMs: 100,
    perf: () => clock.perf,
    log: (_level, text) => logs.push(text),
    onLost: (reason) => lost.push(reason),
  });
}

/** A broker whose cancels are counted: the command LeaderBroker lets through or holds back. */
function countingBroker(): { broker: BrokerPort; cancels: string[] } {
  const cancels: string[] = [];
  const broker = {
    cancelOrder: (id: BrokerOrderId) => {
      cancels.push(String(id));
      return Promise.resolve();
    },
  } as unknown as BrokerPort;
  return { broker, cancels };
}

test('a renewal that never comes back: the lease runs out on the monotonic clock, the guard stops leading and says why', async () => {
  const store = new MemoryStore();
  await store.init();
  const clock = { perf: 0 };
  let renewals = 0;
  store.renewLease = () => {
    renewals++;
    return new Promise(() => undefined); // the store cut off: no answer, no error
  };
  const lost: string[] = [];
  const leadership = leadershipOn(store, clock, lost);
  await leadership.acquire({ wait: false, isDead: () => false });
  leadership.start();
  try {
    await until(() => renewals > 0);
    assert.equal(leadership.isLeader(), true, 'within its lease, it leads though the renewal hangs');
    clock.perf = 5600; // past leaseMs less its margin, counted from when the lease was asked for
    assert.equal(leadership.isLeader(), false, 'once the lease ran out it does not lead, before the store has answered');
    const decided = leadership.whenLeading();
    clock.perf = 5700; // one renewal interval later, the store still silent
    await until(() => lost.length > 0);
    assert.match(lost[0]!, /the lease was not renewed within 6000 ms/);
    assert.equal(await decided, false, 'a command waiting on the lapse is refused');
    assert.equal(leadership.isLeader(), false);
    assert.equal(renewals, 1, 'no second renewal was sent while the first hung');
  } finally {
    await leadership.release().catch(() => undefined);
  }
});

test('blocked past its lease with nobody taking over (a long start-up): the store confirms the epoch, the guard goes on leading and says so', async () => {
  const store = new MemoryStore();
  await store.init();
  const clock = { perf: 0 };
  const lost: string[] = [];
  const logs: string[] = [];
  const leadership = leadershipOn(store, clock, lost, logs);
  const got = await leadership.acquire({ wait: false, isDead: () => false });
  const { broker, cancels } = countingBroker();
  const leaderBroker = new LeaderBroker(broker, leadership);
  try {
    clock.perf = 20_000; // the event loop was blocked for 20 s: no renewal could run
    const sent = leaderBroker.cancelOrder(BrokerOrderId.unsafe('7'));
    assert.deepEqual(cancels, [], 'nothing goes to the broker before the store has answered');
    await sent;
    assert.deepEqual(cancels, ['7'], 'sent once the store confirmed this guard still leads');
    assert.deepEqual(lost, []);
    assert.equal(leadership.isLeader(), true);
    assert.equal(leadership.epoch, got.lease.epoch, 'at the same epoch: nobody led in between');
    assert.ok(logs.some((l) => /lapsed for \d+ ms and nobody took it: still leading at epoch 1/.test(l)), logs.join('\n'));
  } finally {
    await leadership.release().catch(() => undefined);
  }
});

test('a renewal asked before the block comes back after it: its lease is already over, so the guard asks again before it leads', async () => {
  const store = new MemoryStore();
  await store.init();
  const clock = { perf: 0 };
  const renew = store.renewLease.bind(store);
  const answers: (() => void)[] = [];
  let renewals = 0;
  store.renewLease = (...args) => {
    renewals++;
    if (renewals === 1) return new Promise((resolve, reject) => answers.push(() => void renew(...args).then(resolve, reject)));
    return renew(...args);
  };
  const lost: string[] = [];
  const leadership = leadershipOn(store, clock, lost);
  await leadership.acquire({ wait: false, isDead: () => false });
  leadership.start();
  try {
    await until(() => renewals === 1); // asked at perf 0
    clock.perf = 9000; // then blocked 9 s
    assert.equal(leadership.isLeader(), false);
    const decided = leadership.whenLeading();
    answers[0]!(); // the old answer arrives: it proves the lease until 0 + 6000 only
    assert.equal(await decided, true);
    assert.ok(renewals >= 2, 'a fresh renewal was asked after the lapse');
    assert.equal(leadership.isLeader(), true);
    assert.deepEqual(lost, []);
  } finally {
    await leadership.release().catch(() => undefined);
  }
});

test('frozen past its lease while a standby took over: on waking the store says FENCED, nothing is sent, the guard steps down', async () => {
  const store = new MemoryStore();
  await store.init();
  const clock = { perf: 0 };
  const lost: string[] = [];
  const leadership = leadershipOn(store, clock, lost);
  await leadership.acquire({ wait: false, isDead: () => false });
  const standby = leadershipOn(store, { perf: 0 }, [], [], 'machine-b/2');
  const took = await standby.acquire({ wait: false, isDead: (h) => h === 'machine-a/1' });
  assert.equal(took.lease.epoch, 2);
  const { broker, cancels } = countingBroker();
  const leaderBroker = new LeaderBroker(broker, leadership);
  try {
    clock.perf = 30_000;
    await assert.rejects(leaderBroker.cancelOrder(BrokerOrderId.unsafe('9')), /not sent: this guard is not the account's leader/);
    assert.deepEqual(cancels, [], 'the frozen leader sent nothing');
    assert.equal(lost.length, 1);
    assert.match(lost[0]!, /epoch|FENCED|leads/i);
    assert.equal(leadership.isLeader(), false);
  } finally {
    await leadership.release().catch(() => undefined);
    await standby.release().catch(() => undefined);
  }
});
