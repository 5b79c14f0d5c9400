import { AlertService } from '../adapters/alerts/alert-service.js';
import { buildChannels } from '../adapters/alerts/build-channels.js';
import { ScaledClock } from '../adapters/clock/scaled-clock.js';
import { SystemClock } from '../adapters/clock/system-clock.js';
import { IbBroker } from '../adapters/ib/ib-broker.js';
import { openStore } from '../adapters/store/open-store.js';
import { LegguardError } from '../core/errors.js';
import { EpochMs } from '../core/quantity.js';
import type { Clock } from '../ports/clock.js';
import type { StorePort } from '../ports/store.js';
import { GuardEngine, type CrashPoint, type LogLevel } from '../engine/guard-engine.js';
import type { TimelineEntry } from '../engine/timeline.js';
import { storeOptions, type LegguardConfig } from './config.js';
import { drillTiming } from './drill-timing.js';
import { lockOwner, takeGuardLock } from './guard-lock.js';
import { guardStrategies } from './replay.js';

/** How long a guard's lock lives without a refresh, and how often it is refreshed. */
export const LOCK_TTL_MS = 30_000;
const LOCK_REFRESH_MS = 10_000;

export interface DaemonOptions {
  readonly config: LegguardConfig;
  /** `system` (the default) or `broker`: follow the broker's time at `speed` (drills against the sim gateway). */
  readonly clock: { readonly kind: 'system' } | { readonly kind: 'broker'; readonly speed: number };
  readonly env: NodeJS.ProcessEnv;
  /** One line per timeline entry and per log message. */
  readonly out: (entry: { level: LogLevel; text: string; timeline?: TimelineEntry }) => void;
  /** `LEGGUARD_CRASH_AT=<point>[:<n>]`: kill this process (SIGKILL) the n-th time the engine reaches the point. */
  readonly crashAt?: string | undefined;
  /**
   * A stop asked for while the daemon starts (SIGTERM from a service manager during a slow connect): the connection
   * attempt is abandoned and `startDaemon` rejects (BROKER_DISCONNECTED, saying so); once connected, start-up completes (its
   * reconciliation is not cut short) and the daemon then stops as `stop()` would.
   */
  readonly abort?: AbortSignal;
}

export interface RunningDaemon {
  readonly engine: GuardEngine;
  /** Stops gracefully: the engine drains its queue, alerts flush, the lock is released. Resolves to the exit code. */
  stop(reason: string): Promise<number>;
  /** Resolves with the exit code when the daemon stops by itself (a broken invariant, a lost lock). */
  readonly done: Promise<number>;
}

const CRASH_POINTS: readonly CrashPoint[] = ['decision-committed', 'order-sent', 'fill-applied'];

function crashHook(spec: string | undefined): ((p: CrashPoint) => void) | undefined {
  if (spec === undefined || spec === '') return undefined;
  const [point, nth = '1'] = spec.split(':');
  if (!CRASH_POINTS.includes(point as CrashPoint) || !/^\d+$/.test(nth) || Number(nth) < 1) {
    throw new LegguardError('INVALID_INPUT', `LEGGUARD_CRASH_AT must be one of ${CRASH_POINTS.join(', ')}, optionally :<n>; got ${JSON.stringify(spec)}`);
  }
  let seen = 0;
  return (p) => {
    if (p !== point) return;
    seen++;
    if (seen === Number(nth)) process.kill(process.pid, 'SIGKILL');
  };
}

/**
 * The long-running guard (`legguard run`): opens the store, takes the account's lock (one guard per account per
 * store), starts alert delivery, adds the config file's strategies the store does not have, connects to IB,
 * reconciles before anything else, resumes unfinished closes, then guards until stopped. Crash-only: a broken
 * invariant stops it with exit 70; the next start goes through the same reconciliation.
 */
