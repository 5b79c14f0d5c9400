import type { AlertChannel, Severity } from '../../ports/alerts.js';
import type { ChannelType } from './alerts-config.js';

/** A channel as built from the config: the port's `send`, plus what start-up and `status` need. */
export interface GuardedChannel extends AlertChannel {
  readonly type: ChannelType;
  /** Where it sends, with nothing secret in it: `telegram chat 12345 via https://api.telegram.org/…`. */
  readonly target: string;
  /**
   * Checks that the channel can be reached without sending a message (TCP connect, SMTP greeting and login, Telegram
   * getMe). Rejects with ALERT_CHANNEL_INVALID naming the channel and the problem.
   */
  probe(): Promise<void>;
  /** Releases connections (SMTP pool). */
  close(): void;
}

/** A channel and the delivery rules that come with it from the config. */
export interface ConfiguredChannel {
  readonly channel: GuardedChannel;
  readonly minSeverity: Severity;
  readonly rateLimit: { readonly max: number; readonly perMs: number };
  readonly heartbeat: boolean;
}
