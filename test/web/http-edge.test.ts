// The HTTP edge's security and its answers, over a fake EdgeApi: loopback by default, a non-loopback address refused
// without a token, mutations only with the right bearer token (none configured: off), clear 4xx for bad requests,
// and the token and channel secrets absent from every answer, event and log line.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { Redactor } from '../../src/adapters/alerts/redactor.js';
import { AccountId } from '../../src/core/ids.js';
import { LegguardError } from '../../src/core/errors.js';
import { httpEdgeOptions } from '../../src/cli/run-command.js';
import type { AccountHealth, EdgeApi } from '../../src/web/edge-api.js';
import { combinedHealth } from '../../src/web/edge-health.js';
import { startHttpEdge, type HttpEdge } from '../../src/web/http-edge.js';
import { checkExposure, isLoopback, parseListen } from '../../src/web/listen-address.js';
import { runLegguard } from '../cli/cli-run.js';

const TOKEN = 'tok-0123456789abcdef-SECRET';
const CHANNEL_SECRET = 'hooks.example/T000/B000/channel-secret-xyz';

interface Calls {
  acks: string[];
  /** `HALTED DU1` */
  states: string[];
}

function fakeApi(mode: EdgeApi['mode'], calls: Calls, listeners: ((e: object) => void)[], accounts: readonly string[] = ['DU1']): EdgeApi {
  const health = (account: string): AccountHealth => ({ account, ok: true, broker: { connected: true }, lastReconciledAt: null, lastReconciledAgeMs: null, store: { ok: true, detail: 'ok' } });
  return {
    mode,
    accounts: () => Promise.resolve(accounts.map((a) => AccountId.parse(a))),
    summaries: () => Promise.resolve(accounts.map((account) => ({ account, tradingState: 'ACTIVE' as const, strategies: 0, attention: {}, unacknowledged: 0 }))),
    // A stored alert error that quotes a secret, as a failing webhook's would: the edge must not pass it on.
    status: (account) =>
      Promise.resolve(
        account === null
          ? { account: accounts[0], accounts: accounts.map((a) => ({ account: a })), lastError: `POST https://${CHANNEL_SECRET} failed; auth ${TOKEN}` }
          : { account, lastError: `POST https://${CHANNEL_SECRET} failed; auth ${TOKEN}` },
      ),
    payoff: () => Promise.resolve({ strategies: [] }),
    history: (account) => Promise.resolve({ entries: (account === null ? accounts : [account]).map((a) => ({ account: a, at: '2026-01-01T00:00:00.000Z', type: 'note' as const, strategyId: null, incidentId: null, data: null })) }),
    health: (account) => Promise.resolve(combinedHealth(mode, (account === null ? accounts : [account]).map(health))),
    metrics: () => Promise.resolve({ contentType: 'text/plain; version=0.0.4; charset=utf-8', body: '# HELP x y\n# TYPE x counter\nx 1\n' }),
    subscribe(fn) {
      listeners.push(fn);
      return () => listeners.splice(listeners.indexOf(fn), 1);
    },
    ack(account, id, by) {
      if (id === 'missing') return Promise.reject(new LegguardError('NOT_FOUND', `no alert names incident "${id}"`));
      calls.acks.push(`${id} of ${account} by ${by}`);
      return Promise.resolve({ incidentId: id, wasWaiting: true });
    },
    setTradingState(account, state, reason, by) {
      calls.states.push(`${state} ${account}`);
      return Promise.resolve({ before: { state: 'ACTIVE', reason: null, by: null, at: null }, after: { state, reason, by, at: null } });
    },
  };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(url: string, method: string, path: string, opts: { headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, headers: opts.headers ?? {} }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

const logs: string[] = [];
const calls: Calls = { acks: [], states: [] };
const listeners: ((e: object) => void)[] = [];
const answers: string[] = [];
let edge: HttpEdge;
let noToken: HttpEdge;
let readOnly: HttpEdge;

const redactor = new Redactor([TOKEN, CHANNEL_SECRET]);
function start(api: EdgeApi, token: string | null): Promise<HttpEdge> {
  return startHttpEdge({
    address: { host: '127.0.0.1', port: 0 },
    token,
    tokenEnv: 'LEGGUARD_HTTP_TOKEN',
    api,
    redact: (t) => redactor.redact(t),
    log: (level, text) => logs.push(`${level} ${text}`),
  });
}

async function get(e: HttpEdge, method: string, path: string, opts: { headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  const a = await call(e.url, method, path, opts);
  answers.push(a.body);
  return a;
}
const json = { 'content-type': 'application/json' };
const bearer = (t: string): Record<string, string> => ({ ...json, authorization: `Bearer ${t}` });

before(async () => {
  edge = await start(fakeApi('guard', calls, listeners), TOKEN);
  noToken = await start(fakeApi('guard', calls, []), null);
  readOnly = await start(fakeApi('read-only', calls, []), TOKEN);
});
after(async () => {
  await edge.close();
  await noToken.close();
  await readOnly.close();
  // Nothing the edge said or logged, in any test, carries the token or the channel secret.
  for (const text of [...answers, ...logs]) {
    assert.ok(!text.includes(TOKEN) && !text.includes(CHANNEL_SECRET), `a secret leaked: ${text.slice(0, 300)}`);
  }
});

test('binds 127.0.0.1 on the port asked (0: any free one)', () => {
  assert.match(edge.url, /^http:\/\/127\.0\.0\.1:\d+$/);
});

test('reads are open on loopback: status (redacted), payoff, healthz, metrics, the page and its assets', async () => {
  const s = await get(edge, 'GET', '/api/status');
  assert.equal(s.status, 200);
  assert.match(String(s.headers['content-type']), /^application\/json/);
  assert.equal((JSON.parse(s.body) as { account: string }).account, 'DU1');
  assert.match(s.body, /\[redacted\] failed; auth \[redacted\]/);
  assert.equal((await get(edge, 'GET', '/api/payoff')).status, 200);
  const h = await get(edge, 'GET', '/healthz');
  assert.equal(h.status, 200);
  const m = await get(edge, 'GET', '/metrics');
  assert.equal(m.status, 200);
  assert.match(String(m.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  const page = await get(edge, 'GET', '/');
  assert.equal(page.status, 200);
  assert.match(page.body, /<script src="\/assets\/uPlot\.iife\.min\.js"><\/script>/);
  assert.doesNotMatch(page.body, /https?:\/\//, 'nothing from a CDN');
  assert.match(String(page.headers['content-security-policy']), /default-src 'self'/);
  assert.equal((await get(edge, 'GET', '/assets/uPlot.iife.min.js')).status, 200);
  assert.equal((await get(edge, 'GET', '/assets/dashboard.js')).status, 200);
  assert.equal((await get(edge, 'GET', '/assets/../../package.json')).status, 404);
  assert.equal((await get(edge, 'GET', '/assets/%2e%2e%2fhttp-edge.ts')).status, 404);
});

test('bad requests get clear 4xx answers', async () => {
  const nf = await get(edge, 'GET', '/nope');
  assert.equal(nf.status, 404);
  assert.match(nf.body, /no such page: \/nope/);
  const m = await get(edge, 'DELETE', '/api/status');
  assert.equal(m.status, 405);
  assert.equal(m.headers.allow, 'GET, HEAD');
  assert.equal((await get(edge, 'GET', '/api/trading-state')).status, 405);
  const badState = await get(edge, 'POST', '/api/trading-state', { headers: bearer(TOKEN), body: '{"state":"SELL_EVERYTHING"}' });
  assert.equal(badState.status, 400);
  assert.match((JSON.parse(badState.body) as { error: string }).error, /^"state" must be HALTED, REDUCING or ACTIVE; got "SELL_EVERYTHING"$/);
  const notJson = await get(edge, 'POST', '/api/trading-state', { headers: bearer(TOKEN), body: '{"state":' });
  assert.equal(notJson.status, 400);
  assert.match(notJson.body, /not JSON/);
  const array = await get(edge, 'POST', '/api/trading-state', { headers: bearer(TOKEN), body: '[1]' });
  assert.equal(array.status, 400);
  const form = await get(edge, 'POST', '/api/trading-state', { headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-www-form-urlencoded' }, body: 'state=HALTED' });
  assert.equal(form.status, 415);
  const big = await get(edge, 'POST', '/api/trading-state', { headers: bearer(TOKEN), body: JSON.stringify({ state: 'HALTED', reason: 'x'.repeat(40_000) }) });
  assert.equal(big.status, 413);
  const longReason = await get(edge, 'POST', '/api/trading-state', { headers: bearer(TOKEN), body: JSON.stringify({ state: 'HALTED', reason: 'x'.repeat(600) }) });
  assert.equal(longReason.status, 400);
  const badBy = await get(edge, 'POST', '/api/trading-state', { headers: bearer(TOKEN), body: JSON.stringify({ state: 'HALTED', by: 'a\nb' }) });
  assert.equal(badBy.status, 400);
  const missing = await get(edge, 'POST', '/api/incidents/missing/ack', { headers: bearer(TOKEN), body: '{}' });
  assert.equal(missing.status, 404);
  assert.deepEqual(calls.states, [], 'none of them acted');
});

test('a request naming another host is refused on loopback (DNS rebinding reads nothing)', async () => {
  const r = await get(edge, 'GET', '/api/status', { headers: { host: 'evil.example:80' } });
  assert.equal(r.status, 421);
  assert.equal((await get(edge, 'GET', '/api/status', { headers: { host: `localhost:${new URL(edge.url).port}` } })).status, 200);
});

test('mutations need the bearer token: missing or wrong is 401 and nothing happens; right acts', async () => {
  const before = calls.states.length;
  const none = await get(edge, 'POST', '/api/trading-state', { headers: json, body: '{"state":"HALTED"}' });
  assert.equal(none.status, 401);
  assert.equal(none.headers['www-authenticate'], 'Bearer realm="legguard"');
  const wrong = await get(edge, 'POST', '/api/trading-state', { headers: bearer(`${TOKEN}x`), body: '{"state":"HALTED"}' });
  assert.equal(wrong.status, 401);
  assert.match(wrong.body, /the bearer token is wrong/);
  const basic = await get(edge, 'POST', '/api/trading-state', { headers: { ...json, authorization: `Basic ${Buffer.from(`a:${TOKEN}`).toString('base64')}` }, body: '{"state":"HALTED"}' });
  assert.equal(basic.status, 401);
  const ackNone = await get(edge, 'POST', '/api/incidents/ic%3Aassignment%3A1/ack', { headers: json, body: '{}' });
  assert.equal(ackNone.status, 401);
  assert.equal(calls.states.length, before, 'refused requests did nothing');
  assert.deepEqual(calls.acks, []);

  const ok = await get(edge, 'POST', '/api/trading-state', { headers: bearer(TOKEN), body: '{"state":"halted","reason":"checking","by":"alice"}' });
  assert.equal(ok.status, 200, ok.body);
  assert.deepEqual(JSON.parse(ok.body), { account: 'DU1', state: 'HALTED', was: 'ACTIVE', by: 'alice', reason: 'checking' });
  assert.deepEqual(calls.states.slice(before), ['HALTED DU1'], 'one account: the mutation is its, named or not');
  const ack = await get(edge, 'POST', '/api/incidents/ic%3Aassignment%3A1/ack', { headers: bearer(TOKEN), body: '' });
  assert.equal(ack.status, 200, ack.body);
  assert.deepEqual(calls.acks, ['ic:assignment:1 of DU1 by dashboard']);
  assert.ok(logs.some((l) => /http: trading HALTED for DU1 \(was ACTIVE\), set by alice: checking/.test(l)));
});

test('several accounts: ?account= selects one (400 malformed, 404 unknown naming those served); a mutation must name its account', async () => {
  const two = await start(fakeApi('guard', calls, [], ['DU1', 'DU2']), TOKEN);
  try {
    const listed = JSON.parse((await get(two, 'GET', '/api/accounts')).body) as { accounts: string[]; summaries: { account: string }[] };
    assert.deepEqual(listed.accounts, ['DU1', 'DU2']);
    assert.deepEqual(listed.summaries.map((x) => x.account), ['DU1', 'DU2']);
    const all = JSON.parse((await get(two, 'GET', '/api/status')).body) as { account: string; accounts: { account: string }[] };
    assert.deepEqual(all.accounts.map((a) => a.account), ['DU1', 'DU2'], 'not named: every account');
    assert.equal((JSON.parse((await get(two, 'GET', '/api/status?account=DU2')).body) as { account: string }).account, 'DU2');
    const history = JSON.parse((await get(two, 'GET', '/api/history?account=DU2')).body) as { entries: { account: string }[] };
    assert.deepEqual(history.entries.map((e) => e.account), ['DU2']);
    const health = JSON.parse((await get(two, 'GET', '/healthz')).body) as { ok: boolean; accounts: { account: string }[] };
    assert.deepEqual(health.accounts.map((a) => a.account), ['DU1', 'DU2']);
    for (const path of ['/api/status', '/api/payoff', '/api/history', '/healthz']) {
      const unknown = await get(two, 'GET', `${path}?account=DU9`);
      assert.equal(unknown.status, 404, path);
      assert.match((JSON.parse(unknown.body) as { error: string }).error, /^no account DU9 in this guard; its accounts: DU1, DU2$/);
      const bad = await get(two, 'GET', `${path}?account=${encodeURIComponent('DU1; drop')}`);
      assert.equal(bad.status, 400, path);
      assert.match(bad.body, /AccountId must be 1-32 letters or digits/);
    }
    assert.equal((await get(two, 'GET', '/api/status?account=DU1&account=DU2')).status, 400, 'named twice');

    const before = calls.states.length;
    const unnamed = await get(two, 'POST', '/api/trading-state', { headers: bearer(TOKEN), body: '{"state":"HALTED"}' });
    assert.equal(unnamed.status, 400);
    assert.match(unnamed.body, /guards 2 accounts \(DU1, DU2\): name one with \\"account\\" in the body or \?account=/);
    const unknown = await get(two, 'POST', '/api/trading-state', { headers: bearer(TOKEN), body: '{"state":"HALTED","account":"DU9"}' });
    assert.equal(unknown.status, 404);
    const clash = await get(two, 'POST', '/api/trading-state?account=DU1', { headers: bearer(TOKEN), body: '{"state":"HALTED","account":"DU2"}' });
    assert.equal(clash.status, 400);
    const noAck = await get(two, 'POST', '/api/incidents/ic%3Aa%3A1/ack', { headers: bearer(TOKEN), body: '{}' });
    assert.equal(noAck.status, 400);
    assert.equal(calls.states.length, before, 'none of those acted');
    const halted = await get(two, 'POST', '/api/trading-state', { headers: bearer(TOKEN), body: '{"state":"HALTED","account":"DU2"}' });
    assert.equal(halted.status, 200, halted.body);
    assert.equal((JSON.parse(halted.body) as { account: string }).account, 'DU2');
    assert.equal((await get(two, 'POST', '/api/trading-state?account=DU1', { headers: bearer(TOKEN), body: '{"state":"ACTIVE"}' })).status, 200);
    assert.deepEqual(calls.states.slice(before), ['HALTED DU2', 'ACTIVE DU1']);
    const acked = await get(two, 'POST', '/api/incidents/ic%3Aa%3A1/ack?account=DU2', { headers: bearer(TOKEN), body: '{}' });
    assert.equal(acked.status, 200, acked.body);
    assert.equal(calls.acks.at(-1), 'ic:a:1 of DU2 by dashboard');
  } finally {
    await two.close();
  }
});

test('no token configured: mutations are off (403), whatever is sent', async () => {
  const r = await get(noToken, 'POST', '/api/trading-state', { headers: bearer(TOKEN), body: '{"state":"HALTED"}' });
  assert.equal(r.status, 403);
  assert.match(r.body, /mutations are off: no token is configured \(set LEGGUARD_HTTP_TOKEN/);
  assert.equal((await get(noToken, 'GET', '/api/status')).status, 200, 'reads stay open');
});

test('a read-only dashboard refuses mutations even with the token', async () => {
  const r = await get(readOnly, 'POST', '/api/trading-state', { headers: bearer(TOKEN), body: '{"state":"HALTED"}' });
  assert.equal(r.status, 403);
  assert.match(r.body, /read-only/);
});

test('server-sent events: a hello, then each timeline entry as it happens, secrets redacted', async () => {
  const chunks: string[] = [];
  const got = new Promise<void>((resolve, reject) => {
    const req = request(`${edge.url}/api/events`, (res) => {
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^text\/event-stream/);
      res.on('data', (c: Buffer) => {
        chunks.push(c.toString());
        const all = chunks.join('');
        if (all.includes('event: hello') && listeners.length > 0 && !all.includes('event: timeline')) {
          for (const l of listeners) l({ kind: 'note', at: 0, strategyId: null, text: `webhook ${CHANNEL_SECRET} said ${TOKEN}` });
        }
        if (all.includes('event: timeline')) {
          req.destroy();
          resolve();
        }
      });
    });
    req.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? undefined : reject(e)));
    req.end();
  });
  await got;
  const all = chunks.join('');
  answers.push(all);
  assert.match(all, /event: hello\ndata: \{"mode":"guard","mutations":true\}/);
  assert.match(all, /event: timeline\ndata: \{"kind":"note","at":0,"strategyId":null,"text":"webhook \[redacted\] said \[redacted\]"\}/);
});

test('listen addresses: loopback by default, others only with a token', () => {
  assert.deepEqual(parseListen('127.0.0.1:8765', '--http'), { host: '127.0.0.1', port: 8765 });
  assert.deepEqual(parseListen('[::1]:0', '--http'), { host: '::1', port: 0 });
  assert.throws(() => parseListen('8765', '--http'), /--http must be HOST:PORT/);
  assert.throws(() => parseListen('127.0.0.1:99999', '--http'), /--http must be HOST:PORT/);
  for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '::ffff:127.0.0.1']) assert.ok(isLoopback(h), h);
  for (const h of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.2', 'example.com']) assert.ok(!isLoopback(h), h);
  assert.throws(
    () => checkExposure({ host: '0.0.0.0', port: 8765 }, null, 'LEGGUARD_HTTP_TOKEN'),
    (e: unknown) => LegguardError.is(e, 'CONFIG_INVALID') && /reachable from other machines without a token: set LEGGUARD_HTTP_TOKEN/.test(e.message),
  );
  checkExposure({ host: '0.0.0.0', port: 8765 }, TOKEN, 'LEGGUARD_HTTP_TOKEN');
  const config = { http: { listen: null, tokenEnv: 'LEGGUARD_HTTP_TOKEN' } };
  assert.equal(httpEdgeOptions(undefined, config, {}), null, 'no edge unless asked');
  assert.deepEqual(httpEdgeOptions('127.0.0.1:0', config, {}), { address: { host: '127.0.0.1', port: 0 }, token: null, tokenEnv: 'LEGGUARD_HTTP_TOKEN' });
  assert.throws(() => httpEdgeOptions('127.0.0.1:0', config, { LEGGUARD_HTTP_TOKEN: 'short' }), /too short/);
  assert.throws(() => httpEdgeOptions(undefined, { http: { listen: '0.0.0.0:80', tokenEnv: 'MY_TOKEN' } }, {}), /set MY_TOKEN/);
});

test('legguard run refuses a non-loopback --http without a token at start, before connecting (exit 2)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'legguard-http-'));
  try {
    writeFileSync(join(dir, 'legguard.yaml'), 'account: DU0000001\nbroker: { port: 1, connectTimeoutSeconds: 1 }\nhttp: { tokenEnv: GUARD_WEB_TOKEN }\n');
    const r = await runLegguard(['run', '--http', '0.0.0.0:0'], { cwd: dir, env: {} });
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /reachable from other machines without a token: set GUARD_WEB_TOKEN/);
    const bad = await runLegguard(['run', '--http', 'nowhere'], { cwd: dir, env: {} });
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--http must be HOST:PORT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
