import { LegguardError } from '../../core/errors.js';
import { AccountId } from '../../core/ids.js';
import type { EpochMs } from '../../core/quantity.js';
import type { LeaseInfo } from '../../ports/store.js';
import { checkText, storedInt } from './store-codec.js';
import type { LeaseTable } from './store-tables.js';

/** The lease rules, written once for the SQL and the memory store: what an acquire does to the row it read. */
export type LeaseStep =
  | { readonly kind: 'extend'; readonly row: LeaseTable }
  | { readonly kind: 'take'; readonly row: LeaseTable }
  | { readonly kind: 'refused'; readonly row: LeaseTable };

/**
 * Decides an acquire at the store's `now`: a live lease of `holder` is extended at its epoch; no lease, a lapsed one,
 * or one held by `takeFrom` is taken at the next epoch; another holder's live lease refuses.
 */
export function leaseStep(current: LeaseTable | undefined, account: string, holder: string, now: number, ttlMs: number, takeFrom: string | undefined): LeaseStep {
  const live = current !== undefined && current.holder !== '' && current.lease_until > now;
  if (current !== undefined && live && current.holder === holder) {
    return { kind: 'extend', row: { ...current, lease_until: now + ttlMs } };
  }
  if (current === undefined || !live || (takeFrom !== undefined && current.holder === takeFrom)) {
    return { kind: 'take', row: { account, holder, epoch: (current?.epoch ?? 0) + 1, acquired_at: now, lease_until: now + ttlMs } };
  }
  return { kind: 'refused', row: current };
}

export function checkLeaseArgs(account: AccountId, holder: string, ttlMs?: number, epoch?: number | null): void {
  AccountId.parse(account);
  checkText(holder, 'lease holder', { nonEmpty: true });
  if (ttlMs !== undefined && (!Number.isSafeInteger(ttlMs) || ttlMs <= 0)) {
    throw new LegguardError('INVALID_INPUT', `lease ttlMs must be a positive whole number of milliseconds; got ${ttlMs}`);
  }
  if (epoch !== undefined && epoch !== null) checkEpoch(epoch);
}

export function checkEpoch(epoch: unknown): number {
  if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch <= 0) {
    throw new LegguardError('INVALID_INPUT', `lease epoch must be a positive whole number; got ${String(epoch)}`);
  }
  return epoch;
}

export function leaseFromRow(r: LeaseTable, now: number, where: string): LeaseInfo {
  const at = `${where}: legguard_leases ${r.account}`;
  return {
    holder: r.holder,
    epoch: storedInt(r.epoch, `${at} epoch`),
    acquiredAt: storedInt(r.acquired_at, `${at} acquired_at`) as EpochMs,
    leaseUntil: storedInt(r.lease_until, `${at} lease_until`) as EpochMs,
    now: now as EpochMs,
  };
}

/** FENCED for a commit or a renewal at `epoch` when the account's lease is at another epoch (or was never taken). */
export function fencedError(account: string, epoch: number, current: LeaseTable | undefined, where: string, what: 'commit' | 'renew'): LegguardError {
  const now =
    current === undefined || current.holder === ''
      ? 'no guard holds the lease'
      : `the lease is at epoch ${current.epoch}, held by ${JSON.stringify(current.holder)}`;
  const verb = what === 'commit' ? 'refused a commit' : 'refused to renew the lease';
  return new LegguardError(
    'FENCED',
    `${where}: ${verb} from epoch ${epoch} for account ${account}: ${now}. This guard is no longer the leader; it must send nothing and step down.`,
    { account, epoch, currentEpoch: current?.epoch ?? null, holder: current?.holder ?? null },
  );
}
