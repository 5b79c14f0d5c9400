import { nyDate } from '../../core/calendar.js';
import { LegguardError } from '../../core/errors.js';
import type { AccountId } from '../../core/ids.js';
import { EpochMs } from '../../core/quantity.js';
import type { Alert, AlertsPort } from '../../ports/alerts.js';
import type { Clock, TimerHandle } from '../../ports/clock.js';
import type { StorePort } from '../../ports/store.js';
import type { AlertsConfig } from './alerts-config.js';
import type { BuiltChannels } from './build-channels.js';
import { OutboxDispatcher, type ChannelState, type DispatchEvent } from './outbox-dispatcher.js';
import { heartbeatAlert, nextHeartbeatAt, repeatAlert } from './system-alerts.js';

export interface AlertServiceOptions {
  readonly store: StorePort;
  /** The account whose outbox this service writes and delivers (each account has its own, and its own channels). */
  readonly account: AccountId;
  /** The guard's clock: escalation repeats and the daily heartbeat go by it. */
  readonly clock: Clock;
  /**
   * The clock that paces delivery (polling, retries, rate limits): a channel's outage and its rate limit are in real
   * time even when the guard's clock is a drill's scenario time. Default: `clock`.
   */
  readonly deliveryClock?: Clock;
  readonly built: BuiltChannels;
  readonly config: AlertsConfig;
  readonly log?: (e: DispatchEvent) => void;
}

export interface AlertsStatus {
  readonly channels: readonly ChannelState[];
  /** Alerts raised but not yet written to the outbox (the store refused them; they are retried). */
  readonly unwritten: number;
  readonly nextHeartbeatAt: EpochMs | null;
}

/** The longest the escalation check sleeps: a repeat is never more than this late. */
const ESCALATION_TICK_MS = 60_000;

/**
 * The alerts port as the daemon uses it. `raise` writes the alert to the durable outbox (a no-op for one the engine
 * already committed in its batch) and wakes the dispatcher; delivery, retries, repeats of unacknowledged critical
 * incidents and the daily heartbeat run behind it on the injected clock.
 *
 * @example
 *   const built = buildChannels(config.alerts, { env: process.env });
 *   const alerts = new AlertService({ store, clock, built, config: config.alerts, log });
 *   await alerts.start();           // probes channels, delivers what a previous run left in the outbox
 *   engine = new GuardEngine({ ..., alerts });
 *   ...
 *   await alerts.close();
 */
export class AlertService implements AlertsPort {
  readonly dispatcher: OutboxDispatcher;
  private pending: Alert[] = [];
  private flushing: Promise<void> | null = null;
  private background = new Set<Promise<void>>();
  private escalationTimer: TimerHandle | null = null;
  private heartbeatTimer: TimerHandle | null = null;
  private heartbeatAt: EpochMs | null = null;
  private closed = false;

  constructor(private readonly opts: AlertServiceOptions) {
    const d = opts.config.delivery;
    this.dispatcher = new OutboxDispatcher({
      store: opts.store,
      account: opts.account,
      clock: opts.deliveryClock ?? opts.clock,
      channels: opts.built.channels,
      redactor: opts.built.redactor,
      policy: {
        maxAttempts: d.maxAttempts,
        initialMs: d.initialSeconds * 1000,
        factor: d.factor,
        maxMs: d.maxSeconds * 1000,
        failureThreshold: d.failureThreshold,
        pollMs: d.pollSeconds * 1000,
        staleAfterMs: d.staleAfterHours * 3_600_000,
      },
      beforePass: () => this.flush(),
      ...(opts.log ? { log: opts.log } : {}),
    });
  }

