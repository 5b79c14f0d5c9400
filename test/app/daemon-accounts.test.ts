// One `legguard run` over two accounts (issue 16): when one account's guard stops by itself (here it steps down: another
// holder took its lease), the other keeps guarding, the failure is said naming the account, and the account alone is
// restarted (as a standby of whoever leads it now) and guards again once that lease lapses. In process: the daemon
// against the sim gateway serving both accounts under one login, on a SQLite file; system clock; deadlines only.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseScenario } from '../../src/adapters/sim/load-scenario.js';
import { ScenarioRun } from '../../src/adapters/sim/scenario-run.js';
import { openStore } from '../../src/adapters/store/open-store.js';
import { simLoginBackend } from '../../src/adapters/tws-sim/sim-backend.js';
import { TwsGateway } from '../../src/adapters/tws-sim/tws-gateway.js';
import { parseConfig } from '../../src/app/config.js';
import { startDaemon } from '../../src/app/daemon.js';
import { AccountId } from '../../src/core/ids.js';

const A = AccountId.unsafe('DU0000001');
const B = AccountId.unsafe('DU0000002');
const dir = mkdtempSync(join(tmpdir(), 'legguard-daemon-accounts-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const world = (account: string): ScenarioRun['scenario'] =>
  parseScenario(
    [`name: flat ${account}`, 'start: "2026-01-28T10:00:00-05:00"', `account: ${account}`, 'underlyings: { SPY: { price: 436.10, volatility: 0.18 } }', 'until: "2026-01-28T16:00:00-05:00"'].join('\n'),
    '(test)',
  );

async function until(what: string, ok: () => boolean, lines: readonly string[]): Promise<void> {
  for (let waited = 0; !ok(); waited += 20) {
    if (waited > 30_000) throw new Error(`no ${what} within 30 s; output:\n${lines.slice(-30).join('\n')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The sim gateway serving both accounts, and a config of both on a SQLite file of its own (`name`). */
async function world2(name: string): Promise<{ gw: TwsGateway; config: ReturnType<typeof parseConfig>; data: string }> {
  const runA = new ScenarioRun(world(A));
  const runB = new ScenarioRun(world(B), { clock: runA.clock, market: runA.market, idSpace: 1 });
  const gw = new TwsGateway({ backend: simLoginBackend([runA.broker, runB.broker]), port: 0 });
  const { port } = await gw.start();
  const data = join(dir, name);
  const config = parseConfig(
    [
      `dataDir: ${JSON.stringify(data)}`,
      `broker: { port: ${port}, clientId: 40, connectTimeoutSeconds: 10 }`,
      'leader: { leaseMs: 1000, renewMs: 200 }',
      'alerts: { channels: [], startupCheck: "off" }',
      `accounts: [{ account: ${A} }, { account: ${B} }]`,
    ].join('\n'),
    join(dir, 'legguard.yaml'),
    {},
    Date.now(),
  );
  return { gw, config, data };
}

/** The daemon guarding both accounts, its output lines (`level [account] text`), and a second handle on the store. */
async function guardingTwo(dataName: string, restartAfterMs: number) {
  const { gw, config, data } = await world2(dataName);
  const lines: string[] = [];
  const daemon = await startDaemon({
    config,
    clock: { kind: 'system' },
    env: {},
    out: ({ level, text, account }) => {
      if (text !== '') lines.push(`${level} [${account ?? '-'}] ${text}`);
    },
    restartBackoffMs: [restartAfterMs],
  });
  return { gw, daemon, lines, other: await openStore({ dataDir: data }) };
}

test('one account steps down: the other guards on; the account alone is restarted and leads again', async () => {
  const { gw, daemon, lines, other } = await guardingTwo('data-1', 50);
  try {
    assert.deepEqual(daemon.guards.map((g) => [g.account, g.running, g.engine.account]), [[A, true, A], [B, true, B]]);
    const [ga, gb] = daemon.guards as [(typeof daemon.guards)[0], (typeof daemon.guards)[0]];
    const engineA = ga.engine;
    const engineB = gb.engine;
    let exited: number | null = null;
    void daemon.done.then((c) => (exited = c));

    // Another holder takes A's lease (a standby that found this one dead, say): A's guard must step down.
    const taken = await other.acquireLease(A, 'intruder/1', 1500, { takeFrom: ga.lockOwner });
    assert.equal(taken.acquired, true);
    await until('A stepping down', () => lines.some((l) => l.startsWith(`error [${A}] the guard of ${A} stopped by itself (exit 6`)), lines);
    assert.equal(ga.running, false);
    // B guards on, with the same engine, connected; the process has not ended.
    assert.equal(gb.running, true);
    assert.equal(gb.engine, engineB);
    assert.equal(engineB.isConnected, true);
    assert.equal(exited, null);
    assert.ok(lines.some((l) => l.includes(`${A} is NOT guarded until it restarts`) && l.includes(`(${B}) keeps guarding`)), lines.join('\n'));

    // The intruder's lease lapses unrenewed: A's guard, restarted as a standby, takes over and guards A again.
    await until('A restarted', () => ga.running, lines);
    assert.notEqual(ga.engine, engineA, 'a new engine for A');
    assert.equal(ga.engine.account, A);
    assert.ok(lines.some((l) => l.startsWith(`info [${A}] leading ${A} as `) && l.includes('took over from intruder/1')), lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith(`warn [${A}] restarted the guard of ${A}`)));
    assert.equal(gb.engine, engineB, 'B was never restarted');
    assert.equal(exited, null);
  } finally {
    await other.close();
    assert.equal(await daemon.stop('test over'), 0);
    await gw.stop();
  }
});

test('every account stepped down: the process ends with 6 (crash-only), nothing left to restart in it', async () => {
  const { gw, daemon, lines, other } = await guardingTwo('data-2', 60_000);
  try {
    for (const g of daemon.guards) assert.equal((await other.acquireLease(g.account, 'intruder/2', 60_000, { takeFrom: g.lockOwner })).acquired, true);
    assert.equal(await daemon.done, 6);
    assert.ok(lines.some((l) => l.includes('no account is guarded any more')), lines.join('\n'));
    assert.deepEqual(daemon.guards.map((g) => g.running), [false, false]);
  } finally {
    await other.close();
    await gw.stop();
  }
});
