import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The status the server answered with. */
  readonly status: number;
}

export interface Reply {
  readonly status: number;
  readonly body?: string;
  readonly headers?: Record<string, string>;
}

/**
 * A real HTTP server on 127.0.0.1, ephemeral port, that records every request and fails the first `failFirst`
 * (with `failWith`, default 500). `reply` decides the answer of the others (default 200 `ok`).
 */
export class RecordingServer {
  readonly requests: RecordedRequest[] = [];
  failFirst = 0;
  failWith: Reply = { status: 500, body: 'internal error' };
  reply: (path: string, body: string) => Reply = () => ({ status: 200, body: 'ok' });
  /** When set, every request fails with `failWith` (a receiver that is down), whatever `failFirst` says. */
  down = false;
  private server: Server | null = null;
  private seen = 0;

  /** Forgets requests and restarts the failure count. */
  reset(): void {
    this.requests.length = 0;
    this.seen = 0;
    this.failFirst = 0;
    this.down = false;
    this.failWith = { status: 500, body: 'internal error' };
    this.reply = () => ({ status: 200, body: 'ok' });
  }

  async start(): Promise<string> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const path = req.url ?? '/';
        const r = this.down || this.seen++ < this.failFirst ? this.failWith : this.reply(path, body);
        this.requests.push({ method: req.method ?? '', path, headers: req.headers, body, status: r.status });
        res.writeHead(r.status, { 'content-type': 'text/plain', ...(r.headers ?? {}) });
        res.end(r.body ?? '');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    return this.url;
  }

  get url(): string {
    const a = this.server?.address() as AddressInfo | null;
    if (!a) throw new Error('server not started');
    return `http://127.0.0.1:${a.port}`;
  }

  /** Requests answered 2xx: what a receiver actually took. */
  get accepted(): RecordedRequest[] {
    return this.requests.filter((r) => r.status >= 200 && r.status < 300);
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/** A loopback port with nothing listening: bind one, note it, close it. */
export async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
