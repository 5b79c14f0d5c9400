import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/adapters/store/open-store.js';
import { ACCT, at } from './store-fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'legguard-private-store-'));
after(() => rmSync(root, { recursive: true, force: true }));
const modeOf = (p: string): number => statSync(p).mode & 0o777;

/** Runs `fn` with the usual permissive umask (022), as a person's shell has it, whatever the test runner's is. */
async function withUmask<T>(mask: number, fn: () => Promise<T>): Promise<T> {
  const before = process.umask(mask);
  try {
    return await fn();
  } finally {
    process.umask(before);
  }
}

describe('the SQLite store is private', () => {
  test('a data directory and database legguard creates are 0700 and 0600, WAL and SHM files included', async () => {
    const dataDir = join(root, 'fresh', 'data');
    const warnings: string[] = [];
    await withUmask(0o022, async () => {
      const store = await openStore({ dataDir, warn: (m) => warnings.push(m) });
      try {
        // The first write after start (the guard's lock): SQLite makes the WAL and SHM files lazily.
        await store.acquireLock(ACCT, 'private-store-test', at(0), 60_000);
        const db = join(dataDir, 'legguard.db');
        assert.equal(modeOf(dataDir), 0o700, 'data directory');
        assert.equal(modeOf(db), 0o600, 'database file');
        for (const side of ['-wal', '-shm']) {
          assert.ok(existsSync(db + side), `${side} exists while the store is open`);
          assert.equal(modeOf(db + side), 0o600, `database ${side} file`);
        }
      } finally {
        await store.close();
      }
    });
    assert.deepEqual(warnings, [], 'nothing to warn about in what legguard made');
  });

  test('an existing data directory or database open to others: one warning each naming it, modes left as they are', async () => {
    const dataDir = join(root, 'loose');
    const warnings: string[] = [];
    await withUmask(0o022, async () => {
      await (await openStore({ dataDir })).close();
      chmodSync(dataDir, 0o755);
      chmodSync(join(dataDir, 'legguard.db'), 0o644);
      const store = await openStore({ dataDir, warn: (m) => warnings.push(m) });
      await store.close();
    });
    assert.equal(warnings.length, 2, warnings.join('\n'));
    assert.match(warnings[0]!, new RegExp(`^data directory ${dataDir} is open to group/others \\(mode 0755\\).*: chmod 700 ${dataDir}$`));
    assert.match(warnings[1]!, new RegExp(`^database file ${dataDir}/legguard\\.db is open to group/others \\(mode 0644\\).*: chmod 600 ${dataDir}/legguard\\.db$`));
    assert.equal(modeOf(dataDir), 0o755, 'a person\'s directory mode is not changed silently');
    assert.equal(modeOf(join(dataDir, 'legguard.db')), 0o644, 'a person\'s file mode is not changed silently');
  });

  test('an existing private data directory: no warning', async () => {
    const dataDir = join(root, 'tight');
    mkdirSync(dataDir, { mode: 0o700 });
    chmodSync(dataDir, 0o700);
    const warnings: string[] = [];
    const store = await openStore({ dataDir, warn: (m) => warnings.push(m) });
    await store.close();
    assert.deepEqual(warnings, []);
    assert.equal(modeOf(join(dataDir, 'legguard.db')), 0o600);
  });
});
