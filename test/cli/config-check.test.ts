import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configCheckCommand } from '../../src/cli/config-check-command.js';
import { MAX_USER_FILE_BYTES } from '../../src/lib/yaml-file.js';
import { runLegguard, runLegguardProcess } from './cli-run.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/legguard.yaml', import.meta.url));
const TOKEN = '7001234567:AAE_abcdefghijklmnopqrstuvwxyz012345';
const PG_PASSWORD = 'pg-Secr3t';
/** What the example's channels read from the environment. */
const SECRETS = { NTFY_TOPIC: 'lg-topic-93', TELEGRAM_BOT_TOKEN: TOKEN, SMTP_PASSWORD: 'smtp-pw-77' };

/** The clock `config check` runs with in these tests: legs are judged expired against it, not the machine's date. */
const NOW = Date.parse('2026-11-24T12:00:00Z');
const pinned = [configCheckCommand({ now: () => NOW })];

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
    const r = await runLegguard(['config', 'check'], { cwd: dir, env: { ...SECRETS, DATABASE_URL: `postgres://guard:${PG_PASSWORD}@db.example:5432/legguard` }, commands: pinned });
    assert.equal(r.err, '');
    assert.equal(r.code, 0);
    const lines = r.out.trimEnd().split('\n');
    assert.deepEqual(lines.slice(0, 10), [
      `${dir}/legguard.yaml: valid`,
      '  account: DU1234567',
      `  state: Postgres postgres://guard:***@db.example:5432/legguard (from DATABASE_URL); data dir ${dir}/data`,
      '  broker: TWS / IB Gateway at 127.0.0.1:7497, client id 17, market data type 1',
      '  guard (differs from the defaults):',
      '    guard.limits.maxContractsPerOrder: 50 (default null)',
      '    guard.limits.maxSharesPerOrder: 5000 (default null)',
      '  market: rate 0.045; volatility SPY 0.18, AAPL 0.25',
      '  dividends: AAPL 0.26 ex 2027-02-08',
      '  alert channels (4; secrets present):',
    ]);
    assert.deepEqual(lines.slice(10, 14), [
      '    console (console): stderr, info and above',
      '    phone (ntfy): ntfy https://ntfy.sh/…, warning and above',
      '    telegram (telegram): telegram chat 123456789 via https://api.telegram.org/…, critical and above',
      '    mail (email): email to me@example.com via smtp.example.com:587, info and above',
    ]);
    assert.deepEqual(lines.slice(14), [
      '  strategies in the file (2; added to the store at start when missing):',
      '    ic-spy-feb (iron-condor): -2 SPY 2027-02-19 560 P, +2 SPY 2027-02-19 555 P, -2 SPY 2027-02-19 600 C, +2 SPY 2027-02-19 605 C',
      '    cc-aapl (covered-call): +100 AAPL, -1 AAPL 2027-01-15 260 C',
    ]);
    for (const secret of [...Object.values(SECRETS), PG_PASSWORD]) assert.ok(!r.out.includes(secret), `secret ${secret.slice(0, 3)}... shown`);
  });

  test('accounts: each account with its client id, its own channels (checked, secrets not shown) and its strategies', async () => {
    const dir = dirWith({
      'legguard.yaml': [
        'broker: { clientId: 30 }',
        'alerts: { channels: [{ type: console, name: shared }] }',
        'accounts:',
        '  - account: DU0000001',
        '    strategies:',
        '      - { id: ps, legs: [{ symbol: SPY, right: P, strike: 440, expiry: "2027-02-19", qty: -2 }, { symbol: SPY, right: P, strike: 430, expiry: "2027-02-19", qty: 2 }] }',
        '  - account: DU0000002',
        '    clientId: 40',
        '    alerts: { channels: [{ type: telegram, name: desk-b, tokenEnv: TELEGRAM_BOT_TOKEN, chatId: "123456789" }] }',
        '',
      ].join('\n'),
    });
    const r = await runLegguard(['config', 'check'], { cwd: dir, env: { TELEGRAM_BOT_TOKEN: TOKEN }, commands: pinned });
    assert.equal(r.err, '');
    assert.equal(r.code, 0);
    assert.match(r.out, /^ {2}accounts: DU0000001 \(client id 30\), DU0000002 \(client id 40\); one guard each in one process$/m);
    assert.match(r.out, /^ {2}DU0000001: client id 30; the shared alert channels\n {4}strategies in the file \(1; [^\n]*\n {6}ps \(/m);
    assert.match(r.out, /^ {2}DU0000002: client id 40; alert channels of its own \(1; secrets present\):\n {6}desk-b \(telegram\)[^\n]*\n {4}strategies in the file \(0; /m);
    assert.ok(!r.out.includes(TOKEN));
    // An account's own channel without its secret is a problem naming the account's key.
    const bad = await runLegguard(['config', 'check'], { cwd: dir, env: {}, commands: pinned });
    assert.notEqual(bad.code, 0);
    assert.match(bad.err, /accounts\[1\]\.alerts\.channels\[0\]: /);
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
    [
      'an early-assignment policy that is not one',
      'account: DU1\nguard: { earlyAssignment: { exDividend: hedge } }\n',
      {},
      /bad\.yaml: guard\.earlyAssignment\.exDividend: Invalid option: expected one of "close"\|"alert"\|"off"$/,
    ],
    [
      'an act-by time outside the session',
      'account: DU1\nguard: { earlyAssignment: { actBy: "17:00" } }\n',
      {},
      /bad\.yaml: guard\.earlyAssignment\.actBy: must lie within the options session, 09:30-16:00 New York$/,
    ],
    [
      'an act-by time that is not a time',
      'account: DU1\nguard: { earlyAssignment: { actBy: "3:30pm" } }\n',
      {},
      /bad\.yaml: guard\.earlyAssignment\.actBy: must be a New York time HH:MM, like "15:30"$/,
    ],
    [
      'an unknown early-assignment key',
      'account: DU1\nguard: { earlyAssignment: { pin: close } }\n',
      {},
      /bad\.yaml: guard\.earlyAssignment: Unrecognized key: "pin"$/,
    ],
    [
      'a rate out of range',
      'account: DU1\nmarket: { rate: 4.5 }\n',
      {},
      /bad\.yaml: market\.rate: Too big: expected number to be <=0\.5$/,
    ],
    [
      'a dividend with a bad date',
      'account: DU1\ndividends: { XOM: [ { exDate: "2026-02-30", amount: 1.03 } ] }\n',
      {},
      /bad\.yaml: dividends\.XOM\[0\]\.exDate: is not a real date$/,
    ],
  ];
  for (const [what, text, env, re] of bad) {
    test(`${what}: exit 2, one message naming the file, the key and the problem`, async () => {
      const dir = dirWith({ 'bad.yaml': text });
      const r = await runLegguard(['config', 'check', '--config', 'bad.yaml'], { cwd: dir, env, commands: pinned });
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
    const r = await runLegguard(['config', 'check'], { cwd: dir, env: { NTFY_TOPIC: SECRETS.NTFY_TOPIC }, commands: pinned });
    assert.equal(r.code, 2);
    assert.equal(
      r.err,
      `legguard config: ${dir}/legguard.yaml: 2 problems:\n` +
        '  alerts.channels[2]: alert channel "telegram" (telegram): environment variable TELEGRAM_BOT_TOKEN (tokenEnv) is not set\n' +
        '  alerts.channels[3]: alert channel "mail" (email): environment variable SMTP_PASSWORD (passwordEnv) is not set\n',
    );
  });

  test('every problem in the file in one run: an unknown channel type hides nothing else', async () => {
    const dir = dirWith({
      'bad.yaml':
        'account: DU1\nbroker: { port: 70000 }\nguard: { onAssignment: closee }\n' +
        'alerts: { channels: [ { type: pager, name: oncall }, { type: console, name: c, colour: red } ] }\n',
    });
    const r = await runLegguard(['config', 'check', '--config', 'bad.yaml'], { cwd: dir, commands: pinned });
    assert.equal(r.code, 2, r.err);
    assert.equal(r.out, '');
    const lines = r.err.trimEnd().split('\n');
    assert.equal(lines[0], `legguard config: ${dir}/bad.yaml: 4 problems:`);
    const rest = lines.slice(1).map((l) => l.trim());
    assert.equal(rest.length, 4, r.err);
    assert.match(rest.find((l) => l.startsWith('alerts.channels[0]:')) ?? '', /unknown channel type "pager"; known: console/);
    assert.match(rest.find((l) => l.startsWith('alerts.channels[1]:')) ?? '', /colour/);
    assert.match(rest.find((l) => l.startsWith('broker.port:')) ?? '', /<=65535/);
    assert.match(rest.find((l) => l.startsWith('guard.onAssignment:')) ?? '', /"close"\|"hedge"\|"alert"/);
  });

  test('strategies with legs already expired (by the injected clock) or the same leg twice are refused, all named', async () => {
    const dir = dirWith({
      'bad.yaml':
        'account: DU1\nstrategies:\n' +
        '  - { id: old-put, legs: [ { symbol: SPY, right: P, strike: 300, expiry: 1999-01-15, qty: -1 } ] }\n' +
        '  - { id: twice, legs: [ { symbol: SPY, right: P, strike: 440, expiry: 2026-12-18, qty: -1 }, { symbol: SPY, right: P, strike: 440, expiry: 2026-12-18, qty: -1 } ] }\n' +
        '  - { id: fine, legs: [ { symbol: SPY, right: P, strike: 440, expiry: 2026-12-18, qty: -1 } ] }\n',
    });
    const r = await runLegguard(['config', 'check', '--config', 'bad.yaml'], { cwd: dir, commands: pinned });
    assert.equal(r.code, 2, r.err);
    assert.equal(
      r.err,
      `legguard config: ${dir}/bad.yaml: 2 problems:\n` +
        '  strategies[0].legs[0]: strategy "old-put": SPY 1999-01-15 300 P expired at 1999-01-15 16:00:00 ET\n' +
        '  strategies[1].legs[1]: strategy "twice": SPY 2026-12-18 440 P is already legs[0]: write each contract once, with its whole quantity\n',
    );
    // The same file a month later: the December legs have expired too.
    const later = await runLegguard(['config', 'check', '--config', 'bad.yaml'], { cwd: dir, commands: [configCheckCommand({ now: () => Date.parse('2027-01-05T12:00:00Z') })] });
    assert.equal(later.code, 2);
    assert.match(later.err, /strategy "fine": SPY 2026-12-18 440 P expired at 2026-12-18 16:00:00 ET/);
  });

  test('a dataDir that is a file, or that cannot be written: exit 2 naming it, with the other problems', async () => {
    const dir = dirWith({ 'state': 'not a directory', 'a.yaml': 'account: DU1\ndataDir: state\nbroker: { port: 0 }\n' });
    const r = await runLegguard(['config', 'check', '--config', 'a.yaml'], { cwd: dir, commands: pinned });
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, new RegExp(`^legguard config: ${dir}/a\\.yaml: 2 problems:\n`));
    assert.match(r.err, /^ {2}broker\.port: Too small/m);
    assert.match(r.err, new RegExp(`^  dataDir: ${dir}/state exists but is not a directory$`, 'm'));

    const ro = dirWith({ 'b.yaml': 'account: DU1\ndataDir: ro/data\n' });
    mkdirSync(join(ro, 'ro'), { mode: 0o555 });
    chmodSync(join(ro, 'ro'), 0o555);
    chmodSync(ro, 0o755);
    chmodSync(join(ro, 'b.yaml'), 0o644);
    const child = await runLegguardProcess(['config', 'check', '--config', 'b.yaml'], { cwd: ro, unprivileged: true });
    assert.equal(child.code, 2, child.err);
    assert.equal(child.err, `legguard config: ${ro}/b.yaml: dataDir: ${ro}/ro/data does not exist and cannot be created: ${ro}/ro is not writable by this user\n`);
  });

  test('a YAML alias bomb or an oversized file: exit 2 and one line naming the file (a real process)', async () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (const [prev, name] of [['a', 'b'], ['b', 'c'], ['c', 'd'], ['d', 'e'], ['e', 'f'], ['f', 'g'], ['g', 'h'], ['h', 'i']] as const) {
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const dir = dirWith({ 'bomb.yaml': `${levels.join('\n')}\naccount: DU1\n`, 'big.yaml': `account: DU1\n# ${'x'.repeat(MAX_USER_FILE_BYTES)}\n` });
    const bomb = await runLegguardProcess(['config', 'check', '--config', 'bomb.yaml'], { cwd: dir });
    assert.equal(bomb.code, 2, bomb.err);
    assert.equal(bomb.out, '');
    assert.equal(bomb.err, `legguard config: ${dir}/bomb.yaml: too many YAML aliases (more than 100 expansions; an alias bomb?): write the values out instead\n`);
    const big = await runLegguardProcess(['config', 'check', '--config', 'big.yaml'], { cwd: dir });
    assert.equal(big.code, 2, big.err);
    assert.equal(big.err, `legguard config: ${dir}/big.yaml: cannot read the config file: larger than 16 MiB (the limit for a file legguard reads)\n`);
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
