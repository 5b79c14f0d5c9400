import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { loadScenario, parseScenario } from '../../src/adapters/sim/load-scenario.js';
import { ScenarioRun } from '../../src/adapters/sim/scenario-run.js';
import { parseGuardConfig } from '../../src/app/guard-config-schema.js';
import { GuardEngine } from '../../src/engine/guard-engine.js';
import { openStore } from '../../src/adapters/store/open-store.js';
import { recordClock } from '../../src/app/record-clock.js';
import { CollectingAlerts, replay } from '../../src/app/replay.js';
import type { AccountId, IncidentId } from '../../src/core/ids.js';
import { EpochMs } from '../../src/core/quantity.js';
import type { StatusReport } from '../../src/app/status-report.js';
import type { StorePort } from '../../src/ports/store.js';
import { order, request } from '../store/store-fixtures.js';
import { runLegguard } from './cli-run.js';
import { CONDOR_ACCOUNT, SPREAD_ACCOUNT, twoAccountRecord } from '../support/two-account-record.js';

const SCENARIO = fileURLToPath(new URL('../../scenarios/iron-condor-put-assigned.yaml', import.meta.url));
const HOOK_SECRET = 'T0AAA/B0BBB/hooksecret9876';
const TOKEN = '7001234567:AAE_abcdefghijklmnopqrstuvwxyz012345';

