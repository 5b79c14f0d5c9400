// Issue 16, what a trader sees of one process guarding two accounts: one `legguard run --http` with `accounts: [A, B]`
// against one sim gateway serving both (as test/e2e/accounts-one-process.test.ts), the same condor in each, A's short
// puts assigned. Its one HTTP edge serves both accounts: `/api/accounts` and `/api/status` list them, `?account=`
// selects (an account not guarded is 404), `/metrics` tells them apart by label (A's detection and orders, none of
// B's), `/healthz` reports each; a halt names its account (none named: 400) and halts that account only; the page
// shows A's condor CLOSED and B's OPEN, each under its own selection.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { parse, stringify } from 'yaml';
import { openStore } from '../../src/adapters/store/open-store.js';
import { AccountId } from '../../src/core/ids.js';
import { GatewayProcess, GuardProcess } from '../support/drill.js';
import { condorAssignedInHours, writeScenario } from '../support/drill-scenarios.js';
import { killAll } from '../support/legguard-process.js';
import { histogramCount, parseMetrics, sampleValue, sumOf } from '../support/prometheus-text.js';

const CHROMIUM = '/usr/bin/chromium';
const HANG_MS = 120_000;
const TOKEN = 'drill-token-accounts-0123456789';
const A = AccountId.unsafe('DU0000001');
const B = AccountId.unsafe('DU0000002');
const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  await killAll();
  for (const c of cleanups) await Promise.resolve().then(c).catch(() => undefined);
});

const text = (e: Record<string, unknown>): string => (typeof e.text === 'string' ? e.text : '');

