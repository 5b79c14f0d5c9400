import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { VirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import { parseScenario } from '../../src/adapters/sim/load-scenario.js';
import { ScenarioRun } from '../../src/adapters/sim/scenario-run.js';
import { openStore } from '../../src/adapters/store/open-store.js';
import { strategiesCommand } from '../../src/cli/strategies-command.js';
import { option, stock } from '../../src/core/contract.js';
import { AccountId } from '../../src/core/ids.js';
import type { BrokerPort } from '../../src/ports/broker.js';
import { runLegguard } from './cli-run.js';

const START = '2026-01-26T10:00:00-05:00';
const EXP = '2026-01-30';
const ACCT = AccountId.unsafe('DU0000001');

const root = mkdtempSync(join(tmpdir(), 'legguard-discover-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

const SCENARIO = {
  name: 'a book to discover',
  start: START,
  until: '2026-01-30T16:00:00-05:00',
  account: 'DU0000001',
  underlyings: { SPY: { price: 450 }, QQQ: { price: 410 } },
  strategies: [],
  positions: [
    { symbol: 'SPY', right: 'P', strike: 435, expiry: EXP, qty: 2 },
    { symbol: 'SPY', right: 'P', strike: 440, expiry: EXP, qty: -2 },
    { symbol: 'SPY', right: 'C', strike: 460, expiry: EXP, qty: -2 },
    { symbol: 'SPY', right: 'C', strike: 465, expiry: EXP, qty: 2 },
    { symbol: 'QQQ', qty: 250 },
    { symbol: 'QQQ', right: 'C', strike: 420, expiry: EXP, qty: -3 },
    { symbol: 'QQQ', right: 'P', strike: 430, expiry: EXP, qty: 1 },
  ],
};

function workdir(): string {
  const dir = join(root, `w${++n}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'book.yaml'), stringify(SCENARIO));
  return dir;
}

/** The strategies command with a clock at the scenario's start (expiry checks) and, where given, a broker. */
function commands(openBroker?: (c: { broker: { clientId: number } }) => BrokerPort) {
  return [strategiesCommand({ openStore, clock: new VirtualClock(Date.parse(START)), ...(openBroker ? { openBroker } : {}) })];
}

describe('legguard strategies discover', () => {
  test('--scenario --json: the starting book grouped, in the shape of issue 13', async () => {
    const dir = workdir();
    const r = await runLegguard(['strategies', 'discover', '--scenario', 'book.yaml', '--json'], { cwd: dir, commands: commands() });
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(JSON.parse(r.out), {
      strategies: [
        {
          id: 'qqq-covered-call-2026-01-30',
          kind: 'covered-call',
          legs: [
            { symbol: 'QQQ', secType: 'STK', qty: 200 },
            { symbol: 'QQQ', secType: 'OPT', right: 'C', strike: 420, expiry: EXP, qty: -2 },
          ],
        },
        {
          id: 'spy-iron-condor-2026-01-30',
          kind: 'iron-condor',
          legs: [
            { symbol: 'SPY', secType: 'OPT', right: 'C', strike: 460, expiry: EXP, qty: -2 },
            { symbol: 'SPY', secType: 'OPT', right: 'C', strike: 465, expiry: EXP, qty: 2 },
            { symbol: 'SPY', secType: 'OPT', right: 'P', strike: 435, expiry: EXP, qty: 2 },
            { symbol: 'SPY', secType: 'OPT', right: 'P', strike: 440, expiry: EXP, qty: -2 },
          ],
        },
      ],
      ungrouped: [
        { symbol: 'QQQ', secType: 'STK', qty: 50 },
        { symbol: 'QQQ', secType: 'OPT', right: 'C', strike: 420, expiry: EXP, qty: -1 },
        { symbol: 'QQQ', secType: 'OPT', right: 'P', strike: 430, expiry: EXP, qty: 1 },
      ],
    });
  });

  test('--apply adds the proposals PENDING in one commit; a second run skips what is now guarded', async () => {
    const dir = workdir();
    const r = await runLegguard(['strategies', 'discover', '--scenario', 'book.yaml', '--apply', '--data-dir', 'data'], { cwd: dir, commands: commands() });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^2 strategies in the starting book of book\.yaml for DU0000001:\n/);
    assert.match(r.out, /spy-iron-condor-2026-01-30 +iron-condor +legs -2 SPY 2026-01-30 460 C/);
    assert.match(r.out, /ungrouped \(outside any strategy\): \+50 QQQ, -1 QQQ 2026-01-30 420 C, \+1 QQQ 2026-01-30 430 P\n/);
    assert.match(r.out, /added 2 to SQLite .*, each PENDING\./);
    const store = await openStore({ dataDir: join(dir, 'data') });
    try {
      const list = await store.listStrategies(ACCT);
      assert.deepEqual(
        list.map((s) => [s.definition.id, s.definition.kind, s.state, s.definition.legs.length]),
        [
          ['qqq-covered-call-2026-01-30', 'covered-call', 'PENDING', 2],
          ['spy-iron-condor-2026-01-30', 'iron-condor', 'PENDING', 4],
        ],
      );
    } finally {
      await store.close();
    }
    const again = await runLegguard(['strategies', 'discover', '--scenario', 'book.yaml', '--apply', '--data-dir', 'data'], { cwd: dir, commands: commands() });
    assert.equal(again.code, 0, again.err);
    assert.match(again.out, /^0 strategies in the starting book of book\.yaml for DU0000001, beyond what the 2 strategies in SQLite .* hold\n/);
    assert.match(again.out, /nothing to add\.\n$/);
  });

  test('live: its own client id (the config\'s + 1), read-only; a combo order the broker reports stays one strategy', async () => {
    const dir = workdir();
    writeFileSync(join(dir, 'legguard.yaml'), stringify({ account: 'DU0000001', broker: { clientId: 40 } }));
    const run = new ScenarioRun(parseScenario(stringify({ ...SCENARIO, positions: [] }), 'inline'));
    await run.broker.connect();
    // A strangle and a call vertical as one combo order: pattern matching alone would see an iron condor's pieces.
    const P = (right: 'C' | 'P', strike: number) => option({ symbol: 'SPY', right, strike, expiry: EXP });
    run.broker.manualCombo([
      { contract: P('P', 440), qty: -1 },
      { contract: P('C', 460), qty: -1 },
    ]);
    run.broker.manualTrade(P('P', 435), 1);
    run.broker.manualTrade(P('C', 465), 1);
    run.broker.manualTrade(stock('SPY'), 100);
    await run.broker.disconnect();
    const ids: number[] = [];
    const r = await runLegguard(['strategies', 'discover', '--json'], {
      cwd: dir,
      commands: commands((c) => {
        ids.push(c.broker.clientId);
        return run.broker;
      }),
    });
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(ids, [41]);
    const out = JSON.parse(r.out) as { strategies: { id: string; kind: string }[]; ungrouped: unknown[] };
    // The short strangle traded as one order, then the long wings bought one by one (a long strangle): not a condor.
    assert.deepEqual(out.strategies.map((s) => [s.id, s.kind]), [
      ['spy-strangle-2026-01-30', 'strangle'],
      ['spy-strangle-2026-01-30-2', 'strangle'],
    ]);
    assert.deepEqual(out.ungrouped, [{ symbol: 'SPY', secType: 'STK', qty: 100 }]);
    const withId = await runLegguard(['strategies', 'discover', '--client-id', '7', '--json'], {
      cwd: dir,
      commands: commands((c) => {
        ids.push(c.broker.clientId);
        return run.broker;
      }),
    });
    assert.equal(withId.code, 0, withId.err);
    assert.deepEqual(ids, [41, 7]);
  });

  test('bad input: --config with --scenario, arguments, a scenario that is not there', async () => {
    const dir = workdir();
    const both = await runLegguard(['strategies', 'discover', '--scenario', 'book.yaml', '--config', 'x.yaml'], { cwd: dir, commands: commands() });
    assert.equal(both.code, 2);
    assert.match(both.err, /give --config \(the live broker\) or --scenario/);
    const arg = await runLegguard(['strategies', 'discover', 'extra'], { cwd: dir, commands: commands() });
    assert.equal(arg.code, 2);
    assert.match(arg.err, /discover takes no arguments/);
    const missing = await runLegguard(['strategies', 'discover', '--scenario', 'nope.yaml'], { cwd: dir, commands: commands() });
    assert.notEqual(missing.code, 0);
    assert.match(missing.err, /nope\.yaml/);
  });
});
