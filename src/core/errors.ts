/**
 * One error type for the whole project, with a code from one `as const` map (tRPC's TRPCError does the same). The
 * CLI edge alone turns a code into an exit status; the web edge alone into an HTTP status.
 */
export const ErrorCodes = {
  /** Bad input from a person: a config file, a scenario file, a CLI argument. Exit 2. */
  INVALID_INPUT: { exit: 2 },
  /** A config file that does not validate. Exit 2. */
  CONFIG_INVALID: { exit: 2 },
  /** A scenario file that does not validate. Exit 2. */
  SCENARIO_INVALID: { exit: 2 },
  /** A request to the HTTP edge without the right `Authorization: Bearer` token (HTTP 401). */
  UNAUTHORIZED: { exit: 2 },
  /** A request the HTTP edge does not allow at all: mutations with no token configured, a read-only dashboard (403). */
  FORBIDDEN: { exit: 2 },
  /** Something asked for does not exist (a strategy id, an incident). */
  NOT_FOUND: { exit: 3 },
  /** A state transition the strategy state machine does not allow. A programming error: stop the process. */
  INVALID_TRANSITION: { exit: 70 },
  /** A broken invariant (the book does not add up, a planned order would fail the gate). Stop; restart reconciles. */
  INVARIANT_BROKEN: { exit: 70 },
  /** The pre-trade gate refused an order. */
  GATE_REJECTED: { exit: 1 },
  /** The broker refused or could not take a request. */
  BROKER_REJECTED: { exit: 1 },
  /** Not connected to the broker. */
  BROKER_DISCONNECTED: { exit: 1 },
  /** Connected, but the broker did not answer a request in time (a slow or stuck TWS): retried, not a disconnect. */
  BROKER_TIMEOUT: { exit: 1 },
  /**
   * TWS / IB Gateway could not be reached, or stopped answering, for a command that only reads (`legguard risk
   * --config`): exit 7, so that cron tells "cannot tell" from "at risk" (1).
   */
  BROKER_UNREACHABLE: { exit: 7 },
  /** A malformed frame or message on the TWS wire protocol. */
  PROTOCOL_ERROR: { exit: 1 },
  /** The store file is not a legguard database, or is damaged. */
  STORE_CORRUPT: { exit: 4 },
  /** The store was written by a newer legguard (a migration this version does not know). */
  STORE_NEWER_VERSION: { exit: 4 },
  /** The store cannot be written: read-only directory or file, disk full. */
  STORE_UNWRITABLE: { exit: 4 },
  /** The store's server cannot be reached (Postgres down, wrong URL). */
  STORE_UNREACHABLE: { exit: 4 },
  /** Another guard holds the lock for this account on this store. */
  LOCK_HELD: { exit: 5 },
  /**
   * This guard is no longer the account's leader: another guard took the lease (a newer epoch), or this one could not
   * renew it in time. The store refuses its commits and it sends nothing; it steps down. Exit 6 (a restart waits as
   * a standby with `legguard run --standby`).
   */
  FENCED: { exit: 6 },
  /** An alert channel is misconfigured (bad URL, missing secret). */
  ALERT_CHANNEL_INVALID: { exit: 2 },
  /** An alert could not be delivered on a channel. */
  ALERT_DELIVERY_FAILED: { exit: 1 },
  /** Anything else; a bug. */
  INTERNAL: { exit: 70 },
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export class LegguardError extends Error {
  override readonly name = 'LegguardError';
  readonly code: ErrorCode;
  /** Structured facts for logs and JSON output (file, field, key ...). Never secrets. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.details = details;
  }

  get exitCode(): number {
    return ErrorCodes[this.code].exit;
  }

  static is(e: unknown, code?: ErrorCode): e is LegguardError {
    return e instanceof LegguardError && (code === undefined || e.code === code);
  }
}

/** Throws INVARIANT_BROKEN when `cond` is false. For conditions whose failure means the process must stop. */
export function invariant(cond: unknown, message: string, details: Record<string, unknown> = {}): asserts cond {
  if (!cond) throw new LegguardError('INVARIANT_BROKEN', message, details);
}
