import { AlertService } from '../adapters/alerts/alert-service.js';
import { buildChannels } from '../adapters/alerts/build-channels.js';
import { LockstepClock } from '../adapters/clock/lockstep-clock.js';
import { ScaledClock } from '../adapters/clock/scaled-clock.js';
import { SystemClock } from '../adapters/clock/system-clock.js';
import { IbBroker } from '../adapters/ib/ib-broker.js';
import { openStore } from '../adapters/store/open-store.js';
import { ErrorCodes, LegguardError } from '../core/errors.js';
import type { Alert } from '../ports/alerts.js';
import { EpochMs } from '../core/quantity.js';
import type { Clock } from '../ports/clock.js';
import type { StorePort } from '../ports/store.js';
import { GuardEngine, type CrashPoint, type LogLevel } from '../engine/guard-engine.js';
import type { TimelineEntry } from '../engine/timeline.js';
import { storeOptions, type LegguardConfig } from './config.js';
import { drillTiming } from './drill-timing.js';
import { lockOwner, machineName, ownerIsDead, takeLockAsLeader } from './guard-lock.js';
import { LeaderBroker } from './leader-broker.js';
import { Leadership } from './leadership.js';
import { LockstepDriver } from './lockstep-driver.js';
import { recordClock } from './record-clock.js';
import { fullCollection, startIdleCollection } from './idle-collection.js';
import type { HttpEdge } from '../web/http-edge.js';
import type { ListenAddress } from '../web/listen-address.js';
import { guardStrategies } from './replay.js';

/** How long a guard's lock lives without a refresh, and how often it is refreshed. */
export const LOCK_TTL_MS = 30_000;
const LOCK_REFRESH_MS = 10_000;
/**
 * How often a running guard reads the account's trading state from the store (`legguard halt` / `reduce-only` /
 * `resume` write it): on this machine's clock, so a drill's paused scenario time does not hold a halt back.
 */
export const TRADING_STATE_POLL_MS = 1000;

export interface DaemonOptions {
  readonly config: LegguardConfig;
  /**
   * `system` (the default); `broker`: run at `speed` from the broker's time, re-synced forward every second; or
   * `lockstep`: move only with the time `legguard sim-gateway --lockstep` states, reporting when the guard is idle
   * (drills that pass on any machine).
   */
  readonly clock: { readonly kind: 'system' } | { readonly kind: 'broker'; readonly speed: number } | { readonly kind: 'lockstep' };
  readonly env: NodeJS.ProcessEnv;
  /** One line per timeline entry and per log message. */
  readonly out: (entry: { level: LogLevel; text: string; timeline?: TimelineEntry }) => void;
  /**
   * Fault injection for crash drills, called where a crash matters most. Only the drills' own entry point
   * (test/support/legguard-drill.mjs) passes one; `legguard run` never does, whatever the environment says.
   */
  readonly crashPoint?: (point: CrashPoint) => void;
  /**
   * A stop asked for while the daemon starts (SIGTERM from a service manager during a slow connect): the connection
   * attempt is abandoned and `startDaemon` rejects (BROKER_DISCONNECTED, saying so); once connected, start-up completes (its
   * reconciliation is not cut short) and the daemon then stops as `stop()` would.
   */
  readonly abort?: AbortSignal;
  /**
   * The HTTP edge (dashboard, API, events, metrics) on this address, started once the guard guards; the caller has
   * already refused a non-loopback address without a token. The token, when set, turns mutations on.
   */
  readonly http?: { readonly address: ListenAddress; readonly token: string | null; readonly tokenEnv: string };
  /**
   * `legguard run --standby`: when another guard leads the account (holds its lease), wait as its standby, connected
   * to the broker (with this config's client id: give each guard of a pair its own) and sending nothing, and take
   * over once its lease lapses. Without it, a live leader makes this guard exit 5.
   */
  readonly standby?: boolean;
}

export interface RunningDaemon {
  readonly engine: GuardEngine;
  /** Stops gracefully: the engine drains its queue, alerts flush, the lock is released. Resolves to the exit code. */
  stop(reason: string): Promise<number>;
  /** Resolves with the exit code when the daemon stops by itself (a broken invariant, a lost lease: 6). */
  readonly done: Promise<number>;
  /** The HTTP edge's URL (`http://127.0.0.1:8765`) when one was asked for. */
  readonly httpUrl: string | null;
  /**
   * True once a guard stepping down gave up its graceful stop because the store (or the broker) did not answer within
   * one lease (a partition): `done` has resolved (6) while connections may still hang, so the caller ends the process.
   */
  readonly stopAbandoned: () => boolean;
}

/**
 * The long-running guard (`legguard run`): opens the store, takes the account's lock (one guard per account per
 * store), starts alert delivery, adds the config file's strategies the store does not have, connects to IB,
 * reconciles before anything else, resumes unfinished closes, then guards until stopped. Crash-only: a broken
 * invariant stops it with exit 70; the next start goes through the same reconciliation.
 */
