import type { TradingState } from '../core/gate.js';
import type { AccountId } from '../core/ids.js';
import type { StorePort } from '../ports/store.js';

/** Strategy states that need a person to look. */
const ATTENTION: ReadonlySet<string> = new Set(['BROKEN', 'EMERGENCY_CLOSING', 'NEEDS_ATTENTION']);

/**
 * One line's worth about an account, for the dashboard's account selector: its trading state, how many strategies it
 * has and how many of them need a person, and its critical incidents nobody acknowledged. Much cheaper than its full
 * status (no journal, no history), so a page can ask it of every account at each refresh.
 */
export interface AccountSummary {
  readonly account: string;
  readonly tradingState: TradingState;
  readonly strategies: number;
  /** `{ BROKEN: 1 }`: the strategies in a state that needs a person, by state (none: `{}`). */
  readonly attention: Readonly<Record<string, number>>;
  readonly unacknowledged: number;
}

/** The summary from what the caller knows of the strategies and trading state; the incidents from the store. */
export async function accountSummary(
  store: StorePort,
  account: AccountId,
  states: Iterable<string>,
  tradingState: TradingState,
): Promise<AccountSummary> {
  let strategies = 0;
  const attention: Record<string, number> = {};
  for (const s of states) {
    strategies++;
    if (ATTENTION.has(s)) attention[s] = (attention[s] ?? 0) + 1;
  }
  const unacknowledged = (await store.unackedCritical(account)).length;
  return { account, tradingState, strategies, attention, unacknowledged };
}
