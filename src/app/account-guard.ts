import { AlertService } from '../adapters/alerts/alert-service.js';
import { buildChannels } from '../adapters/alerts/build-channels.js';
import { LockstepClock } from '../adapters/clock/lockstep-clock.js';
import { ScaledClock } from '../adapters/clock/scaled-clock.js';
import { IbBroker } from '../adapters/ib/ib-broker.js';
import { ErrorCodes, LegguardError } from '../core/errors.js';
import type { AccountId } from '../core/ids.js';
import { EpochMs } from '../core/quantity.js';
import type { Alert } from '../ports/alerts.js';
import type { Clock } from '../ports/clock.js';
import type { StorePort } from '../ports/store.js';
import { GuardEngine, type CrashPoint, type LogLevel } from '../engine/guard-engine.js';
import type { TimelineEntry } from '../engine/timeline.js';
import type { AccountConfig, LegguardConfig } from './config.js';
import type { GuardConfig } from '../engine/guard-config.js';
import { ownerIsDead, takeLockAsLeader } from './guard-lock.js';
import { LeaderBroker } from './leader-broker.js';
import { Leadership } from './leadership.js';
import { LockstepDriver } from './lockstep-driver.js';
import { recordClock } from './record-clock.js';
import { guardStrategies } from './replay.js';

/** How long a guard's lock lives without a refresh, and how often it is refreshed. */
export const LOCK_TTL_MS = 30_000;
const LOCK_REFRESH_MS = 10_000;
/**
 * How often a running guard reads the account's trading state from the store (`legguard halt` / `reduce-only` /
 * `resume` write it): on this machine's clock, so a drill's paused scenario time does not hold a halt back.
 */
export const TRADING_STATE_POLL_MS = 1000;

export type ClockChoice = { readonly kind: 'system' } | { readonly kind: 'broker'; readonly speed: number } | { readonly kind: 'lockstep' };

/** One line of a guard's output: a log message or a timeline entry, always naming the account it is about. */
export interface GuardOutput {
  readonly level: LogLevel;
  readonly text: string;
  readonly timeline?: TimelineEntry;
  readonly account: AccountId;
}

export interface AccountGuardOptions {
  /** The whole config: what the accounts share (broker host and port, guard, market, leader). */
  readonly config: LegguardConfig;
  /** The account guarded: its client id, strategies and alerts. */
  readonly account: AccountConfig;
  /** The guard settings as drill timing left them (shared by the accounts). */
  readonly guardConfig: GuardConfig;
  /** The process's store, shared by its accounts (everything in it is keyed by account); the caller closes it. */
  readonly store: StorePort;
  /** This process's lock and lease holder name. */
  readonly owner: string;
  /** This machine's name (a lock held by a dead process on it is taken over). */
  readonly machine: string;
  readonly clock: ClockChoice;
  /** Real time (the lock, the lease, alert delivery). */
  readonly real: Clock;
  readonly env: NodeJS.ProcessEnv;
  readonly out: (entry: GuardOutput) => void;
  readonly crashPoint?: (point: CrashPoint) => void;
  readonly abort?: AbortSignal;
  readonly standby?: boolean;
  /**
   * This guard replaces one of the same process that stopped by itself (the daemon restarts an account alone while
   * the others keep guarding): said in an alert once it guards again.
   */
  readonly restartOf?: { readonly reason: string; readonly code: number };
}

/**
 * One account's guard inside `legguard run`: its own lease and lock on the shared store, alert service (the account's
 * outbox), IB connection (its own client id to the same TWS/Gateway) and engine. It never touches another account's
 * rows, positions or orders.
 */
export interface AccountGuard {
  readonly account: AccountId;
  readonly engine: GuardEngine;
  /** Who holds the account's lock and lease (`host:pid:...`). */
  readonly lockOwner: string;
  /** Reads the account's trading state now (after `legguard halt` ... or the HTTP edge wrote it). */
  readonly tradingStateWritten: () => void;
  /** Stops gracefully: the engine drains its queue, alerts flush, the lock and lease are released. The exit code. */
  stop(reason: string): Promise<number>;
  /** Resolves with the exit code when the guard stops by itself (a broken invariant: 70; it stepped down: 6) or is stopped. */
  readonly done: Promise<number>;
  /** True once the guard stepping down gave up its graceful stop because the store or broker did not answer (a partition). */
  readonly stopAbandoned: () => boolean;
  /** Why it stopped by itself (null while it runs or when stopped by `stop`). */
  readonly failure: () => string | null;
  /**
   * A lockstep drill: begins reporting idle to the gateway, which starts (or goes on moving) scenario time. The daemon
   * calls it once every account has started up: the gateway's time starts at the first idle report, and an account
   * still starting would miss what happens meanwhile. Nothing without `--clock lockstep`.
   */
  readonly startLockstep: () => void;
}

