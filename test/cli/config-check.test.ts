import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runLegguard } from './cli-run.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/legguard.yaml', import.meta.url));
const TOKEN = '7001234567:AAE_abcdefghijklmnopqrstuvwxyz012345';
const PG_PASSWORD = 'pg-Secr3t';
/** What the example's channels read from the environment. */
const SECRETS = { NTFY_TOPIC: 'lg-topic-93', TELEGRAM_BOT_TOKEN: TOKEN, SMTP_PASSWORD: 'smtp-pw-77' };

const root = mkdtempSync(join(tmpdir(), 'legguard-config-check-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
function dirWith(files: Record<string, string>): string {
  const dir = join(root, `c${++n}`);
  mkdirSync(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('legguard config check', () => {
  test('the example config with its secrets set: exit 0 and a summary that shows no secret', async () => {
    const dir = dirWith({});
    copyFileSync(EXAMPLE, join(dir, 'legguard.yaml'));
    const r = await runLegguard(['config', 'check'], { cwd: dir, env: { ...SECRETS, DATABASE_URL: `postgres://guard:${PG_PASSWORD}@db.example:5432/legguard` } });
    assert.equal(r.err, '');
    assert.equal(r.code, 0);
    const lines = r.out.trimEnd().split('\n');
    assert.deepEqual(lines.slice(0, 8), [
      `${dir}/legguard.yaml: valid`,
      '  account: DU1234567',
      `  state: Postgres postgres://guard:***@db.example:5432/legguard (from DATABASE_URL); data dir ${dir}/data`,
      '  broker: TWS / IB Gateway at 127.0.0.1:7497, client id 17, market data type 1',
      '  guard (differs from the defaults):',
      '    guard.limits.maxContractsPerOrder: 50 (default null)',
      '    guard.limits.maxSharesPerOrder: 5000 (default null)',
      '  alert channels (4; secrets present):',
    ]);
    assert.deepEqual(lines.slice(8, 12), [
      '    console (console): stderr, info and above',
      '    phone (ntfy): ntfy https://ntfy.sh/…, warning and above',
      '    telegram (telegram): telegram chat 123456789 via https://api.telegram.org/…, critical and above',
      '    mail (email): email to me@example.com via smtp.example.com:587, info and above',
    ]);
    assert.deepEqual(lines.slice(12), [
      '  strategies in the file (2; added to the store at start when missing):',
      '    ic-spy-feb (iron-condor): -2 SPY 2027-02-19 560 P, +2 SPY 2027-02-19 555 P, -2 SPY 2027-02-19 600 C, +2 SPY 2027-02-19 605 C',
      '    cc-aapl (covered-call): +100 AAPL, -1 AAPL 2027-01-15 260 C',
    ]);
    for (const secret of [...Object.values(SECRETS), PG_PASSWORD]) assert.ok(!r.out.includes(secret), `secret ${secret.slice(0, 3)}... shown`);
  });

  test('a minimal file: defaults, SQLite in the data directory next to the file, --config from another directory', async () => {
    const dir = dirWith({ 'guard.yaml': 'account: DU7654321\nguard: { onAssignment: hedge, timeExitDte: null }\n' });
    const r = await runLegguard(['config', 'check', '--config', join(dir, 'guard.yaml')], { cwd: root });
    assert.equal(r.err, '');
    assert.equal(r.code, 0);
    assert.match(r.out, new RegExp(`^  state: SQLite ${dir}/data/legguard\\.db \\(created at the first start; DATABASE_URL is not set, so not Postgres\\)$`, 'm'));
    assert.match(r.out, /^ {4}guard\.onAssignment: "hedge" \(default "close"\)\n {4}guard\.timeExitDte: null \(default 1\)$/m);
    assert.match(r.out, /^ {2}alert channels \(1; secrets present\):\n {4}console \(console\): stderr, info and above$/m);
    assert.match(r.out, /^ {2}strategies in the file \(0; /m);
  });

  const bad: [string, string, Record<string, string>, RegExp][] = [
    ['an unknown key', 'account: DU1\nguard: { onAssignmnt: close }\n', {}, /bad\.yaml: guard: Unrecognized key: "onAssignmnt"$/],
    ['an unknown top-level key', 'account: DU1\nbrokr: { type: ib }\n', {}, /bad\.yaml: \(top level\): Unrecognized key: "brokr"$/],
    ['a bad value', 'account: DU1\nbroker: { type: ib, port: 70000 }\n', {}, /bad\.yaml: broker\.port: Too big: expected number to be <=65535$/],
    ['a bad policy', 'account: DU1\nguard: { onAssignment: closee }\n', {}, /bad\.yaml: guard\.onAssignment: Invalid option: expected one of "close"\|"hedge"\|"alert"$/],
    ['bad YAML', 'account: DU1\nguard: { onAssignment: close\n', {}, /bad\.yaml: not valid YAML at line 3, column 1: /],
    ['a leg without expiry', 'account: DU1\nstrategies: [ { id: a, legs: [ { symbol: SPY, right: P, strike: 440, qty: -1 } ] } ]\n', {}, /bad\.yaml: strategies\[0\]\.legs\[0\]\.expiry: an option needs expiry/],
    [
      'an unknown channel type',
      'account: DU1\nalerts: { channels: [ { type: pager, name: oncall } ] }\n',
      {},
      /bad\.yaml: alerts\.channels\[0\]: alert channel "oncall": unknown channel type "pager"; known: console, webhook, ntfy, telegram, email$/,
    ],
    [
      'a missing secret environment variable',
      'account: DU1\nalerts: { channels: [ { type: console, name: c }, { type: telegram, name: phone, tokenEnv: TG_TOKEN, chatId: 42 } ] }\n',
      {},
      /bad\.yaml: alerts\.channels\[1\]: alert channel "phone" \(telegram\): environment variable TG_TOKEN \(tokenEnv\) is not set$/,
    ],
    [
      'a secret variable holding something else',
      'account: DU1\nalerts: { channels: [ { type: webhook, name: hook, urlEnv: HOOK } ] }\n',
      { HOOK: 'ftp://hooks.example/secret-path' },
      /bad\.yaml: alerts\.channels\[0\]: alert channel "hook" \(webhook\): the URL in HOOK must be an http:\/\/ or https:\/\/ URL, not ftp:$/,
    ],
    [
      'a database URL that is not Postgres',
      'account: DU1\ndatabase: { urlEnv: GUARD_DB }\n',
      { GUARD_DB: `mysql://root:${PG_PASSWORD}@db/x` },
      /bad\.yaml: database \(the URL in GUARD_DB\): database URL must start with postgres:\/\/ or postgresql:\/\/; got mysql:\/\/root:\*\*\*@db\/x$/,
    ],
  ];
  for (const [what, text, env, re] of bad) {
    test(`${what}: exit 2, one message naming the file, the key and the problem`, async () => {
      const dir = dirWith({ 'bad.yaml': text });
      const r = await runLegguard(['config', 'check', '--config', 'bad.yaml'], { cwd: dir, env });
      assert.equal(r.code, 2, r.err);
      assert.equal(r.out, '');
      assert.ok(r.err.startsWith(`legguard config: ${dir}/bad.yaml: `), r.err);
      assert.match(r.err.trimEnd(), re);
      // A secret variable's value (a webhook URL, a database URL with its password) is never echoed.
      for (const v of Object.values(env)) assert.ok(!r.err.includes(v), `the value of a variable is shown: ${r.err}`);
      assert.ok(!r.err.includes(PG_PASSWORD), 'the database password is not shown');
    });
  }

  test('several channels without their secrets are named together', async () => {
    const dir = dirWith({});
    copyFileSync(EXAMPLE, join(dir, 'legguard.yaml'));
    const r = await runLegguard(['config', 'check'], { cwd: dir, env: { NTFY_TOPIC: SECRETS.NTFY_TOPIC } });
    assert.equal(r.code, 2);
    assert.equal(
      r.err,
      `legguard config: ${dir}/legguard.yaml: 2 problems:\n` +
        '  alerts.channels[2]: alert channel "telegram" (telegram): environment variable TELEGRAM_BOT_TOKEN (tokenEnv) is not set\n' +
        '  alerts.channels[3]: alert channel "mail" (email): environment variable SMTP_PASSWORD (passwordEnv) is not set\n',
    );
  });

  test('no file: the default legguard.yaml is missing, or the named one; bad usage', async () => {
    const dir = dirWith({});
    const none = await runLegguard(['config', 'check'], { cwd: dir });
    assert.equal(none.code, 2);
    assert.equal(none.err, `legguard config: ${dir}/legguard.yaml: cannot read the config file: no such file\n`);
    const named = await runLegguard(['config', 'check', '--config', 'elsewhere/nope.yaml'], { cwd: dir });
    assert.equal(named.code, 2);
    assert.equal(named.err, `legguard config: ${dir}/elsewhere/nope.yaml: cannot read the config file: no such file\n`);
    const usage = await runLegguard(['config', 'show'], { cwd: dir });
    assert.equal(usage.code, 2);
    assert.match(usage.err, /expected "config check"/);
  });
});
