import { compactContract } from '../core/compact-contract.js';
import { contractKey } from '../core/contract.js';
import { joinReasons, type Detection } from '../core/detection.js';
import type { IncidentId, StrategyId } from '../core/ids.js';
import type { JournalEntry } from '../ports/store.js';
import type { EngineContext } from './engine-host.js';
import { primaryDetection } from './incident.js';

/**
 * One journal entry for what one strategy's change was made of (an assignment is two detections: the option and the
 * stock it delivers), rather than one per detection: the stock's reason repeats the option's, and a burst of a
 * thousand assignments journals a thousand of these in the commit of its plans. The data leads with the primary
 * detection's cause and kind and the reasons joined (what a reader of the record shows), then every detection, each
 * without the strategy the entry names and with its contracts compact (core/compact-contract.ts). The key is
 * `<prefix>:<broker time>:<contract keys>`, so the same change journaled again is the same entry.
 */
export function detectionJournal(
  ctx: Pick<EngineContext, 'journal'>,
  prefix: string,
  ds: readonly Detection[],
  strategyId: StrategyId,
  incidentId: IncidentId | null,
): JournalEntry {
  const primary = primaryDetection(ds);
  const data = {
    cause: primary.cause,
    kind: primary.kind,
    reason: joinReasons(ds),
    detections: ds.map(({ strategyId: s, contract, settles, ...rest }) => ({
      ...(s === strategyId ? {} : { strategyId: s }),
      contract: compactContract(contract),
      settles: settles === null ? null : compactContract(settles),
      ...rest,
    })),
  };
  const key = `${prefix}:${primary.brokerAt}:${ds.map((d) => contractKey(d.contract)).join(',')}`;
  return ctx.journal('detection', key, data, strategyId, incidentId);
}
