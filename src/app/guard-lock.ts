import { hostname } from 'node:os';
import { LegguardError } from '../core/errors.js';
import type { AccountId } from '../core/ids.js';
import type { EpochMs } from '../core/quantity.js';
import type { StorePort } from '../ports/store.js';

/** The lock owner a guard writes: `<host>/<pid>`, so a person (and the next guard) can tell which process holds it. */
export function lockOwner(host = hostname(), pid = process.pid): string {
  return `${host}/${pid}`;
}

/** True when a process with this id runs on this machine (one we may not signal still runs). */
export function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether `owner` names a guard process on this machine that no longer runs (killed, crashed, the machine rebooted
 * and the pid is free). A holder on another machine, or one whose pid runs (even if reused), is never called dead.
 */
export function ownerIsDead(owner: string, host = hostname(), runs: (pid: number) => boolean = processRuns): boolean {
  const m = /^(.+)\/(\d+)$/.exec(owner);
  if (!m || m[1] !== host) return false;
  const pid = Number(m[2]);
  return pid !== process.pid && !runs(pid);
}

/**
 * Takes the account's lock. When another owner holds it and that owner is a guard process on this machine that no
 * longer runs, its lock is released and taken: crash-only means the restart after a kill -9 (or an invariant stop)
 * goes straight through start-up and reconciles, instead of waiting out the dead guard's lock (30 s) while
 * assignments may post. A live holder, or one on another machine, still refuses with LOCK_HELD (exit 5) naming it.
 */
export async function takeGuardLock(
  store: StorePort,
  account: AccountId,
  owner: string,
  now: EpochMs,
  ttlMs: number,
  log: (text: string) => void,
  isDead: (owner: string) => boolean = (o) => ownerIsDead(o),
): Promise<void> {
  try {
    await store.acquireLock(account, owner, now, ttlMs);
    return;
  } catch (e) {
    if (!LegguardError.is(e, 'LOCK_HELD')) throw e;
    const holder = await store.lockHolder(account);
    if (holder === null || !isDead(holder.owner)) throw e;
    log(`the lock for ${account} was held by ${holder.owner}, which no longer runs on this machine: taking it over`);
    await store.releaseLock(account, holder.owner);
    await store.acquireLock(account, owner, now, ttlMs);
  }
}
