import { LegguardError } from '../../core/errors.js';

/**
 * The TWS API wire format ("V100+"), as TWS and IB Gateway speak it at server version 100 and later:
 *
 * - The client opens with `API\0`, a 4-byte big-endian length, and a version range such as `v100..193`.
 * - Every later message, both ways, is one frame: a 4-byte big-endian length, then the message's fields, each
 *   terminated by a NUL byte. The first field is the message id.
 *
 * The server's first frame answers the handshake with two fields, its version and its connection time.
 */

/** A field as the encoders hand it over: numbers and booleans become text (`true` is `1`), null/undefined empty. */
export type Field = string | number | boolean | null | undefined;

/** The largest frame TWS accepts (and @stoqey/ib checks): 16 MiB - 1. */
export const MAX_FRAME_LENGTH = 0xffffff;

const NUL = 0;
const API_PREFIX = Buffer.from('API\0', 'latin1');

function fieldText(f: Field, index: number): string {
  if (f === null || f === undefined) return '';
  if (typeof f === 'boolean') return f ? '1' : '0';
  if (typeof f === 'number') {
    if (!Number.isFinite(f)) {
      throw new LegguardError('PROTOCOL_ERROR', `field ${index} is not a finite number (${f}); send '' for "unset"`);
    }
    return String(f);
  }
  if (f.includes('\0')) throw new LegguardError('PROTOCOL_ERROR', `field ${index} contains a NUL byte`);
  return f;
}

/** One message, framed: length prefix, then every field NUL-terminated. */
export function encodeFrame(fields: readonly Field[]): Buffer {
  const body = Buffer.from(fields.map((f, i) => fieldText(f, i) + '\0').join(''), 'utf8');
  if (body.length > MAX_FRAME_LENGTH) {
    throw new LegguardError('PROTOCOL_ERROR', `message of ${body.length} bytes exceeds the ${MAX_FRAME_LENGTH}-byte frame limit`);
  }
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32BE(body.length, 0);
  body.copy(out, 4);
  return out;
}

/**
 * A frame's payload as fields. The payload must end with the NUL that terminates its last field; an unterminated
 * payload means the sender and receiver disagree on the framing, and its fields cannot be trusted.
 */
export function splitFields(payload: Buffer): string[] {
  if (payload.length === 0) throw new LegguardError('PROTOCOL_ERROR', 'empty message (a frame of length 0)');
  if (payload[payload.length - 1] !== NUL) {
    throw new LegguardError('PROTOCOL_ERROR', 'malformed message: the last field is not NUL-terminated');
  }
  return payload.toString('utf8', 0, payload.length - 1).split('\0');
}

/**
 * Cuts a byte stream into frames. Bytes of an incomplete frame wait for the next chunk; a length beyond
 * `MAX_FRAME_LENGTH` is a PROTOCOL_ERROR, after which the stream cannot be resynchronised and must be closed.
 */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly maxLength = MAX_FRAME_LENGTH) {}

  push(chunk: Buffer): Buffer[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const frames: Buffer[] = [];
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32BE(0);
      if (len > this.maxLength) {
        throw new LegguardError('PROTOCOL_ERROR', `frame length ${len} exceeds the ${this.maxLength}-byte limit`, { length: len });
      }
      if (this.buf.length < 4 + len) break;
      frames.push(this.buf.subarray(4, 4 + len));
      this.buf = this.buf.subarray(4 + len);
    }
    return frames;
  }

  /** Bytes held for a frame not yet complete: non-zero when a connection ends, the last frame was truncated. */
  get pending(): number {
    return this.buf.length;
  }

  /** What the held bytes announce: `{ have, need }` for a truncated frame, null when nothing is held. */
  truncation(): { have: number; need: number | null } | null {
    if (this.buf.length === 0) return null;
    return { have: this.buf.length, need: this.buf.length >= 4 ? 4 + this.buf.readUInt32BE(0) : null };
  }

  /** Takes whatever bytes are held (the handshake reader hands the rest of its chunk over this way). */
  drain(): Buffer {
    const b = this.buf;
    this.buf = Buffer.alloc(0);
    return b;
  }
}

export interface Handshake {
  readonly minVersion: number;
  readonly maxVersion: number;
  /** IB-internal connect options after the range (`+PACEAPI` ...), passed through as text. */
  readonly options: string;
  /** Bytes of the stream the handshake used; the rest belongs to the first frames. */
  readonly consumed: number;
}

/**
 * Parses the client's opening bytes. Returns null while too few bytes have arrived; throws PROTOCOL_ERROR when the
 * bytes are not a TWS API handshake (a browser, a different protocol, a pre-v100 client).
 *
 * @example parseHandshake(Buffer.from('API\0\0\0\0\x09v100..193', 'latin1')) // { minVersion: 100, maxVersion: 193, ... }
 */
export function parseHandshake(buf: Buffer): Handshake | null {
  const prefixLen = Math.min(buf.length, API_PREFIX.length);
  if (!buf.subarray(0, prefixLen).equals(API_PREFIX.subarray(0, prefixLen))) {
    const shown = JSON.stringify(buf.subarray(0, 16).toString('latin1'));
    throw new LegguardError('PROTOCOL_ERROR', `not a TWS API client: the connection must open with "API\\0", got ${shown}`);
  }
  if (buf.length < 8) return null;
  const len = buf.readUInt32BE(4);
  if (len === 0 || len > 4096) {
    throw new LegguardError('PROTOCOL_ERROR', `malformed handshake: version string length ${len}`);
  }
  if (buf.length < 8 + len) return null;
  const text = buf.toString('latin1', 8, 8 + len).replace(/\0+$/, '');
  const m = /^v(\d+)(?:\.\.(\d+))?(?:\s+(.*))?$/s.exec(text);
  if (!m) {
    throw new LegguardError('PROTOCOL_ERROR', `malformed handshake: expected "v<min>..<max>", got ${JSON.stringify(text)}`);
  }
  const minVersion = Number(m[1]);
  const maxVersion = m[2] === undefined ? minVersion : Number(m[2]);
  if (minVersion > maxVersion) {
    throw new LegguardError('PROTOCOL_ERROR', `malformed handshake: version range v${minVersion}..${maxVersion} is empty`);
  }
  return { minVersion, maxVersion, options: m[3] ?? '', consumed: 8 + len };
}

/** The client's opening bytes, for test clients and tools: `API\0` + length + `v<min>..<max>`. */
export function encodeHandshake(minVersion: number, maxVersion: number): Buffer {
  const text = Buffer.from(minVersion === maxVersion ? `v${minVersion}` : `v${minVersion}..${maxVersion}`, 'latin1');
  const len = Buffer.allocUnsafe(4);
  len.writeUInt32BE(text.length, 0);
  return Buffer.concat([API_PREFIX, len, text]);
}
