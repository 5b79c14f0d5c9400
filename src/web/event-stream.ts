import type { ServerResponse } from 'node:http';

/** How often an idle stream gets a comment line, so that proxies and browsers keep it open. */
const KEEPALIVE_MS = 15_000;
/** A client that stops reading is dropped once this much is queued for it, never buffered without bound. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

/**
 * Server-sent events: each timeline entry as one `data:` line of JSON (`event: timeline`), numbered with `id:`.
 * Text goes through `redact` first.
 */
export class EventStream {
  private readonly clients = new Set<ServerResponse>();
  private seq = 0;
  private readonly keepalive: NodeJS.Timeout;

  constructor(private readonly redact: (text: string) => string) {
    this.keepalive = setInterval(() => {
      for (const c of this.clients) c.write(': keepalive\n\n');
    }, KEEPALIVE_MS);
    this.keepalive.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  add(res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      connection: 'keep-alive',
    });
    res.write('retry: 2000\n\n');
    this.clients.add(res);
    res.on('close', () => this.clients.delete(res));
  }

  send(event: string, data: object): void {
    if (this.clients.size === 0) return;
    const text = `id: ${++this.seq}\nevent: ${event}\ndata: ${this.redact(JSON.stringify(data))}\n\n`;
    for (const c of this.clients) {
      if (c.writableLength > MAX_BUFFERED_BYTES) {
        c.destroy();
        this.clients.delete(c);
        continue;
      }
      c.write(text);
    }
  }

  close(): void {
    clearInterval(this.keepalive);
    for (const c of this.clients) c.end();
    this.clients.clear();
  }
}
