import type { Alert } from '../../ports/alerts.js';
import type { GuardedChannel } from './alert-channel.js';
import { httpPost, probeTcp } from './http-post.js';
import { safeUrl, type Redactor } from './redactor.js';
import { webhookPayload, type WebhookFormat } from './webhook-payload.js';

export interface WebhookChannelOptions {
  readonly name: string;
  readonly url: string;
  readonly format: WebhookFormat;
  /** Extra headers (an Authorization value read from the environment). */
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly redactor: Redactor;
}

/**
 * POSTs each alert as JSON: legguard's own shape, or a Slack or Discord webhook message. Every request carries
 * `X-Legguard-Alert-Key`, so a receiver can drop the rare duplicate (a delivery that succeeded just before a crash,
 * before the outbox recorded it, is sent again after the restart).
 */
export class WebhookChannel implements GuardedChannel {
  readonly type = 'webhook' as const;
  readonly name: string;
  readonly target: string;

  constructor(private readonly opts: WebhookChannelOptions) {
    this.name = opts.name;
    this.target = `${opts.format} webhook ${safeUrl(opts.url)}`;
  }

  async send(alert: Alert): Promise<void> {
    await httpPost({
      channel: this.name,
      url: this.opts.url,
      body: JSON.stringify(webhookPayload(this.opts.format, alert)),
      headers: {
        ...this.opts.headers,
        'content-type': 'application/json; charset=utf-8',
        'x-legguard-alert-key': encodeURIComponent(alert.key),
        'x-legguard-severity': alert.severity,
      },
      timeoutMs: this.opts.timeoutMs,
      redactor: this.opts.redactor,
    });
  }

  probe(): Promise<void> {
    return probeTcp(this.name, this.opts.url, this.opts.timeoutMs);
  }

  close(): void {
    // Each request stands alone.
  }
}
