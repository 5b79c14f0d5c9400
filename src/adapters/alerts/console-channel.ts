import { LegguardError } from '../../core/errors.js';
import type { Alert, Severity } from '../../ports/alerts.js';
import type { GuardedChannel } from './alert-channel.js';
import { alertBody, formatNyTime, severityLabel } from './format-alert.js';

const COLOURS: Readonly<Record<Severity, string>> = {
  info: '\x1b[36m', // cyan
  warning: '\x1b[1;33m', // bold yellow
  critical: '\x1b[1;37;41m', // bold white on red: seen from across the room
};
const RESET = '\x1b[0m';

export interface ConsoleChannelOptions {
  readonly name: string;
  readonly stream: NodeJS.WritableStream & { isTTY?: boolean };
  readonly color: boolean;
}

/**
 * Writes alerts for a person at a terminal: one coloured header line, the body indented under it.
 *
 * @example
 *   2026-01-28 02:30:05 ET CRITICAL ASSIGNMENT: SPY 2026-01-30 440 P x2 on ic-spy
 *       ic-spy broke: ...
 */
export class ConsoleChannel implements GuardedChannel {
  readonly type = 'console' as const;
  readonly name: string;
  readonly target: string;
  private readonly stream: NodeJS.WritableStream;
  private readonly color: boolean;

  constructor(opts: ConsoleChannelOptions) {
    this.name = opts.name;
    this.stream = opts.stream;
    this.color = opts.color;
    this.target = opts.stream === process.stdout ? 'stdout' : opts.stream === process.stderr ? 'stderr' : 'a stream';
  }

  render(alert: Alert): string {
    const label = severityLabel(alert.severity).padEnd(8);
    const head = `${formatNyTime(alert.at)} ${this.color ? `${COLOURS[alert.severity]}${label}${RESET}` : label} ${alert.title}`;
    const body = alertBody(alert)
      .split('\n')
      .map((l) => (l ? `    ${l}` : ''))
      .join('\n');
    return `${head}\n${body}\n`;
  }

  send(alert: Alert): Promise<void> {
    const text = this.render(alert);
    return new Promise((resolve, reject) => {
      this.stream.write(text, (e) => {
        if (e) {
          reject(new LegguardError('ALERT_DELIVERY_FAILED', `channel "${this.name}": cannot write to ${this.target}: ${e.message}`, { channel: this.name }));
        } else resolve();
      });
    });
  }

  probe(): Promise<void> {
    return Promise.resolve();
  }

  close(): void {
    // Nothing held.
  }
}
