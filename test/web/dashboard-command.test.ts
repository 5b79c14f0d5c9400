// `legguard dashboard --data-dir DIR`: the page and the API read-only over the record a replay leaves, as a real
// process on 127.0.0.1 port 0; mutations refused (403) with or without a token.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killAll, LegguardProcess } from '../support/legguard-process.js';
import { runLegguard } from '../cli/cli-run.js';

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
    const history = (await (await fetch(`${url}/api/history`)).json()) as { entries: { type: string }[] };
    for (const t of ['detection', 'decision', 'order', 'fill']) assert.ok(history.entries.some((e) => e.type === t), `history has a ${t}`);
    const health = await fetch(`${url}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { mode: string }).mode, 'read-only');
    assert.match(await (await fetch(`${url}/metrics`)).text(), /legguard_strategies\{state="CLOSED"\} 1/);
    for (const auth of [{}, { authorization: 'Bearer a-token-of-sixteen-chars-or-more' }]) {
      const r = await fetch(`${url}/api/trading-state`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: '{"state":"HALTED"}' });
      assert.equal(r.status, 403);
    }
    const page = await (await fetch(`${url}/`)).text();
    assert.match(page, /<title>legguard<\/title>/);
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
