import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { encodeFrame, FrameReader, parseHandshake, splitFields } from '../../src/adapters/tws-sim/frame-codec.js';

/** Ids of messages a client sends that the hostile tests look for. */
export const OutId = { REQ_EXECUTIONS: 7, PLACE_ORDER: 3, REQ_ALL_OPEN_ORDERS: 16, REQ_CURRENT_TIME: 49, REQ_POSITIONS: 61 } as const;

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
}

/**
 * A hostile TWS: a loopback TCP server in front of a real TWS (the sim gateway) that passes the real handshake (the
 * API version exchange, server version and connection time, nextValidId, managedAccounts) and everything after it
 * through, and on demand writes what no TWS writes into the stream the client reads: random frames, unknown ids,
 * wrong field counts, impossible quantities, negative counts, absurd length prefixes, a connection cut mid-frame. What
 * the gateway writes goes on whole frames only, so an injection never splits a real message: it lands between two.
 * It can also swallow the client's requests of chosen ids (a TWS that accepts a request and never answers), and
 * counts every message the client sent, by id (an order placed is a PLACE_ORDER that crossed it).
 */
export class HostileTws {
  readonly port: number;
  /** Every message id the client sent (after the handshake), in order, over every connection. */
  readonly sent: number[] = [];
  /** Every message id the gateway sent the client (passed on whole), in order, over every connection. */
  readonly received: number[] = [];
  /** Client message ids not passed to the gateway. */
  readonly swallow = new Set<number>();
  private readonly pairs = new Set<Pair>();
  accepted = 0;

  private constructor(
    private readonly server: Server,
    port: number,
  ) {
    this.port = port;
  }

  static async start(upstreamPort: number): Promise<HostileTws> {
    let self: HostileTws | null = null;
    const server = createServer((client) => self!.onClient(client, upstreamPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const addr = server.address();
    self = new HostileTws(server, typeof addr === 'object' && addr ? addr.port : 0);
    return self;
  }

  /** Messages of id `id` the client has sent so far. */
  count(id: number): number {
    return this.sent.filter((x) => x === id).length;
  }

  /** Connections open now. */
  get open(): number {
    return this.pairs.size;
  }

  /** Writes raw bytes to every client, between two whole frames of the gateway's. */
  inject(bytes: Buffer): void {
    for (const p of this.pairs) if (!p.client.destroyed) p.client.write(bytes);
  }

  /** One frame of `fields` (any text, NUL-terminated each) to every client. */
  injectFrame(fields: readonly string[]): void {
    this.inject(encodeFrame(fields));
  }

  /** Writes the first `keep` bytes of a frame of `fields`, then closes every connection. */
  cutMidFrame(fields: readonly string[], keep: number): void {
    const frame = encodeFrame(fields);
    for (const p of [...this.pairs]) {
      p.client.write(frame.subarray(0, keep), () => {
        p.client.destroy();
        p.upstream.destroy();
      });
    }
  }

  async stop(): Promise<void> {
    for (const p of this.pairs) {
      p.client.destroy();
      p.upstream.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onClient(client: Socket, upstreamPort: number): void {
    this.accepted++;
    client.setNoDelay(true);
    const upstream = createConnection({ host: '127.0.0.1', port: upstreamPort });
    upstream.setNoDelay(true);
    const pair: Pair = { client, upstream };
    this.pairs.add(pair);
    const close = (): void => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);

    // Gateway -> client: whole frames only, so that what is injected falls between two.
    const down = new FrameReader();
    upstream.on('data', (chunk: Buffer) => {
      for (const f of down.push(chunk)) {
        this.received.push(Number(splitFields(f)[0]));
        const len = Buffer.allocUnsafe(4);
        len.writeUInt32BE(f.length, 0);
        client.write(Buffer.concat([len, f]));
      }
    });

    // Client -> gateway: the handshake as it is, then frames, counted, some swallowed.
    let hs: Buffer | null = Buffer.alloc(0);
    const up = new FrameReader();
    client.on('data', (chunk: Buffer) => {
      let rest = chunk;
      if (hs !== null) {
        hs = Buffer.concat([hs, chunk]);
        const h = parseHandshake(hs);
        if (h === null) return;
        upstream.write(hs.subarray(0, h.consumed));
        rest = hs.subarray(h.consumed);
        hs = null;
      }
      for (const f of up.push(rest)) {
        const id = Number(splitFields(f)[0]);
        this.sent.push(id);
        if (this.swallow.has(id)) continue;
        const len = Buffer.allocUnsafe(4);
        len.writeUInt32BE(f.length, 0);
        upstream.write(Buffer.concat([len, f]));
      }
    });
  }
}
