import { EventName, IBApi } from '@stoqey/ib';
import { createConnection, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { encodeFrame, encodeHandshake, FrameReader, splitFields } from '../../src/adapters/tws-sim/frame-codec.js';
import type { LegguardError } from '../../src/core/errors.js';
import { EpochMs } from '../../src/core/quantity.js';
import type { Clock, TimerHandle } from '../../src/ports/clock.js';
import { TwsGateway, type TwsGatewayOptions } from '../../src/adapters/tws-sim/tws-gateway.js';
import type { GatewayBackend } from '../../src/adapters/tws-sim/gateway-backend.js';

/**
 * Real time, shifted to start at a chosen instant: sockets and timers behave as on the real clock while messages
 * carry the scenario's date (a fixed New York trading morning), so date-dependent fields are deterministic.
 */
export class OffsetClock implements Clock {
  private readonly base = performance.now();
  constructor(private readonly start: number) {}
  now(): EpochMs {
    return EpochMs.unsafe(Math.floor(this.start + (performance.now() - this.base)));
  }
  perf(): number {
    return performance.now();
  }
  setTimer(at: EpochMs, fn: () => void): TimerHandle {
    const h = setTimeout(fn, Math.max(0, at - this.now()));
    return { cancel: () => clearTimeout(h) };
  }
}

export interface RunningGateway {
  readonly gw: TwsGateway;
  readonly port: number;
  readonly protocolErrors: LegguardError[];
  readonly log: string[];
}

export async function startGateway(backend: GatewayBackend, opts: Partial<TwsGatewayOptions> = {}): Promise<RunningGateway> {
  const log: string[] = [];
  const gw = new TwsGateway({ backend, log: (l) => log.push(l), ...opts });
  const protocolErrors: LegguardError[] = [];
  gw.onProtocolError((e) => protocolErrors.push(e));
  const { port } = await gw.start();
  return { gw, port, protocolErrors, log };
}

export interface Recorded {
  readonly name: string;
  readonly args: unknown[];
}

/** The wording @stoqey/ib uses when a message does not decode: none of these may ever appear. */
export const DECODE_FAILURE = /unprocessed data|Underrun error|No parser implementation|Decoding error/i;

/** A real @stoqey/ib client, recording every event it emits. */
export class TestClient {
  readonly ib: IBApi;
  readonly events: Recorded[] = [];
  private waiters: { name: string; pred: (args: unknown[]) => boolean; from: number; resolve: (a: unknown[]) => void }[] = [];

  constructor(port: number) {
    this.ib = new IBApi({ host: '127.0.0.1', port, maxReqPerSec: 1000 });
    this.ib.on(EventName.all, (name: string, args: unknown[]) => {
      this.events.push({ name, args });
      const idx = this.events.length - 1;
      this.waiters = this.waiters.filter((w) => {
        if (w.name === name && idx >= w.from && w.pred(args)) {
          w.resolve(args);
          return false;
        }
        return true;
      });
    });
  }

  static async connect(port: number, clientId: number): Promise<TestClient> {
    const c = new TestClient(port);
    const ready = c.waitFor(EventName.nextValidId);
    c.ib.connect(clientId);
    await ready;
    return c;
  }

  /** Resolves with the arguments of the first `name` event at or after `from` that matches. Fails after `ms`. */
  waitFor(name: string, pred: (args: unknown[]) => boolean = () => true, from = 0, ms = 5000): Promise<unknown[]> {
    for (let i = from; i < this.events.length; i++) {
      const e = this.events[i]!;
      if (e.name === name && pred(e.args)) return Promise.resolve(e.args);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`timed out waiting for ${name}; saw: ${this.events.slice(from).map((e) => e.name).join(', ')}`));
      }, ms);
      const done = (a: unknown[]): void => {
        clearTimeout(timer);
        resolve(a);
      };
      this.waiters.push({ name, pred, from, resolve: done });
    });
  }

  mark(): number {
    return this.events.length;
  }

  all(name: string, from = 0): unknown[][] {
    return this.events.slice(from).filter((e) => e.name === name).map((e) => e.args);
  }

  /** Error events the client raised while decoding what the server sent. */
  decodeFailures(): string[] {
    return this.events
      .filter((e) => e.name === String(EventName.error))
      .map((e) => (e.args[0] instanceof Error ? e.args[0].message : String(e.args[0])))
      .filter((m) => DECODE_FAILURE.test(m));
  }

  /** Every error event: [message, code, reqId]. */
  errors(from = 0): [string, number, number][] {
    return this.all(EventName.error, from).map((a) => [a[0] instanceof Error ? a[0].message : String(a[0]), a[1] as number, a[2] as number]);
  }

  close(): void {
    this.ib.removeAllListeners();
    this.ib.disconnect();
  }
}

/** A bare TCP client speaking raw bytes: for what a well-behaved client library would never send. */
export class RawClient {
  readonly frames: string[][] = [];
  private readonly reader: FrameReader;
  readonly closed: Promise<void>;
  private waiters: { pred: (f: string[]) => boolean; resolve: (f: string[]) => void }[] = [];

  private constructor(readonly socket: Socket) {
    this.reader = new FrameReader();
    this.closed = new Promise((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.reader.push(chunk)) {
        const fields = splitFields(frame);
        this.frames.push(fields);
        this.waiters = this.waiters.filter((w) => {
          if (!w.pred(fields)) return true;
          w.resolve(fields);
          return false;
        });
      }
    });
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = createConnection({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    return new RawClient(socket);
  }

  /** Handshake for v100..193 and START_API for `clientId`; resolves when the next valid id arrives. */
  static async started(port: number, clientId: number): Promise<RawClient> {
    const c = await RawClient.connect(port);
    c.socket.write(encodeHandshake(100, 193));
    await c.waitFor((f) => f[0] === '193');
    c.send(['71', '2', String(clientId), '']);
    await c.waitFor((f) => f[0] === '9');
    return c;
  }

  send(fields: string[]): void {
    this.socket.write(encodeFrame(fields));
  }

  waitFor(pred: (f: string[]) => boolean, ms = 5000): Promise<string[]> {
    const hit = this.frames.find(pred);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`raw client: timed out; frames: ${JSON.stringify(this.frames.slice(-5))}`)), ms);
      this.waiters.push({
        pred,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
      });
    });
  }

  /** The ERR_MSG frames: [id, code, text]. */
  errors(): [number, number, string][] {
    return this.frames.filter((f) => f[0] === '4').map((f) => [Number(f[2]), Number(f[3]), f[4] ?? '']);
  }

  close(): void {
    this.socket.destroy();
  }
}
