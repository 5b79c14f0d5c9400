// Issue 16, many accounts on one store: two guards (real processes), one per account, share one store (a SQLite file
// on this machine; a Postgres schema), each against its own `legguard sim-gateway --lockstep` whose account is
// assigned. The two scenarios are the same but for the account, so both accounts raise alerts with the same keys and
// incident ids: each account's alerts must reach its own webhook exactly once, and none the other's.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { openStore } from '../../src/adapters/store/open-store.js';
import { AccountId } from '../../src/core/ids.js';
import { RecordingServer, type RecordedRequest } from '../alerts/recording-server.js';
import { GatewayProcess, GuardProcess, guardSetup, type GuardSetup } from '../support/drill.js';
import { condorAssignedInHours, writeScenario } from '../support/drill-scenarios.js';
import { killAll } from '../support/legguard-process.js';
import { postgresForTests, testSchema } from '../support/postgres.js';
import { runLegguard } from '../cli/cli-run.js';

const pg = await postgresForTests();
const cleanups: (() => Promise<void> | void)[] = [];
const HANG_MS = 120_000;
const ACCOUNTS = [AccountId.unsafe('DU0000001'), AccountId.unsafe('DU0000002')] as const;

after(async () => {
  await killAll();
  for (const c of cleanups) await Promise.resolve().then(c).catch(() => undefined);
});

interface Posted {
  readonly key: string;
  readonly title: string;
  readonly severity: string;
}

function posted(r: RecordedRequest): Posted {
  const b = JSON.parse(r.body) as Posted;
  return { key: b.key, title: b.title, severity: b.severity };
}

