// Store failures as a person meets them: `legguard status` and `legguard strategies import` run as real child
// processes against a broken store exit non-zero with one line naming the problem, and leave nothing half-written.
// The full disk runs in process, with the store capped by SQLite's max_page_count (a real full disk cannot be made
// here); the command, its error mapping and its exit code are the same.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { stringify } from 'yaml';
import { openStore, SQLITE_FILE } from '../../src/adapters/store/open-store.js';
import { SystemClock } from '../../src/adapters/clock/system-clock.js';
import { strategiesCommand } from '../../src/cli/strategies-command.js';
import { statusCommand } from '../../src/cli/status-command.js';
import { AccountId } from '../../src/core/ids.js';
import { condor } from '../store/store-fixtures.js';
import { runLegguard, runLegguardProcess, type Ran } from './cli-run.js';

const ACCT = AccountId.unsafe('DU111');
const EXP = '2031-01-17';
const PASSWORD = 'pg-Pa55word';

const root = mkdtempSync(join(tmpdir(), 'legguard-store-errors-'));
// Traversable by others, in case the read-only cases run as `nobody` (see test/support/unprivileged.ts).
chmodSync(root, 0o755);
after(() => {
  chmodSync(root, 0o755);
  for (const d of readdirSync(root)) chmodSync(join(root, d), 0o755);
  rmSync(root, { recursive: true, force: true });
});
let n = 0;
const IMPORT = join(root, 'import.yaml');

/** Every file in a directory with its bytes: what "nothing was written" is checked against. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir).sort()) out[f] = readFileSync(join(dir, f)).toString('base64');
  return out;
}

async function legguardStore(dir: string): Promise<void> {
  const s = await openStore({ dataDir: dir });
  await s.commit({ account: ACCT, strategies: [condor('ic-old')] });
  await s.close();
}

function oneLine(r: Ran, command: string, re: RegExp): void {
  assert.equal(r.out, '', `${command} printed ${r.out}`);
  const lines = r.err.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got: ${r.err}`);
  assert.ok(lines[0]!.startsWith(`legguard ${command}: `), lines[0]);
  assert.match(lines[0]!, re);
}

/** `status` and `strategies import` against the same data directory, side by side. */
async function both(dir: string, opts: { env?: Record<string, string>; unprivileged?: boolean } = {}): Promise<{ status: Ran; imported: Ran }> {
  const flags = ['--account', 'DU111', '--data-dir', dir];
  const [status, imported] = await Promise.all([
    runLegguardProcess(['status', ...flags], { cwd: root, ...opts }),
    runLegguardProcess(['strategies', 'import', IMPORT, ...flags], { cwd: root, ...opts }),
  ]);
  return { status, imported };
}

before(() => {
  writeFileSync(
    IMPORT,
    stringify({
      account: 'DU111',
      strategies: [
        { id: 'ic-new', legs: [{ symbol: 'SPY', right: 'P', strike: 440, expiry: EXP, qty: -1 }, { symbol: 'SPY', right: 'P', strike: 435, expiry: EXP, qty: 1 }] },
        { id: 'cc-new', legs: [{ symbol: 'AAPL', qty: 100 }, { symbol: 'AAPL', right: 'C', strike: 200, expiry: EXP, qty: -1 }] },
      ],
    }),
  );
  chmodSync(IMPORT, 0o644);
});

