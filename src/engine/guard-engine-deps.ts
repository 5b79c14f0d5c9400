import type { RiskInputs } from './risk-rules.js';
import type { AccountId } from '../core/ids.js';
import type { Rule } from '../core/rules/rule.js';
import type { AlertsPort } from '../ports/alerts.js';
import type { BrokerPort } from '../ports/broker.js';
import type { Clock } from '../ports/clock.js';
import type { StorePort } from '../ports/store.js';
import type { CrashPoint, Logger } from './engine-host.js';
import type { GuardConfig } from './guard-config.js';

/** What a guard engine is built from: the account it guards, its ports, its configuration and rules. */
export interface GuardEngineDeps {
  readonly account: AccountId;
  readonly broker: BrokerPort;
  readonly store: StorePort;
  readonly alerts: AlertsPort;
  readonly clock: Clock;
  readonly config: GuardConfig;
  readonly log?: Logger;
  /** Rules for open strategies; the time exit from `config.timeExitDte` when not given. */
  readonly rules?: readonly Rule[];
  /** Rate, volatilities and dividends for the early-assignment rules (config `market:`/`dividends:`, a scenario). */
  readonly riskInputs?: RiskInputs;
  /**
   * Strategies per slice of a rule pass (default 250): between slices a broker event goes first. `Infinity` runs a
   * pass as one step, as before slicing (the bench's baseline).
   */
  readonly ruleSlice?: number;
  /** Called when a broken invariant stops the engine (crash-only: the caller exits; a restart reconciles). */
  readonly onFatal?: (e: unknown) => void;
  /**
   * Fault injection for crash drills: called at the moments a crash matters most. Only the drills' entry point
   * (test/support/legguard-drill.mjs) sets it; production code never does.
   */
  readonly crashPoint?: (point: CrashPoint) => void;
  /**
   * The leader lease's epoch this engine runs under (`legguard run`): every commit carries it and the store refuses
   * one from an older epoch (FENCED, which stops the engine). Absent: commits are not fenced (one guard, tests).
   */
  readonly epoch?: number;
  /** Pick up strategies added to (or removed from) the store by the CLI while running, at every reconciliation. */
  readonly watchStore?: boolean;
}
