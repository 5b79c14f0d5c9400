import { LegguardError } from '../../core/errors.js';
import type { Alert } from '../../ports/alerts.js';
import type { GuardedChannel } from './alert-channel.js';
import { plainMessage, truncate } from './format-alert.js';
import { httpPost } from './http-post.js';
import { safeUrl, type Redactor } from './redactor.js';

export interface TelegramChannelOptions {
  readonly name: string;
  /** `https://api.telegram.org`, or a loopback server in tests. */
  readonly apiBase: string;
  /** The bot token; it sits in the request path, so every message about a request is redacted. */
  readonly token: string;
  readonly chatId: string;
  readonly timeoutMs: number;
  readonly redactor: Redactor;
}

/** Telegram's flood control answers 429 with `{"parameters":{"retry_after":N}}` (seconds). */
function telegramRetryAfter(body: string): number | undefined {
  try {
    const j = JSON.parse(body) as { parameters?: { retry_after?: unknown } };
    const s = j.parameters?.retry_after;
    return typeof s === 'number' && s >= 0 ? s * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Sends through the Telegram Bot API's `sendMessage` as plain text (no parse mode: nothing in a title can break the
 * markup). Info alerts arrive silently; warnings and criticals make the phone sound.
 */
export class TelegramChannel implements GuardedChannel {
  readonly type = 'telegram' as const;
  readonly name: string;
  readonly target: string;
  private readonly base: string;

  constructor(private readonly opts: TelegramChannelOptions) {
    this.name = opts.name;
    this.base = opts.apiBase.replace(/\/+$/, '');
    this.target = `telegram chat ${opts.chatId} via ${safeUrl(this.base)}`;
  }

  private call(method: string, payload: unknown): Promise<{ status: number; text: string }> {
    return httpPost({
      channel: this.name,
      url: `${this.base}/bot${this.opts.token}/${method}`,
      body: JSON.stringify(payload),
      headers: { 'content-type': 'application/json; charset=utf-8' },
      timeoutMs: this.opts.timeoutMs,
      redactor: this.opts.redactor,
      retryAfterFromBody: telegramRetryAfter,
    });
  }

  private checkOk(method: string, text: string): void {
    let ok: boolean;
    try {
      ok = (JSON.parse(text) as { ok?: unknown }).ok === true;
    } catch {
      ok = false;
    }
    if (!ok) {
      throw new LegguardError(
        'ALERT_DELIVERY_FAILED',
        `channel "${this.name}": Telegram ${method} did not answer ok: ${this.opts.redactor.redact(text.slice(0, 200))}`,
        { channel: this.name },
      );
    }
  }

  async send(alert: Alert): Promise<void> {
    const res = await this.call('sendMessage', {
      chat_id: this.opts.chatId,
      text: truncate(plainMessage(alert), 4096),
      disable_notification: alert.severity === 'info',
      link_preview_options: { is_disabled: true },
    });
    this.checkOk('sendMessage', res.text);
  }

  /** `getMe`: proves the API is reachable and the token is a live bot's, without writing to the chat. */
  async probe(): Promise<void> {
    try {
      const res = await this.call('getMe', {});
      this.checkOk('getMe', res.text);
    } catch (e) {
      const status = LegguardError.is(e) ? e.details.status : undefined;
      const why = status === 401 || status === 404 ? 'the bot token was rejected (check the token environment variable)' : this.opts.redactor.describe(e);
      throw new LegguardError('ALERT_CHANNEL_INVALID', `alert channel "${this.name}" (telegram): ${why}`, { channel: this.name });
    }
  }

  close(): void {
    // Each request stands alone.
  }
}
