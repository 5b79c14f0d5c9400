import { hostname } from 'node:os';
import { LegguardError } from '../core/errors.js';
import type { AccountId } from '../core/ids.js';
import type { EpochMs } from '../core/quantity.js';
import type { StorePort } from '../ports/store.js';

/**
 * The lock owner (and lease holder) a guard writes: `<host>/<pid>`, so a person (and the next guard) can tell which
 * process holds it. `LEGGUARD_HOST_NAME` names the machine instead of its hostname: two machines that share a
 * hostname must set it, or each would take the other's guard for one of its own that died.
 */
export function lockOwner(host = machineName(process.env), pid = process.pid): string {
  return `${host}/${pid}`;
}

/** This machine as leases and locks name it: `LEGGUARD_HOST_NAME`, else the hostname. */
export function machineName(env: NodeJS.ProcessEnv): string {
  const named = env.LEGGUARD_HOST_NAME?.trim();
  return named !== undefined && /^[A-Za-z0-9._-]{1,64}$/.test(named) ? named : hostname();
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
export function ownerIsDead(owner: string, host = machineName(process.env), runs: (pid: number) => boolean = processRuns): boolean {
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

/**
 * Takes the account's lock for the guard that now leads (it holds the lease): whoever held the lock before no longer
 * leads (its lease lapsed or was taken), so its lock is replaced, and its refresh fails, which makes it step down too.
 */
export async function takeLockAsLeader(store: StorePort, account: AccountId, owner: string, now: EpochMs, ttlMs: number, log: (text: string) => void): Promise<void> {
  try {
    await store.acquireLock(account, owner, now, ttlMs);
  } catch (e) {
    if (!LegguardError.is(e, 'LOCK_HELD')) throw e;
    const holder = await store.lockHolder(account);
    if (holder !== null) {
      log(`the lock for ${account} was held by ${holder.owner}, which no longer leads: this guard holds the lease, it takes the lock`);
      await store.releaseLock(account, holder.owner);
    }
    await store.acquireLock(account, owner, now, ttlMs);
  }
}
