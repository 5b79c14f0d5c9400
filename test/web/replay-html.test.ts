// `legguard replay FILE --html OUT`: one self-contained file (nothing fetched: no src=, no href=, a CSP allowing only
// what is inline), its data carrying the incident cost that `--json` prints; opened in Debian's Chromium when there is
// one, it draws its charts without a script error (LEGGUARD_SCREENSHOTS=1 saves it to docs/replay-report.png).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import type { ReplayReport } from '../../src/app/replay-report.js';
import { runLegguard } from '../cli/cli-run.js';

const CHROMIUM = '/usr/bin/chromium';
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('replay --html writes one self-contained report with the incident cost', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'legguard-html-'));
  dirs.push(dir);
  const scenario = fileURLToPath(new URL('../../scenarios/iron-condor-put-assigned.yaml', import.meta.url));
  const r = await runLegguard(['replay', scenario, '--html', 'out.html', '--data-dir', 'rec'], { cwd: dir });
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /report: .*out\.html/);
  const html = readFileSync(join(dir, 'out.html'), 'utf8');
  assert.doesNotMatch(html, /\s(src|href)=/i, 'nothing loaded from elsewhere');
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  const m = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(m, 'the data is inlined');
  const data = JSON.parse(m[1]!) as { report: ReplayReport; pricePaths: { symbol: string; strikes: number[] }[]; payoffs: { id: string; afterBreak: (number | null)[] }[] };
  assert.deepEqual(data.pricePaths.map((p) => [p.symbol, p.strikes]), [['SPY', [435, 440, 460, 465]]]);
  assert.ok(data.payoffs[0]!.afterBreak.every((v) => v !== null), 'a payoff after the break');

  const json = await runLegguard(['replay', scenario, '--json', '--data-dir', 'rec2'], { cwd: dir });
  const report = JSON.parse(json.out) as ReplayReport;
  assert.deepEqual(data.report.incidentCosts, report.incidentCosts, 'the same cost as --json');
  const [cost] = report.incidentCosts;
  assert.equal(report.incidentCosts.length, 1);
  assert.equal(cost!.strategyId, 'ic-spy');
  assert.deepEqual(cost!.held.map((h) => `${h.qty} ${h.contract}`).sort(), ['-2 SPY 2026-01-30 460 C', '2 SPY 2026-01-30 435 P', '2 SPY 2026-01-30 465 C', '200 SPY'].sort());
  assert.equal(cost!.orders.length, 3, 'the stock, the call spread and the long puts');
  assert.equal(cost!.realized, cost!.orders.reduce((n, o) => n + o.realized, 0));
  assert.ok(cost!.markAtDetection !== null && cost!.slippage !== null && cost!.versusMark !== null);
  assert.ok(cost!.valueBeforeBreak !== null && cost!.breakCash === -88_000 && cost!.total !== null, 'the short 440 puts assigned: 200 SPY bought at 440');
  assert.ok(cost!.commissions !== null && cost!.commissions > 0 && cost!.commissionsPending === 0, 'the sim broker reports a commission for every fill');

  if (!existsSync(CHROMIUM)) {
    assert.ok(process.env.LEGGUARD_REQUIRE_BROWSER !== '1', `LEGGUARD_REQUIRE_BROWSER=1 but there is no ${CHROMIUM}`);
    return;
  }
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1300, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const requests: string[] = [];
    page.on('request', (q) => requests.push(q.url()));
    await page.goto(pathToFileURL(join(dir, 'out.html')).href);
    await page.locator('#costs table').first().waitFor();
    assert.deepEqual(errors, []);
    assert.deepEqual(requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:')), [], 'no request leaves the file');
    assert.ok((await page.locator('canvas').count()) >= 2, 'the price path and the payoff drawn');
    // The cost row, as --json has it: value before the break, the break's cash, mark at detection, realized,
    // slippage, commissions, realized vs mark, and the total against the last marks before the break.
    const money = (x: number | null): string => (x === null ? 'n/a' : `${x < 0 ? '-' : ''}$${Math.abs(x).toLocaleString('en-US', { maximumFractionDigits: 2 })}`);
    const c = cost!;
    const row = [c.valueBeforeBreak, c.breakCash, c.markAtDetection, c.realized, c.slippage, c.commissions, c.versusMark, c.total].map(money).join('');
    assert.ok(((await page.locator('#costs').textContent()) ?? '').includes(`${c.incidentId}${row}`), row);
    if (process.env.LEGGUARD_SCREENSHOTS === '1') await page.screenshot({ path: fileURLToPath(new URL('../../docs/replay-report.png', import.meta.url)), fullPage: true });
  } finally {
    await browser.close();
  }
});

test('demo --html DIR writes one report per seed scenario', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'legguard-html-'));
  dirs.push(dir);
  const r = await runLegguard(['demo', '--quiet', '--html', 'reports', '--data-dir', join(dir, 'rec')], { cwd: dir });
  assert.equal(r.code, 0, r.err);
  for (const name of ['iron-condor-put-assigned', 'short-call-assigned-ex-dividend', 'assignment-before-time-exit', 'short-call-closed-before-ex-dividend']) {
    const html = readFileSync(join(dir, 'reports', `${name}.html`), 'utf8');
    assert.match(html, /<script type="application\/json" id="report-data">/, name);
  }
});
