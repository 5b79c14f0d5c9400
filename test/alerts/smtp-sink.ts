import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  readonly from: string;
  readonly to: readonly string[];
  readonly user: string | null;
  readonly raw: string;
}

/**
 * A real SMTP server (the `smtp-server` package) on 127.0.0.1, ephemeral port, plain text (no STARTTLS), with
 * PLAIN/LOGIN auth checked against one user. Records every message it takes.
 */
export class SmtpSink {
  readonly mails: ReceivedMail[] = [];
  readonly authAttempts: { user: string; ok: boolean }[] = [];
  /** Recipients the server refuses. */
  readonly refuse = new Set<string>();
  private server: SMTPServer | null = null;
  port = 0;

  constructor(
    private readonly user: string,
    private readonly password: string,
  ) {}

  async start(): Promise<number> {
    const server = new SMTPServer({
      secure: false,
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      authMethods: ['PLAIN', 'LOGIN'],
      logger: false,
      onAuth: (auth, _session, cb) => {
        const ok = auth.username === this.user && auth.password === this.password;
        this.authAttempts.push({ user: auth.username ?? '', ok });
        if (ok) cb(null, { user: auth.username });
        else cb(new Error('Invalid username or password'));
      },
      onRcptTo: (address, _session, cb) => {
        if (this.refuse.has(address.address)) {
          const e = new Error('mailbox unavailable') as Error & { responseCode: number };
          e.responseCode = 550;
          cb(e);
        } else cb();
      },
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const env = session.envelope;
          this.mails.push({
            from: env.mailFrom ? env.mailFrom.address : '',
            to: env.rcptTo.map((r) => r.address),
            user: typeof session.user === 'string' ? session.user : null,
            raw: Buffer.concat(chunks).toString('utf8'),
          });
          cb();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.port = (server.server.address() as AddressInfo).port;
    return this.port;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/** One header of a raw message, unfolded. */
export function header(raw: string, name: string): string | undefined {
  const head = raw.split(/\r?\n\r?\n/, 1)[0]!.replace(/\r?\n[ \t]+/g, ' ');
  const line = head.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

/** The text body of a single-part message, quoted-printable decoded when it says so. */
export function textBody(raw: string): string {
  const i = raw.search(/\r?\n\r?\n/);
  const body = raw.slice(raw.indexOf('\n', i + 1) + 1).replace(/^\r?\n/, '');
  const qp = /quoted-printable/i.test(header(raw, 'content-transfer-encoding') ?? '');
  if (!qp) return body.replace(/\r\n/g, '\n');
  const soft = body.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let k = 0; k < soft.length; k++) {
    const m = /^=([0-9A-F]{2})/.exec(soft.slice(k, k + 3));
    if (m) {
      bytes.push(parseInt(m[1]!, 16));
      k += 2;
    } else bytes.push(...Buffer.from(soft[k]!, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8').replace(/\r\n/g, '\n');
}
