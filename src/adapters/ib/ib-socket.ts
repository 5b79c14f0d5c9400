import type { IBApi } from '@stoqey/ib';
import { LegguardError } from '../../core/errors.js';

// What legguard reaches inside @stoqey/ib's IBApi for, which it offers no option for: its socket (Nagle off, a guard
// around decoding) and its controller's queue (the lockstep report). The frame check on every byte TWS sends.

/** The part of IBApi's internal controller the lockstep report goes through, behind every queued API call. */
export interface IbController {
  schedule(fn: () => void): void;
  sendMsg(...tokens: unknown[]): void;
}

export interface Socketish {
  setNoDelay?(on: boolean): unknown;
  listeners?(event: string): ((...args: unknown[]) => void)[];
  removeAllListeners?(event: string): unknown;
  on?(event: string, fn: (...args: unknown[]) => void): unknown;
}

/**
 * IBApi's socket, which it keeps in `controller.socket.client` and offers no option for: Nagle goes off on it (a
 * closing order written right after the quote requests that priced it otherwise waits for their acknowledgement),
 * and its data handler gets a guard. When a later version moves it, null.
 */
export function socketOf(api: IBApi): Socketish | null {
  return (api as unknown as { controller?: { socket?: { client?: Socketish } } }).controller?.socket?.client ?? null;
}

/**
 * Wraps the socket's data handlers so that an exception while decoding goes to `onFailure`, not up the stack, and
 * checks the framing before IBApi sees a byte (`FrameCheck`): a chunk that breaks it goes to `onFailure` instead.
 */
export function containDecoding(socket: Socketish | null, onFailure: (e: unknown) => void): boolean {
  if (!socket?.listeners || !socket.removeAllListeners || !socket.on) return false;
  const handlers = socket.listeners('data');
  socket.removeAllListeners('data');
  const check = new FrameCheck();
  let failed = false;
  for (const h of handlers) {
    socket.on('data', (...args: unknown[]) => {
      if (failed) return;
      try {
        if (Buffer.isBuffer(args[0])) check.push(args[0]);
        h.apply(socket, args);
      } catch (e) {
        failed = true;
        onFailure(e);
      }
    });
  }
  return handlers.length > 0;
}

/** The largest message TWS sends, and @stoqey/ib's own limit: 16 MiB - 1. */
const MAX_FRAME = 0xffffff;

/**
 * Follows the frames of the stream TWS writes (a 4-byte big-endian length, then the fields, each ending in NUL) and
 * throws at the first one no TWS writes, before IBApi reads it. IBApi would otherwise wait for 2 GiB behind a length
 * of 0x7fffffff (deaf, the connection open), loop forever on a negative one (the length read as a signed int), and
 * carry the tail of a frame whose last field has no NUL into the next message, which then decodes as garbage: a real
 * position or execution lost without a word.
 */
export class FrameCheck {
  private header: number[] = [];
  /** Bytes of the current frame's payload still to come; -1 while reading a length. */
  private left = -1;

  push(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.left < 0) {
        this.header.push(chunk[i]!);
        i++;
        if (this.header.length < 4) continue;
        const len = Buffer.from(this.header).readUInt32BE(0);
        this.header = [];
        if (len === 0 || len > MAX_FRAME) {
          throw new LegguardError('PROTOCOL_ERROR', `TWS sent a frame length of ${len} (0x${len.toString(16)}): not 1..${MAX_FRAME}`, { length: len });
        }
        this.left = len;
        continue;
      }
      const take = Math.min(this.left, chunk.length - i);
      i += take;
      this.left -= take;
      if (this.left === 0) {
        if (chunk[i - 1] !== 0) throw new LegguardError('PROTOCOL_ERROR', 'TWS sent a frame whose last field is not NUL-terminated');
        this.left = -1;
      }
    }
  }
}

/** IBApi's internal controller, through which a message goes behind every API call already queued; null when absent. */
export function controllerOf(api: IBApi): IbController | null {
  return (api as unknown as { controller?: IbController }).controller ?? null;
}
