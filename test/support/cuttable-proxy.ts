// A TCP proxy on 127.0.0.1 that a drill can cut: until `cut()` it pipes every connection to the target. `cut()` is a
// partition: from then on nothing passes either way on the connections it carries (they stay open, their bytes
// dropped, as a network that drops packets leaves both ends waiting), and new connections are accepted and never
// answered. Used to cut one guard off PostgreSQL while another still reaches it.
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export class CuttableProxy {
  private readonly sockets = new Set<Socket>();
  private readonly pairs: [Socket, Socket][] = [];
  private isCut = false;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetHost: string, targetPort: number): Promise<CuttableProxy> {
    let self: CuttableProxy | null = null;
    const server = createServer((client) => {
      const p = self!;
      p.track(client);
      if (p.isCut) return; // blackholed: held open, never answered
      const upstream = createConnection({ host: targetHost, port: targetPort });
      p.track(upstream);
      p.pairs.push([client, upstream]);
      client.pipe(upstream);
      upstream.pipe(client);
      const end = (): void => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const addr = server.address();
    if (addr === null || typeof addr === 'string') throw new Error('the proxy has no port');
    self = new CuttableProxy(server, addr.port);
    return self;
  }

  /** The partition: nothing passes any more on the connections it carries, and new ones are held unanswered. */
  cut(): void {
    this.isCut = true;
    for (const [a, b] of this.pairs) {
      a.unpipe(b);
      b.unpipe(a);
      // Read and drop: neither end hears from the other again, and neither is closed.
      a.on('data', () => undefined);
      b.on('data', () => undefined);
    }
  }

  get connections(): number {
    return this.sockets.size;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private track(s: Socket): void {
    this.sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => this.sockets.delete(s));
  }
}
