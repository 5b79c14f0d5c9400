import { parseScenario } from '../../src/adapters/sim/load-scenario.js';
import { MemoryStore } from '../../src/adapters/store/memory-store.js';
import { replay, type ReplayResult } from '../../src/app/replay.js';
import type { StorePort } from '../../src/ports/store.js';

/**
 * Plays a scenario given as YAML text against the guard on a memory store (or the store given), returning the
 * report, the timeline and the engine for assertions.
 */
export async function play(yaml: string, opts: { store?: StorePort; file?: string } = {}): Promise<ReplayResult> {
  const scenario = parseScenario(yaml, opts.file ?? 'test.yaml');
  const store = opts.store ?? new MemoryStore();
  if (!opts.store) await store.init();
  try {
    return await replay({ scenario, store });
  } finally {
    if (!opts.store) await store.close();
  }
}

/** The iron condor the seed analysis starts from, on SPY, expiring `expiry`. */
export function ironCondor(id: string, expiry = '2026-01-30', qty = 2): string {
  return `  - id: ${id}
    legs:
      - { symbol: SPY, right: P, strike: 440, expiry: "${expiry}", qty: ${-qty} }
      - { symbol: SPY, right: P, strike: 435, expiry: "${expiry}", qty: ${qty} }
      - { symbol: SPY, right: C, strike: 460, expiry: "${expiry}", qty: ${-qty} }
      - { symbol: SPY, right: C, strike: 465, expiry: "${expiry}", qty: ${qty} }
`;
}
