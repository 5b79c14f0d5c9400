import { LegguardError } from '../../core/errors.js';
import type { AccountId, IncidentId } from '../../core/ids.js';
import { EpochMs } from '../../core/quantity.js';
import type { Clock, TimerHandle } from '../../ports/clock.js';
import { SKIPPED_DELIVERY_PREFIX, type DeliveryResult, type OutboxDelivery, type StorePort } from '../../ports/store.js';
import type { ConfiguredChannel } from './alert-channel.js';
import { retryDelayMs } from '../../lib/backoff.js';
import { formatNyTime, severityRank } from './format-alert.js';
import { RateWindow } from './rate-window.js';
import type { Redactor } from './redactor.js';
import { aboutChannel, channelFailingAlert, channelRecoveredAlert, systemAlertKind } from './system-alerts.js';

/** What the dispatcher did, for the daemon's log and for tests. Every text in it is already redacted. */
export type DispatchEvent =
  | { readonly kind: 'delivered'; readonly channel: string; readonly key: string; readonly attempts: number }
  | { readonly kind: 'retry'; readonly channel: string; readonly key: string; readonly attempts: number; readonly error: string; readonly nextAttemptAt: EpochMs }
  | { readonly kind: 'gave-up'; readonly channel: string; readonly key: string; readonly attempts: number; readonly error: string }
  | { readonly kind: 'skipped'; readonly channel: string; readonly key: string; readonly reason: string }
  | { readonly kind: 'rate-limited'; readonly channel: string; readonly until: EpochMs }
  | { readonly kind: 'channel-failing'; readonly channel: string; readonly error: string }
  | { readonly kind: 'channel-recovered'; readonly channel: string }
  | { readonly kind: 'error'; readonly error: string };

export interface DeliveryPolicy {
  readonly maxAttempts: number;
  readonly initialMs: number;
  readonly factor: number;
  readonly maxMs: number;
  readonly failureThreshold: number;
  readonly pollMs: number;
  readonly staleAfterMs: number;
}

export interface OutboxDispatcherOptions {
  readonly store: StorePort;
  /** The account whose outbox it delivers: alerts of other accounts in the same store are never touched. */
  readonly account: AccountId;
  readonly clock: Clock;
  readonly channels: readonly ConfiguredChannel[];
  readonly redactor: Redactor;
  readonly policy: DeliveryPolicy;
  readonly log?: (e: DispatchEvent) => void;
  /** Runs at the start of every pass (the alert service writes alerts the store refused earlier). */
  readonly beforePass?: () => Promise<void>;
}

/** One channel's live state, as `status` shows it. */
export interface ChannelState {
  readonly name: string;
  readonly type: string;
  readonly target: string;
  readonly minSeverity: string;
  readonly consecutiveFailures: number;
  readonly lastError: string | null;
  readonly lastDeliveredAt: EpochMs | null;
  /** Reported as failing on the other channels and not yet delivering again. */
  readonly failing: boolean;
}

interface LiveChannel {
  readonly cfg: ConfiguredChannel;
  readonly name: string;
  readonly window: RateWindow;
  consecutiveFailures: number;
  lastError: string | null;
  lastDeliveredAt: EpochMs | null;
  /** The trigger of the failure report made for the current streak, or null when none was made. */
  reported: string | null;
  limitedUntil: number | null;
}

/** How many outbox rows one query takes for one channel. */
const BATCH = 50;

/**
 * Delivers the durable outbox. Each pass asks the store, channel by channel, for deliveries due now and sends them:
 * criticals first, at most the channel's rate limit, one at a time per channel and all channels at once, so a channel
 * that hangs until its timeout delays nobody else. A failure is recorded with the next attempt time (exponential
 * backoff, capped, at least what a 429 asked for) and given up after `maxAttempts`; a channel that keeps failing is
 * reported once per failure streak on the channels that work.
 *
 * Delivery is at least once: an alert sent just before a crash, before `recordDelivery` was written, is sent again
 * after the restart. Webhooks carry the alert key and emails a Message-ID derived from it, so receivers can fold
 * such a duplicate.
 */
export class OutboxDispatcher {
  private readonly live: LiveChannel[];
  private running: Promise<void> | null = null;
  private again = false;
  private closed = false;
  private timer: TimerHandle | null = null;
  private earliestRetry: number | null = null;

  constructor(private readonly opts: OutboxDispatcherOptions) {
    this.live = opts.channels.map((cfg) => ({
      cfg,
      name: cfg.channel.name,
      window: new RateWindow(cfg.rateLimit.max, cfg.rateLimit.perMs),
      consecutiveFailures: 0,
      lastError: null,
      lastDeliveredAt: null,
      reported: null,
      limitedUntil: null,
    }));
  }