test('one guard process, two accounts, one HTTP edge: each account apart in the API, the metrics, the mutations and the page', async () => {
  const a = writeScenario(condorAssignedInHours({}));
  const b = writeScenario(condorAssignedInHours({}).replace('account: DU0000001', `account: ${B}`).replace(/events:\n {2}- \{ at: "2026-01-28T10:00:00-05:00", assign: .*\n/, 'events: []\n'));
  cleanups.push(() => rmSync(a.dir, { recursive: true, force: true }), () => rmSync(b.dir, { recursive: true, force: true }));
  const gw = await GatewayProcess.start(a.file, ['--scenario', b.file]);
  cleanups.push(async () => {
    await gw.stop();
  });
  const scenario = parse(condorAssignedInHours({})) as { strategies: unknown[]; guard: Record<string, unknown> };
  const dir = mkdtempSync(join(tmpdir(), 'legguard-accounts-http-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const configFile = join(dir, 'legguard.yaml');
  writeFileSync(
    configFile,
    stringify({
      dataDir: 'data',
      broker: { type: 'ib', host: '127.0.0.1', port: gw.port, clientId: 17 },
      guard: { reconcileIntervalMs: 21_600_000, ruleIntervalMs: 900_000, ...scenario.guard },
      alerts: { channels: [{ type: 'console', name: 'console' }], startupCheck: 'off' },
      accounts: [
        { account: A, strategies: scenario.strategies },
        { account: B, strategies: scenario.strategies },
      ],
    }),
  );
  const guard = GuardProcess.start({ dir, configFile, account: A, databaseUrl: null }, { env: { LEGGUARD_HTTP_TOKEN: TOKEN }, args: ['--http', '127.0.0.1:0'] });
  const said = await guard.waitFor((e) => /^http: dashboard on http:\/\/127\.0\.0\.1:\d+\//.test(text(e)), 'serving the dashboard', HANG_MS);
  assert.match(text(said), new RegExp(`for 2 accounts \\(${A}, ${B}; \\?account= selects one\\)`));
  const url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(text(said))![1]!;
  const get = async <T>(path: string): Promise<{ status: number; body: T }> => {
    const r = await fetch(`${url}${path}`);
    return { status: r.status, body: (await r.json()) as T };
  };
  const post = (path: string, body: object): Promise<Response> =>
    fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(body) });

  assert.deepEqual((await get<{ accounts: string[] }>('/api/accounts')).body.accounts, [A, B]);
  // A halt must say which account; B's halt leaves A trading (A's close goes out below).
  const unnamed = await post('/api/trading-state', { state: 'HALTED', by: 'drill' });
  assert.equal(unnamed.status, 400);
  assert.match(((await unnamed.json()) as { error: string }).error, /guards 2 accounts \(DU0000001, DU0000002\): name one/);
  const halted = await post('/api/trading-state', { state: 'HALTED', by: 'drill', reason: 'B only', account: B });
  assert.equal(halted.status, 200, await halted.clone().text());
  assert.deepEqual(await halted.json(), { account: B, state: 'HALTED', was: 'ACTIVE', by: 'drill', reason: 'B only' });

  await guard.waitFor((e) => e.kind === 'state' && e.strategyId === 'ic' && e.to === 'CLOSED' && e.account === A, `${A} closing ic`, HANG_MS);
  await gw.finished(HANG_MS);

  const all = (await get<{ accounts: { account: string; strategies: { id: string; state: string }[]; tradingState: { state: string } }[] }>('/api/status')).body;
  assert.deepEqual(all.accounts.map((r) => `${r.account} ${r.strategies.map((s) => `${s.id} ${s.state}`).join(' ')} ${r.tradingState.state}`), [`${A} ic CLOSED ACTIVE`, `${B} ic OPEN HALTED`]);
  const onlyB = await get<{ account: string; incidents: unknown[] }>(`/api/status?account=${B}`);
  assert.equal(onlyB.body.account, B);
  assert.deepEqual(onlyB.body.incidents, [], 'no incident in B');
  const unknown = await get<{ error: string }>('/api/status?account=DU0000003');
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.error, `no account DU0000003 in this guard; its accounts: ${A}, ${B}`);
  const summaries = (await get<{ summaries: { account: string; tradingState: string; strategies: number }[] }>('/api/accounts')).body.summaries;
  assert.deepEqual(summaries.map((s) => `${s.account} ${s.tradingState} ${s.strategies}`), [`${A} ACTIVE 1`, `${B} HALTED 1`]);
  const health = (await get<{ accounts: { account: string; broker: { connected: boolean } }[] }>('/healthz')).body;
  assert.deepEqual(health.accounts.map((h) => `${h.account} ${h.broker.connected}`), [`${A} true`, `${B} true`]);

  const m = parseMetrics(await (await fetch(`${url}/metrics`)).text());
  assert.equal(sampleValue(m.get('legguard_strategies'), { account: A, state: 'CLOSED' }), 1);
  assert.equal(sampleValue(m.get('legguard_strategies'), { account: B, state: 'OPEN' }), 1);
  assert.equal(sampleValue(m.get('legguard_trading_state'), { account: B, state: 'HALTED' }), 1);
  assert.equal(sampleValue(m.get('legguard_trading_state'), { account: A, state: 'ACTIVE' }), 1);
  const latency = m.get('legguard_detection_to_order_seconds')!;
  const countOf = (account: string): number => latency.samples.filter((s) => s.name.endsWith('_count') && s.labels.account === account).reduce((n, s) => n + s.value, 0);
  assert.ok(histogramCount(latency) >= 1 && countOf(A) === histogramCount(latency), `the detection is A's: ${JSON.stringify(latency.samples.filter((x) => x.name.endsWith('_count')))}`);
  assert.equal(countOf(B), 0);
  assert.ok(sumOf(m.get('legguard_orders_total'), { account: A, status: 'sent' }) > 0);
  assert.equal(sumOf(m.get('legguard_orders_total'), { account: B }), 0, 'no order of B');
  assert.equal(sampleValue(m.get('legguard_broker_connected'), { account: B }), 1);

  if (existsSync(CHROMIUM)) {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${url}/`);
      await page.locator('[data-strategy-state="ic"]', { hasText: 'CLOSED' }).waitFor({ timeout: HANG_MS });
      assert.deepEqual((await page.locator('#account-select option').allTextContents()).map((o) => o.split(':')[0]), [A, B]);
      await page.locator('#account-select').selectOption(B);
      await page.waitForURL(`${url}/?account=${B}`);
      await page.locator('[data-strategy-state="ic"]', { hasText: 'OPEN' }).waitFor({ timeout: HANG_MS });
      assert.equal(await page.locator('#trading-state').textContent(), 'HALTED');
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  }
  assert.deepEqual(await guard.proc.stop('SIGTERM'), { code: 0, signal: null }, guard.proc.tail());
  const s = await openStore({ dataDir: join(dir, 'data') });
  try {
    assert.equal((await s.tradingState(B)).state, 'HALTED');
    assert.equal((await s.tradingState(A)).state, 'ACTIVE');
  } finally {
    await s.close();
  }
});
