import { LegguardError } from '../core/errors.js';
import type { AccountHealth, HealthReport } from './edge-api.js';

/**
 * `/healthz` over several accounts: healthy only when every account is. The top level says the worst of them (the
 * broker down if any account's link is, the oldest reconciliation, the first store problem), in the one-account
 * shape a probe already reads; `accounts` says each.
 */
export function combinedHealth(mode: HealthReport['mode'], each: readonly AccountHealth[]): HealthReport {
  if (each.length === 0) throw new LegguardError('INTERNAL', 'health of no account');
  if (each.length === 1) {
    const [a] = each as [AccountHealth];
    return { ok: a.ok, mode, broker: a.broker, lastReconciledAt: a.lastReconciledAt, lastReconciledAgeMs: a.lastReconciledAgeMs, store: a.store, accounts: each };
  }
  const oldest = each.reduce((worst, a) => (worst.lastReconciledAt === null ? worst : a.lastReconciledAt === null || a.lastReconciledAt < worst.lastReconciledAt ? a : worst));
  const badStores = each.filter((a) => !a.store.ok);
  const brokers = each.map((a) => a.broker).filter((b) => b !== null);
  return {
    ok: each.every((a) => a.ok),
    mode,
    broker: brokers.length === 0 ? null : { connected: brokers.every((b) => b.connected) },
    lastReconciledAt: oldest.lastReconciledAt,
    lastReconciledAgeMs: oldest.lastReconciledAgeMs,
    store:
      badStores.length === 0
        ? { ok: true, detail: each[0]!.store.detail }
        : { ok: false, detail: badStores.map((a) => `${a.account}: ${a.store.detail}`).join('; ') },
    accounts: each,
  };
}
