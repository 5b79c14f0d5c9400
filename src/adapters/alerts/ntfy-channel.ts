import type { Alert, Severity } from '../../ports/alerts.js';
import type { GuardedChannel } from './alert-channel.js';
import { alertBody, truncate } from './format-alert.js';
import { httpPost, probeTcp } from './http-post.js';
import { safeUrl, type Redactor } from './redactor.js';

/** ntfy priorities: 3 is the default buzz; 5 ("max") breaks through Do Not Disturb on Android when allowed. */
export const NTFY_PRIORITY: Readonly<Record<Severity, 3 | 4 | 5>> = { info: 3, warning: 4, critical: 5 };
/** Tags that ntfy shows as emojis in front of the title. */
export const NTFY_TAGS: Readonly<Record<Severity, readonly string[]>> = {
  info: ['information_source'],
  warning: ['warning'],
  critical: ['rotating_light'],
};

export interface NtfyChannelOptions {
  readonly name: string;
  /** `https://ntfy.sh` or a self-hosted server's root. */
  readonly server: string;
  readonly topic: string;
  readonly token: string | null;
  readonly timeoutMs: number;
  readonly redactor: Redactor;
}

/**
 * Publishes to an ntfy topic with ntfy's JSON form (POST to the server root with the topic in the body), which,
 * unlike the header form, carries any character in a title.
 */
export class NtfyChannel implements GuardedChannel {
  readonly type = 'ntfy' as const;
  readonly name: string;
  readonly target: string;
  private readonly root: string;

  constructor(private readonly opts: NtfyChannelOptions) {
    this.name = opts.name;
    this.root = opts.server.replace(/\/+$/, '');
    this.target = `ntfy ${safeUrl(this.root)}`;
  }

  async send(alert: Alert): Promise<void> {
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
    if (this.opts.token !== null) headers.authorization = `Bearer ${this.opts.token}`;
    await httpPost({
      channel: this.name,
      url: this.root,
      body: JSON.stringify({
        topic: this.opts.topic,
        title: truncate(alert.title, 250),
        // ntfy turns messages over 4 KB into attachments; a phone notification should be read, not downloaded.
        message: truncate(alertBody(alert), 3900),
        priority: NTFY_PRIORITY[alert.severity],
        tags: NTFY_TAGS[alert.severity],
      }),
      headers,
      timeoutMs: this.opts.timeoutMs,
      redactor: this.opts.redactor,
    });
  }

  probe(): Promise<void> {
    return probeTcp(this.name, this.root, this.opts.timeoutMs);
  }

  close(): void {
    // Each request stands alone.
  }
}
