// The leader's side of the lease when the store stops answering (a partition drops packets: a renewal neither comes
// back nor fails). The guard must find out on its own monotonic clock that its lease ran out and step down, though
// the renewal it sent is still waiting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from '../../src/adapters/store/memory-store.js';
import { AccountId } from '../../src/core/ids.js';
import { Leadership } from '../../src/app/leadership.js';

const ACCT = AccountId.unsafe('DU0000001');

test('a renewal that never comes back: the lease runs out on the monotonic clock, the guard stops leading and says why', async () => {
  const store = new MemoryStore();
  await store.init();
  let perf = 0;
  let renewals = 0;
  store.renewLease = () => {
    renewals++;
    return new Promise(() => undefined); // the store cut off: no answer, no error
  };
  let lost: string | null = null;
  const leadership = new Leadership({
    store,
    account: ACCT,
    holder: 'machine-a/1',
    leaseMs: 6000,
    renewMs: 100,
    perf: () => perf,
    log: () => undefined,
    onLost: (reason) => (lost = reason),
  });
  await leadership.acquire({ wait: false, isDead: () => false });
  leadership.start();
  try {
    while (renewals === 0) await new Promise((r) => setTimeout(r, 20));
    assert.equal(leadership.isLeader(), true, 'within its lease, it leads though the renewal hangs');
    perf = 5600; // past leaseMs less its margin, counted from when the lease was asked for
    while (lost === null) await new Promise((r) => setTimeout(r, 20));
    assert.match(lost, /the lease was not renewed within 6000 ms/);
    assert.equal(leadership.isLeader(), false);
    assert.equal(renewals, 1, 'no second renewal was sent while the first hung');
  } finally {
    await leadership.release().catch(() => undefined);
  }
});