  /**
   * Probes every channel (per `startupCheck`), schedules escalation and the heartbeat, and starts delivering what is
   * already in the outbox. With `startupCheck: fail` an unreachable channel throws ALERT_CHANNEL_INVALID naming each.
   */
  async start(): Promise<void> {
    const mode = this.opts.config.startupCheck;
    if (mode !== 'off') {
      const results = await Promise.allSettled(this.opts.built.channels.map((c) => c.channel.probe()));
      const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ channel: this.opts.built.channels[i]!.channel.name, error: this.describe(r.reason) }] : []));
      if (failed.length > 0 && mode === 'fail') {
        await this.close();
        throw new LegguardError('ALERT_CHANNEL_INVALID', failed.map((f) => f.error).join('\n'), { channels: failed.map((f) => f.channel) });
      }
      const trigger = `startup-${nyDate(this.opts.clock.now())}`;
      for (const f of failed) await this.dispatcher.reportFailing(f.channel, trigger, f.error);
    }
    if (this.opts.config.escalation.enabled) this.scheduleEscalation();
    if (this.opts.config.heartbeat.enabled) this.scheduleHeartbeat();
    this.dispatcher.wake();
  }

  raise(alert: Alert): void {
    if (this.closed) {
      // The engine commits its alerts with its step, so the next start delivers such an alert from the outbox; one
      // raised only here is lost, and said so.
      this.opts.log?.({ kind: 'error', error: `alert ${alert.key} raised after the alert service closed; delivered only if it was committed` });
      return;
    }
    this.pending.push(alert);
    this.track(this.flush().then(() => this.dispatcher.wake()));
  }

  /** Writes raised alerts to the outbox; on failure they stay pending and the next pass tries again. */
  private flush(): Promise<void> {
    // `.finally` runs on a later turn, after the assignment, so `flushing` is always cleared.
    this.flushing ??= this.writePending().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async writePending(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.slice();
        await this.opts.store.enqueueAlerts(this.opts.account, batch);
        this.pending = this.pending.slice(batch.length);
      }
    } catch (e) {
      this.opts.log?.({ kind: 'error', error: `cannot write ${this.pending.length} alert(s) to the outbox: ${this.describe(e)}` });
    }
  }

  private describe(e: unknown): string {
    return LegguardError.is(e) ? this.opts.built.redactor.redact(e.message) : this.opts.built.redactor.describe(e);
  }

  private track(p: Promise<void>): void {
    const q = p.catch((e: unknown) => this.opts.log?.({ kind: 'error', error: this.describe(e) }));
    this.background.add(q);
    void q.finally(() => this.background.delete(q));
  }

  private scheduleEscalation(): void {
    if (this.closed) return;
    const every = this.opts.config.escalation.repeatEveryMinutes * 60_000;
    const at = EpochMs.unsafe(this.opts.clock.now() + Math.min(every, ESCALATION_TICK_MS));
    this.escalationTimer = this.opts.clock.setTimer(at, () => {
      this.track(this.escalate().finally(() => this.scheduleEscalation()));
    });
  }

  /** Queues a repeat for every critical incident not acknowledged whose latest alert is older than the period. */
  async escalate(): Promise<void> {
    const e = this.opts.config.escalation;
    const now = this.opts.clock.now();
    const unacked = await this.opts.store.unackedCritical(this.opts.account);
    const repeats = unacked.flatMap((inc) => {
      const r = repeatAlert(inc, now, e.repeatEveryMinutes * 60_000, e.maxRepeats);
      return r ? [r] : [];
    });
    if (repeats.length > 0) {
      await this.opts.store.enqueueAlerts(this.opts.account, repeats);
      this.dispatcher.wake();
    }
  }

  private scheduleHeartbeat(): void {
    if (this.closed) return;
    const at = nextHeartbeatAt(this.opts.clock.now(), this.opts.config.heartbeat.at);
    this.heartbeatAt = at;
    this.heartbeatTimer = this.opts.clock.setTimer(at, () => {
      this.track(this.heartbeat().finally(() => this.scheduleHeartbeat()));
    });
  }

  /** Queues today's heartbeat (once per New York date, whatever the restarts). */
  async heartbeat(): Promise<void> {
    const now = this.opts.clock.now();
    const unacked = await this.opts.store.unackedCritical(this.opts.account);
    const states = this.dispatcher.channels();
    await this.opts.store.enqueueAlerts(this.opts.account, [
      heartbeatAlert(now, {
        channels: states.filter((s) => !s.failing).map((s) => s.name),
        failing: states.filter((s) => s.failing).map((s) => s.name),
        unacked: unacked.map((u) => u.incidentId),
      }),
    ]);
    this.dispatcher.wake();
  }

  /** Resolves once everything started so far (writes, escalation, heartbeat, delivery passes) has settled. */
  async idle(): Promise<void> {
    for (;;) {
      await Promise.all([...this.background]);
      await this.dispatcher.idle();
      if (this.background.size === 0 && this.flushing === null) return;
    }
  }

  status(): AlertsStatus {
    return { channels: this.dispatcher.channels(), unwritten: this.pending.length, nextHeartbeatAt: this.heartbeatAt };
  }

  /** Stops timers, lets work under way finish, closes the channels. The store stays open (its owner closes it). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.escalationTimer?.cancel();
    this.heartbeatTimer?.cancel();
    await Promise.all([...this.background]);
    await this.dispatcher.close();
    for (const c of this.opts.built.channels) c.channel.close();
  }
}
