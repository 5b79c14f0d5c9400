import { isIP } from 'node:net';
import { LegguardError } from '../core/errors.js';

export interface ListenAddress {
  readonly host: string;
  /** 0: any free port (tests); the bound one is in the edge's `url`. */
  readonly port: number;
}

/** The address of the HTTP edge when none is given: loopback only. */
export const DEFAULT_HTTP_HOST = '127.0.0.1';

/**
 * `127.0.0.1:8765`, `[::1]:8765`, `localhost:0`, `0.0.0.0:8765`. A bad one is INVALID_INPUT naming where it came
 * from (`--http`, `http.listen`).
 */
export function parseListen(spec: string, what: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(spec.trim());
  const port = m ? Number(m[3]) : NaN;
  const host = m ? (m[1] ?? m[2] ?? '') : '';
  if (!m || !(port >= 0 && port <= 65535) || (m[1] !== undefined && isIP(host) !== 6)) {
    throw new LegguardError('INVALID_INPUT', `${what} must be HOST:PORT, like 127.0.0.1:8765 or [::1]:8765; got ${JSON.stringify(spec)}`);
  }
  return { host, port };
}

/** True for addresses only this machine reaches: 127.0.0.0/8, ::1, localhost. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (h.startsWith('::ffff:')) return isLoopback(h.slice(7));
  return false;
}

/**
 * Refuses, before anything listens, an address other machines can reach when no token is set: its read endpoints
 * would show the account's positions to the network.
 */
export function checkExposure(addr: ListenAddress, token: string | null, tokenEnv: string): void {
  if (token === null && !isLoopback(addr.host)) {
    throw new LegguardError(
      'CONFIG_INVALID',
      `the HTTP edge on ${addr.host} would be reachable from other machines without a token: set ${tokenEnv} (a long random secret), or listen on 127.0.0.1`,
      { field: 'http.listen' },
    );
  }
}
