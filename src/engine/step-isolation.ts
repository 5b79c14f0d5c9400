import { LegguardError } from '../core/errors.js';
import type { IncidentId, StrategyId } from '../core/ids.js';
import type { Alert, Severity } from '../ports/alerts.js';
import type { StoreBatch } from '../ports/store.js';
import type { LogLevel } from './engine-host.js';

/** What step isolation needs of the engine: the log, alerts stamped by its clock, the store and the alerts port. */
export interface IsolationHost {
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
  makeAlert(
    severity: Severity,
    key: string,
    title: string,
    text: string,
    strategyId: StrategyId | null,
    incidentId: IncidentId | null,
    facts: Record<string, string | number | boolean | null>,
  ): Alert;
  commit(batch: Omit<StoreBatch, 'account'>): Promise<void>;
  raise(alerts: readonly Alert[]): void;
  /** The incident the strategy is in, for the alert; null when none (or the strategy is unknown). */
  incidentOf(id: StrategyId): IncidentId | null;
}

/**
 * Step isolation: one strategy's part of a step (its detection, rules, fills, order statuses, settling, resuming)
 * runs inside `run`. A failure there (a bug, a record the code did not expect, a transition the state machine
 * refuses) is that strategy's alone: it is logged and raised as a critical alert naming the strategy and the error,
 * once per distinct error, and the step goes on with the other strategies, which stay guarded. Only a failure
 * outside any strategy's part reaches the queue's handler (`stopsTheGuard`).
 */
export class StepIsolation {
  /** Alert keys of failures raised by this process: each is raised once. */
  private readonly raised = new Set<string>();

  constructor(private readonly h: IsolationHost) {}

  async run(id: StrategyId, what: string, step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (err) {
      // Not this strategy's failure: the store says another guard leads. The whole guard steps down.
      if (LegguardError.is(err, 'FENCED')) throw err;
      const message = err instanceof Error ? err.message : String(err);
      const code = LegguardError.is(err) ? err.code : 'INTERNAL';
      this.h.log('error', `${id}: ${what} failed: ${message}`, { strategyId: id, step: what, code });
      const key = `step-failed:${id}:${what}:${message}`;
      if (this.raised.has(key)) return;
      this.raised.add(key);
      const alert = this.h.makeAlert(
        'critical',
        key,
        `GUARD ERROR: ${id}`,
        `${id}: the guard's ${what} step failed (${code}: ${message}). Nothing more is done for ${id} in this step; a person must check it. The other strategies are still guarded.`,
        id,
        this.h.incidentOf(id),
        { strategyId: id, step: what, code, error: message },
      );
      try {
        await this.h.commit({ alerts: [alert] });
      } catch (e) {
        this.h.log('error', `could not store the alert for ${id}: ${e instanceof Error ? e.message : String(e)}`);
      }
      this.h.raise([alert]);
    }
  }
}

/**
 * Whether a failure that reached the engine's queue (outside every strategy's isolated part) stops the guard:
 * a commit the store fenced (another guard leads), a broken invariant, a refused transition or an error that is not the guard's own (a bug). Crash-only: the caller
 * exits and a restart reconciles from the store and the broker. A known error (a broker timeout ...) is logged only.
 */
export function stopsTheGuard(e: unknown): boolean {
  return LegguardError.is(e, 'FENCED') || LegguardError.is(e, 'INVARIANT_BROKEN') || LegguardError.is(e, 'INVALID_TRANSITION') || !LegguardError.is(e);
}
