import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { LegguardError } from '../core/errors.js';

/**
 * The mutation check: `Authorization: Bearer <token>` against the configured token, compared in constant time (as
 * digests, so the lengths match). No cookies and no query-string tokens: a page on another site cannot make a browser
 * send the header, so no cross-site request can act.
 */
export function requireBearer(req: IncomingMessage, token: string | null, tokenEnv: string): void {
  if (token === null) {
    throw new LegguardError('FORBIDDEN', `mutations are off: no token is configured (set ${tokenEnv} for the guard to turn them on)`);
  }
  const header = req.headers.authorization;
  const m = typeof header === 'string' ? /^Bearer ([^\s]+)$/i.exec(header.trim()) : null;
  if (!m) throw new LegguardError('UNAUTHORIZED', 'this needs Authorization: Bearer <token>');
  const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
  if (!timingSafeEqual(digest(m[1]!), digest(token))) throw new LegguardError('UNAUTHORIZED', 'the bearer token is wrong');
}
