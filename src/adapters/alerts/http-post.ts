import { connect } from 'node:net';
import { LegguardError } from '../../core/errors.js';
import { safeUrl, type Redactor } from './redactor.js';

export interface HttpPostRequest {
  /** The channel's name, for the error message. */
  readonly channel: string;
  readonly url: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly redactor: Redactor;
  /** Reads a wait-before-retry from an error body (Telegram's `parameters.retry_after`). */
  readonly retryAfterFromBody?: (body: string) => number | undefined;
}

export interface HttpResponse {
  readonly status: number;
  readonly text: string;
}

/** `Retry-After` in seconds (the form chat services use), as milliseconds. */
function retryAfterMs(header: string | null): number | undefined {
  if (header === null) return undefined;
  const s = Number(header.trim());
  return Number.isFinite(s) && s >= 0 ? Math.round(s * 1000) : undefined;
}

/**
 * POSTs and returns the answer when it is 2xx. Anything else rejects with ALERT_DELIVERY_FAILED whose message names
 * the channel and the reason and never the URL's path (where webhook URLs and bot tokens keep their secret);
 * `details.retryAfterMs` carries a 429's `Retry-After` so the dispatcher waits at least that long.
 */
export async function httpPost(req: HttpPostRequest): Promise<HttpResponse> {
  const where = safeUrl(req.url);
  let res: Response;
  try {
    res = await fetch(req.url, {
      method: 'POST',
      headers: req.headers,
      body: req.body,
      signal: AbortSignal.timeout(req.timeoutMs),
      redirect: 'error',
    });
  } catch (e) {
    const timedOut = e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError');
    const why = timedOut ? `no answer within ${req.timeoutMs / 1000} s` : req.redactor.describe(e);
    throw new LegguardError('ALERT_DELIVERY_FAILED', `channel "${req.channel}": could not reach ${where}: ${why}`, {
      channel: req.channel,
    });
  }
  let text = '';
  try {
    text = await res.text();
  } catch {
    // A body that breaks off does not change what the status said.
  }
  if (res.status < 200 || res.status > 299) {
    const excerpt = req.redactor.redact(text.replace(/\s+/g, ' ').trim().slice(0, 200));
    const wait = retryAfterMs(res.headers.get('retry-after')) ?? req.retryAfterFromBody?.(text);
    throw new LegguardError(
      'ALERT_DELIVERY_FAILED',
      `channel "${req.channel}": ${where} answered HTTP ${res.status}${excerpt ? `: ${excerpt}` : ''}`,
      { channel: req.channel, status: res.status, ...(wait !== undefined ? { retryAfterMs: wait } : {}) },
    );
  }
  return { status: res.status, text };
}

/**
 * Opens and closes a TCP connection to the URL's host and port: proves the host resolves and listens without sending
 * anything a receiver would show. Rejects with ALERT_CHANNEL_INVALID.
 */
export function probeTcp(channel: string, url: string, timeoutMs: number): Promise<void> {
  const u = new URL(url);
  const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
  return new Promise((resolve, reject) => {
    const socket = connect({ host: u.hostname.replace(/^\[|\]$/g, ''), port });
    const fail = (why: string): void => {
      socket.destroy();
      reject(new LegguardError('ALERT_CHANNEL_INVALID', `alert channel "${channel}": cannot reach ${safeUrl(url)}: ${why}`, { channel }));
    };
    socket.setTimeout(timeoutMs, () => fail(`no connection within ${timeoutMs / 1000} s`));
    socket.once('error', (e: NodeJS.ErrnoException) => fail(e.code ?? e.message));
    socket.once('connect', () => {
      socket.end();
      resolve();
    });
  });
}
