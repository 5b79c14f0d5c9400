import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { openStore } from '../../src/adapters/store/open-store.js';
import { option, stock } from '../../src/core/contract.js';
import { AccountId } from '../../src/core/ids.js';
import type { StorePort, StrategyRecord } from '../../src/ports/store.js';
import { condor } from '../store/store-fixtures.js';
import { postgresForTests, testSchema } from '../support/postgres.js';
import { runLegguard } from './cli-run.js';

// Expiries far enough ahead that the real clock never reaches them while these tests are kept.
const EXP = '2031-01-17';
const ACCT = AccountId.unsafe('DU111');
const CONDOR_LEGS = [`SPY ${EXP} P 440 -2`, `SPY ${EXP} P 435 2`, `SPY ${EXP} 460 C -2`, `SPY ${EXP} C 465 2`];

const root = mkdtempSync(join(tmpdir(), 'legguard-strategies-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
/** A working directory with a legguard.yaml for account DU111 (state in ./data). */
function workdir(extra: Record<string, unknown> = {}): string {
  const dir = join(root, `w${++n}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'legguard.yaml'), stringify({ account: 'DU111', ...extra }));
  return dir;
}

async function withStore<T>(dir: string, fn: (s: StorePort) => Promise<T>): Promise<T> {
  const s = await openStore({ dataDir: join(dir, 'data') });
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

const legsArgs = (legs: readonly string[]): string[] => legs.flatMap((l) => ['--leg', l]);

describe('legguard strategies add and list', () => {
  test('add writes a PENDING strategy holding nothing until a guard finds its legs; list shows it; the history and journal say who', async () => {
    const dir = workdir();
    const r = await runLegguard(['strategies', 'add', 'ic-spy', ...legsArgs(CONDOR_LEGS)], { cwd: dir });
    assert.equal(r.err, '');
    assert.equal(r.code, 0);
    assert.match(r.out, new RegExp(`^added ic-spy for DU111 in SQLite ${dir}/data/legguard\\.db: iron-condor, PENDING, legs -2 SPY ${EXP} 440 P, \\+2 SPY ${EXP} 435 P, -2 SPY ${EXP} 460 C, \\+2 SPY ${EXP} 465 C\n`));
    assert.match(r.out, /PENDING until a guard finds every leg at the broker: a running guard picks it up at its next reconciliation \(every 60 s\)/);
    assert.match(r.out, /a leg the broker does not show is reported as not at the broker \(`legguard status`\), and the strategy waits/);
    const cc = await runLegguard(['strategies', 'add', 'cc-aapl', '--leg', 'AAPL STK 100', '--leg', `aapl ${EXP} call 200 -1`, '--policy', 'hedge'], { cwd: dir });
    assert.equal(cc.code, 0, cc.err);
    const custom = await runLegguard(['strategies', 'add', 'lone', '--leg', `QQQ ${EXP} P 400 -1`, '--kind', 'custom'], { cwd: dir });
    assert.equal(custom.code, 0, custom.err);

    await withStore(dir, async (s) => {
      const list = await s.listStrategies(ACCT);
      assert.deepEqual(
        list.map((x) => [x.definition.id, x.definition.kind, x.definition.policy ?? null, x.state, x.broken]),
        [
          ['ic-spy', 'iron-condor', null, 'PENDING', null],
          ['cc-aapl', 'covered-call', 'hedge', 'PENDING', null],
          ['lone', 'custom', null, 'PENDING', null],
        ],
      );
      assert.deepEqual(list[1]!.definition.legs, [
        { contract: stock('AAPL'), qty: 100 },
        { contract: option({ symbol: 'AAPL', right: 'C', strike: 200, expiry: EXP }), qty: -1 },
      ]);
      assert.deepEqual(list.map((x) => x.holdings), [[], [], []], 'nothing is held until a guard finds the legs at the broker');
      assert.ok(list[0]!.definition.createdAt < list[1]!.definition.createdAt, 'added later, attributed later');
      const history = await s.stateHistory({ account: ACCT });
      assert.deepEqual(history.map((h) => [h.strategyId, h.from, h.to, h.reason]), [
        ['ic-spy', null, 'PENDING', 'guarded (legguard strategies add)'],
        ['cc-aapl', null, 'PENDING', 'guarded (legguard strategies add)'],
        ['lone', null, 'PENDING', 'guarded (legguard strategies add)'],
      ]);
      const notes = await s.journal({ account: ACCT, types: ['note'] });
      assert.deepEqual(notes.map((j) => [j.strategyId, (j.data as { action: string }).action]), [['ic-spy', 'added'], ['cc-aapl', 'added'], ['lone', 'added']]);
    });

    const list = await runLegguard(['strategies', 'list'], { cwd: dir });
    assert.equal(list.code, 0);
    assert.deepEqual(list.out.trimEnd().split('\n'), [
      `3 strategies for DU111 in SQLite ${dir}/data/legguard.db:`,
      `  ic-spy   iron-condor   PENDING  not guarded until a guard finds every leg at the broker (\`legguard status\` says which are missing); legs -2 SPY ${EXP} 440 P, +2 SPY ${EXP} 435 P, -2 SPY ${EXP} 460 C, +2 SPY ${EXP} 465 C`,
      `  cc-aapl  covered-call  PENDING  not guarded until a guard finds every leg at the broker (\`legguard status\` says which are missing); legs +100 AAPL, -1 AAPL ${EXP} 200 C`,
      `  lone     custom        PENDING  not guarded until a guard finds every leg at the broker (\`legguard status\` says which are missing); legs -1 QQQ ${EXP} 400 P`,
    ]);
    const json = await runLegguard(['strategies', 'list', '--json'], { cwd: dir });
    const parsed = JSON.parse(json.out) as { id: string; policy: string | null; holdings: { contract: string; qty: number }[]; legs: { contract: string; qty: number }[] }[];
    assert.deepEqual(parsed.map((p) => p.id), ['ic-spy', 'cc-aapl', 'lone']);
    assert.equal(parsed[1]!.policy, 'hedge');
    assert.deepEqual(parsed[1]!.legs, [{ contract: 'AAPL', qty: 100 }, { contract: `AAPL ${EXP} 200 C`, qty: -1 }]);
    assert.deepEqual(parsed[1]!.holdings, []);
  });

  test('list shows a broken strategy with its cause and what it holds now', async () => {
    const dir = workdir();
    await withStore(dir, (s) => s.commit({ account: ACCT, strategies: [condor('ic-old', { broken: true })] }));
    const r = await runLegguard(['strategies', 'list'], { cwd: dir });
    assert.equal(r.code, 0, r.err);
    assert.match(
      r.out,
      /^ {2}ic-old {2}iron-condor {2}BROKEN {2}broken: assignment EARLY of SPY 2026-01-30 440 P \(\+2\) at 2026-01-28 09:30:01 ET, incident ic-old:assignment:\d+; holds \+2 SPY 2026-01-30 435 P, -2 SPY 2026-01-30 460 C, \+2 SPY 2026-01-30 465 C, \+200 SPY$/m,
    );
  });

  const badLegs: [string[], RegExp][] = [
    [['SPY 2031-01-17 P 440'], /^legguard strategies: --leg 1 "SPY 2031-01-17 P 440": expected "SYMBOL YYYY-MM-DD C\|P STRIKE QTY" for an option/],
    [[CONDOR_LEGS[0]!, 'SPY 2031-01-17 X 435 2'], /^legguard strategies: --leg 2 "SPY 2031-01-17 X 435 2": exactly one of "X" and "435" must be the right, C or P/],
    [['SPY 2031-01-17 P 440 0'], /--leg 1 "SPY 2031-01-17 P 440 0": the quantity must not be 0/],
    [['SPY 2031-01-17 P 440 -1.5'], /--leg 1 .*: the quantity must be a whole number, negative for short; got "-1\.5"/],
    [['SPY 2031-02-30 P 440 -1'], /--leg 1 "SPY 2031-02-30 P 440 -1": expiry: is not a real date/],
    [['SPY 17-01-2031 P 440 -1'], /--leg 1 .*: the expiry must be a date YYYY-MM-DD; got "17-01-2031"/],
    [['SPY 2031-01-17 P -440 -1'], /--leg 1 .*: the strike must be a positive price like 440 or 432\.5; got "-440"/],
    [['$PY STK 100'], /--leg 1 "\$PY STK 100": symbol: must be a ticker symbol like SPY/],
    [['SPY 2020-01-17 P 440 -1'], /--leg 1 "SPY 2020-01-17 P 440 -1": SPY 2020-01-17 440 P has expired \(its last trading day closed 2020-01-17 16:00:00 ET\)/],
    [['SPY 2031-01-17 P 440 -1', 'SPY 2031-01-17 440 put -1'], /--leg 2 "SPY 2031-01-17 440 put -1": names the same contract as leg 1 \(SPY 2031-01-17 440 P x100\); give one leg with the total signed qty$/m],
  ];
  for (const [legs, re] of badLegs) {
    test(`a bad leg is refused naming it: ${legs.at(-1)!}`, async () => {
      const dir = workdir();
      const r = await runLegguard(['strategies', 'add', 'x', ...legsArgs(legs)], { cwd: dir });
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, re);
      assert.equal(r.err.trimEnd().split('\n').length, 1, 'one line');
      assert.ok(!existsSync(join(dir, 'data')), 'nothing written');
    });
  }

  test('other refusals: bad id, kind or policy, no --leg, an id already guarded, no account', async () => {
    const dir = workdir();
    const cases: [string[], number, RegExp][] = [
      [['strategies', 'add', 'bad id', '--leg', 'SPY STK 1'], 2, /the strategy id: must be 1-64 letters/],
      [['strategies', 'add', 'x', '--leg', 'SPY STK 1', '--kind', 'condor'], 2, /--kind: Invalid option: expected one of "iron-condor"/],
      [['strategies', 'add', 'x', '--leg', 'SPY STK 1', '--policy', 'panic'], 2, /--policy: Invalid option: expected one of "close"\|"hedge"\|"alert"/],
      [['strategies', 'add', 'x'], 2, /add: give at least one --leg/],
      [['strategies', 'add', '--leg', 'SPY STK 1'], 2, /add: give exactly one strategy id/],
      [['strategies', 'frobnicate'], 2, /strategies: expected add, list, remove, import or discover; got "frobnicate"/],
      [['strategies', 'list'], 3, /no legguard database at .*\/data\/legguard\.db/],
    ];
    for (const [argv, code, re] of cases) {
      const r = await runLegguard(argv, { cwd: dir });
      assert.equal(r.code, code, `${argv.join(' ')}: ${r.err}`);
      assert.match(r.err, re);
    }
    assert.ok(!existsSync(join(dir, 'data')), 'nothing was created by a refused command or a list');
    assert.equal((await runLegguard(['strategies', 'add', 'x', '--leg', 'SPY STK 100'], { cwd: dir })).code, 0);
    const again = await runLegguard(['strategies', 'add', 'x', '--leg', 'SPY STK 200'], { cwd: dir });
    assert.equal(again.code, 2);
    assert.match(again.err, /already in the store: x \(PENDING\); nothing was added\. Give --replace/);
    const replaced = await runLegguard(['strategies', 'add', 'x', '--leg', 'SPY STK 200', '--replace'], { cwd: dir });
    assert.equal(replaced.code, 0, replaced.err);
    assert.match(replaced.out, /^replaced x \(was PENDING\) .*PENDING, legs \+200 SPY\n.*\nA guard already running keeps the definition it loaded for a replaced strategy \(x\) until it restarts/s);
    const bare = join(root, `bare${++n}`);
    mkdirSync(bare);
    // No config and no store here: list reads the store in ./data (as status does), and there is none.
    const noStore = await runLegguard(['strategies', 'list'], { cwd: bare });
    assert.equal(noStore.code, 3);
    assert.match(noStore.err, /no legguard database at .*\/data\/legguard\.db/);
    const flags = await runLegguard(['strategies', 'add', 'y', '--leg', 'SPY STK 5', '--account', 'DU999', '--data-dir', 'st'], { cwd: bare });
    assert.equal(flags.code, 0, flags.err);
    assert.match(flags.out, new RegExp(`^added y for DU999 in SQLite ${bare}/st/legguard\\.db`));
  });
});

