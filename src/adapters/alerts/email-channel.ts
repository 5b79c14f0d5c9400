import { createHash } from 'node:crypto';
import nodemailer from 'nodemailer';
import type { Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import { LegguardError } from '../../core/errors.js';
import type { Alert } from '../../ports/alerts.js';
import type { GuardedChannel } from './alert-channel.js';
import { alertBody, severityLabel, truncate } from './format-alert.js';
import type { Redactor } from './redactor.js';

export interface EmailChannelOptions {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** `tls` from the first byte (465), `starttls` required, `none` for a local relay. */
  readonly security: 'tls' | 'starttls' | 'none';
  readonly user: string | null;
  readonly password: string | null;
  readonly from: string;
  readonly to: readonly string[];
  readonly allowSelfSigned: boolean;
  readonly timeoutMs: number;
  readonly redactor: Redactor;
}

/**
 * Sends each alert as a plain-text email over SMTP (nodemailer). The Message-ID is derived from the alert key, so a
 * duplicate delivered after a crash threads with (and in most clients collapses into) the first.
 */
export class EmailChannel implements GuardedChannel {
  readonly type = 'email' as const;
  readonly name: string;
  readonly target: string;
  private readonly transport: Transporter<SMTPTransport.SentMessageInfo>;

  constructor(private readonly opts: EmailChannelOptions) {
    this.name = opts.name;
    this.target = `email to ${opts.to.join(', ')} via ${opts.host}:${opts.port}`;
    const t: SMTPTransport.Options = {
      host: opts.host,
      port: opts.port,
      secure: opts.security === 'tls',
      requireTLS: opts.security === 'starttls',
      ignoreTLS: opts.security === 'none',
      tls: { rejectUnauthorized: !opts.allowSelfSigned },
      connectionTimeout: opts.timeoutMs,
      greetingTimeout: opts.timeoutMs,
      socketTimeout: opts.timeoutMs,
    };
    if (opts.user !== null) t.auth = { user: opts.user, pass: opts.password ?? '' };
    this.transport = nodemailer.createTransport(t);
  }

  /** `<4f1c...@legguard>`: the same alert always gets the same id. */
  static messageId(alertKey: string): string {
    return `<${createHash('sha256').update(alertKey).digest('hex').slice(0, 40)}@legguard>`;
  }

  async send(alert: Alert): Promise<void> {
    let info: SMTPTransport.SentMessageInfo;
    try {
      info = await this.transport.sendMail({
        from: this.opts.from,
        to: [...this.opts.to],
        subject: truncate(`[legguard ${severityLabel(alert.severity)}] ${alert.title}`, 250),
        text: alertBody(alert),
        messageId: EmailChannel.messageId(alert.key),
        priority: alert.severity === 'critical' ? 'high' : 'normal',
        headers: { 'X-Legguard-Alert-Key': alert.key, 'X-Legguard-Severity': alert.severity },
      });
    } catch (e) {
      throw new LegguardError(
        'ALERT_DELIVERY_FAILED',
        `channel "${this.name}": SMTP ${this.opts.host}:${this.opts.port}: ${this.opts.redactor.describe(e)}`,
        { channel: this.name },
      );
    }
    if (info.accepted.length === 0) {
      throw new LegguardError('ALERT_DELIVERY_FAILED', `channel "${this.name}": the SMTP server accepted none of the recipients`, {
        channel: this.name,
      });
    }
  }

  /** Connects, greets and logs in without sending. */
  async probe(): Promise<void> {
    try {
      await this.transport.verify();
    } catch (e) {
      throw new LegguardError(
        'ALERT_CHANNEL_INVALID',
        `alert channel "${this.name}" (email): SMTP ${this.opts.host}:${this.opts.port}: ${this.opts.redactor.describe(e)}`,
        { channel: this.name },
      );
    }
  }

  close(): void {
    this.transport.close();
  }
}