/**
 * Starts guarding one account: leads it (or waits as standby), takes its lock, starts its alerts, adds the config's
 * strategies the store lacks, connects to IB, reconciles before anything else, resumes unfinished closes, then guards
 * until stopped. Crash-only: a broken invariant stops it with 70; the next start goes through the same
 * reconciliation.
 */
export async function startAccountGuard(opts: AccountGuardOptions): Promise<AccountGuard> {
  const { config, store, owner, real } = opts;
  const account = opts.account.account;
  const crashPoint = opts.crashPoint;
  const clock: Clock =
    opts.clock.kind === 'broker' ? new ScaledClock(opts.clock.speed) : opts.clock.kind === 'lockstep' ? new LockstepClock(real.now()) : real;
  const log = (level: LogLevel, text: string): void => opts.out({ level, text, account });
  const several = config.accounts.length > 1;
  const guardConfig = opts.guardConfig;

  // Set once the engine runs: before that, a lost lease fails the start-up instead.
  let onLost: ((reason: string) => void) | null = null;
  let lostEarly: string | null = null;
  const leadership = new Leadership({
    store,
    account,
    holder: owner,
    leaseMs: config.leader.leaseMs,
    renewMs: config.leader.renewMs,
    perf: () => real.perf(),
    log,
    onLost: (reason) => (onLost ? onLost(reason) : (lostEarly = reason)),
  });
  let alerts: AlertService | null = null;
  let broker: IbBroker | null = null;
  let lockTimer: NodeJS.Timeout | null = null;
  let syncTimer: NodeJS.Timeout | null = null;
  let tradingTimer: NodeJS.Timeout | null = null;
  let lockstep: LockstepDriver | null = null;
  let engineRef: GuardEngine | null = null;
  const cleanup = async (): Promise<void> => {
    if (lockTimer) clearInterval(lockTimer);
    if (syncTimer) clearInterval(syncTimer);
    if (tradingTimer) clearInterval(tradingTimer);
    lockstep?.stop();
    await broker?.disconnect().catch(() => undefined);
    await alerts?.close().catch(() => undefined);
    await store.releaseLock(account, owner).catch(() => undefined);
    await leadership.release().catch(() => undefined);
  };
  let tookOverFrom: string | null;
  const b = config.broker;
  const clientId = opts.account.clientId;
  try {
    broker = new IbBroker({
      host: b.host,
      port: b.port,
      clientId,
      account,
      clock: real,
      eventClock: clock,
      marketDataType: b.marketDataType,
      connectTimeoutMs: b.connectTimeoutSeconds * 1000,
      maxMessagesPerSecond: guardConfig.maxMessagesPerSecond,
      log: (line) => log('info', `ib${several ? ` (client ${clientId})` : ''}: ${line}`),
    });
    const ib = broker;
    if (clock instanceof LockstepClock) {
      lockstep = new LockstepDriver(clock, ib, {
        idle: () => engineRef?.idle() ?? Promise.resolve(),
        get busy() {
          return engineRef?.busy ?? false;
        },
      });
    }
    const connect = async (): Promise<void> => {
      const onAbort = (): void => void ib.disconnect();
      opts.abort?.addEventListener('abort', onAbort, { once: true });
      try {
        if (opts.abort?.aborted) throw stoppedDuringStart();
        await ib.connect().catch((e: unknown) => {
          throw opts.abort?.aborted ? stoppedDuringStart() : e;
        });
      } finally {
        opts.abort?.removeEventListener('abort', onAbort);
      }
    };
    // A standby is connected before it leads, so that taking over costs no connect; it sends nothing (LeaderBroker).
    if (opts.standby === true) await connect();
    const got = await leadership.acquire({
      wait: opts.standby === true,
      ...(opts.abort ? { signal: opts.abort } : {}),
      isDead: (h) => ownerIsDead(h, opts.machine),
      onStandby: (l) =>
        log(
          'info',
          `standby for ${account}: ${l.holder} leads (lease epoch ${l.epoch}); connected to the broker as client id ${clientId}, sending nothing; ` +
            `taking over once its lease lapses (${config.leader.leaseMs} ms without renewal)`,
        ),
    });
    if (opts.abort?.aborted) throw stoppedDuringStart();
    tookOverFrom = got.tookOverFrom?.holder ?? null;
    leadership.start();
    log('info', `leading ${account} as ${owner} at lease epoch ${got.lease.epoch}${tookOverFrom !== null ? ` (took over from ${tookOverFrom})` : ''}`);
    await takeLockAsLeader(store, account, owner, real.now(), LOCK_TTL_MS, (text) => log('warn', text));
    const built = buildChannels(opts.account.alerts, { env: opts.env });
    alerts = new AlertService({
      store,
      account,
      clock,
      deliveryClock: real,
      built,
      config: opts.account.alerts,
      log: (ev) => log('info', `alerts: ${JSON.stringify(ev)}`),
    });
    await alerts.start();

    const strategies = opts.account.strategies;
    const known = await store.strategyIds(account);
    const missing = strategies.filter((s) => !known.has(s.id));
    if (missing.length > 0) {
      await guardStrategies(store, missing, real.now());
      log(
        'info',
        `added ${missing.length} strateg${missing.length === 1 ? 'y' : 'ies'} for ${account} from ${config.file}: ${missing.slice(0, 20).map((s) => s.id).join(', ')}${missing.length > 20 ? ` and ${missing.length - 20} more` : ''}`,
      );
    }
    if (!ib.isConnected()) await connect();
    if (clock instanceof ScaledClock) {
      clock.sync(await broker.currentTime());
      log('info', `clock follows the broker's: ${new Date(clock.now()).toISOString()} at x${clock.speed}`);
      // Re-synced forward every second, so that no event is stamped before the broker's time says it happened.
      ib.onServerTime((t) => clock.syncForward(t));
      syncTimer = setInterval(() => {
        if (ib.isConnected()) ib.currentTime().catch(() => undefined);
      }, 1000);
      syncTimer.unref();
    }
    if (clock instanceof LockstepClock) {
      await broker.currentTime(); // the driver's clock follows it
      log('info', `clock in lockstep with the broker's: ${new Date(clock.now()).toISOString()}; it moves when the guard is idle`);
    }
    // The record says which clock its times are on, so `legguard status` counts a drill's ages on scenario time.
    const drill = opts.clock.kind === 'broker' ? `drill on the gateway's clock at x${opts.clock.speed}` : opts.clock.kind === 'lockstep' ? "drill in lockstep with the gateway's clock" : null;
    await recordClock(store, account, clock.now(), drill === null ? { kind: 'wall' } : { kind: 'scenario', source: drill });
  } catch (e) {
    await cleanup();
    throw e;
  }

  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));
  let stopping: Promise<number> | null = null;
  let failure: string | null = null;
  const engine: GuardEngine = new GuardEngine({
    account,
    // Every command to the broker first asks whether this guard still leads; every commit carries the epoch.
    broker: new LeaderBroker(broker, leadership),
    store,
    epoch: leadership.epoch!,
    alerts,
    clock,
    config: guardConfig,
    // The early-assignment rules price with the config's rate, volatilities and announced dividends.
    riskInputs: {
      rate: config.market.rate,
      volatility: (symbol) => config.market.volatility[symbol.toUpperCase()] ?? null,
      dividends: (symbol) => config.dividends[symbol.toUpperCase()] ?? [],
    },
    log,
    watchStore: true,
    onFatal: (e) => {
      if (LegguardError.is(e, 'FENCED')) {
        leadership.fenced(e);
        return;
      }
      const why = e instanceof Error ? e.message : String(e);
      failure = `broken invariant: ${why}`;
      log('error', `the guard of ${account} stopped: ${why}; a restart reconciles and resumes`);
      void stop('fatal', 70);
    },
    ...(crashPoint ? { crashPoint } : {}),
  });
  engineRef = engine;
  engine.onTimeline((t) => opts.out({ level: t.kind === 'alert' && t.alert.severity === 'critical' ? 'warn' : 'info', text: '', timeline: t, account }));

  const stop = (reason: string, code = 0): Promise<number> => {
    stopping ??= (async () => {
      log('info', `stopping ${account} (${reason})`);
      lockstep?.stop();
      await engine.stop().catch((e: unknown) => log('error', `engine stop: ${String(e)}`));
      await cleanup();
      resolveDone(code);
      return code;
    })();
    return stopping;
  };

  // Stepping down: another guard leads (FENCED), or this one could not renew its lease in time. Nothing more is sent
  // (LeaderBroker asks the lease) or committed (the store fences the epoch); this account's guard stops with 6.
  // Said and done once. The graceful stop is bounded by one lease: cut off the store (a partition), its queries and
  // the lock's release would wait on connections that never answer; nothing more can be sent or committed anyway.
  let steppedDown = false;
  let abandoned = false;
  const stepDown = (reason: string): void => {
    if (steppedDown) return;
    steppedDown = true;
    failure = `stepped down: ${reason}`;
    if (lockTimer) clearInterval(lockTimer);
    lockTimer = null;
    log('error', `stepping down: this guard no longer leads ${account} (${reason}); it sends and commits nothing more for ${account}, exit 6`);
    const code = ErrorCodes.FENCED.exit;
    const limit = setTimeout(() => {
      abandoned = true;
      log('error', `stepping down: the graceful stop did not end within ${config.leader.leaseMs} ms (the store or the broker does not answer); leaving without it`);
      resolveDone(code);
    }, config.leader.leaseMs);
    void stop('stepped down', code).finally(() => clearTimeout(limit));
  };
  onLost = stepDown;
  if (lostEarly !== null) stepDown(lostEarly);
  lockTimer = setInterval(() => {
    store.refreshLock(account, owner, real.now(), LOCK_TTL_MS).catch((e: unknown) => {
      // Another guard took the lock: it leads now; two guards must never act, this one steps down.
      stepDown(`lost the lock: ${e instanceof Error ? e.message : String(e)}`);
    });
  }, LOCK_REFRESH_MS);

  try {
    await engine.start();
  } catch (e) {
    await stop('start-up failed', 1);
    throw e;
  }
  // The operator's trading state: read every second; a change is taken on the engine's queue (journaled, alerted).
  let polling = false;
  const pollTradingState = (): void => {
    if (polling || stopping !== null) return;
    polling = true;
    store
      .tradingState(account)
      .then((t) => (t.state !== engine.tradingState ? engine.setTradingState(t) : undefined))
      .catch((e: unknown) => log('warn', `reading the trading state of ${account}: ${e instanceof Error ? e.message : String(e)}`))
      .finally(() => (polling = false));
  };
  tradingTimer = setInterval(pollTradingState, TRADING_STATE_POLL_MS);
  if (stopping === null) {
    const at = EpochMs.unsafe(clock.now());
    const lease = leadership.current!;
    if (tookOverFrom !== null) {
      const alert: Alert = {
        key: `takeover:${account}:${lease.epoch}`,
        severity: 'warning',
        incidentId: null,
        strategyId: null,
        title: `TOOK OVER: ${account}`,
        text: `${owner} took over guarding ${account} from ${tookOverFrom} (lease epoch ${lease.epoch}): it reconciled and resumed every close in flight. Check why ${tookOverFrom} stopped.`,
        at,
        facts: { account, holder: owner, previous: tookOverFrom, epoch: lease.epoch },
      };
      log('warn', `took over ${account} from ${tookOverFrom} at lease epoch ${lease.epoch}`);
      alerts?.raise(alert);
    } else if (opts.restartOf !== undefined) {
      const r = opts.restartOf;
      alerts?.raise({
        key: `restart:${account}:${lease.epoch}:${at}`,
        severity: 'critical',
        incidentId: null,
        strategyId: null,
        title: `GUARD RESTARTED: ${account}`,
        text:
          `The guard of ${account} stopped by itself (exit ${r.code}: ${r.reason}) while this process kept guarding its other accounts; ` +
          `it was restarted alone (lease epoch ${lease.epoch}), reconciled and resumed every close in flight. Check why it stopped.`,
        at,
        facts: { account, holder: owner, exit: r.code, reason: r.reason, epoch: lease.epoch },
      });
    }
  }
  const waiting = [...engine.strategies.values()].filter((s) => s.state === 'PENDING').length;
  log(
    'info',
    `guarding ${engine.strategies.size} strateg${engine.strategies.size === 1 ? 'y' : 'ies'} for ${account} (${new Date(EpochMs.unsafe(clock.now())).toISOString()})` +
      `${waiting > 0 ? `; ${waiting} PENDING, not guarded until the broker shows every leg (see the notes above, or legguard status)` : ''}`,
  );
  return {
    account,
    engine,
    lockOwner: owner,
    tradingStateWritten: pollTradingState,
    stop: (reason) => stop(reason, 0),
    done,
    stopAbandoned: () => abandoned,
    failure: () => failure,
    startLockstep: () => {
      if (stopping === null) lockstep?.start();
    },
  };
}

function stoppedDuringStart(): LegguardError {
  return new LegguardError('BROKER_DISCONNECTED', 'stopped while starting: the connection to TWS was abandoned; nothing was guarded');
}
