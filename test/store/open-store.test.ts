import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStore, openStore } from '../../src/adapters/store/open-store.js';
import { classifyPostgres } from '../../src/adapters/store/postgres-dialect.js';
import { redactUrl, scrub, urlPassword } from '../../src/adapters/store/redact-url.js';
import { isCode } from '../contract/store.contract.js';

const SECRET = 's3cr3t-Pw';

async function listen(onConnection: (s: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(onConnection);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  assert.ok(addr !== null && typeof addr === 'object');
  return { server, port: addr.port };
}

describe('openStore: choosing and naming the database', () => {
  test('no URL (undefined, null or empty) means SQLite in the data directory; a postgres URL means Postgres', () => {
    const dataDir = join(tmpdir(), 'legguard-never-created');
    for (const databaseUrl of [undefined, null, '']) {
      const s = createStore({ dataDir, databaseUrl });
      assert.equal(s.dialect, 'sqlite');
      assert.equal(s.where, `SQLite store ${dataDir}/legguard.db`);
    }
    const pg = createStore({ dataDir, databaseUrl: `postgresql://guard:${SECRET}@db.example:5433/legguard?schema=guard_a` });
    assert.equal(pg.dialect, 'postgres');
    assert.equal(pg.where, 'Postgres store postgresql://guard:***@db.example:5433/legguard (schema guard_a)');
    assert.equal(createStore({ dataDir, databaseUrl: 'postgres://db/x', pgSchema: 'other' }).where, 'Postgres store postgres://db/x (schema other)');
  });

  test('bad URLs and schema names are refused without showing a password', () => {
    const checks: [string, RegExp][] = [
      [`mysql://root:${SECRET}@localhost/db`, /must start with postgres:\/\/ or postgresql:\/\/; got mysql:\/\/root:\*\*\*@localhost\/db/],
      [`not a url ${SECRET}`, /not a valid URL \(not shown: it may hold a password\)/],
      [`postgres://u:${SECRET}@h/db?schema=Bad-Name`, /Postgres schema must be .* got "Bad-Name"/],
    ];
    for (const [url, re] of checks) {
      assert.throws(
        () => createStore({ dataDir: 'x', databaseUrl: url }),
        (e: unknown) => isCode('INVALID_INPUT', re)(e) && !(e as Error).message.includes(SECRET),
      );
    }
    assert.throws(() => createStore({ dataDir: 'x', databaseUrl: 'postgres://h/db', connectTimeoutMs: 0 }), isCode('INVALID_INPUT', /connect timeout/));
    assert.throws(() => createStore({ dataDir: 'x', databaseUrl: 'postgres://h/db', poolSize: 0 }), isCode('INVALID_INPUT', /pool size/));
  });

  test('an unreachable Postgres (a closed port): STORE_UNREACHABLE naming the URL without its password', async () => {
    const { server, port } = await listen((s) => s.destroy());
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await assert.rejects(openStore({ dataDir: '', databaseUrl: `postgres://guard:${SECRET}@127.0.0.1:${port}/legguard` }), (e: unknown) => {
      isCode('STORE_UNREACHABLE', new RegExp(`Postgres store postgres://guard:\\*\\*\\*@127\\.0\\.0\\.1:${port}/legguard: connect failed: the server cannot be reached .*ECONNREFUSED`))(e);
      assert.ok(!(e as Error).message.includes(SECRET));
      assert.ok(!JSON.stringify((e as { details: unknown }).details).includes(SECRET));
      return true;
    });
  });

  test('a server that accepts and never answers: STORE_UNREACHABLE after the connect timeout', async () => {
    const sockets: Socket[] = [];
    const { server, port } = await listen((s) => sockets.push(s));
    try {
      await assert.rejects(
        openStore({ dataDir: '', databaseUrl: `postgres://guard:${SECRET}@127.0.0.1:${port}/legguard`, connectTimeoutMs: 200 }),
        isCode('STORE_UNREACHABLE', /connect failed: no answer within the connect timeout of 200 ms/),
      );
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('Postgres error mapping', () => {
  const where = 'Postgres store postgres://u:***@h/db';
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ code: '53100', message: 'could not extend file: No space left on device' }, 'STORE_UNWRITABLE', /disk is full/],
    [{ code: '25006', message: 'cannot execute INSERT in a read-only transaction' }, 'STORE_UNWRITABLE', /only allows reads/],
    [{ code: '42501', message: 'permission denied for schema guard' }, 'STORE_UNWRITABLE', /permission denied/],
    [{ code: '28P01', message: 'password authentication failed for user "u"' }, 'STORE_UNREACHABLE', /refused the login/],
    [{ code: '57P01', message: 'terminating connection due to administrator command' }, 'STORE_UNREACHABLE', /closed the connection/],
    [{ code: 'XX001', message: 'invalid page in block 7' }, 'STORE_CORRUPT', /damaged data/],
    [{ code: '57014', message: 'canceling statement due to statement timeout' }, 'INTERNAL', /unexpected database error/],
    [{ message: 'Connection terminated unexpectedly' }, 'STORE_UNREACHABLE', /connection to the server was lost/],
    [{ message: 'Connection terminated due to connection timeout' }, 'STORE_UNREACHABLE', /connect timeout of 5000 ms/],
  ];
  for (const [err, code, re] of cases) {
    test(`${String(err.code ?? err.message)} -> ${code}`, () => {
      const e = Object.assign(new Error(String(err.message)), err);
      const mapped = classifyPostgres(e, 'commit', where, 5000, null, 'nothing from this write was stored');
      assert.equal(mapped.code, code);
      assert.match(mapped.message, re);
      assert.match(mapped.message, /^Postgres store postgres:\/\/u:\*\*\*@h\/db: commit failed: .*; nothing from this write was stored$/);
    });
  }
  test('a password in a driver message is scrubbed', () => {
    const e = Object.assign(new Error(`could not connect with password ${SECRET}`), { code: 'ECONNREFUSED' });
    assert.ok(!classifyPostgres(e, 'connect', where, 5000, SECRET).message.includes(SECRET));
  });
});

describe('redactUrl', () => {
  test('hides passwords in the user info and in parameters', () => {
    assert.equal(redactUrl(`postgres://guard:${SECRET}@db:5432/legguard`), 'postgres://guard:***@db:5432/legguard');
    assert.equal(redactUrl(`postgres://db/legguard?user=g&password=${SECRET}&sslmode=require`), 'postgres://db/legguard?user=g&password=***&sslmode=require');
    assert.equal(redactUrl('postgres://root@127.0.0.1:5432/test'), 'postgres://root@127.0.0.1:5432/test');
    assert.equal(redactUrl(`::${SECRET}`), '<database URL not shown: it does not parse>');
  });
  test('finds the password to scrub, decoded', () => {
    assert.equal(urlPassword('postgres://u:p%40ss@h/db'), 'p@ss');
    assert.equal(urlPassword('postgres://h/db?password=q'), 'q');
    assert.equal(urlPassword('postgres://u@h/db'), null);
    assert.equal(scrub('login p@ss and p%40ss failed', 'p@ss'), 'login *** and *** failed');
    assert.equal(scrub('nothing to hide', null), 'nothing to hide');
  });
});