describe('legguard strategies import', () => {
  const fileStrategies = [
    { id: 'ic-a', legs: [{ symbol: 'SPY', right: 'P', strike: 440, expiry: EXP, qty: -1 }, { symbol: 'SPY', right: 'P', strike: 435, expiry: EXP, qty: 1 }] },
    { id: 'cc-b', policy: 'hedge', legs: [{ symbol: 'AAPL', qty: 100 }, { symbol: 'AAPL', right: 'C', strike: 200, expiry: EXP, qty: -1 }] },
  ];

  test('a file with account and strategies: all added in file order, each PENDING', async () => {
    const dir = workdir();
    writeFileSync(join(dir, 'mine.yaml'), stringify({ account: 'DU111', strategies: fileStrategies }));
    const r = await runLegguard(['strategies', 'import', 'mine.yaml'], { cwd: dir });
    assert.equal(r.err, '');
    assert.equal(r.code, 0);
    assert.deepEqual(r.out.trimEnd().split('\n').slice(0, 3), [
      `imported 2 strategies for DU111 into SQLite ${dir}/data/legguard.db, each PENDING:`,
      `  ic-a  vertical      added  legs -1 SPY ${EXP} 440 P, +1 SPY ${EXP} 435 P`,
      `  cc-b  covered-call  added  legs +100 AAPL, -1 AAPL ${EXP} 200 C`,
    ]);
    await withStore(dir, async (s) => {
      const list = await s.listStrategies(ACCT);
      assert.deepEqual(list.map((x) => [x.definition.id, x.state, x.definition.policy ?? null]), [['ic-a', 'PENDING', null], ['cc-b', 'PENDING', 'hedge']]);
    });
  });

  test('a scenario file: its strategies (index options European, cash-settled per its underlyings)', async () => {
    const dir = workdir();
    writeFileSync(
      join(dir, 'scenario.yaml'),
      stringify({
        name: 'for import',
        start: '2030-06-03T09:30:00-04:00',
        until: '2030-06-04T16:00:00-04:00',
        account: 'DU111',
        underlyings: { SPX: { price: 5400 }, SPY: { price: 445 } },
        strategies: [{ id: 'spx-put', legs: [{ symbol: 'SPX', right: 'P', strike: 5000, expiry: EXP, qty: -1 }] }, fileStrategies[0]],
        events: [{ at: '2030-06-03T10:00:00-04:00', price: { SPY: 440 } }],
      }),
    );
    const r = await runLegguard(['strategies', 'import', 'scenario.yaml'], { cwd: dir });
    assert.equal(r.code, 0, r.err);
    await withStore(dir, async (s) => {
      const list = await s.listStrategies(ACCT);
      assert.deepEqual(list.map((x) => x.definition.id), ['spx-put', 'ic-a']);
      const spx = list[0]!.definition.legs[0]!.contract;
      assert.ok(spx.secType === 'OPT' && spx.style === 'european' && spx.settlement === 'cash', `SPX option ${JSON.stringify(spx)}`);
    });
    writeFileSync(join(dir, 'broken-scenario.yaml'), stringify({ name: 'x', start: '2030-06-03T09:30:00-04:00', until: '2030-06-04T16:00:00-04:00', account: 'DU111', underlyings: { SPY: { price: 445 } }, strategies: [{ id: 'q', legs: [{ symbol: 'QQQ', qty: 1 }] }] }));
    const bad = await runLegguard(['strategies', 'import', 'broken-scenario.yaml'], { cwd: dir });
    assert.equal(bad.code, 2);
    assert.match(bad.err, /broken-scenario\.yaml: strategies\[0\]\.legs\[0\]\.symbol: QQQ is not among the underlyings \(SPY\)/);
  });

  test('ids already guarded: refused naming them, nothing applied; --replace replaces PENDING, OPEN and CLOSED, never one being closed', async () => {
    const dir = workdir();
    await withStore(dir, (s) =>
      s.commit({ account: ACCT, strategies: [condor('ic-a'), condor('cc-b', { state: 'CLOSED' }), condor('busy', { broken: true })] }),
    );
    writeFileSync(join(dir, 'two.yaml'), stringify({ account: 'DU111', strategies: [...fileStrategies, { id: 'new-one', legs: [{ symbol: 'IWM', qty: 10 }] }] }));
    const before = await withStore(dir, (s) => s.load(ACCT));
    const refused = await runLegguard(['strategies', 'import', 'two.yaml'], { cwd: dir });
    assert.equal(refused.code, 2);
    assert.equal(
      refused.err,
      'legguard strategies: already in the store: ic-a (OPEN), cc-b (CLOSED); nothing was added. Give --replace to replace strategies that are PENDING, OPEN or CLOSED, or remove them first\n',
    );
    assert.deepEqual(await withStore(dir, (s) => s.load(ACCT)), before, 'the import was not partly applied');

    const replaced = await runLegguard(['strategies', 'import', 'two.yaml', '--replace'], { cwd: dir });
    assert.equal(replaced.code, 0, replaced.err);
    assert.match(replaced.out, /^imported 3 strategies .* \(2 replaced\), each PENDING:\n {2}ic-a +vertical +replaced \(was OPEN\) .*\n {2}cc-b +covered-call +replaced \(was CLOSED\) .*\n {2}new-one +custom +added +legs \+10 IWM\n/);
    await withStore(dir, async (s) => {
      const byId = new Map<string, StrategyRecord>((await s.listStrategies(ACCT)).map((x) => [x.definition.id, x]));
      assert.equal(byId.get('cc-b')!.state, 'PENDING');
      assert.equal(byId.get('cc-b')!.definition.kind, 'covered-call');
      assert.equal(byId.get('busy')!.state, 'BROKEN', 'untouched');
      const h = await s.stateHistory({ account: ACCT, strategyId: byId.get('cc-b')!.definition.id });
      assert.deepEqual(h.map((x) => [x.from, x.to, x.reason.replace(/import .*$/, 'import')]), [['CLOSED', 'PENDING', 'replaced by legguard strategies import']]);
    });

    writeFileSync(join(dir, 'busy.yaml'), stringify({ account: 'DU111', strategies: [{ id: 'fresh', legs: [{ symbol: 'DIA', qty: 1 }] }, { id: 'busy', legs: [{ symbol: 'SPY', qty: 1 }] }] }));
    const mid = await withStore(dir, (s) => s.load(ACCT));
    const busy = await runLegguard(['strategies', 'import', 'busy.yaml', '--replace'], { cwd: dir });
    assert.equal(busy.code, 2);
    assert.match(busy.err, /cannot replace busy \(BROKEN\): only PENDING, OPEN or CLOSED strategies are replaced \(the guard is handling the others\); nothing was added\n$/);
    assert.deepEqual(await withStore(dir, (s) => s.load(ACCT)), mid, 'fresh was not added either');
  });

  test('bad files: the file, the key and the problem; nothing written', async () => {
    const dir = workdir();
    const files: [string, string, RegExp][] = [
      ['leg.yaml', stringify({ strategies: [{ id: 'a', legs: [{ symbol: 'SPY', right: 'P', strike: 440, qty: -1 }] }] }), /leg\.yaml: strategies\[0\]\.legs\[0\]\.expiry: an option needs expiry/],
      ['key.yaml', stringify({ account: 'DU111', strategies: fileStrategies, strategys: [] }), /key\.yaml: \(top level\): Unrecognized key: "strategys"/],
      ['acct.yaml', stringify({ account: 'DU222', strategies: fileStrategies }), /acct\.yaml: account: the file is for DU222, the guard's account is DU111/],
      ['dup.yaml', stringify({ strategies: [fileStrategies[0], fileStrategies[0]] }), /dup\.yaml: strategies\[1\]\.id: "ic-a" is used twice \(also strategies\[0\]\)/],
      ['empty.yaml', stringify({ account: 'DU111', strategies: [] }), /empty\.yaml: strategies: the file lists no strategies/],
      ['twice.yaml', stringify({ strategies: [{ id: 'b', legs: [{ symbol: 'spy', secType: 'STK', qty: 100 }, { symbol: 'SPY', qty: 100 }] }] }), /twice\.yaml: strategies\[0\]\.legs\[1\]: names the same contract as leg 1 \(SPY STK\)/],
      ['yaml.yaml', 'strategies: [ { id: a\n', /yaml\.yaml: not valid YAML at line/],
      ['old.yaml', stringify({ strategies: [{ id: 'old', legs: [{ symbol: 'SPY', right: 'P', strike: 440, expiry: '2026-01-30', qty: -1 }] }] }), /old\.yaml: strategies\[0\]\.legs\[0\] \(old\): SPY 2026-01-30 440 P has expired/],
    ];
    for (const [name, text, re] of files) {
      writeFileSync(join(dir, name), text);
      const r = await runLegguard(['strategies', 'import', name], { cwd: dir });
      assert.equal(r.code, 2, `${name}: ${r.err}`);
      assert.match(r.err, re);
    }
    const missing = await runLegguard(['strategies', 'import', 'nope.yaml'], { cwd: dir });
    assert.equal(missing.code, 2);
    assert.match(missing.err, /nope\.yaml: cannot read the strategies file: no such file/);
    assert.ok(!existsSync(join(dir, 'data')), 'no store was created for a refused import');
  });
});

describe('legguard strategies remove', () => {
  test('removes OPEN strategies and journals what they held; one being closed needs --force; unknown ids are NOT_FOUND', async () => {
    const dir = workdir({ guard: { reconcileIntervalMs: 15_000 } });
    await withStore(dir, (s) =>
      s.commit({ account: ACCT, strategies: [condor('ic-a'), condor('busy', { broken: true }), condor('closing', { state: 'CLOSING' }), condor('help', { state: 'NEEDS_ATTENTION' })] }),
    );
    const r = await runLegguard(['strategies', 'remove', 'ic-a', 'help'], { cwd: dir });
    assert.equal(r.err, '');
    assert.equal(r.code, 0);
    assert.deepEqual(r.out.trimEnd().split('\n'), [
      'removed ic-a (OPEN; it held -2 SPY 2026-01-30 440 P, +2 SPY 2026-01-30 435 P, -2 SPY 2026-01-30 460 C, +2 SPY 2026-01-30 465 C)',
      'removed help (NEEDS_ATTENTION; it held -2 SPY 2026-01-30 440 P, +2 SPY 2026-01-30 435 P, -2 SPY 2026-01-30 460 C, +2 SPY 2026-01-30 465 C)',
      'A running guard stops guarding them at its next reconciliation (every 15 s): positions they held then count as outside any strategy, and legguard neither alerts on them nor closes them.',
    ]);
    await withStore(dir, async (s) => {
      assert.deepEqual((await s.listStrategies(ACCT)).map((x) => x.definition.id), ['busy', 'closing']);
      const notes = await s.journal({ account: ACCT, types: ['note'] });
      assert.deepEqual(notes.map((j) => [j.strategyId, (j.data as { state: string; force: boolean }).state, (j.data as { force: boolean }).force]), [['ic-a', 'OPEN', false], ['help', 'NEEDS_ATTENTION', false]]);
    });

    const before = await withStore(dir, (s) => s.load(ACCT));
    const refused = await runLegguard(['strategies', 'remove', 'busy', 'closing'], { cwd: dir });
    assert.equal(refused.code, 2);
    assert.equal(
      refused.err,
      'legguard strategies: busy is BROKEN, closing is CLOSING: the guard is closing them (holds +2 SPY 2026-01-30 435 P, -2 SPY 2026-01-30 460 C, +2 SPY 2026-01-30 465 C, +200 SPY; ' +
        'holds -2 SPY 2026-01-30 440 P, +2 SPY 2026-01-30 435 P, -2 SPY 2026-01-30 460 C, +2 SPY 2026-01-30 465 C); nothing was removed. Give --force to remove anyway\n',
    );
    const unknown = await runLegguard(['strategies', 'remove', 'busy', 'ghost'], { cwd: dir, env: {} });
    assert.equal(unknown.code, 3);
    assert.match(unknown.err, /no strategy ghost for DU111 in SQLite .*; nothing was removed\. Strategies there: busy, closing\n$/);
    assert.deepEqual(await withStore(dir, (s) => s.load(ACCT)), before, 'nothing removed by a refused command');

    const forced = await runLegguard(['strategies', 'remove', 'busy', '--force'], { cwd: dir });
    assert.equal(forced.code, 0, forced.err);
    assert.match(forced.out, /^removed busy \(BROKEN; it held .*\)\n.*\nForced: busy was being closed\. A running guard does not drop a strategy it is closing: it goes on closing it and writes it back to the store\. Stop the guard first for the removal to hold\.\n$/s);
    await withStore(dir, async (s) => assert.deepEqual((await s.listStrategies(ACCT)).map((x) => x.definition.id), ['closing']));

    // A strategy typed wrong, never found at the broker: removed as it is, PENDING and holding nothing.
    assert.equal((await runLegguard(['strategies', 'add', 'typo', '--leg', `SPY ${EXP} P 415 1`], { cwd: dir })).code, 0);
    const typo = await runLegguard(['strategies', 'remove', 'typo'], { cwd: dir });
    assert.equal(typo.code, 0, typo.err);
    assert.match(typo.out, /^removed typo \(PENDING; it held nothing\)\n/);
  });
});

const pg = await postgresForTests();
describe('strategies and status on Postgres (DATABASE_URL)', { skip: pg.skip ?? false }, () => {
  test('add, list and status go to the database the URL names', async () => {
    const { url, drop } = testSchema(pg.url!, 'cli');
    try {
      const dir = workdir();
      const env = { DATABASE_URL: url };
      const add = await runLegguard(['strategies', 'add', 'ic-pg', ...legsArgs(CONDOR_LEGS)], { cwd: dir, env });
      assert.equal(add.code, 0, add.err);
      assert.match(add.out, /^added ic-pg for DU111 in Postgres postgres:\/\/.*schema=lg_cli_/);
      const list = await runLegguard(['strategies', 'list', '--json'], { cwd: dir, env });
      assert.deepEqual((JSON.parse(list.out) as { id: string }[]).map((s) => s.id), ['ic-pg']);
      const status = await runLegguard(['status', '--json'], { cwd: dir, env });
      assert.equal(status.code, 0, status.err);
      assert.deepEqual((JSON.parse(status.out) as { strategies: { id: string; state: string }[] }).strategies.map((s) => [s.id, s.state]), [['ic-pg', 'PENDING']]);
      assert.ok(!existsSync(join(dir, 'data', 'legguard.db')), 'no SQLite file beside it');
      assert.ok(readFileSync(join(dir, 'legguard.yaml'), 'utf8').length > 0, 'config kept');
    } finally {
      await drop();
    }
  });
});