export async function startDaemon(opts: DaemonOptions): Promise<RunningDaemon> {
  const { config } = opts;
  const crashPoint = opts.crashPoint;
  const real = new SystemClock();
  const clock: Clock =
    opts.clock.kind === 'broker' ? new ScaledClock(opts.clock.speed) : opts.clock.kind === 'lockstep' ? new LockstepClock(real.now()) : real;
  const log = (level: LogLevel, text: string): void => opts.out({ level, text });
  // A free-running drill runs the guard's clock at the broker's speed; waits that stand for real latencies are raised
  // to match. In lockstep, time waits for the guard, so they stand as configured.
  const timing = drillTiming(config.guard, opts.clock.kind === 'broker' ? opts.clock.speed : 1);
  for (const line of timing.raised) log('info', `drill: ${line}`);
  const guardConfig = timing.config;

  const store: StorePort = await openStore({ ...storeOptions(config), warn: (text) => log('warn', text) });
  const owner = lockOwner(machineNameOf(opts.env));
  // Set once the engine runs: before that, a lost lease fails the start-up instead.
  let onLost: ((reason: string) => void) | null = null;
  let lostEarly: string | null = null;
  const leadership = new Leadership({
    store,
    account: config.account,
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
  // The guard keeps the process alive from start to stop: while it waits to reconnect nothing else may (the clock's
  // timers do not hold the event loop open), and a guard must never end because it had nothing to do.
  const keepAlive = setInterval(() => undefined, 3_600_000);
  let lockstep: LockstepDriver | null = null;
  let engineRef: GuardEngine | null = null;
  let edge: HttpEdge | null = null;
  let stopCollecting: (() => void) | null = null;
  const cleanup = async (): Promise<void> => {
    clearInterval(keepAlive);
    stopCollecting?.();
    await edge?.close().catch(() => undefined);
    if (lockTimer) clearInterval(lockTimer);
    if (syncTimer) clearInterval(syncTimer);
    if (tradingTimer) clearInterval(tradingTimer);
    lockstep?.stop();
    await broker?.disconnect().catch(() => undefined);
    await alerts?.close().catch(() => undefined);
    await store.releaseLock(config.account, owner).catch(() => undefined);
    await leadership.release().catch(() => undefined);
    await store.close().catch(() => undefined);
  };
  let tookOverFrom: string | null;
  try {
    const b = config.broker;
    broker = new IbBroker({
      host: b.host,
      port: b.port,
      clientId: b.clientId,
      account: config.account,
      clock: real,
      eventClock: clock,
      marketDataType: b.marketDataType,
      connectTimeoutMs: b.connectTimeoutSeconds * 1000,
      maxMessagesPerSecond: guardConfig.maxMessagesPerSecond,
      log: (line) => log('info', `ib: ${line}`),
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
      isDead: (h) => ownerIsDead(h, machineNameOf(opts.env)),
      onStandby: (l) =>
        log(
          'info',
          `standby for ${config.account}: ${l.holder} leads (lease epoch ${l.epoch}); connected to the broker as client id ${b.clientId}, sending nothing; ` +
            `taking over once its lease lapses (${config.leader.leaseMs} ms without renewal)`,
        ),
    });
    if (opts.abort?.aborted) throw stoppedDuringStart();
    tookOverFrom = got.tookOverFrom?.holder ?? null;
    leadership.start();
    log('info', `leading ${config.account} as ${owner} at lease epoch ${got.lease.epoch}${tookOverFrom !== null ? ` (took over from ${tookOverFrom})` : ''}`);
    await takeLockAsLeader(store, config.account, owner, real.now(), LOCK_TTL_MS, (text) => log('warn', text));
    const built = buildChannels(config.alerts, { env: opts.env });
    alerts = new AlertService({
      store,
      account: config.account,
      clock,
      deliveryClock: real,
      built,
      config: config.alerts,
      log: (ev) => log('info', `alerts: ${JSON.stringify(ev)}`),
    });
    await alerts.start();

    const known = await store.strategyIds(config.account);
    const missing = config.strategies.filter((s) => !known.has(s.id));
    if (missing.length > 0) {
      await guardStrategies(store, missing, real.now());
      log('info', `added ${missing.length} strateg${missing.length === 1 ? 'y' : 'ies'} from ${config.file}: ${missing.slice(0, 20).map((s) => s.id).join(', ')}${missing.length > 20 ? ` and ${missing.length - 20} more` : ''}`);
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
    await recordClock(store, config.account, clock.now(), drill === null ? { kind: 'wall' } : { kind: 'scenario', source: drill });
  } catch (e) {
    await cleanup();
    throw e;
  }

  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));
  let stopping: Promise<number> | null = null;
  const engine: GuardEngine = new GuardEngine({
    account: config.account,
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
      log('error', `the guard stopped: ${e instanceof Error ? e.message : String(e)}; a restart reconciles and resumes`);
      void stop('fatal', 70);
    },
    ...(crashPoint ? { crashPoint } : {}),
  });
  engineRef = engine;
  // The HTTP edge's module (and prom-client) only when one is asked for.
  const web = opts.http ? await import('../web/guard-edge.js') : null;
  const metrics = web?.guardMetrics([{ account: config.account, engine }], store) ?? null;
  engine.onTimeline((t) => opts.out({ level: t.kind === 'alert' && t.alert.severity === 'critical' ? 'warn' : 'info', text: '', timeline: t }));

  const stop = (reason: string, code = 0): Promise<number> => {
    stopping ??= (async () => {
      log('info', `stopping (${reason})`);
      lockstep?.stop();
      await engine.stop().catch((e: unknown) => log('error', `engine stop: ${String(e)}`));
      await cleanup();
      resolveDone(code);
      return code;
    })();
    return stopping;
  };

  // Stepping down: another guard leads (FENCED), or this one could not renew its lease in time. Nothing more is sent
  // (LeaderBroker asks the lease) or committed (the store fences the epoch); the process exits 6.
  // Said and done once. The graceful stop is bounded by one lease: cut off the store (a partition), its queries and
  // the lock's release would wait on connections that never answer; nothing more can be sent or committed anyway.
  let steppedDown = false;
  let abandoned = false;
  const stepDown = (reason: string): void => {
    if (steppedDown) return;
    steppedDown = true;
    if (lockTimer) clearInterval(lockTimer);
    lockTimer = null;
    log('error', `stepping down: this guard no longer leads ${config.account} (${reason}); it sends and commits nothing more, exit 6`);
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
    store.refreshLock(config.account, owner, real.now(), LOCK_TTL_MS).catch((e: unknown) => {
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
      .tradingState(config.account)
      .then((t) => (t.state !== engine.tradingState ? engine.setTradingState(t) : undefined))
      .catch((e: unknown) => log('warn', `reading the trading state: ${e instanceof Error ? e.message : String(e)}`))
      .finally(() => (polling = false));
  };
  tradingTimer = setInterval(pollTradingState, TRADING_STATE_POLL_MS);
  if (opts.http && web && metrics) {
    try {
      edge = await web.startGuardEdge({
        http: opts.http,
        guards: [{ account: config.account, engine, lockOwner: owner, tradingStateWritten: pollTradingState }],
        store,
        config,
        env: opts.env,
        real,
        metrics,
        log,
      });
    } catch (e) {
      await stop('the HTTP edge could not start', 1);
      throw e;
    }
  }
  lockstep?.start();
  if (tookOverFrom !== null && stopping === null) {
    const at = clock.now();
    const lease = leadership.current!;
    const alert: Alert = {
      key: `takeover:${config.account}:${lease.epoch}`,
      severity: 'warning',
      incidentId: null,
      strategyId: null,
      title: `TOOK OVER: ${config.account}`,
      text: `${owner} took over guarding ${config.account} from ${tookOverFrom} (lease epoch ${lease.epoch}): it reconciled and resumed every close in flight. Check why ${tookOverFrom} stopped.`,
      at: EpochMs.unsafe(at),
      facts: { account: config.account, holder: owner, previous: tookOverFrom, epoch: lease.epoch },
    };
    log('warn', `took over ${config.account} from ${tookOverFrom} at lease epoch ${lease.epoch}`);
    alerts?.raise(alert);
  }
  const waiting = [...engine.strategies.values()].filter((s) => s.state === 'PENDING').length;
  log(
    'info',
    `guarding ${engine.strategies.size} strateg${engine.strategies.size === 1 ? 'y' : 'ies'} for ${config.account} (${new Date(EpochMs.unsafe(clock.now())).toISOString()})` +
      `${waiting > 0 ? `; ${waiting} PENDING, not guarded until the broker shows every leg (see the notes above, or legguard status)` : ''}`,
  );
  // The start-up's garbage goes back to the machine once the guard guards, and idle collections keep it small.
  const collect = fullCollection();
  if (collect !== null && stopping === null) {
    stopCollecting = startIdleCollection({
      collect,
      busy: () => engine.busy,
      settleMs: 2000,
      settleRounds: 3,
      everyMs: 300_000,
      setTimer: (fn, ms) => setTimeout(fn, ms),
      clearTimer: (t) => clearTimeout(t as NodeJS.Timeout),
    });
  }
  if (opts.abort?.aborted) void stop(String(opts.abort.reason ?? 'stop requested during start-up'));
  return { engine, stop: (reason) => stop(reason, 0), done, httpUrl: edge?.url ?? null, stopAbandoned: () => abandoned };
}

function machineNameOf(env: NodeJS.ProcessEnv): string {
  return machineName(env);
}

function stoppedDuringStart(): LegguardError {
  return new LegguardError('BROKER_DISCONNECTED', 'stopped while starting: the connection to TWS was abandoned; nothing was guarded');
}