const root = mkdtempSync(join(tmpdir(), 'legguard-status-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('legguard status', () => {
  const dir = join(root, 'w');
  const dataDir = join(dir, 'state');
  const env = { HOOK_URL: `https://hooks.example.com/services/${HOOK_SECRET}`, TG_TOKEN: TOKEN };
  let account: AccountId;
  let incident: IncidentId;
  const withStore = async <T>(fn: (s: StorePort) => Promise<T>): Promise<T> => {
    const s = await openStore({ dataDir });
    try {
      return await fn(s);
    } finally {
      await s.close();
    }
  };

  before(async () => {
    // A real record: the seed scenario played through the engine (assignment overnight, emergency close, expiry).
    mkdirSync(dir, { recursive: true });
    const scenario = await loadScenario(SCENARIO);
    account = scenario.account;
    await withStore(async (store) => {
      const r = await replay({ scenario, store });
      assert.equal(r.report.strategies[0]!.state, 'CLOSED', 'the replay ends closed');
    });
    writeFileSync(
      join(dir, 'legguard.yaml'),
      stringify({
        account,
        dataDir: 'state',
        alerts: {
          channels: [
            { type: 'console', name: 'console' },
            { type: 'webhook', name: 'hook', urlEnv: 'HOOK_URL', format: 'slack' },
            { type: 'telegram', name: 'phone', tokenEnv: 'TG_TOKEN', chatId: 42, minSeverity: 'critical' },
          ],
        },
      }),
    );
  });

  test('reads the record: strategies, incidents and their acknowledgement, the outbox, the lock, the cursor; no secret', async () => {
    const now = Date.now();
    const working = request('ic-spy', 't2.SPY.C460.260130_C465.260130', { account, limit: 0.35 });
    await withStore(async (s) => {
      const alerts = await s.recentAlerts({ account, limit: 10 });
      const critical = alerts.find((a) => a.severity === 'critical' && a.incidentId !== null);
      assert.ok(critical, 'the replay raised a critical alert for its incident');
      incident = critical.incidentId!;
      const info = alerts.find((a) => a.severity !== 'critical');
      assert.ok(info, 'and a lesser one');
      const t = (ms: number): EpochMs => EpochMs.unsafe(now - 60_000 + ms);
      await s.recordDelivery({ account, alertKey: critical.key, channel: 'console', at: t(1), delivered: true, error: null, nextAttemptAt: null });
      await s.recordDelivery({ account, alertKey: critical.key, channel: 'hook', at: t(2), delivered: false, error: `POST https://hooks.example.com/services/${HOOK_SECRET} answered 410`, nextAttemptAt: null });
      await s.recordDelivery({ account, alertKey: info.key, channel: 'hook', at: t(3), delivered: false, error: 'HTTP 503', nextAttemptAt: t(600_000) });
      await s.recordDelivery({ account, alertKey: info.key, channel: 'phone', at: t(4), delivered: false, error: `skipped: ${info.severity} is below this channel's minimum (critical)`, nextAttemptAt: null });
      // A delivery on a channel the config no longer has.
      await s.recordDelivery({ account, alertKey: info.key, channel: 'old-mail', at: t(5), delivered: true, error: null, nextAttemptAt: null });
      await s.acquireLock(account, 'guard-host/4242', EpochMs.unsafe(now - 1000), 60_000);
      await s.commit({ account, orders: [order(working, 'working', { filled: 1 })] });
    });

    const r = await runLegguard(['status', '--json'], { cwd: dir, env });
    assert.equal(r.err, '');
    assert.equal(r.code, 0);
    for (const secret of [HOOK_SECRET, TOKEN]) assert.ok(!r.out.includes(secret), 'a secret is shown');
    const s = JSON.parse(r.out) as StatusReport;
    assert.equal(s.account, account);
    assert.equal(s.store, `SQLite ${dataDir}/legguard.db`);
    assert.deepEqual(s.lock && { owner: s.lock.owner, live: s.lock.live }, { owner: 'guard-host/4242', live: true });
    assert.equal(s.lastReconciledAt?.slice(0, 10), '2026-01-31', 'the replay reconciled last on the Saturday');
    // The record is on the scenario's clock: status says so, and counts ages back from its latest record.
    assert.equal(s.clock.kind, 'scenario');
    assert.equal(s.clock.source, 'replay of "iron condor, short put assigned overnight"');
    assert.equal(s.clock.latestRecordAt, s.lastReconciledAt, 'the last reconciliation is the latest record');
    assert.deepEqual(
      s.strategies.map((x) => [x.id, x.state, x.broken?.cause, x.broken?.kind, x.holdings.length]),
      [['ic-spy', 'CLOSED', 'assignment', 'EARLY', 0]],
    );
    assert.deepEqual(s.openOrders.map((o) => [o.ref, o.status, o.legs, o.filledQty, o.limitPrice]), [
      [working.ref, 'working', ['BUY 2 SPY 2026-01-30 460 C', 'SELL 2 SPY 2026-01-30 465 C'], 1, 0.35],
    ]);
    assert.equal(s.incidents.length, 1);
    const inc = s.incidents[0]!;
    assert.equal(inc.incidentId, incident);
    assert.equal(inc.strategyId, 'ic-spy');
    assert.deepEqual(inc.ack, { state: 'waiting' });
    assert.ok(inc.criticalAlerts >= 1, 'its critical alert is counted');
    assert.match(inc.title ?? '', /^ASSIGNMENT: SPY 2026-01-30 440 P x2 on ic-spy$/);
    assert.deepEqual(inc.transitions.map((t) => t.replace(/ \(.*$/, '')), ['OPEN -> BROKEN', 'BROKEN -> EMERGENCY_CLOSING', 'EMERGENCY_CLOSING -> CLOSED']);
    const total = s.outbox.alerts;
    assert.deepEqual(s.outbox.channels, [
      { channel: 'console', type: 'console', delivered: 1, retrying: 0, dead: 0, skipped: 0, notTried: total - 1 },
      { channel: 'hook', type: 'webhook', delivered: 0, retrying: 1, dead: 1, skipped: 0, notTried: total - 2 },
      { channel: 'phone', type: 'telegram', delivered: 0, retrying: 0, dead: 0, skipped: 1, notTried: total - 1 },
      { channel: 'old-mail', type: null, delivered: 1, retrying: 0, dead: 0, skipped: 0, notTried: total - 1 },
    ]);
    assert.deepEqual(
      s.outbox.undelivered.map((d) => [d.channel, d.status, d.attempts, d.lastError]),
      [
        ['hook', 'retrying', 1, 'HTTP 503'],
        ['hook', 'dead', 1, 'POST [redacted] answered 410'],
      ],
      'newest first; the skip is not listed as undelivered; the webhook URL, a secret, redacted',
    );
    assert.deepEqual(s.outbox.unacknowledged.map((u) => u.incidentId), [incident]);

    const text = await runLegguard(['status'], { cwd: dir, env });
    assert.equal(text.code, 0, text.err);
    for (const secret of [HOOK_SECRET, TOKEN]) assert.ok(!text.out.includes(secret), 'a secret is shown');
    const lines = text.out.split('\n');
    assert.match(lines[0]!, new RegExp(`^legguard status for ${account}, SQLite ${dataDir}/legguard\\.db, at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d ET$`));
    assert.equal(
      lines[1],
      'times are scenario time (replay of "iron condor, short put assigned overnight"), not this machine\'s clock; the record ends 2026-01-31 02:45:01 ET',
    );
    assert.match(lines[2]!, /^guard: running as guard-host\/4242 \(lock taken .* ET, refreshed until .* ET\)$/);
    // No age against today's date ("307 d ago"): the record's own clock ends at its latest record.
    assert.match(lines[3]!, /^last reconciled with the broker: 2026-01-31 02:45:01 ET \(the record's latest\); last execution seen: 2026-01-/);
    assert.equal(lines[4], 'trading: ACTIVE: closes are sent as usual', 'never set: ACTIVE');
    assert.equal(lines[5], 'strategies: 1 (1 CLOSED)');
    assert.match(lines[6]!, /^ {2}ic-spy {2}iron-condor {2}CLOSED {2}broken: assignment EARLY of SPY 2026-01-30 440 P at 2026-01-28 02:30:00 ET \(.*\); flat$/);
    assert.equal(lines[7], 'outside any strategy: nothing');
    assert.equal(lines[8], 'open orders: 1');
    assert.match(lines[9]!, /^ {2}lg\/ic-spy\/.*\/t2\.SPY\.C460\.260130_C465\.260130\/1 {2}working {2}BUY 2 SPY 2026-01-30 460 C \/ SELL 2 SPY 2026-01-30 465 C LMT 0\.35, filled 1\/2, placed .* ET, broker id 1001$/);
    assert.match(text.out, new RegExp(`\\n {2}${incident} \\(ic-spy\\), 2026-01-28 02:30:00 ET to .*: NOT ACKNOWLEDGED: its critical alerts repeat until \`legguard ack ${incident}\`\\n {4}ASSIGNMENT: SPY 2026-01-30 440 P x2 on ic-spy`));
    assert.match(text.out, /\n {2}hook {6}\(webhook\) {12}delivered 0, retrying 1, dead 1, skipped 0, not yet tried \d+\n/);
    assert.match(text.out, /\n {2}old-mail {2}\(not in the config\) {2}delivered 1,/);
    assert.match(text.out, /\n {4}dead on hook: \[CRITICAL\] ASSIGNMENT: .*, 1 attempt: POST \[redacted\] answered 410\n/);
    assert.match(text.out, new RegExp(`\\n {2}unacknowledged critical incidents: 1\\n {4}${incident}: ASSIGNMENT`));

    // Acknowledged through the CLI: status says by whom; the outbox no longer lists it as waiting.
    assert.equal((await runLegguard(['ack', incident, '--by', 'alice'], { cwd: dir, env })).code, 0);
    const acked = JSON.parse((await runLegguard(['status', '--json'], { cwd: dir, env })).out) as StatusReport;
    assert.equal(acked.incidents[0]!.ack.state, 'acknowledged');
    assert.equal((acked.incidents[0]!.ack as { by: string }).by, 'alice');
    assert.deepEqual(acked.outbox.unacknowledged, []);
  });

  test('a lock left by a guard that stopped is shown as expired; no lock as not running', async () => {
    await withStore(async (s) => {
      await s.releaseLock(account, 'guard-host/4242');
      const r = await runLegguard(['status'], { cwd: dir, env });
      assert.match(r.out.split('\n')[2]!, /^guard: not running \(no guard holds the lock\)$/);
      await s.acquireLock(account, 'old-host/17', EpochMs.unsafe(Date.parse('2026-01-01T15:00:00Z')), 30_000);
    });
    const r = await runLegguard(['status'], { cwd: dir, env });
    assert.equal(r.out.split('\n')[2], 'guard: not running (the lock of old-host/17 expired 2026-01-01 10:00:30 ET: it stopped without releasing it, or hangs)');
  });

  test('the leader lease and the standbys: status --json has leader {holder, epoch, leaseUntil} and standbys; the text says so', async () => {
    let leaseUntil = 0;
    await withStore(async (s) => {
      const got = await s.acquireLease(account, 'box-a/11', 60_000);
      leaseUntil = got.lease.leaseUntil;
      await s.acquireLease(account, 'box-b/22', 60_000);
    });
    const json = JSON.parse((await runLegguard(['status', '--json'], { cwd: dir, env })).out) as StatusReport;
    assert.deepEqual(json.leader, { holder: 'box-a/11', epoch: 1, leaseUntil: new Date(leaseUntil).toISOString(), live: true });
    assert.deepEqual(json.standbys.map((x) => x.holder), ['box-b/22']);
    const text = (await runLegguard(['status'], { cwd: dir, env })).out.split('\n');
    assert.ok(text.some((l) => /^leader: box-a\/11 at lease epoch 1, until .* ET; standby: box-b\/22 \(seen .* ET\)$/.test(l)), text.join('\n'));
    await withStore(async (s) => {
      await s.releaseLease(account, 'box-a/11', 1);
      await s.releaseLease(account, 'box-b/22', null);
    });
    const after = JSON.parse((await runLegguard(['status', '--json'], { cwd: dir, env })).out) as StatusReport;
    assert.equal(after.leader?.live, false);
    assert.deepEqual(after.standbys, []);
  });

  test("a live guard's record (the machine's clock): the age of its last reconciliation against now", async () => {
    const liveDir = join(root, 'live');
    mkdirSync(liveDir);
    writeFileSync(join(liveDir, 'legguard.yaml'), stringify({ account: 'DU7', dataDir: 'state' }));
    const now = Date.now();
    const s = await openStore({ dataDir: join(liveDir, 'state') });
    try {
      const acct = 'DU7' as AccountId;
      await recordClock(s, acct, EpochMs.unsafe(now - 3 * 3_600_000), { kind: 'wall' });
      await s.commit({ account: acct, cursor: { lastReconciledAt: EpochMs.unsafe(now - 5 * 60_000) } });
    } finally {
      await s.close();
    }
    const r = await runLegguard(['status'], { cwd: liveDir });
    assert.equal(r.code, 0, r.err);
    const lines = r.out.split('\n');
    assert.match(lines[1]!, /^guard: not running/, 'no line about scenario time');
    assert.match(lines[2]!, /^last reconciled with the broker: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d ET \(5 min ago\); last execution seen: none$/);
    const json = JSON.parse((await runLegguard(['status', '--json'], { cwd: liveDir })).out) as StatusReport;
    assert.equal(json.clock.kind, 'wall');
  });

  test('no database where the config points: NOT_FOUND (exit 3), and none is created', async () => {
    const empty = join(root, 'empty');
    mkdirSync(empty);
    writeFileSync(join(empty, 'legguard.yaml'), stringify({ account: 'DU5' }));
    const r = await runLegguard(['status'], { cwd: empty });
    assert.equal(r.code, 3);
    assert.equal(r.err, `legguard status: no legguard database at ${empty}/data/legguard.db (give the guard's --config or --data-dir, or set DATABASE_URL)\n`);
    assert.ok(!existsSync(join(empty, 'data')), 'status created a data directory');
    const usage = await runLegguard(['status', 'now'], { cwd: empty });
    assert.equal(usage.code, 2);
  });
});

describe('legguard status: a strategy not (yet) at the broker', () => {
  test('PENDING: before a guard looked, it waits; after, status names the legs the broker does not show and those it does', async () => {
    // The trader typed the long put of a vertical as 415; the account holds only the short 420 (the 410 bought instead).
    const dir = join(root, 'pending');
    mkdirSync(dir);
    writeFileSync(join(dir, 'legguard.yaml'), stringify({ account: 'DU0000001' }));
    const EXP = '2031-01-17';
    const add = await runLegguard(['strategies', 'add', 'vert', '--leg', `SPY ${EXP} P 420 -1`, '--leg', `SPY ${EXP} P 415 1`], { cwd: dir });
    assert.equal(add.code, 0, add.err);
    const before = await runLegguard(['status'], { cwd: dir });
    assert.match(before.out, new RegExp(`\\n {2}vert {2}vertical {2}PENDING {2}not guarded yet: waits for a guard to find every leg at the broker; legs -1 SPY ${EXP} 420 P, \\+1 SPY ${EXP} 415 P\\n`));

    // A guard starts on that store against an account holding the 420 and the 410, and stops again.
    const scenario = parseScenario(
      `name: typed wrong
start: "2030-06-03T09:30:00-04:00"
account: DU0000001
underlyings: { SPY: { price: 445.00, volatility: 0.18 } }
positions:
  - { symbol: SPY, right: P, strike: 420, expiry: "${EXP}", qty: -1 }
  - { symbol: SPY, right: P, strike: 410, expiry: "${EXP}", qty: 1 }
until: "2030-06-03T10:00:00-04:00"
`,
      'typed-wrong.yaml',
    );
    const run = new ScenarioRun(scenario);
    const store = await openStore({ dataDir: join(dir, 'data') });
    const engine = new GuardEngine({ account: scenario.account, broker: run.broker, store, alerts: new CollectingAlerts(), clock: run.clock, config: parseGuardConfig({}, 'x') });
    await engine.start();
    await run.clock.advanceTo(run.clock.now() + 5 * 60_000, () => engine.idle());
    await engine.stop();
    await store.close();

    const json = JSON.parse((await runLegguard(['status', '--json'], { cwd: dir })).out) as StatusReport;
    const vert = json.strategies.find((s) => s.id === 'vert')!;
    assert.equal(vert.state, 'PENDING');
    assert.deepEqual(vert.holdings, []);
    assert.deepEqual(vert.notAtBroker && { missing: vert.notAtBroker.missing, atBroker: vert.notAtBroker.atBroker }, {
      missing: [`+1 SPY ${EXP} 415 P (the broker shows none)`],
      atBroker: [`-1 SPY ${EXP} 420 P`],
    });
    assert.deepEqual(json.incidents, [], 'no incident: nothing was detected');
    const text = await runLegguard(['status'], { cwd: dir });
    assert.match(
      text.out,
      new RegExp(
        `\\n {2}vert {2}vertical {2}PENDING {2}not guarded: not at the broker \\(2030-06-03 09:30:00 ET\\): \\+1 SPY ${EXP} 415 P \\(the broker shows none\\); ` +
          `at the broker, outside any strategy until every leg is: -1 SPY ${EXP} 420 P; legs -1 SPY ${EXP} 420 P, \\+1 SPY ${EXP} 415 P\\n`,
      ),
    );
    assert.ok(text.out.includes(`\noutside any strategy: +1 SPY ${EXP} 410 P, -1 SPY ${EXP} 420 P\n`), text.out);
  });
});

describe('legguard status: two accounts in one store', () => {
  const dir = join(root, 'two');
  const data = join(dir, 'data');
  before(async () => {
    mkdirSync(dir, { recursive: true });
    const s = await openStore({ dataDir: data });
    try {
      await twoAccountRecord(s);
    } finally {
      await s.close();
    }
  });

  test('no --account: every account, one section each (text) and accounts[] with the first at the top (--json); no config needed', async () => {
    const text = await runLegguard(['status', '--data-dir', data], { cwd: dir });
    assert.equal(text.code, 0, text.err);
    const lines = text.out.split('\n');
    assert.equal(lines[0], `legguard status: 2 accounts in SQLite ${data}/legguard.db: ${CONDOR_ACCOUNT}, ${SPREAD_ACCOUNT}`);
    const heads = lines.filter((l) => l.startsWith('legguard status for '));
    assert.deepEqual(heads.map((l) => l.split(',')[0]), [`legguard status for ${CONDOR_ACCOUNT}`, `legguard status for ${SPREAD_ACCOUNT}`]);
    assert.match(text.out, /\n {2}ic-spy {2}iron-condor {2}CLOSED/);
    assert.match(text.out, /\n {2}bps-spy {2}vertical {2}CLOSED/);
    assert.ok(text.out.indexOf('ic-spy') < text.out.indexOf(`legguard status for ${SPREAD_ACCOUNT}`), 'the condor in its own section');

    const json = JSON.parse((await runLegguard(['status', '--json', '--data-dir', data], { cwd: dir })).out) as StatusReport & { accounts: StatusReport[] };
    assert.deepEqual(json.accounts.map((r) => `${r.account}: ${r.strategies.map((s) => s.id).join(' ')}`), [`${CONDOR_ACCOUNT}: ic-spy`, `${SPREAD_ACCOUNT}: bps-spy`]);
    assert.equal(json.account, CONDOR_ACCOUNT);
    assert.deepEqual(json.strategies, json.accounts[0]!.strategies);
  });

  test("--account selects one; a config's account comes first; an account not there is NOT_FOUND (exit 3) naming those there are", async () => {
    const one = JSON.parse((await runLegguard(['status', '--json', '--data-dir', data, '--account', SPREAD_ACCOUNT], { cwd: dir })).out) as StatusReport & { accounts: StatusReport[] };
    assert.equal(one.account, SPREAD_ACCOUNT);
    assert.deepEqual(one.accounts.map((r) => r.account), [SPREAD_ACCOUNT]);
    const text = await runLegguard(['status', '--data-dir', data, '--account', SPREAD_ACCOUNT], { cwd: dir });
    assert.match(text.out.split('\n')[0]!, new RegExp(`^legguard status for ${SPREAD_ACCOUNT}, SQLite `), 'one account: its report alone');
    assert.doesNotMatch(text.out, /ic-spy/);

    const cfg = join(dir, 'spread.yaml');
    writeFileSync(cfg, stringify({ account: SPREAD_ACCOUNT, dataDir: 'data' }));
    const viaConfig = JSON.parse((await runLegguard(['status', '--json', '--config', cfg], { cwd: dir })).out) as StatusReport & { accounts: StatusReport[] };
    assert.equal(viaConfig.account, SPREAD_ACCOUNT, "the config's account at the top");
    assert.deepEqual(viaConfig.accounts.map((r) => r.account), [SPREAD_ACCOUNT, CONDOR_ACCOUNT], 'then every other account');

    const unknown = await runLegguard(['status', '--data-dir', data, '--account', 'DU7'], { cwd: dir });
    assert.equal(unknown.code, 3, unknown.err);
    assert.equal(unknown.err, `legguard status: no account DU7 in SQLite ${data}/legguard.db; its accounts: ${CONDOR_ACCOUNT}, ${SPREAD_ACCOUNT}\n`);
    const bad = await runLegguard(['status', '--data-dir', data, '--account', 'DU-7'], { cwd: dir });
    assert.equal(bad.code, 2, bad.err);
    assert.match(bad.err, /AccountId must be 1-32 letters or digits; got "DU-7"/);
  });

  test('a config of accounts: [...]: every account, each with its own channels; no secret of any account shown; acting commands ask which', async () => {
    const secret2 = 'T0B/B0B/desk-two-secret-77';
    const cfgDir = join(dir, 'multi');
    mkdirSync(cfgDir);
    writeFileSync(
      join(cfgDir, 'legguard.yaml'),
      stringify({
        dataDir: '../data',
        alerts: { channels: [{ type: 'console', name: 'console' }] },
        accounts: [
          { account: SPREAD_ACCOUNT, alerts: { channels: [{ type: 'webhook', name: 'desk-two', urlEnv: 'DESK_TWO', format: 'json' }] } },
          { account: CONDOR_ACCOUNT },
        ],
      }),
    );
    const env = { DESK_TWO: `https://hooks.example.com/${secret2}` };
    // A failed delivery of the spread account whose error quotes its channel's URL.
    const s = await openStore({ dataDir: data });
    try {
      const alert = (await s.recentAlerts({ account: SPREAD_ACCOUNT, limit: 1 }))[0]!;
      await s.recordDelivery({ account: SPREAD_ACCOUNT, alertKey: alert.key, channel: 'desk-two', at: EpochMs.unsafe(Date.now()), delivered: false, error: `POST ${env.DESK_TWO} failed: 500`, nextAttemptAt: EpochMs.unsafe(Date.now() + 60_000) });
    } finally {
      await s.close();
    }
    const r = await runLegguard(['status', '--json'], { cwd: cfgDir, env });
    assert.equal(r.code, 0, r.err);
    assert.ok(!r.out.includes(secret2), 'the second account\'s channel secret is redacted');
    const json = JSON.parse(r.out) as StatusReport & { accounts: StatusReport[] };
    assert.deepEqual(json.accounts.map((a) => a.account), [SPREAD_ACCOUNT, CONDOR_ACCOUNT], "the config's first account first");
    const channels = (a: StatusReport): string[] => a.outbox.channels.map((c) => `${c.channel} ${c.type ?? '-'}`);
    assert.deepEqual(channels(json.accounts[0]!), ['desk-two webhook'], "the spread account's own channel");
    assert.deepEqual(channels(json.accounts[1]!), ['console console'], 'the condor account on the shared one');
    assert.match(JSON.stringify(json.accounts[0]!.outbox.undelivered), /\[redacted\]/);
    const text = await runLegguard(['status'], { cwd: cfgDir, env });
    assert.ok(!text.out.includes(secret2));

    const halt = await runLegguard(['halt'], { cwd: cfgDir, env });
    assert.equal(halt.code, 2, halt.err);
    assert.equal(halt.err, `legguard halt: the config names 2 accounts (${SPREAD_ACCOUNT}, ${CONDOR_ACCOUNT}): name one with --account\n`);
    const named = await runLegguard(['halt', '--account', CONDOR_ACCOUNT], { cwd: cfgDir, env });
    assert.equal(named.code, 0, named.err);
    assert.match(named.out, new RegExp(`^trading HALTED for ${CONDOR_ACCOUNT} `));
    assert.equal((await runLegguard(['resume', '--account', CONDOR_ACCOUNT], { cwd: cfgDir, env })).code, 0);
  });

  test('strategies list: every account, one block each (--json: each strategy with its account); --account selects', async () => {
    const text = await runLegguard(['strategies', 'list', '--data-dir', data], { cwd: dir });
    assert.equal(text.code, 0, text.err);
    const heads = text.out.split('\n').filter((l) => /^\d+ strateg/.test(l));
    assert.deepEqual(heads, [`1 strategy for ${CONDOR_ACCOUNT} in SQLite ${data}/legguard.db:`, `1 strategy for ${SPREAD_ACCOUNT} in SQLite ${data}/legguard.db:`]);
    const json = JSON.parse((await runLegguard(['strategies', 'list', '--json', '--data-dir', data], { cwd: dir })).out) as { account: string; id: string }[];
    assert.deepEqual(json.map((x) => `${x.account} ${x.id}`), [`${CONDOR_ACCOUNT} ic-spy`, `${SPREAD_ACCOUNT} bps-spy`]);
    const one = await runLegguard(['strategies', 'list', '--data-dir', data, '--account', SPREAD_ACCOUNT], { cwd: dir });
    assert.match(one.out, new RegExp(`^1 strategy for ${SPREAD_ACCOUNT} in SQLite .*\n {2}bps-spy `));
    assert.doesNotMatch(one.out, /ic-spy/);
    const unknown = await runLegguard(['strategies', 'list', '--data-dir', data, '--account', 'DU7'], { cwd: dir });
    assert.equal(unknown.code, 3, unknown.err);
  });
});