export async function startDaemon(opts: DaemonOptions): Promise<RunningDaemon> {
  const { config } = opts;
  const crashPoint = crashHook(opts.crashAt);
  const real = new SystemClock();
  const clock: Clock & { sync?: (t: number) => void } = opts.clock.kind === 'broker' ? new ScaledClock(opts.clock.speed) : real;
  const log = (level: LogLevel, text: string): void => opts.out({ level, text });
  // A drill runs the guard's clock at the broker's speed; waits that stand for real latencies are raised to match.
  const timing = drillTiming(config.guard, opts.clock.kind === 'broker' ? opts.clock.speed : 1);
  for (const line of timing.raised) log('info', `drill: ${line}`);
  const guardConfig = timing.config;

  const store: StorePort = await openStore(storeOptions(config));
  const owner = lockOwner();
  let alerts: AlertService | null = null;
  let broker: IbBroker | null = null;
  let lockTimer: NodeJS.Timeout | null = null;
  const cleanup = async (): Promise<void> => {
    if (lockTimer) clearInterval(lockTimer);
    await broker?.disconnect().catch(() => undefined);
    await alerts?.close().catch(() => undefined);
    await store.releaseLock(config.account, owner).catch(() => undefined);
    await store.close().catch(() => undefined);
  };
  try {
    await takeGuardLock(store, config.account, owner, real.now(), LOCK_TTL_MS, (text) => log('warn', text));
    const built = buildChannels(config.alerts, { env: opts.env });
    alerts = new AlertService({
      store,
      clock,
      built,
      config: config.alerts,
      log: (ev) => log('info', `alerts: ${JSON.stringify(ev)}`),
    });
    await alerts.start();

    const known = new Set((await store.listStrategies(config.account)).map((r) => r.definition.id));
    const missing = config.strategies.filter((s) => !known.has(s.id));
    if (missing.length > 0) {
      await guardStrategies(store, missing, real.now());
      log('info', `added ${missing.length} strateg${missing.length === 1 ? 'y' : 'ies'} from ${config.file}: ${missing.map((s) => s.id).join(', ')}`);
    }

    const b = config.broker;
    broker = new IbBroker({
      host: b.host,
      port: b.port,
      clientId: b.clientId,
      account: config.account,
      clock: real,
      eventClock: clock,
      marketDataType: b.marketDataType,
      maxMessagesPerSecond: guardConfig.maxMessagesPerSecond,
      log: (line) => log('info', `ib: ${line}`),
    });
    const ib = broker;
    const onAbort = (): void => void ib.disconnect();
    opts.abort?.addEventListener('abort', onAbort, { once: true });
    try {
      if (opts.abort?.aborted) throw stoppedDuringStart();
      await broker.connect().catch((e: unknown) => {
        throw opts.abort?.aborted ? stoppedDuringStart() : e;
      });
    } finally {
      opts.abort?.removeEventListener('abort', onAbort);
    }
    if (clock instanceof ScaledClock) {
      clock.sync(await broker.currentTime());
      log('info', `clock follows the broker's: ${new Date(clock.now()).toISOString()} at x${clock.speed}`);
    }
  } catch (e) {
    await cleanup();
    throw e;
  }

  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));
  let stopping: Promise<number> | null = null;
  const engine: GuardEngine = new GuardEngine({
    account: config.account,
    broker,
    store,
    alerts,
    clock,
    config: guardConfig,
    log,
    watchStore: true,
    onFatal: (e) => {
      log('error', `the guard stopped: ${e instanceof Error ? e.message : String(e)}; a restart reconciles and resumes`);
      void stop('fatal', 70);
    },
    ...(crashPoint ? { crashPoint } : {}),
  });
  engine.onTimeline((t) => opts.out({ level: t.kind === 'alert' && t.alert.severity === 'critical' ? 'warn' : 'info', text: '', timeline: t }));

  const stop = (reason: string, code = 0): Promise<number> => {
    stopping ??= (async () => {
      log('info', `stopping (${reason})`);
      await engine.stop().catch((e: unknown) => log('error', `engine stop: ${String(e)}`));
      await cleanup();
      resolveDone(code);
      return code;
    })();
    return stopping;
  };

  lockTimer = setInterval(() => {
    store.refreshLock(config.account, owner, real.now(), LOCK_TTL_MS).catch((e: unknown) => {
      // Another guard took the lock (ours expired while we hung): two guards must never act; this one stops.
      log('error', `lost the lock for ${config.account}: ${e instanceof Error ? e.message : String(e)}`);
      void stop('lock lost', 5);
    });
  }, LOCK_REFRESH_MS);

  try {
    await engine.start();
  } catch (e) {
    await stop('start-up failed', 1);
    throw e;
  }
  const waiting = [...engine.strategies.values()].filter((s) => s.state === 'PENDING').length;
  log(
    'info',
    `guarding ${engine.strategies.size} strateg${engine.strategies.size === 1 ? 'y' : 'ies'} for ${config.account} (${new Date(EpochMs.unsafe(clock.now())).toISOString()})` +
      `${waiting > 0 ? `; ${waiting} PENDING, not guarded until the broker shows every leg (see the notes above, or legguard status)` : ''}`,
  );
  if (opts.abort?.aborted) void stop(String(opts.abort.reason ?? 'stop requested during start-up'));
  return { engine, stop: (reason) => stop(reason, 0), done };
}

function stoppedDuringStart(): LegguardError {
  return new LegguardError('BROKER_DISCONNECTED', 'stopped while starting: the connection to TWS was abandoned; nothing was guarded');
}
