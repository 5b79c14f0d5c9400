import type { Socket } from 'node:net';
import { LegguardError } from '../../core/errors.js';
import type { Clock } from '../../ports/clock.js';
import { formatIbTime } from '../ib/ib-time.js';
import { decodeClientRequest, type ClientRequest } from './client-requests.js';
import { encodeFrame, FrameReader, parseHandshake, splitFields, type Field } from './frame-codec.js';
import { ServerMsg, SERVER_VERSION, TwsCode } from './message-ids.js';
import { OutgoingShaper, type ShapeOptions } from './outgoing-shaper.js';
import { Msg } from './server-messages.js';

/** What a session needs from the gateway that owns it. */
export interface SessionHost {
  readonly clock: Clock;
  /** Handles one decoded request; the session runs them one at a time, in arrival order. */
  handle(session: ClientSession, req: ClientRequest): Promise<void>;
  protocolError(session: ClientSession, error: LegguardError): void;
  closed(session: ClientSession): void;
  /** Wire tracing (benchmarks): each frame as it is written or read, with `clock.perf()`; absent when not tracing. */
  readonly trace?: ((dir: 'in' | 'out', msgId: number, perf: number, session: ClientSession) => void) | undefined;
  /** Called after every frame written to the client (lockstep drills count what the client has been sent). */
  written?(session: ClientSession, msgId: number): void;
}

/** A market data subscription a client holds. */
export interface MarketDataSub {
  readonly reqId: number;
  /** The contract key it streams, or the underlying's `UND:<symbol>` for an index. */
  readonly key: string;
  readonly genericTicks: ReadonlySet<string>;
}

type State = 'handshake' | 'awaiting-start' | 'ready' | 'closed';

/**
 * One client connection: the handshake, framing both ways, the client's subscriptions, and the link state a fault
 * (or the simulator's disconnect) puts it in. While the link is down (after a 1100) messages are held; 1102 sends
 * them, 1101 drops them along with every subscription, as TWS does ("data lost": the client must ask again).
 */
export class ClientSession {
  private state: State = 'handshake';
  private handshakeBuf: Buffer = Buffer.alloc(0);
  private readonly frames = new FrameReader();
  private chain: Promise<void> = Promise.resolve();
  private readonly shaper: OutgoingShaper;
  private linkUp = true;
  private held: Field[][] = [];

  clientId: number | null = null;
  /** The version range the client asked for. */
  versions: { min: number; max: number } | null = null;
  positionsSubscribed = false;
  /** The account whose updates the client subscribed to (REQ_ACCOUNT_DATA), or null. */
  accountSubscription: string | null = null;
  readonly marketData = new Map<number, MarketDataSub>();
  marketDataType = 1;
  readonly remote: string;
  /** CURRENT_TIME messages written on this connection so far (a lockstep client counts the same ones). */
  timeWritten = 0;
  /** Whether anything but CURRENT_TIME was written since the last CURRENT_TIME. */
  wroteSinceTime = false;

