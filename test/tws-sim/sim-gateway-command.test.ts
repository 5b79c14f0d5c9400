import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { EventName, SecType, type Contract as IbContract } from '@stoqey/ib';
import { main } from '../../src/cli/main.js';
import { simGatewayCommand } from '../../src/cli/sim-gateway-command.js';
import type { CommandIo } from '../../src/cli/command.js';
import { TestClient } from './harness.js';

function io(): { io: CommandIo; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  return { io: { stdout, stderr, env: {}, cwd: process.cwd() }, out: () => out, err: () => err };
}

async function until<T>(what: string, f: () => T | null | undefined, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== null && v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('legguard sim-gateway --scenario: a TWS client sees the scenario account, then its overnight assignment', async () => {
  const o = io();
  let stop!: (why: string) => void;
  const input = new PassThrough();
  const cmd = simGatewayCommand({ stopSignal: () => new Promise((r) => (stop = r)), now: () => Date.parse('2026-01-26T12:00:00Z'), input });
  // 40 hours of scenario in well under a second of test.
  const running = cmd.run(['--port', '0', '--scenario', 'scenarios/iron-condor-put-assigned.yaml', '--speed', '200000'], o.io);
  const port = Number(await until('the port', () => /TWS API on 127\.0\.0\.1:(\d+)/.exec(o.out())?.[1]));
  const c = await TestClient.connect(port, 3);
  try {
    c.ib.reqPositions();
    await c.waitFor(EventName.positionEnd);
    await c.waitFor(EventName.position, (a) => (a[1] as IbContract).secType === SecType.STK && a[2] === 200, 0, 10_000);
    assert.match(o.out(), /scenario: assignment posted: 2 SPY 2026-01-30 440 P/);
    input.write('notice 1100\n');
    await c.waitFor(EventName.info, (a) => a[1] === 1100);
    input.write('notice 1102\n');
    await c.waitFor(EventName.info, (a) => a[1] === 1102);
    input.write('status\n');
    await until('status output', () => (/clients: 3@/.test(o.out()) ? true : null));
    assert.deepEqual(c.decodeFailures(), []);
  } finally {
    c.close();
    stop('test over');
  }
  assert.equal(await running, 0);
  assert.match(o.out(), /stopped \(test over\)/);
});

test('legguard sim-gateway: bad options and bad scenarios exit 2 with the problem named', async () => {
  const a = io();
  assert.equal(await main(['sim-gateway', '--port', 'x'], a.io), 2);
  assert.match(a.err(), /--port must be a whole number from 0 to 65535; got "x"/);
  const b = io();
  assert.equal(await main(['sim-gateway', '--scenario', 'no/such.yaml', '--port', '0'], b.io), 2);
  assert.match(b.err(), /no\/such\.yaml: cannot read the scenario: no such file/);
  const c = io();
  assert.equal(await main(['sim-gateway', '--shape', 'delay=abc'], c.io), 2);
  assert.match(c.err(), /--shape: delay=abc needs a number/);
  const d = io();
  assert.equal(await main(['sim-gateway', '--reset', '25:00'], d.io), 2);
  assert.match(d.err(), /reset window start must be HH:MM/);
});

test('legguard sim-gateway with a --scenario per account: one login lists both; scenarios that cannot share it are refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'legguard-sim-accounts-'));
  try {
    const text = readFileSync('scenarios/iron-condor-put-assigned.yaml', 'utf8');
    const second = join(dir, 'b.yaml');
    writeFileSync(second, text.replace('account: DU0000001', 'account: DU0000002'));
    const o = io();
    let stop!: (why: string) => void;
    const cmd = simGatewayCommand({ stopSignal: () => new Promise((r) => (stop = r)), now: () => Date.parse('2026-01-26T12:00:00Z'), input: null });
    const running = cmd.run(['--port', '0', '--scenario', 'scenarios/iron-condor-put-assigned.yaml', '--scenario', second, '--lockstep'], o.io);
    const port = Number(await until('the port', () => /TWS API on 127\.0\.0\.1:(\d+)/.exec(o.out())?.[1]));
    assert.match(o.out(), /server version 193, accounts DU0000001, DU0000002/);
    const c = await TestClient.connect(port, 4);
    try {
      c.ib.reqManagedAccts();
      const [list] = await c.waitFor(EventName.managedAccounts);
      assert.equal(list, 'DU0000001,DU0000002');
      // reqPositions lists every account of the login, each position naming its account: the same condor twice.
      c.ib.reqPositions();
      await c.waitFor(EventName.positionEnd);
      const byAccount = new Map<string, number>();
      for (const a of c.all(EventName.position)) byAccount.set(String(a[0]), (byAccount.get(String(a[0])) ?? 0) + 1);
      assert.deepEqual([...byAccount.entries()].sort(), [['DU0000001', 4], ['DU0000002', 4]]);
    } finally {
      c.close();
    }
    stop('test over');
    assert.equal(await running, 0);

    const later = join(dir, 'later.yaml');
    writeFileSync(later, text.replace('account: DU0000001', 'account: DU0000003').replace('start: "2026-01-26T09:30:00-05:00"', 'start: "2026-01-26T10:30:00-05:00"'));
    const e = io();
    assert.equal(await main(['sim-gateway', '--port', '0', '--scenario', 'scenarios/iron-condor-put-assigned.yaml', '--scenario', later], e.io), 2);
    assert.match(e.err(), /later\.yaml: starts at 2026-01-26T15:30:00\.000Z, .* the accounts of one login share one clock/);
    const f = io();
    assert.equal(await main(['sim-gateway', '--port', '0', '--scenario', 'scenarios/iron-condor-put-assigned.yaml', '--scenario', 'scenarios/iron-condor-put-assigned.yaml'], f.io), 2);
    assert.match(f.err(), /account DU0000001 is also scenarios\/iron-condor-put-assigned\.yaml's: one scenario per account/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
