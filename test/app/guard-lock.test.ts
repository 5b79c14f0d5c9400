import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { MemoryStore } from '../../src/adapters/store/memory-store.js';
import { lockOwner, ownerIsDead, processRuns, takeGuardLock } from '../../src/app/guard-lock.js';
import { LegguardError } from '../../src/core/errors.js';
import { AccountId } from '../../src/core/ids.js';
import { EpochMs } from '../../src/core/quantity.js';

const ACCT = AccountId.unsafe('DU0000001');
const now = EpochMs.unsafe(Date.parse('2026-01-28T10:00:00Z'));

/** The pid of a process that ran and is gone. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

test('a holder is dead only when it is on this machine and its process does not run', () => {
  const gone = deadPid();
  assert.equal(processRuns(process.pid), true, 'this process runs');
  assert.equal(processRuns(gone), false, `pid ${gone} has exited`);
  assert.equal(ownerIsDead(`box/${gone}`, 'box'), true);
  assert.equal(ownerIsDead(`box/${process.pid}`, 'box'), false, 'a running holder');
  assert.equal(ownerIsDead(`other-box/${gone}`, 'box'), false, 'another machine: cannot tell');
  assert.equal(ownerIsDead('not an owner', 'box'), false);
  assert.equal(lockOwner('box', 42), 'box/42');
});

test('the lock of a dead guard on this machine is taken over; a live holder still refuses with LOCK_HELD naming it', async () => {
  const store = new MemoryStore();
  await store.init();
  const lines: string[] = [];
  await store.acquireLock(ACCT, 'box/1001', now, 30_000);

  await assert.rejects(
    takeGuardLock(store, ACCT, 'box/2002', now, 30_000, (l) => lines.push(l), () => false),
    (e) => LegguardError.is(e, 'LOCK_HELD') && e.exitCode === 5 && e.message.includes('"box/1001"'),
  );
  assert.equal((await store.lockHolder(ACCT))?.owner, 'box/1001', 'a live holder keeps it');

  await takeGuardLock(store, ACCT, 'box/2002', now, 30_000, (l) => lines.push(l), (o) => o === 'box/1001');
  assert.equal((await store.lockHolder(ACCT))?.owner, 'box/2002');
  assert.deepEqual(lines, ['the lock for DU0000001 was held by box/1001, which no longer runs on this machine: taking it over']);
  await store.close();
});
