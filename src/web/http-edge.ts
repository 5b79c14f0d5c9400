import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkBy, checkReason } from '../app/operator-actions.js';
import { LegguardError, type ErrorCode } from '../core/errors.js';
import type { TradingState } from '../core/gate.js';
import { type AccountId, IncidentId } from '../core/ids.js';
import { knownAccount } from '../app/known-account.js';
import { requireBearer } from './bearer-token.js';
import { dashboardAsset } from './dashboard-assets.js';
import type { AccountChoice, EdgeApi } from './edge-api.js';
import { EventStream } from './event-stream.js';
import { isLoopback, type ListenAddress } from './listen-address.js';

/** A mutation's JSON body is a few fields: anything larger is refused unread. */
const MAX_BODY_BYTES = 16 * 1024;

const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  INVALID_INPUT: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  STORE_UNREACHABLE: 503,
  STORE_UNWRITABLE: 503,
};

const TRADING_STATES: Readonly<Record<string, TradingState>> = { HALTED: 'HALTED', REDUCING: 'REDUCING', ACTIVE: 'ACTIVE' };

/** Headers on every answer: nothing cached, no sniffing, no framing, scripts and styles only from this server. */
const BASE_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
} as const;

export interface HttpEdgeOptions {
  readonly address: ListenAddress;
  /** The mutations' bearer token, or null: mutations off. */
  readonly token: string | null;
  /** The variable it comes from, for messages (never the value). */
  readonly tokenEnv: string;
  readonly api: EdgeApi;
  /** Removes the token and every channel secret from any text before it leaves (answers, events, log lines). */
  readonly redact: (text: string) => string;
  readonly log: (level: 'info' | 'warn', text: string) => void;
}