describe('store errors through the CLI (child processes)', () => {
  test('a file that is not a database: exit 4 naming it, the file left as it was', async () => {
    const dir = join(root, `d${++n}`);
    mkdirSync(dir);
    writeFileSync(join(dir, SQLITE_FILE), Buffer.alloc(8192, 0x5a));
    const before = snapshot(dir);
    const { status, imported } = await both(dir);
    for (const [r, cmd] of [[status, 'status'], [imported, 'strategies']] as const) {
      assert.equal(r.code, 4, r.err);
      oneLine(r, cmd, new RegExp(`SQLite store ${dir}/legguard\\.db: open failed: the file is not an SQLite database \\(damaged, or some other kind of file\\)`));
    }
    assert.deepEqual(snapshot(dir), before);
  });

  test('a damaged legguard database: exit 4, STORE_CORRUPT, nothing imported', async () => {
    const dir = join(root, `d${++n}`);
    await legguardStore(dir);
    const file = join(dir, SQLITE_FILE);
    // Every page after the first overwritten: the header still says SQLite, the tables are gone.
    const bytes = readFileSync(file);
    bytes.fill(0xff, 4096);
    writeFileSync(file, bytes);
    const { status, imported } = await both(dir);
    for (const [r, cmd] of [[status, 'status'], [imported, 'strategies']] as const) {
      assert.equal(r.code, 4, r.err);
      oneLine(r, cmd, /legguard\.db: .*the database file is damaged \(SQLITE_CORRUPT/);
    }
    assert.deepEqual(readFileSync(file), bytes, 'the damaged file was not written to');
  });

  test("a foreign database: exit 4 naming its tables; the file is untouched (no WAL switch, no legguard tables)", async () => {
    const dir = join(root, `d${++n}`);
    mkdirSync(dir);
    const db = new Database(join(dir, SQLITE_FILE));
    db.exec("create table customers (id integer primary key, name text); insert into customers values (1, 'a')");
    db.close();
    const before = snapshot(dir);
    const { status, imported } = await both(dir);
    for (const [r, cmd] of [[status, 'status'], [imported, 'strategies']] as const) {
      assert.equal(r.code, 4, r.err);
      oneLine(r, cmd, /legguard\.db is not a legguard database: it has tables \(customers\) but no legguard_meta/);
    }
    assert.deepEqual(snapshot(dir), before, 'the foreign file changed, or files were added beside it');
  });

  test('a database written by a newer legguard: exit 4 saying so; the file is untouched', async () => {
    const dir = join(root, `d${++n}`);
    await legguardStore(dir);
    const db = new Database(join(dir, SQLITE_FILE));
    db.prepare(`update legguard_meta set value = '99' where key = 'schema_version'`).run();
    db.close();
    const before = snapshot(dir);
    const { status, imported } = await both(dir);
    for (const [r, cmd] of [[status, 'status'], [imported, 'strategies']] as const) {
      assert.equal(r.code, 4, r.err);
      oneLine(r, cmd, /legguard\.db was written by a newer legguard \(schema version 99; this legguard knows versions up to \d+\)/);
    }
    assert.deepEqual(snapshot(dir), before);
  });

  // Root writes through read-only permissions: the child gives that up (test/support/unprivileged.ts).
  test('a read-only data directory (as an unprivileged user): exit 4, nothing written', async () => {
    // A legguard database the reader may write, in a directory it may not (WAL needs files beside the database).
    const dir = join(root, `d${++n}`);
    await legguardStore(dir);
    chmodSync(join(dir, SQLITE_FILE), 0o666);
    for (const f of readdirSync(dir)) if (f !== SQLITE_FILE) rmSync(join(dir, f));
    chmodSync(dir, 0o555);
    // A read-only directory with no database yet: import has nowhere to create one.
    const empty = join(root, `d${++n}`);
    mkdirSync(empty);
    chmodSync(empty, 0o555);
    const before = snapshot(dir);
    const { status, imported } = await both(dir, { unprivileged: true });
    for (const [r, cmd] of [[status, 'status'], [imported, 'strategies']] as const) {
      assert.equal(r.code, 4, r.err);
      oneLine(r, cmd, new RegExp(`SQLite store ${dir}/legguard\\.db: .*read-only`));
    }
    assert.deepEqual(snapshot(dir), before);
    const fresh = await runLegguardProcess(['strategies', 'import', IMPORT, '--account', 'DU111', '--data-dir', empty], { cwd: root, unprivileged: true });
    assert.equal(fresh.code, 4, fresh.err);
    oneLine(fresh, 'strategies', new RegExp(`SQLite store ${empty}/legguard\\.db: open failed: the file cannot be opened or created \\(is the directory read-only\\?\\)`));
    assert.deepEqual(readdirSync(empty), []);
    assert.equal(statSync(dir).mode & 0o777, 0o555, 'still read-only');
  });

  test('an unreachable Postgres (a closed port): exit 4 naming the URL without its password', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const dir = join(root, `d${++n}`);
    const { status, imported } = await both(dir, { env: { DATABASE_URL: `postgres://guard:${PASSWORD}@127.0.0.1:${port}/legguard` } });
    for (const [r, cmd] of [[status, 'status'], [imported, 'strategies']] as const) {
      assert.equal(r.code, 4, r.err);
      oneLine(r, cmd, new RegExp(`Postgres store postgres://guard:\\*\\*\\*@127\\.0\\.0\\.1:${port}/legguard: connect failed: the server cannot be reached .*ECONNREFUSED`));
      assert.ok(!r.err.includes(PASSWORD), 'the password is shown');
    }
    assert.ok(!existsSync(dir), 'no SQLite store was made instead');
  });
});

describe('a full disk (SQLite max_page_count) through the CLI, in process', () => {
  test('strategies import: exit 4 saying the disk is full; not one of the strategies is written; status still reads', async () => {
    const dir = join(root, `d${++n}`);
    await legguardStore(dir);
    const db = new Database(join(dir, SQLITE_FILE));
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.close();
    // Room for a page or two more than the store holds: an import of many strategies cannot fit.
    const capped = { clock: new SystemClock(), openStore: (o: Parameters<typeof openStore>[0]) => openStore({ ...o, sqlitePragmas: { max_page_count: pages + 2 } }) };
    const big = join(root, 'big.yaml');
    writeFileSync(
      big,
      stringify({
        account: 'DU111',
        strategies: Array.from({ length: 400 }, (_, i) => ({
          id: `ic-${i}`,
          legs: [440, 435, 460, 465].map((strike, j) => ({ symbol: 'SPY', right: strike < 450 ? 'P' : 'C', strike: strike + i / 2, expiry: EXP, qty: j % 2 === 0 ? -2 : 2 })),
        })),
      }),
    );
    const commands = [strategiesCommand(capped), statusCommand(capped)];
    const list = async (): Promise<string[]> => {
      const s = await openStore({ dataDir: dir });
      try {
        return (await s.listStrategies(ACCT)).map((r) => r.definition.id);
      } finally {
        await s.close();
      }
    };
    const r = await runLegguard(['strategies', 'import', big, '--account', 'DU111', '--data-dir', dir], { cwd: root, commands });
    assert.equal(r.code, 4, r.err);
    oneLine(r, 'strategies', /legguard\.db: commit failed: the disk is full \(or the size limit set with max_page_count was reached\) \(SQLITE_FULL: .*\); nothing from this write was stored$/);
    assert.deepEqual(await list(), ['ic-old'], 'the import was not partly applied');
    const status = await runLegguard(['status', '--json', '--account', 'DU111', '--data-dir', dir], { cwd: root, commands });
    assert.equal(status.code, 0, status.err);
    assert.deepEqual((JSON.parse(status.out) as { strategies: { id: string }[] }).strategies.map((s) => s.id), ['ic-old']);
  });
});