  constructor(
    private readonly socket: Socket,
    private readonly host: SessionHost,
    readonly id: number,
  ) {
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.shaper = new OutgoingShaper(host.clock, (frame) => {
      if (this.socket.destroyed) return;
      this.socket.write(frame);
      const msgId = Number(frame.toString('latin1', 4, frame.indexOf(0, 4)));
      // Counted as written, in the order written: what the client reads, whatever the shaping did before.
      if (msgId === ServerMsg.CURRENT_TIME) {
        this.timeWritten++;
        this.wroteSinceTime = false;
      } else this.wroteSinceTime = true;
      this.host.trace?.('out', msgId, this.host.clock.perf(), this);
      this.host.written?.(this, msgId);
    });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e) => this.host.protocolError(this, new LegguardError('PROTOCOL_ERROR', `socket error from ${this.remote}: ${e.message}`)));
    socket.on('close', () => this.onClose());
  }

  get ready(): boolean {
    return this.state === 'ready';
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  get linkIsUp(): boolean {
    return this.linkUp;
  }

  /** Sends one message, through the link state and any fault shaping. */
  send(fields: Field[]): void {
    if (this.state === 'closed') return;
    if (!this.linkUp) {
      this.held.push(fields);
      return;
    }
    this.shaper.push(encodeFrame(fields));
  }

  /**
   * Sends CURRENT_TIME even while the link is down (TWS answers the time itself, without IB): a lockstep client must
   * hear the time whatever the link does, or it could never report that it has caught up.
   */
  sendTime(epochSeconds: number): void {
    if (this.state === 'closed') return;
    this.shaper.push(encodeFrame(Msg.currentTime(epochSeconds)));
  }

  /** ERR_MSG with IB's layout. */
  error(id: number, code: number, message: string): void {
    this.send(Msg.error(id, code, message));
  }

  /** Sends bytes as they are, past framing and shaping: garbage for client robustness drills. */
  sendRaw(bytes: Buffer): void {
    if (this.state !== 'closed' && !this.socket.destroyed) this.socket.write(bytes);
  }

  shape(opts: ShapeOptions | null): void {
    this.shaper.set(opts);
  }

  /** The link to "IB" drops (1100): the client is told, and what follows is held. */
  linkDown(code: number, message: string): void {
    if (this.state === 'closed') return;
    if (this.linkUp) this.shaper.push(encodeFrame(Msg.error(-1, code, message)));
    this.linkUp = false;
  }

  /** The link returns: 1102 sends what was held, 1101 drops it and every subscription. */
  linkRestored(dataLost: boolean, code: number, message: string): void {
    if (this.state === 'closed' || this.linkUp) return;
    this.linkUp = true;
    this.shaper.push(encodeFrame(Msg.error(-1, code, message)));
    const held = this.held;
    this.held = [];
    if (dataLost) {
      this.positionsSubscribed = false;
      this.accountSubscription = null;
      this.marketData.clear();
      return;
    }
    for (const f of held) this.send(f);
  }

  /** Closes the connection now (a drop, a reset, a fatal protocol error). */
  drop(): void {
    if (this.state === 'closed') return;
    this.shaper.stop();
    this.socket.destroy();
    this.onClose();
  }

  /** Sends what the fault shaping holds, then closes politely. */
  end(): void {
    if (this.state === 'closed') return;
    this.shaper.flush();
    this.socket.end();
  }

  markReady(clientId: number): void {
    this.clientId = clientId;
    this.state = 'ready';
  }

  private onData(chunk: Buffer): void {
    try {
      if (this.state === 'closed') return;
      if (this.state === 'handshake') {
        this.handshakeBuf = Buffer.concat([this.handshakeBuf, chunk]);
        const hs = parseHandshake(this.handshakeBuf);
        if (!hs) return;
        this.versions = { min: hs.minVersion, max: hs.maxVersion };
        if (hs.minVersion > SERVER_VERSION || hs.maxVersion < SERVER_VERSION) {
          throw new LegguardError(
            'PROTOCOL_ERROR',
            `client ${this.remote} asked for API versions ${hs.minVersion}..${hs.maxVersion}; this gateway speaks server version ${SERVER_VERSION} only`,
            { fatal: true },
          );
        }
        const rest = this.handshakeBuf.subarray(hs.consumed);
        this.handshakeBuf = Buffer.alloc(0);
        this.state = 'awaiting-start';
        // The version reply is the one message no fault may touch: without it the client cannot decode anything.
        this.socket.write(encodeFrame([SERVER_VERSION, formatIbTime(this.host.clock.now(), 'US/Eastern')]));
        if (rest.length === 0) return;
        chunk = rest;
      }
      let frames: Buffer[];
      try {
        frames = this.frames.push(chunk);
      } catch (e) {
        throw LegguardError.is(e) ? new LegguardError(e.code, e.message, { ...e.details, fatal: true }) : e;
      }
      for (const frame of frames) this.onFrame(frame);
    } catch (e) {
      const err = LegguardError.is(e) ? e : new LegguardError('INTERNAL', String(e), {}, { cause: e });
      this.host.protocolError(this, err);
      // Framing is lost (bad handshake, impossible length): nothing later on this stream can be trusted, and the
      // bytes held are not a truncated frame worth a second report.
      this.frames.drain();
      this.drop();
    }
  }

  private onFrame(frame: Buffer): void {
    let req: ClientRequest;
    try {
      const fields = splitFields(frame);
      const trace = this.host.trace;
      if (trace) trace('in', Number(fields[0]), this.host.clock.perf(), this);
      req = decodeClientRequest(fields);
    } catch (e) {
      if (!LegguardError.is(e)) throw e;
      // Framing is intact, only this message is bad: answer it and go on, as TWS does with a 320.
      this.host.protocolError(this, e);
      const id = typeof e.details.orderId === 'number' ? e.details.orderId : typeof e.details.reqId === 'number' ? e.details.reqId : -1;
      this.error(id, TwsCode.ERROR_READING_REQUEST, `Error reading request: ${e.message}`);
      return;
    }
    if (this.state === 'awaiting-start' && req.kind !== 'start-api') {
      this.error(-1, TwsCode.NOT_CONNECTED, `Not connected: send START_API before ${req.kind}`);
      return;
    }
    if (this.state === 'ready' && req.kind === 'start-api') {
      this.error(-1, 501, 'Already connected.');
      return;
    }
    this.chain = this.chain.then(
      () => this.host.handle(this, req),
      () => this.host.handle(this, req),
    );
  }

  private onClose(): void {
    if (this.state === 'closed') return;
    const truncated = this.frames.truncation();
    this.state = 'closed';
    this.shaper.stop();
    if (truncated) {
      const need = truncated.need === null ? 'a length prefix' : `${truncated.need} bytes`;
      this.host.protocolError(
        this,
        new LegguardError('PROTOCOL_ERROR', `client ${this.remote} closed the connection mid-frame: ${truncated.have} bytes of ${need}`),
      );
    }
    this.host.closed(this);
  }
}

/** For tests and tools: the message id of a server frame. */
export function serverMessageName(id: number): string {
  for (const [k, v] of Object.entries(ServerMsg)) if (v === id) return k;
  return `#${id}`;
}
