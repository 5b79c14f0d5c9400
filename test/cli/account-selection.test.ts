// Issue 16, many accounts on one store: the commands that act on one account (`ack`, `halt`, `reduce-only`,
// `resume`) find it the same way: `--account` (one there is: NOT_FOUND naming those there are otherwise), else the
// config's account, else the store's only one; a store of several with nothing named is refused, listing them,
// except that `ack` finds the one account where the incident waits.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { openStore } from '../../src/adapters/store/open-store.js';
import { AccountId, IncidentId } from '../../src/core/ids.js';
import { EpochMs } from '../../src/core/quantity.js';
import { sampleAlert, T0 } from '../alerts/sample-alert.js';
import { runLegguard } from './cli-run.js';

const DU1 = AccountId.unsafe('DU1000001');
const DU2 = AccountId.unsafe('DU2000002');
const root = mkdtempSync(join(tmpdir(), 'legguard-accounts-cli-'));
const data = join(root, 'data');
after(() => rmSync(root, { recursive: true, force: true }));

async function unacked(account: AccountId): Promise<string[]> {
  const s = await openStore({ dataDir: data });
  try {
    return (await s.unackedCritical(account)).map((u) => u.incidentId);
  } finally {
    await s.close();
  }
}

async function trading(account: AccountId): Promise<string> {
  const s = await openStore({ dataDir: data });
  try {
    return (await s.tradingState(account)).state;
  } finally {
    await s.close();
  }
}

describe('commands acting on one account, in a store of two', () => {
  before(async () => {
    const s = await openStore({ dataDir: data });
    try {
      // `shared:1` waits in both accounts (the same scenario guarded for each); the others in one each.
      await s.commit({ account: DU1, alerts: [sampleAlert({ key: 'a1', incidentId: IncidentId.unsafe('one:1') }), sampleAlert({ key: 's1', incidentId: IncidentId.unsafe('shared:1'), at: EpochMs.unsafe(T0 + 1) })] });
      await s.commit({ account: DU2, alerts: [sampleAlert({ key: 'a2', incidentId: IncidentId.unsafe('two:2') }), sampleAlert({ key: 's2', incidentId: IncidentId.unsafe('shared:1'), at: EpochMs.unsafe(T0 + 1) })] });
    } finally {
      await s.close();
    }
  });

  test('ack without --account finds the one account where the incident waits; in two it asks; --account picks; unknown is NOT_FOUND', async () => {
    const two = await runLegguard(['ack', 'two:2', '--data-dir', data, '--by', 'alice'], { cwd: root });
    assert.equal(two.code, 0, two.err);
    assert.match(two.out, new RegExp(`^acknowledged two:2 of ${DU2} \\(by alice, `));
    assert.deepEqual(await unacked(DU2), ['shared:1']);
    assert.deepEqual(await unacked(DU1), ['one:1', 'shared:1'], "the other account's incidents untouched");

    const both = await runLegguard(['ack', 'shared:1', '--data-dir', data], { cwd: root });
    assert.equal(both.code, 2, both.err);
    assert.equal(both.err, `legguard ack: incident shared:1 waits in 2 accounts (${DU1}, ${DU2}): name one with --account\n`);
    const picked = await runLegguard(['ack', 'shared:1', '--data-dir', data, '--account', DU1], { cwd: root });
    assert.equal(picked.code, 0, picked.err);
    assert.deepEqual(await unacked(DU1), ['one:1']);
    assert.deepEqual(await unacked(DU2), ['shared:1']);

    const unknown = await runLegguard(['ack', 'one:1', '--data-dir', data, '--account', 'DU9'], { cwd: root });
    assert.equal(unknown.code, 3, unknown.err);
    assert.equal(unknown.err, `legguard ack: no account DU9 in SQLite ${data}/legguard.db; its accounts: ${DU1}, ${DU2}\n`);
    const nowhere = await runLegguard(['ack', 'nope:9', '--data-dir', data], { cwd: root });
    assert.equal(nowhere.code, 2, nowhere.err);
    assert.match(nowhere.err, /holds 2 accounts \(DU1000001, DU2000002\): name one with --account/);
  });

  test("halt/resume: several accounts and none named is refused listing them; --account acts on that one only; a config's account is the default", async () => {
    const unnamed = await runLegguard(['halt', '--data-dir', data], { cwd: root });
    assert.equal(unnamed.code, 2, unnamed.err);
    assert.equal(unnamed.err, `legguard halt: SQLite ${data}/legguard.db holds 2 accounts (${DU1}, ${DU2}): name one with --account\n`);
    const halted = await runLegguard(['halt', '--data-dir', data, '--account', DU2, '--by', 'alice'], { cwd: root });
    assert.equal(halted.code, 0, halted.err);
    assert.match(halted.out, new RegExp(`^trading HALTED for ${DU2} \\(was ACTIVE\\)`));
    assert.deepEqual([await trading(DU1), await trading(DU2)], ['ACTIVE', 'HALTED']);
    const typo = await runLegguard(['resume', '--data-dir', data, '--account', 'DU2000003'], { cwd: root });
    assert.equal(typo.code, 3, typo.err);
    assert.match(typo.err, /no account DU2000003 in SQLite .*; its accounts: DU1000001, DU2000002/);

    const cfgDir = join(root, 'cfg');
    mkdirSync(cfgDir);
    writeFileSync(join(cfgDir, 'legguard.yaml'), stringify({ account: DU2, dataDir: data }));
    const resumed = await runLegguard(['resume', '--by', 'bob'], { cwd: cfgDir });
    assert.equal(resumed.code, 0, resumed.err);
    assert.match(resumed.out, new RegExp(`^trading ACTIVE for ${DU2} \\(was HALTED\\)`));
    assert.deepEqual([await trading(DU1), await trading(DU2)], ['ACTIVE', 'ACTIVE']);
  });

  test('halt for an account before any guard ran: a new store is created for the account named', async () => {
    const fresh = join(root, 'fresh');
    const r = await runLegguard(['halt', '--data-dir', fresh, '--account', 'DU5'], { cwd: root });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^trading HALTED for DU5 \(was ACTIVE\)/);
    const none = await runLegguard(['halt', '--data-dir', join(root, 'fresh2')], { cwd: root });
    assert.equal(none.code, 3, none.err);
    assert.match(none.err, /no legguard database at/, 'no account named, no config: nothing to create it for');
  });
});
