// `legguard dashboard --data-dir DIR`: the page and the API read-only over the record a replay leaves, as a real
// process on 127.0.0.1 port 0; mutations refused (403) with or without a token. The timeline, in Debian's Chromium
// when there is one, reads the condor's state changes (BROKEN, EMERGENCY_CLOSING, CLOSED) from the record.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killAll, LegguardProcess } from '../support/legguard-process.js';
import { chromium } from 'playwright-core';
import { runLegguard } from '../cli/cli-run.js';
import { openStore } from '../../src/adapters/store/open-store.js';
import { CONDOR_ACCOUNT, SPREAD_ACCOUNT, twoAccountRecord } from '../support/two-account-record.js';

const CHROMIUM = '/usr/bin/chromium';

const dirs: string[] = [];
after(async () => {
  await killAll();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('dashboard over a replay record: status, payoff, history and metrics read; mutations 403', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'legguard-dash-'));
  dirs.push(dir);
  const data = join(dir, 'rec');
  const rep = await runLegguard(['replay', join(process.cwd(), 'scenarios/iron-condor-put-assigned.yaml'), '--data-dir', data], { cwd: dir });
  assert.equal(rep.code, 0, rep.err);

  const proc = LegguardProcess.start('dashboard', ['dashboard', '--data-dir', data, '--http', '127.0.0.1:0'], { cwd: dir, env: { LEGGUARD_HTTP_TOKEN: 'a-token-of-sixteen-chars-or-more' } });
  try {
    const line = await proc.waitForLine((l) => /^legguard dashboard \(read-only\) for DU0000001 on http:\/\/127\.0\.0\.1:\d+\//.test(l), 'naming its URL', 60_000);
    const url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(line)![1]!;
    const status = (await (await fetch(`${url}/api/status`)).json()) as { strategies: { id: string; state: string }[] };
    assert.deepEqual(status.strategies.map((s) => `${s.id} ${s.state}`), ['ic-spy CLOSED']);
    const payoff = (await (await fetch(`${url}/api/payoff`)).json()) as { strategies: { id: string; strikes: number[]; defined: number[]; held: number[]; expiry: string }[] };
    const ic = payoff.strategies[0]!;
    assert.deepEqual(ic.strikes, [435, 440, 460, 465]);
    assert.equal(ic.expiry, '2026-01-30');
    assert.ok(ic.held.every((v) => v === 0), 'flat after its close');
    assert.equal(Math.min(...ic.defined), -1000, 'the condor as defined loses at most a wing, 5 x 2 x 100');
    const history = (await (await fetch(`${url}/api/history`)).json()) as { entries: { type: string; at: string; strategyId: string | null; data: { to?: string } }[] };
    for (const t of ['detection', 'decision', 'order', 'fill', 'state']) assert.ok(history.entries.some((e) => e.type === t), `history has a ${t}`);
    const states = history.entries.filter((e) => e.type === 'state' && e.strategyId === 'ic-spy').map((e) => e.data.to);
    assert.deepEqual(states.slice(-3), ['BROKEN', 'EMERGENCY_CLOSING', 'CLOSED'], `the state changes, in order (${states.join(' ')})`);
    assert.deepEqual([...history.entries.map((e) => e.at)].sort(), history.entries.map((e) => e.at), 'oldest first, state changes merged in by time');
    const detection = history.entries.findIndex((e) => e.type === 'detection');
    assert.ok(detection < history.entries.findIndex((e) => e.type === 'state' && e.data.to === 'BROKEN'), 'the detection reads before the BROKEN it caused');
    const health = await fetch(`${url}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { mode: string }).mode, 'read-only');
    assert.match(await (await fetch(`${url}/metrics`)).text(), /legguard_strategies\{account="DU0000001",state="CLOSED"\} 1/);
    for (const auth of [{}, { authorization: 'Bearer a-token-of-sixteen-chars-or-more' }]) {
      const r = await fetch(`${url}/api/trading-state`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: '{"state":"HALTED"}' });
      assert.equal(r.status, 403);
    }
    const page = await (await fetch(`${url}/`)).text();
    assert.match(page, /<title>legguard<\/title>/);
    if (!existsSync(CHROMIUM)) {
      assert.ok(process.env.LEGGUARD_REQUIRE_BROWSER !== '1', `LEGGUARD_REQUIRE_BROWSER=1 but there is no ${CHROMIUM}`);
      return;
    }
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const tab = await browser.newPage();
      const errors: string[] = [];
      tab.on('pageerror', (e) => errors.push(e.message));
      await tab.goto(`${url}/`);
      const closed = tab.locator('#timeline li[data-kind="record-state"]', { hasText: '→ CLOSED' });
      await closed.first().waitFor({ timeout: 60_000 });
      // Newest first on the page.
      const shown = (await tab.locator('#timeline li[data-kind="record-state"]').allTextContents()).reverse();
      const to = shown.map((t) => /→ ([A-Z_]+)/.exec(t)?.[1]);
      assert.deepEqual(to.slice(-3), ['BROKEN', 'EMERGENCY_CLOSING', 'CLOSED'], shown.join('\n'));
      assert.match(shown.at(-3)!, /ic-spy: OPEN → BROKEN \(/);
      assert.deepEqual(errors, [], 'no script errors on the page');
    } finally {
      await browser.close();
    }
  } finally {
    await proc.stop('SIGTERM');
  }
});

test('dashboard refuses what it cannot serve: no store there (exit 3), a non-loopback address without a token (exit 2)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'legguard-dash-'));
  dirs.push(dir);
  const none = await runLegguard(['dashboard', '--data-dir', join(dir, 'nothing'), '--account', 'DU1'], { cwd: dir });
  assert.equal(none.code, 3, none.err);
  assert.match(none.err, /no legguard database at/);
  const open = await runLegguard(['dashboard', '--data-dir', join(dir, 'nothing'), '--account', 'DU1', '--http', '0.0.0.0:0'], { cwd: dir });
  assert.equal(open.code, 2, open.err);
  assert.match(open.err, /reachable from other machines without a token/);
});

test('dashboard over two accounts in one store: every account served, ?account= selects, the page has an account selector', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'legguard-dash-'));
  dirs.push(dir);
  const data = join(dir, 'two');
  const s = await openStore({ dataDir: data });
  try {
    await twoAccountRecord(s);
  } finally {
    await s.close();
  }
  const proc = LegguardProcess.start('dashboard-two', ['dashboard', '--data-dir', data, '--http', '127.0.0.1:0'], { cwd: dir });
  try {
    const line = await proc.waitForLine((l) => l.startsWith('legguard dashboard (read-only) for '), 'naming its URL', 60_000);
    assert.match(line, new RegExp(`^legguard dashboard \\(read-only\\) for ${CONDOR_ACCOUNT}, ${SPREAD_ACCOUNT} on http://127\\.0\\.0\\.1:\\d+/`));
    const url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(line)![1]!;
    const listed = (await (await fetch(`${url}/api/accounts`)).json()) as { accounts: string[]; summaries: unknown[] };
    assert.deepEqual(listed.accounts, [CONDOR_ACCOUNT, SPREAD_ACCOUNT]);
    // Each account in a line's worth: the replays left both CLOSED, each with its critical incident not acknowledged.
    assert.deepEqual(listed.summaries, [CONDOR_ACCOUNT, SPREAD_ACCOUNT].map((account) => ({ account, tradingState: 'ACTIVE', strategies: 1, attention: {}, unacknowledged: 1 })));
    const all = (await (await fetch(`${url}/api/status`)).json()) as { accounts: { account: string; strategies: { id: string }[] }[] };
    assert.deepEqual(all.accounts.map((a) => `${a.account} ${a.strategies.map((x) => x.id).join(' ')}`), [`${CONDOR_ACCOUNT} ic-spy`, `${SPREAD_ACCOUNT} bps-spy`]);
    const spread = (await (await fetch(`${url}/api/status?account=${SPREAD_ACCOUNT}`)).json()) as { account: string; strategies: { id: string }[] };
    assert.deepEqual(spread.strategies.map((x) => x.id), ['bps-spy']);
    const unknown = await fetch(`${url}/api/payoff?account=DU9`);
    assert.equal(unknown.status, 404);
    assert.deepEqual(await unknown.json(), { error: `no account DU9 in this store; its accounts: ${CONDOR_ACCOUNT}, ${SPREAD_ACCOUNT}`, code: 'NOT_FOUND' });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    for (const a of [CONDOR_ACCOUNT, SPREAD_ACCOUNT]) assert.match(metrics, new RegExp(`legguard_strategies\\{account="${a}",state="CLOSED"\\} 1`));
    if (!existsSync(CHROMIUM)) {
      assert.ok(process.env.LEGGUARD_REQUIRE_BROWSER !== '1', `LEGGUARD_REQUIRE_BROWSER=1 but there is no ${CHROMIUM}`);
      return;
    }
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const tab = await browser.newPage();
      const errors: string[] = [];
      tab.on('pageerror', (e) => errors.push(e.message));
      await tab.goto(`${url}/`);
      // The first account by default; the selector lists both with what is in them.
      await tab.locator('[data-strategy-state="ic-spy"]').waitFor({ timeout: 60_000 });
      const options = await tab.locator('#account-select option').allTextContents();
      assert.deepEqual(options.map((o) => o.split(':')[0]), [CONDOR_ACCOUNT, SPREAD_ACCOUNT]);
      assert.match(options[1]!, /^DU0000002: ACTIVE, 1 strategy/);
      assert.equal(await tab.locator('#account-picker').isVisible(), true);
      await tab.locator('#account-select').selectOption(SPREAD_ACCOUNT);
      await tab.waitForURL(`${url}/?account=${SPREAD_ACCOUNT}`);
      await tab.locator('[data-strategy-state="bps-spy"]').waitFor({ timeout: 60_000 });
      assert.equal(await tab.locator('[data-strategy-state="ic-spy"]').count(), 0, "the other account's strategy is not shown");
      await tab.locator('#timeline li[data-kind="record-state"]', { hasText: 'bps-spy' }).first().waitFor({ timeout: 60_000 });
      assert.equal(await tab.locator('#timeline li', { hasText: 'ic-spy' }).count(), 0, "the timeline is the account's own");
      assert.match((await tab.locator('#account').textContent()) ?? '', new RegExp(`^${SPREAD_ACCOUNT} · SQLite`));
      // The other account's unacknowledged incident is said above the page.
      assert.equal(await tab.locator('#elsewhere').textContent(), `other accounts need attention: ${CONDOR_ACCOUNT} (ACTIVE, 1 strategy, 1 not acknowledged)`);
      assert.deepEqual(errors, [], 'no script errors on the page');
    } finally {
      await browser.close();
    }
  } finally {
    await proc.stop('SIGTERM');
  }
});
