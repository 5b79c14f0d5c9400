// Two accounts' records in one store, made by the engine itself: the seed iron condor (assigned overnight, closed)
// replayed as one account and the put spread (short assigned, long exercised) as another, with their timelines.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseScenario } from '../../src/adapters/sim/load-scenario.js';
import { replay, type ReplayResult } from '../../src/app/replay.js';
import type { AccountId } from '../../src/core/ids.js';
import type { TimelineEntry } from '../../src/engine/timeline.js';
import type { StorePort } from '../../src/ports/store.js';

export const CONDOR_ACCOUNT = 'DU0000001' as AccountId;
export const SPREAD_ACCOUNT = 'DU0000002' as AccountId;
const CONDOR = fileURLToPath(new URL('../../scenarios/iron-condor-put-assigned.yaml', import.meta.url));
const SPREAD = fileURLToPath(new URL('../../scenarios/put-spread-short-assigned-long-exercised.yaml', import.meta.url));

/** A seed scenario replayed as `account` (its file names DU0000001). */
export function replayAs(file: string, account: AccountId, store: StorePort, onTimeline?: (e: TimelineEntry) => void): Promise<ReplayResult> {
  const text = readFileSync(file, 'utf8').replace(/^account: .*$/m, `account: ${account}`);
  return replay({ scenario: parseScenario(text, file), store, ...(onTimeline ? { onTimeline } : {}) });
}

/** The condor as CONDOR_ACCOUNT and the put spread as SPREAD_ACCOUNT, into `store`. */
export async function twoAccountRecord(store: StorePort): Promise<{ condor: ReplayResult; spread: ReplayResult }> {
  const condor = await replayAs(CONDOR, CONDOR_ACCOUNT, store);
  const spread = await replayAs(SPREAD, SPREAD_ACCOUNT, store);
  return { condor, spread };
}

export const SCENARIO_FILES = { condor: CONDOR, spread: SPREAD } as const;