/** Both accounts guarded at once on one store, each alerting to its own path of one webhook receiver. */
async function twoAccounts(store: { dataDir: string } | { databaseUrl: string }): Promise<void> {
  const hook = new RecordingServer();
  await hook.start();
  cleanups.push(() => hook.close());
  const guards: { account: AccountId; guard: GuardProcess; gw: GatewayProcess; setup: GuardSetup; path: string; channel: string }[] = [];
  for (const [i, account] of ACCOUNTS.entries()) {
    const yaml = condorAssignedInHours({}).replace('account: DU0000001', `account: ${account}`);
    const { file, dir } = writeScenario(yaml);
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const gw = await GatewayProcess.start(file);
    cleanups.push(async () => {
      await gw.stop();
    });
    const setup = guardSetup(file, gw.port, { databaseUrl: 'databaseUrl' in store ? store.databaseUrl : null });
    cleanups.push(() => rmSync(setup.dir, { recursive: true, force: true }));
    const path = `/desk-${i + 1}`;
    const channel = `desk-${i + 1}`;
    const config = parse(readFileSync(setup.configFile, 'utf8')) as Record<string, unknown>;
    // The scenario's time is in the past: its alerts are not stale to this drill (100 years).
    config.alerts = {
      channels: [{ type: 'webhook', name: channel, url: `${hook.url}${path}`, format: 'json' }],
      startupCheck: 'off',
      delivery: { staleAfterHours: 876_000 },
    };
    if ('dataDir' in store) config.dataDir = store.dataDir;
    writeFileSync(setup.configFile, stringify(config));
    guards.push({ account, gw, setup, path, channel, guard: GuardProcess.start(setup, { args: ['--client-id', String(17 + i)] }) });
  }
  for (const g of guards) {
    await g.guard.waitFor((e) => e.kind === 'state' && e.strategyId === 'ic' && e.to === 'CLOSED', `${g.account} closing ic`, HANG_MS);
  }
  // The assignment's alert reaches each account's path (delivery follows the commit).
  for (const g of guards) {
    await waitUntil(
      () => hook.accepted.some((r) => r.path === g.path && posted(r).title.startsWith('ASSIGNMENT')),
      () => `${g.account}'s assignment alert; posted: ${hook.requests.map((r) => `${r.path} ${r.status} ${posted(r).title}`).join('; ')}\n${g.guard.proc.tail(40)}`,
    );
  }
  for (const g of guards) assert.deepEqual(await g.guard.proc.stop('SIGTERM'), { code: 0, signal: null }, g.guard.proc.tail());

  const keysOn = (path: string): string[] => hook.accepted.filter((r) => r.path === path).map((r) => posted(r).key);
  const [one, two] = [keysOn(guards[0]!.path), keysOn(guards[1]!.path)];
  assert.ok(hook.accepted.every((r) => r.path === guards[0]!.path || r.path === guards[1]!.path), 'nothing posted elsewhere');
  for (const keys of [one, two]) {
    assert.equal(new Set(keys).size, keys.length, `each alert once on its account's channel: ${keys.join(', ')}`);
  }
  // Same scenario, same keys: had either guard delivered the other's alerts, a key would show twice on one path.
  assert.deepEqual([...one].sort(), [...two].sort(), 'the same alerts, each on its own account\'s channel');
  const assignment = hook.accepted.filter((r) => posted(r).title.startsWith('ASSIGNMENT'));
  assert.deepEqual(assignment.map((r) => r.path).sort(), [guards[0]!.path, guards[1]!.path], 'one assignment alert per account');
  console.log(`two accounts, one store: ${one.length} alerts delivered to each account's own channel, each once`);

  const s = await openStore('dataDir' in store ? { dataDir: store.dataDir } : { dataDir: '', databaseUrl: store.databaseUrl });
  try {
    assert.deepEqual(await s.accounts(), [...ACCOUNTS]);
    for (const g of guards) {
      const delivered = await s.deliveries({ account: g.account, statuses: ['delivered', 'pending', 'dead'], limit: 1000 });
      assert.deepEqual([...new Set(delivered.map((d) => d.channel))], [g.channel], `${g.account}'s alerts went to ${g.channel} only`);
      assert.deepEqual(delivered.map((d) => d.alert.key).sort(), (g === guards[0] ? one : two).sort());
    }
  } finally {
    await s.close();
  }

  // One `legguard status` over the store shows both accounts, each with its own condor and incident; --account one.
  const env: Record<string, string> = 'databaseUrl' in store ? { DATABASE_URL: store.databaseUrl } : {};
  const first = guards[0]!.setup;
  const status = await runLegguard(['status', '--json', '--config', first.configFile], { cwd: first.dir, env });
  assert.equal(status.code, 0, status.err);
  const all = JSON.parse(status.out) as { account: string; accounts: { account: string; strategies: { id: string; state: string }[]; incidents: { strategyId: string | null }[] }[] };
  assert.equal(all.account, ACCOUNTS[0], "the config's account at the top");
  assert.deepEqual(all.accounts.map((a) => `${a.account} ${a.strategies.map((x) => `${x.id} ${x.state}`).join(' ')}`), ACCOUNTS.map((a) => `${a} ic CLOSED`));
  for (const a of all.accounts) assert.ok(a.incidents.some((i) => i.strategyId === 'ic'), `${a.account} has its own incident`);
  const selected = await runLegguard(['status', '--json', '--config', first.configFile, '--account', ACCOUNTS[1]], { cwd: first.dir, env });
  assert.deepEqual((JSON.parse(selected.out) as { accounts: { account: string }[] }).accounts.map((a) => a.account), [ACCOUNTS[1]]);
}

async function waitUntil(ok: () => boolean, what: () => string): Promise<void> {
  for (let waited = 0; !ok(); waited += 50) {
    if (waited > HANG_MS) throw new Error(`no ${what()} within ${HANG_MS} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('two accounts on one store, one guard each: each account\'s alerts to its own channels, once', () => {
  test('SQLite (one file, two processes on this machine)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'legguard-accounts-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    await twoAccounts({ dataDir: join(dir, 'data') });
  });

  test('PostgreSQL (one schema)', { skip: pg.skip ?? false }, async () => {
    const s = testSchema(pg.url!, 'accounts');
    cleanups.push(s.drop);
    await twoAccounts({ databaseUrl: s.url });
  });
});
