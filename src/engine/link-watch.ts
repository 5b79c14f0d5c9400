import { linkDownAlert } from '../core/link-down.js';
import { EpochMs } from '../core/quantity.js';
import type { TimerHandle } from '../ports/clock.js';
import type { EngineContext } from './engine-host.js';

/**
 * Watches the broker link: when it stays down `brokerDownAlertMs` (IB's 1100 never followed by 1101/1102, or a socket
 * the adapter cannot get back), a person is told once per outage (critical when a close is waiting), and told again
 * when it is back. Without this a link that never comes back leaves the guard blind and unable to send, in silence.
 */
export class LinkWatch {
  private downSince: EpochMs | null = null;
  private reason: string | null = null;
  private timer: TimerHandle | null = null;
  private alertedKey: string | null = null;

  constructor(private readonly ctx: EngineContext) {}

  /** The link went down (a no-op when it already was: the outage started earlier). */
  down(reason: string | null): void {
    if (this.downSince !== null) return;
    const since = this.ctx.clock.now();
    this.downSince = since;
    this.reason = reason;
    this.timer = this.ctx.clock.setTimer(EpochMs.unsafe(since + this.ctx.config.brokerDownAlertMs), () => {
      if (!this.ctx.isRunning()) return;
      void this.ctx.enqueue(() => this.alertIfStillDown(since));
    });
  }

  /** The link is back: the timer is dropped, and a person who was told it was down is told it is back. */
  async up(): Promise<void> {
    const since = this.downSince;
    this.timer?.cancel();
    this.timer = null;
    this.downSince = null;
    this.reason = null;
    const key = this.alertedKey;
    this.alertedKey = null;
    if (since === null || key === null) return;
    const downMs = this.ctx.clock.now() - since;
    const alert = this.ctx.makeAlert('info', `${key}:back`, 'Broker link back', `The broker link is back after ${Math.round(downMs / 1000)} s; reconciling and resuming every close.`, null, null, { downMs });
    await this.ctx.commit({ alerts: [alert] });
    this.ctx.raise([alert]);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  private async alertIfStillDown(since: EpochMs): Promise<void> {
    if (this.downSince !== since || this.alertedKey !== null) return;
    const downMs = this.ctx.clock.now() - since;
    const strategies = [...this.ctx.strategies.values()].map((rt) => ({ id: rt.def.id, state: rt.state, closing: rt.closing !== null }));
    const a = linkDownAlert(downMs, this.reason, strategies);
    const key = `link-down:${since}`;
    this.alertedKey = key;
    const alert = this.ctx.makeAlert(a.severity, key, a.title, a.text, null, null, { downMs, owing: a.owing.join(',') });
    this.ctx.emit({ kind: 'note', at: this.ctx.clock.now(), strategyId: null, text: a.title });
    await this.ctx.commit({ journal: [this.ctx.journal('note', key, { downMs, reason: this.reason, owing: a.owing })], alerts: [alert] });
    this.ctx.raise([alert]);
  }
}