  /** Starts a pass now, or another right after the one running. */
  wake(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = null;
    });
  }

  /** Resolves when no pass is running (tests and `close`). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Stops timers and waits for the pass under way; deliveries not made stay in the outbox for the next start. */
  async close(): Promise<void> {
    this.closed = true;
    this.timer?.cancel();
    this.timer = null;
    await this.idle();
  }

  channels(): readonly ChannelState[] {
    return this.live.map((c) => ({
      name: c.name,
      type: c.cfg.channel.type,
      target: c.cfg.channel.target,
      minSeverity: c.cfg.minSeverity,
      consecutiveFailures: c.consecutiveFailures,
      lastError: c.lastError,
      lastDeliveredAt: c.lastDeliveredAt,
      failing: c.reported !== null,
    }));
  }

  /**
   * Reports `channel` as failing on the others, once per `trigger` (the outbox refuses the key a second time), and
   * remembers it so the same streak is not reported again. Start-up probing uses it for an unreachable channel.
   */
  async reportFailing(channel: string, trigger: string, error: string): Promise<void> {
    const c = this.live.find((x) => x.name === channel);
    if (!c || c.reported !== null) return;
    c.reported = trigger;
    c.lastError = error;
    const now = this.opts.clock.now();
    this.log({ kind: 'channel-failing', channel, error });
    try {
      await this.opts.store.enqueueAlerts(this.opts.account, [channelFailingAlert(channel, c.cfg.channel.target, trigger, Math.max(1, c.consecutiveFailures), error, now)]);
      this.wake();
    } catch (e) {
      // Try again on the next failure of this streak.
      c.reported = null;
      this.log({ kind: 'error', error: `cannot queue the failure report for channel "${channel}": ${this.opts.redactor.describe(e)}` });
    }
  }

  private log(e: DispatchEvent): void {
    this.opts.log?.(e);
  }

  private async loop(): Promise<void> {
    // Retry times seen in any pass of this run decide the next wake, so they are forgotten only here.
    this.earliestRetry = null;
    do {
      this.again = false;
      try {
        await this.opts.beforePass?.();
        await this.pass();
      } catch (e) {
        this.log({ kind: 'error', error: `alert delivery pass failed: ${this.opts.redactor.describe(e)}` });
      }
    } while (this.again && !this.closed);
    this.scheduleNext();
  }

  /** The next pass: the earliest retry or rate-limit reopening seen, and at the latest one poll interval from now. */
  private scheduleNext(): void {
    if (this.closed) return;
    const now = this.opts.clock.now();
    let at = now + this.opts.policy.pollMs;
    if (this.earliestRetry !== null) at = Math.min(at, this.earliestRetry);
    for (const c of this.live) if (c.limitedUntil !== null) at = Math.min(at, c.limitedUntil);
    this.timer?.cancel();
    this.timer = this.opts.clock.setTimer(EpochMs.unsafe(Math.max(at, now + 1)), () => {
      this.timer = null;
      this.wake();
    });
  }

  private async pass(): Promise<void> {
    const now = this.opts.clock.now();
    const unacked = new LazyUnacked(this.opts.store, this.opts.account);
    await Promise.all(this.live.map((c) => this.drain(c, now, unacked)));
  }

  private async drain(c: LiveChannel, now: EpochMs, unacked: LazyUnacked): Promise<void> {
    c.limitedUntil = null;
    // Each round records every row it does not leave for the rate limit, so rows do not come back; the bound only
    // guards against a store that fails to record.
    for (let round = 0; round < 1000 && !this.closed; round++) {
      let rows: readonly OutboxDelivery[];
      try {
        rows = await this.opts.store.dueDeliveries(this.opts.account, [c.name], now, BATCH);
      } catch (e) {
        this.log({ kind: 'error', error: `cannot read the alert outbox for channel "${c.name}": ${this.opts.redactor.describe(e)}` });
        return;
      }
      if (rows.length === 0) return;
      const ordered = [...rows].sort(
        (a, b) => severityRank(b.alert.severity) - severityRank(a.alert.severity) || a.alert.at - b.alert.at,
      );
      let progressed = false;
      for (const row of ordered) {
        if (this.closed) return;
        const skip = await this.skipReason(c, row, now, unacked);
        if (skip !== null) {
          if (!(await this.record(c, { account: this.opts.account, alertKey: row.alert.key, channel: c.name, at: this.opts.clock.now(), delivered: false, error: `${SKIPPED_DELIVERY_PREFIX}${skip}`, nextAttemptAt: null }))) return;
          this.log({ kind: 'skipped', channel: c.name, key: row.alert.key, reason: skip });
          progressed = true;
          continue;
        }
        if (!c.window.take(this.opts.clock.now())) {
          if (c.limitedUntil === null) {
            c.limitedUntil = c.window.nextFreeAt(this.opts.clock.now());
            this.log({ kind: 'rate-limited', channel: c.name, until: EpochMs.unsafe(c.limitedUntil) });
          }
          continue;
        }
        if (!(await this.attempt(c, row))) return;
        progressed = true;
      }
      if (!progressed) return;
    }
  }

  /** Why this row is not for this channel, or null when it should be sent. */
  private async skipReason(c: LiveChannel, row: OutboxDelivery, now: number, unacked: LazyUnacked): Promise<string | null> {
    const a = row.alert;
    const kind = systemAlertKind(a.key);
    if ((kind === 'channel-failing' || kind === 'channel-recovered') && aboutChannel(a.key) === c.name) {
      return 'a report about this channel itself';
    }
    if (now - a.at > this.opts.policy.staleAfterMs) {
      return `stale: raised ${formatNyTime(a.at)}, more than ${Math.round(this.opts.policy.staleAfterMs / 3_600_000)} h ago`;
    }
    if (kind === 'heartbeat') {
      if (!c.cfg.heartbeat) return 'heartbeats are off for this channel';
    } else if (kind === 'channel-failing' || kind === 'channel-recovered' || kind === 'test') {
      // A person must hear that a channel is down on whatever channel still works, whatever its minimum.
    } else if (severityRank(a.severity) < severityRank(c.cfg.minSeverity)) {
      return `${a.severity} is below this channel's minimum (${c.cfg.minSeverity})`;
    }
    if (kind === 'repeat' && a.incidentId !== null && !(await unacked.has(a.incidentId))) {
      return 'the incident was acknowledged';
    }
    return null;
  }

  /** Sends one delivery and records the outcome; false when the outcome could not be recorded. */
  private async attempt(c: LiveChannel, row: OutboxDelivery): Promise<boolean> {
    const attempts = row.attempts + 1;
    const p = this.opts.policy;
    try {
      await c.cfg.channel.send(row.alert);
    } catch (e) {
      const error = LegguardError.is(e) ? this.opts.redactor.redact(e.message) : this.opts.redactor.describe(e);
      const retryAfter = LegguardError.is(e) && typeof e.details.retryAfterMs === 'number' ? e.details.retryAfterMs : 0;
      const now = this.opts.clock.now();
      const giveUp = attempts >= p.maxAttempts;
      const next = giveUp ? null : EpochMs.unsafe(now + Math.max(retryDelayMs(attempts, p), retryAfter));
      c.consecutiveFailures++;
      c.lastError = error;
      const ok = await this.record(c, { account: this.opts.account, alertKey: row.alert.key, channel: c.name, at: now, delivered: false, error, nextAttemptAt: next });
      if (next === null) this.log({ kind: 'gave-up', channel: c.name, key: row.alert.key, attempts, error });
      else {
        this.earliestRetry = this.earliestRetry === null ? next : Math.min(this.earliestRetry, next);
        this.log({ kind: 'retry', channel: c.name, key: row.alert.key, attempts, error, nextAttemptAt: next });
      }
      if (c.reported === null && (c.consecutiveFailures >= p.failureThreshold || attempts >= p.failureThreshold || giveUp)) {
        await this.reportFailing(c.name, row.alert.key, error);
      }
      return ok;
    }
    const now = this.opts.clock.now();
    const ok = await this.record(c, { account: this.opts.account, alertKey: row.alert.key, channel: c.name, at: now, delivered: true, error: null, nextAttemptAt: null });
    c.consecutiveFailures = 0;
    c.lastDeliveredAt = now;
    this.log({ kind: 'delivered', channel: c.name, key: row.alert.key, attempts });
    if (c.reported !== null) {
      const trigger = c.reported;
      c.reported = null;
      this.log({ kind: 'channel-recovered', channel: c.name });
      try {
        await this.opts.store.enqueueAlerts(this.opts.account, [channelRecoveredAlert(c.name, trigger, now)]);
        this.again = true;
      } catch (e) {
        this.log({ kind: 'error', error: `cannot queue the recovery notice for channel "${c.name}": ${this.opts.redactor.describe(e)}` });
      }
    }
    return ok;
  }

  private async record(c: LiveChannel, r: DeliveryResult): Promise<boolean> {
    try {
      await this.opts.store.recordDelivery(r);
      return true;
    } catch (e) {
      this.log({ kind: 'error', error: `cannot record a delivery on channel "${c.name}": ${this.opts.redactor.describe(e)}` });
      return false;
    }
  }
}

/** The unacknowledged incidents, read once per pass and only when a repeat is about to be sent. */
class LazyUnacked {
  private set: Promise<ReadonlySet<string>> | null = null;

  constructor(
    private readonly store: StorePort,
    private readonly account: AccountId,
  ) {}

  async has(id: IncidentId): Promise<boolean> {
    this.set ??= this.store.unackedCritical(this.account).then((xs) => new Set(xs.map((x) => x.incidentId)));
    try {
      return (await this.set).has(id);
    } catch {
      // Unknown: send the repeat rather than drop it.
      return true;
    }
  }
}
