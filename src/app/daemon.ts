import { SystemClock } from '../adapters/clock/system-clock.js';
import { openStore } from '../adapters/store/open-store.js';
import type { AccountId } from '../core/ids.js';
import type { StorePort } from '../ports/store.js';
import type { CrashPoint, GuardEngine, LogLevel } from '../engine/guard-engine.js';
import type { TimelineEntry } from '../engine/timeline.js';
import type { HttpEdge } from '../web/http-edge.js';
import type { ListenAddress } from '../web/listen-address.js';
import { startAccountGuard, type AccountGuard, type ClockChoice } from './account-guard.js';
import { storeOptions, type AccountConfig, type LegguardConfig } from './config.js';
import { drillTiming } from './drill-timing.js';
import { lockOwner, machineName } from './guard-lock.js';
import { fullCollection, startIdleCollection } from './idle-collection.js';

export { LOCK_TTL_MS, TRADING_STATE_POLL_MS } from './account-guard.js';

/** The first wait before an account whose guard stopped by itself is restarted; doubled per failed start, up to the last. */
export const RESTART_BACKOFF_MS = [2_000, 5_000, 15_000, 60_000] as const;

export interface DaemonOptions {
  readonly config: LegguardConfig;
  /**
   * `system` (the default); `broker`: run at `speed` from the broker's time, re-synced forward every second; or
   * `lockstep`: move only with the time `legguard sim-gateway --lockstep` states, reporting when the guard is idle
   * (drills that pass on any machine). Each account's guard has its own clock of this kind, on its own connection.
   */
  readonly clock: ClockChoice;
  readonly env: NodeJS.ProcessEnv;
  /**
   * One line per timeline entry and per log message; `account` names the account it is about (null: the process's
   * own lines, such as the HTTP edge's).
   */
  readonly out: (entry: { level: LogLevel; text: string; timeline?: TimelineEntry; account: AccountId | null }) => void;
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
   * `legguard run --standby`: when another guard leads an account (holds its lease), wait as its standby, connected
   * to the broker (with this config's client id: give each guard of a pair its own) and sending nothing, and take
   * over once its lease lapses. Without it, a live leader makes this guard exit 5.
   */
  readonly standby?: boolean;
  /** The waits before restarting an account's guard that stopped by itself (tests shorten them). */
  readonly restartBackoffMs?: readonly number[];
}

/** One account of the running daemon as the HTTP edge and the status see it: always the account's current guard. */
export interface DaemonGuard {
  readonly account: AccountId;
  /** The running engine (after an in-process restart, the new one; while it restarts, the one that stopped). */
  readonly engine: GuardEngine;
  readonly lockOwner: string;
  readonly tradingStateWritten: () => void;
  /** Whether the account is guarded now (false between its guard stopping by itself and its restart). */
  readonly running: boolean;
  /** Every timeline entry of the account's guard, across its restarts (the event stream follows a new engine). */
  onTimeline(fn: (entry: TimelineEntry) => void): () => void;
}

export interface RunningDaemon {
  /** Every account the process guards, in the config's order. */
  readonly guards: readonly DaemonGuard[];
  /** Stops every account gracefully: engines drain, alerts flush, locks and leases are released. Resolves to the exit code. */
  stop(reason: string): Promise<number>;
  /**
   * Resolves with the exit code when the daemon stops by itself: when no account is left guarded (one account: its
   * guard's broken invariant, 70, or its stepping down, 6; several: the last of them). See `startDaemon`.
   */
  readonly done: Promise<number>;
  /** The HTTP edge's URL (`http://127.0.0.1:8765`) when one was asked for. */
  readonly httpUrl: string | null;
  /**
   * True once a guard stepping down gave up its graceful stop because the store (or the broker) did not answer within
   * one lease (a partition): `done` has resolved (6) while connections may still hang, so the caller ends the process.
   */
  readonly stopAbandoned: () => boolean;
}

interface Slot {
  readonly config: AccountConfig;
  /** The running guard, or null while the account's guard restarts. */
  current: AccountGuard | null;
  /** The last guard that ran (the edge reads its engine while the account restarts). */
  last: AccountGuard;
  restartTimer: NodeJS.Timeout | null;
  failedStarts: number;
  /** Who hears the account's timeline whichever engine runs it (`DaemonGuard.onTimeline`). */
  readonly listeners: Set<(entry: TimelineEntry) => void>;
}

/**
 * The long-running guard (`legguard run`): opens the store once and guards every account of the config on it, each
 * with its own lease, lock, alerts, engine and IB connection (`startAccountGuard`; its own client id on the same
 * TWS/Gateway: IB allows 32 clients per login, and a connection per account keeps each account's order ids, pacing,
 * reconnects and lockstep apart, where a shared socket would make one account's reconnect or pacing everyone's).
 *
 * Start-up is all or nothing: an account that cannot start (another guard leads it without --standby, TWS refuses its
 * client id ...) stops the others and the daemon rejects, so a misconfiguration is seen at once.
 *
 * Once guarding, an account whose guard stops by itself (a broken invariant: 70; it stepped down: 6) does not take the
 * others with it: they keep guarding, the failure is logged as an error naming the account, and the account alone is
 * restarted after a back-off through the normal start-up (reconcile first, resume every close in flight; after a
 * step-down as a standby of whoever leads it now), raising a critical GUARD RESTARTED alert to its channels once it
 * guards again. A trader loses nothing by the others guarding on; restarting the whole process instead would leave
 * every account unguarded for the restart, and a crash loop of one account would keep all of them down. When no
 * account is left guarded (one account, or every one stopped: the store is gone, say), the process ends with the
 * code, crash-only, for the service manager to restart.
 */
export async function startDaemon(opts: DaemonOptions): Promise<RunningDaemon> {
  const { config } = opts;
  const real = new SystemClock();
  const several = config.accounts.length > 1;
  const log = (level: LogLevel, text: string): void => opts.out({ level, text, account: null });
  // A free-running drill runs the guard's clock at the broker's speed; waits that stand for real latencies are raised
  // to match. In lockstep, time waits for the guard, so they stand as configured.
  const timing = drillTiming(config.guard, opts.clock.kind === 'broker' ? opts.clock.speed : 1);
  for (const line of timing.raised) log('info', `drill: ${line}`);
  const store: StorePort = await openStore({ ...storeOptions(config), warn: (text) => log('warn', text) });
  const machine = machineName(opts.env);
  const owner = lockOwner(machine);
  // The guards keep the process alive from start to stop: while one waits to reconnect nothing else may (the clock's
  // timers do not hold the event loop open), and a guard must never end because it had nothing to do.
  const keepAlive = setInterval(() => undefined, 3_600_000);
  const backoff = opts.restartBackoffMs ?? RESTART_BACKOFF_MS;
  // The HTTP edge's module (and prom-client) only when one is asked for; loaded before any account starts, so that the
  // metrics count each account's timeline from its start-up on (an assignment posted while the guard was stopped is
  // its first detection), and so do the edge's listeners, whichever engine (a restart is a new one) runs the account.
  const web = opts.http ? await import('../web/guard-edge.js') : null;
  const metrics = web?.newGuardMetrics() ?? null;
  const listeners = new Map<string, Set<(entry: TimelineEntry) => void>>(config.accounts.map((a) => [a.account, new Set()]));
  const timelineOf = (account: AccountId) => (t: TimelineEntry): void => {
    metrics?.observe(account, t);
    for (const l of listeners.get(account) ?? []) l(t);
  };
  const start = (account: AccountConfig, extra: { standby: boolean; restartOf?: { reason: string; code: number } }): Promise<AccountGuard> =>
    startAccountGuard({
      config,
      account,
      guardConfig: timing.config,
      store,
      owner,
      machine,
      clock: opts.clock,
      real,
      env: opts.env,
      out: (e) => {
        if (e.timeline) timelineOf(account.account)(e.timeline);
        opts.out(e);
      },
      ...(opts.crashPoint ? { crashPoint: opts.crashPoint } : {}),
      ...(opts.abort ? { abort: opts.abort } : {}),
      standby: extra.standby,
      ...(extra.restartOf ? { restartOf: extra.restartOf } : {}),
    });

  const started = await Promise.allSettled(config.accounts.map((a) => start(a, { standby: opts.standby === true })));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) {
    for (const r of started) if (r.status === 'fulfilled') await r.value.stop('another account could not start');
    clearInterval(keepAlive);
    await store.close().catch(() => undefined);
    throw failed.reason;
  }
  const slots: Slot[] = started.map((r, i) => {
    const g = (r as PromiseFulfilledResult<AccountGuard>).value;
    return { config: config.accounts[i]!, current: g, last: g, restartTimer: null, failedStarts: 0, listeners: listeners.get(g.account)! };
  });

  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));
  let stopping: Promise<number> | null = null;
  let edge: HttpEdge | null = null;
  let abandoned = false;
  let stopCollecting: (() => void) | null = null;

  const guards: DaemonGuard[] = slots.map((s) => ({
    account: s.config.account,
    get engine() {
      return (s.current ?? s.last).engine;
    },
    lockOwner: owner,
    tradingStateWritten: () => s.current?.tradingStateWritten(),
    get running() {
      return s.current !== null;
    },
    onTimeline(fn) {
      s.listeners.add(fn);
      return () => s.listeners.delete(fn);
    },
  }));
  // Each account's gauges, read at scrape time from its current engine.
  if (web && metrics) web.trackGuards(metrics, guards, store);

  const stop = (reason: string, code = 0): Promise<number> => {
    stopping ??= (async () => {
      log('info', `stopping (${reason})`);
      for (const s of slots) if (s.restartTimer) clearTimeout(s.restartTimer);
      stopCollecting?.();
      await edge?.close().catch(() => undefined);
      await Promise.all(slots.flatMap((s) => (s.current ? [s.current.stop(reason)] : [])));
      clearInterval(keepAlive);
      await store.close().catch(() => undefined);
      resolveDone(code);
      return code;
    })();
    return stopping;
  };

  const watch = (s: Slot, g: AccountGuard): void => {
    void g.done.then((code) => {
      if (stopping !== null || s.current !== g) return;
      s.current = null;
      const reason = g.failure() ?? `stopped (exit ${code})`;
      if (g.stopAbandoned()) abandoned = true;
      const others = slots.filter((o) => o.current !== null).map((o) => o.config.account);
      if (others.length === 0) {
        if (several) log('error', `no account is guarded any more (the last, ${s.config.account}: ${reason}); exit ${code} for the service manager to restart the process`);
        if (abandoned) {
          // The store or broker does not answer: a graceful stop could hang as the account's did; leave without it.
          stopping = Promise.resolve(code);
          for (const o of slots) if (o.restartTimer) clearTimeout(o.restartTimer);
          stopCollecting?.();
          clearInterval(keepAlive);
          resolveDone(code);
          return;
        }
        void stop(`${s.config.account}: ${reason}`, code);
        return;
      }
      const wait = backoff[Math.min(s.failedStarts, backoff.length - 1)] ?? 5000;
      opts.out({
        level: 'error',
        account: s.config.account,
        text:
          `the guard of ${s.config.account} stopped by itself (exit ${code}: ${reason}); ${s.config.account} is NOT guarded until it restarts in ${wait / 1000} s; ` +
          `the other account${others.length === 1 ? '' : 's'} (${others.join(', ')}) keep${others.length === 1 ? 's' : ''} guarding`,
      });
      schedule(s, wait, { reason, code });
    });
  };
  const schedule = (s: Slot, wait: number, why: { reason: string; code: number }): void => {
    s.restartTimer = setTimeout(() => {
      s.restartTimer = null;
      if (stopping !== null) return;
      // After stepping down another guard leads the account (or its lease is unsure): wait as its standby.
      const standby = opts.standby === true || why.code === 6;
      start(s.config, { standby, restartOf: why }).then(
        (g) => {
          if (stopping !== null) {
            void g.stop('the daemon stopped while the account restarted');
            return;
          }
          s.failedStarts = 0;
          s.current = g;
          g.startLockstep();
          s.last = g;
          opts.out({ level: 'warn', account: s.config.account, text: `restarted the guard of ${s.config.account} (it had stopped: ${why.reason})` });
          watch(s, g);
        },
        (e: unknown) => {
          if (stopping !== null) return;
          s.failedStarts++;
          const next = backoff[Math.min(s.failedStarts, backoff.length - 1)] ?? 60_000;
          opts.out({
            level: 'error',
            account: s.config.account,
            text: `restarting the guard of ${s.config.account} failed: ${e instanceof Error ? e.message : String(e)}; ${s.config.account} is NOT guarded; trying again in ${next / 1000} s`,
          });
          schedule(s, next, why);
        },
      );
    }, wait);
  };
  for (const s of slots) watch(s, s.current!);

  if (opts.http && web && metrics) {
    try {
      edge = await web.startGuardEdge({ http: opts.http, guards, store, config, env: opts.env, real, metrics, log });
    } catch (e) {
      await stop('the HTTP edge could not start', 1);
      throw e;
    }
  }
  if (several) log('info', `guarding ${slots.length} accounts in one process: ${slots.map((s) => `${s.config.account} (client id ${s.config.clientId})`).join(', ')}`);
  // The start-up's garbage goes back to the machine once the guards guard, and idle collections keep it small (the
  // process's heap: taken only when no account's engine has work queued).
  const collect = fullCollection();
  if (collect !== null && stopping === null) {
    stopCollecting = startIdleCollection({
      collect,
      busy: () => slots.some((s) => s.current?.engine.busy === true),
      settleMs: 2000,
      settleRounds: 3,
      everyMs: 300_000,
      setTimer: (fn, ms) => setTimeout(fn, ms),
      clearTimer: (t) => clearTimeout(t as NodeJS.Timeout),
    });
  }
  // Lockstep drills: scenario time starts at the first idle report, so only once every account guards.
  for (const s of slots) s.current?.startLockstep();
  if (opts.abort?.aborted) void stop(String(opts.abort.reason ?? 'stop requested during start-up'));
  return { guards, stop: (reason) => stop(reason, 0), done, httpUrl: edge?.url ?? null, stopAbandoned: () => abandoned };
}