export interface HttpEdge {
  /** `http://127.0.0.1:8765`, with the port bound. */
  readonly url: string;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/**
 * The guard's HTTP edge on node:http: the dashboard (`/`), `/api/accounts`, `/api/status`, `/api/payoff`, `/api/history`,
 * `/api/events` (server-sent events, each entry naming its account), `/healthz`, `/metrics`; and, with the bearer token,
 * `POST /api/incidents/<id>/ack` and `POST /api/trading-state` (`{"state":"HALTED","reason":"...","by":"alice",
 * "account":"DU1"}`). Reads take `?account=` (absent: every account); a mutation names its account when the edge
 * serves more than one. On a loopback address it answers only
 * requests naming a loopback host, so a web page that rebinds its name to 127.0.0.1 reads nothing.
 */
export async function startHttpEdge(opts: HttpEdgeOptions): Promise<HttpEdge> {
  const { api, redact } = opts;
  const events = new EventStream(redact);
  const unsubscribe = api.subscribe((entry) => events.send('timeline', entry));
  const loopbackOnly = isLoopback(opts.address.host);

  const send = (res: ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}): void => {
    res.writeHead(status, { ...BASE_HEADERS, 'content-type': type, ...headers });
    res.end(typeof body === 'string' ? redact(body) : body);
  };
  const json = (res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void =>
    send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(value, null, 2)}\n`, headers);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://edge.invalid');
    const path = url.pathname;
    if (loopbackOnly && !loopbackHost(req.headers.host)) throw new HttpError(421, 'this edge answers only requests to a loopback host (127.0.0.1, localhost, [::1])');
    const only = (...methods: string[]): void => {
      if (!methods.includes(method)) throw new HttpError(405, `${path} takes ${methods.join(' or ')}, not ${method}`, { allow: methods.join(', ') });
    };

    if (path === '/' || path === '/index.html') {
      only('GET', 'HEAD');
      const a = dashboardAsset('index.html')!;
      return send(res, 200, a.type, a.body);
    }
    if (path === '/favicon.ico') return send(res, 204, 'image/x-icon', '');
    if (path.startsWith('/assets/')) {
      only('GET', 'HEAD');
      const a = dashboardAsset(path.slice('/assets/'.length));
      if (a === null) throw new HttpError(404, `no asset ${path}`);
      return send(res, 200, a.type, a.body);
    }
    switch (path) {
      case '/api/accounts':
        only('GET', 'HEAD');
        return json(res, 200, { accounts: await api.accounts(), summaries: await api.summaries() });
      case '/api/status':
        only('GET', 'HEAD');
        return json(res, 200, await api.status(await readAccount(url)));
      case '/api/payoff':
        only('GET', 'HEAD');
        return json(res, 200, await api.payoff(await readAccount(url)));
      case '/api/history':
        only('GET', 'HEAD');
        return json(res, 200, await api.history(await readAccount(url)));
      case '/healthz': {
        only('GET', 'HEAD');
        const h = await api.health(await readAccount(url));
        return json(res, h.ok ? 200 : 503, h);
      }
      case '/metrics': {
        only('GET', 'HEAD');
        const m = await api.metrics();
        return send(res, 200, m.contentType, m.body);
      }
      case '/api/events':
        only('GET');
        events.add(res);
        events.send('hello', { mode: api.mode, mutations: api.mode === 'guard' && opts.token !== null });
        return;
      case '/api/trading-state': {
        only('POST');
        const body = await mutation(req);
        const state = typeof body.state === 'string' ? TRADING_STATES[body.state.toUpperCase()] : undefined;
        if (state === undefined) throw new LegguardError('INVALID_INPUT', `"state" must be HALTED, REDUCING or ACTIVE; got ${JSON.stringify(body.state ?? null)}`);
        const reason = checkReason(optionalString(body, 'reason'));
        const by = checkBy(optionalString(body, 'by') ?? 'dashboard');
        const account = await mutationAccount(url, body);
        const r = await api.setTradingState(account, state, reason, by);
        opts.log('info', `http: trading ${r.after.state} for ${account} (was ${r.before.state}), set by ${by}${reason !== null ? `: ${reason}` : ''}`);
        return json(res, 200, { account, state: r.after.state, was: r.before.state, by, reason });
      }
      default: {
        const ack = /^\/api\/incidents\/([^/]+)\/ack$/.exec(path);
        if (ack) {
          only('POST');
          const body = await mutation(req);
          const id = IncidentId.parse(decodeURIComponent(ack[1]!));
          const by = checkBy(optionalString(body, 'by') ?? 'dashboard');
          const account = await mutationAccount(url, body);
          const r = await api.ack(account, id, by);
          opts.log('info', `http: acknowledged ${id} of ${account} (by ${by})`);
          return json(res, 200, { account, incidentId: r.incidentId, acknowledged: true, wasWaiting: r.wasWaiting, by });
        }
        throw new HttpError(404, `no such page: ${path}`);
      }
    }
  };

  /**
   * `?account=`: null when absent (every account); a malformed one is INVALID_INPUT (400), one the edge does not serve
   * NOT_FOUND (404) naming those it does. Given twice, refused: which one was meant is not for the edge to guess.
   */
  const readAccount = async (url: URL): Promise<AccountChoice> => {
    const given = url.searchParams.getAll('account');
    if (given.length === 0) return null;
    if (given.length > 1) throw new LegguardError('INVALID_INPUT', `give ?account= once; got ${given.length}`);
    return knownAccount(given[0]!, await api.accounts(), api.mode === 'guard' ? 'this guard' : 'this store');
  };

  /**
   * The account a mutation acts on: `"account"` in the body or `?account=` (the same if both). Not named, it is the
   * edge's only account; with several, refused: a halt or an acknowledgement must never land on an account by default.
   */
  const mutationAccount = async (url: URL, body: Record<string, unknown>): Promise<AccountId> => {
    const inBody = optionalString(body, 'account');
    const inQuery = await readAccount(url);
    if (inBody !== undefined && inQuery !== null && inBody !== inQuery) {
      throw new LegguardError('INVALID_INPUT', `the body names account ${JSON.stringify(inBody)} and ?account= ${inQuery}: name one`);
    }
    const accounts = await api.accounts();
    if (inBody !== undefined) return knownAccount(inBody, accounts, api.mode === 'guard' ? 'this guard' : 'this store');
    if (inQuery !== null) return inQuery;
    if (accounts.length === 1) return accounts[0]!;
    throw new LegguardError('INVALID_INPUT', `this guard guards ${accounts.length} accounts (${accounts.join(', ')}): name one with "account" in the body or ?account=`);
  };

  /** Authorization first (so nothing about the body is said to a caller without the token), then a JSON object. */
  const mutation = async (req: IncomingMessage): Promise<Record<string, unknown>> => {
    if (api.mode === 'read-only') throw new LegguardError('FORBIDDEN', 'this dashboard is read-only (legguard dashboard): acknowledge or halt with the CLI or the running guard');
    requireBearer(req, opts.token, opts.tokenEnv);
    const type = req.headers['content-type'] ?? '';
    if (!/^application\/json\s*(;|$)/i.test(type)) throw new HttpError(415, 'send the body as Content-Type: application/json');
    const text = await readBody(req);
    if (text.trim() === '') return {};
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new LegguardError('INVALID_INPUT', 'the body is not JSON');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new LegguardError('INVALID_INPUT', 'the body must be a JSON object');
    return parsed as Record<string, unknown>;
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (e instanceof HttpError) return json(res, e.status, { error: e.message }, e.headers);
      if (LegguardError.is(e)) {
        const status = HTTP_STATUS[e.code] ?? 500;
        const headers: Record<string, string> = status === 401 ? { 'www-authenticate': 'Bearer realm="legguard"' } : {};
        if (status >= 500) opts.log('warn', `http: ${req.method ?? ''} ${req.url ?? ''}: ${redact(e.message)}`);
        return json(res, status, { error: status >= 500 ? 'the guard could not answer this; see its log' : e.message, code: e.code }, headers);
      }
      opts.log('warn', `http: ${req.method ?? ''} ${req.url ?? ''} failed: ${redact(e instanceof Error ? e.message : String(e))}`);
      return json(res, 500, { error: 'internal error; see the guard log' });
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new LegguardError('INVALID_INPUT', `the HTTP edge cannot listen on ${opts.address.host}:${opts.address.port}: ${e.code ?? e.message}`)),
    );
    server.listen(opts.address.port, opts.address.host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return {
    url: `http://${host}:${bound.port}`,
    close: async () => {
      unsubscribe();
      events.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new LegguardError('INVALID_INPUT', `"${key}" must be a string`);
  return v;
}

function loopbackHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::\d+)?$/.exec(host);
  return m !== null && isLoopback(m[1] ?? m[2] ?? '');
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        // Refused unread: the rest is drained, not kept, so the answer can still be sent.
        req.removeAllListeners('data');
        req.resume();
        reject(new HttpError(413, `the body is over ${MAX_BODY_BYTES} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
