import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { stringify } from 'yaml';
import { main } from '../../src/cli/main.js';
import type { CommandIo } from '../../src/cli/command.js';
import { openStore } from '../../src/adapters/store/open-store.js';
import { AccountId, IncidentId } from '../../src/core/ids.js';
import { EpochMs } from '../../src/core/quantity.js';
import { RecordingServer } from './recording-server.js';
import { sampleAlert, T0 } from './sample-alert.js';
import { header, SmtpSink, textBody } from './smtp-sink.js';

const TOKEN = '7001234567:AAE_abcdefghijklmnopqrstuvwxyz012345';
const SMTP_PASSWORD = 'smtp-Pa55-word';

interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

async function run(argv: string[], env: Record<string, string>, cwd: string): Promise<Run> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const io: CommandIo = { stdout, stderr, env, cwd };
  const code = await main(argv, io);
  return { code, out, err };
}

describe('legguard alert test', () => {
  const hook = new RecordingServer();
  const tg = new RecordingServer();
  const ntfy = new RecordingServer();
  const smtp = new SmtpSink('guard@example.com', SMTP_PASSWORD);
  let dir = '';
  let env: Record<string, string> = {};

  before(async () => {
    await Promise.all([hook.start(), tg.start(), ntfy.start(), smtp.start()]);
  });
  after(async () => {
    await Promise.all([hook.close(), tg.close(), ntfy.close(), smtp.close()]);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(() => {
    for (const s of [hook, tg, ntfy]) s.reset();
    tg.reply = () => ({ status: 200, body: '{"ok":true,"result":{}}' });
    smtp.mails.length = 0;
    dir = mkdtempSync(join(tmpdir(), 'legguard-cli-'));
    env = { HOOK_URL: `${hook.url}/services/T0/B0/hooksecret`, TG_TOKEN: TOKEN, SMTP_PASSWORD, NTFY_TOPIC: 'lg-cli-test' };
    writeFileSync(
      join(dir, 'legguard.yaml'),
      stringify({
        account: 'DU1234567',
        alerts: {
          channels: [
            { type: 'webhook', name: 'hook', urlEnv: 'HOOK_URL', format: 'slack' },
            { type: 'telegram', name: 'phone', tokenEnv: 'TG_TOKEN', chatId: 42, apiBase: tg.url, minSeverity: 'critical' },
            { type: 'ntfy', name: 'ntfy', server: ntfy.url, topicEnv: 'NTFY_TOPIC' },
            { type: 'email', name: 'mail', host: '127.0.0.1', port: smtp.port, security: 'none', user: 'guard@example.com', passwordEnv: 'SMTP_PASSWORD', from: 'guard@example.com', to: ['me@example.com'] },
          ],
        },
      }),
    );
  });

  test('sends one test alert on every channel (whatever its minimum) and prints each result', async () => {
    const r = await run(['alert', 'test'], env, dir);
    assert.equal(r.err, '');
    assert.equal(r.code, 0);
    const lines = r.out.trimEnd().split('\n');
    assert.equal(lines.length, 5);
    assert.match(lines[0]!, /^ok {4}hook {3}slack webhook http:\/\/127\.0\.0\.1:\d+\/… {2}\(\d+ ms\)$/);
    assert.match(lines[1]!, /^ok {4}phone {2}telegram chat 42 via http:\/\/127\.0\.0\.1:\d+\/… {2}\(\d+ ms\)$/);
    assert.match(lines[2]!, /^ok {4}ntfy {3}ntfy http:\/\/127\.0\.0\.1:\d+\/… {2}\(\d+ ms\)$/);
    assert.match(lines[3]!, /^ok {4}mail {3}email to me@example\.com via 127\.0\.0\.1:\d+ {2}\(\d+ ms\)$/);
    assert.equal(lines[4], 'all 4 channel(s) delivered the test alert');
    assert.equal(hook.accepted.length, 1);
    assert.match((JSON.parse(hook.accepted[0]!.body) as { text: string }).text, /\[WARNING\] legguard test alert/);
    assert.equal(tg.accepted.length, 1);
    assert.equal((JSON.parse(ntfy.accepted[0]!.body) as { priority: number }).priority, 4);
    assert.equal(smtp.mails.length, 1);
    assert.equal(header(smtp.mails[0]!.raw, 'subject'), '[legguard WARNING] legguard test alert');
    assert.match(textBody(smtp.mails[0]!.raw), /^This is a test from `legguard alert test`\./);
    for (const s of Object.values(env)) assert.ok(!r.out.includes(s), 'no secret in the output');
  });

  test('a failing channel: FAIL with the reason, the others still tried, exit 1, no secret shown', async () => {
    tg.down = true;
    tg.failWith = { status: 401, body: `{"ok":false,"description":"Unauthorized /bot${TOKEN}/"}` };
    const r = await run(['alert', 'test', '--severity', 'critical'], env, dir);
    assert.equal(r.code, 1);
    assert.match(r.out, /^FAIL {2}phone {2}telegram chat 42 via http:\/\/127\.0\.0\.1:\d+\/…\n {6}channel "phone": http:\/\/127\.0\.0\.1:\d+\/… answered HTTP 401: \{"ok":false,"description":"Unauthorized \/bot\[redacted\]\/"\}$/m);
    assert.match(r.out, /\n1 of 4 channel\(s\) failed\n$/);
    assert.equal(hook.accepted.length + ntfy.accepted.length + smtp.mails.length, 3);
    assert.ok(!r.out.includes(TOKEN));
  });

  test('--channel tests one; an unknown one is NOT_FOUND naming those configured', async () => {
    const one = await run(['alert', 'test', '--channel', 'ntfy'], env, dir);
    assert.equal(one.code, 0);
    assert.equal(ntfy.accepted.length, 1);
    assert.equal(hook.requests.length + tg.requests.length + smtp.mails.length, 0);
    const none = await run(['alert', 'test', '--channel', 'pager'], env, dir);
    assert.equal(none.code, 3);
    assert.equal(none.err, 'legguard alert: no alert channel named "pager"; configured: hook, phone, ntfy, mail\n');
  });

  test('a misconfigured channel fails before anything is sent, naming channel and problem (exit 2)', async () => {
    const { TG_TOKEN: _gone, ...noToken } = env;
    const r = await run(['alert', 'test'], noToken, dir);
    assert.equal(r.code, 2);
    assert.equal(r.err, 'legguard alert: alert channel "phone" (telegram): environment variable TG_TOKEN (tokenEnv) is not set\n');
    assert.equal(hook.requests.length + ntfy.requests.length + smtp.mails.length, 0);
    writeFileSync(join(dir, 'bad.yaml'), stringify({ account: 'DU1234567', alerts: { channels: [{ type: 'pager', name: 'oncall' }] } }));
    const bad = await run(['alert', 'test', '--config', 'bad.yaml'], env, dir);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /bad\.yaml: alerts\.channels\[0\]: alert channel "oncall": unknown channel type "pager"; known: console, webhook, ntfy, telegram, email\n$/);
  });

  test('bad usage and a missing config file are clear errors', async () => {
    const usage = await run(['alert', 'send'], env, dir);
    assert.equal(usage.code, 2);
    assert.match(usage.err, /expected "alert test"/);
    const sev = await run(['alert', 'test', '--severity', 'loud'], env, dir);
    assert.match(sev.err, /--severity must be one of info, warning, critical; got "loud"/);
    const missing = await run(['alert', 'test', '--config', 'nope.yaml'], env, dir);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /nope\.yaml: cannot read the config file: no such file/);
    // Without --config the command reads legguard.yaml here, as `legguard run` does; with none, it says so.
    rmSync(join(dir, 'legguard.yaml'));
    const none = await run(['alert', 'test'], env, dir);
    assert.equal(none.code, 2);
    assert.match(none.err, /legguard\.yaml: cannot read the config file: no such file/);
    const opt = await run(['alert', 'test', '--bogus'], env, dir);
    assert.equal(opt.code, 2);
  });
});

describe('legguard ack', () => {
  let dir = '';
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'legguard-ack-'));
    const store = await openStore({ dataDir: join(dir, 'data') });
    await store.commit({
      account: AccountId.unsafe('DU1234567'),
      alerts: [
        sampleAlert({ key: 'a-1', incidentId: IncidentId.unsafe('ic-spy:assign:1') }),
        sampleAlert({ key: 'a-2', incidentId: IncidentId.unsafe('cc-aapl:assign:2'), title: 'ASSIGNMENT: AAPL 200 C on cc-aapl', at: EpochMs.unsafe(T0 + 1) }),
        sampleAlert({ key: 'i-3', severity: 'info', incidentId: IncidentId.unsafe('info:3') }),
      ],
    });
    await store.close();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('acknowledges a waiting incident in the store; a second ack says so', async () => {
    const r = await run(['ack', 'ic-spy:assign:1', '--by', 'alice'], {}, dir);
    assert.equal(r.err, '');
    assert.equal(r.code, 0);
    assert.match(r.out, /^acknowledged ic-spy:assign:1 \(by alice, \d{4}-\d\d-\d\d \d\d:\d\d:\d\d ET\): its alerts stop repeating\n$/);
    const store = await openStore({ dataDir: join(dir, 'data') });
    assert.deepEqual((await store.unackedCritical(AccountId.unsafe('DU1234567'))).map((u) => u.incidentId), ['cc-aapl:assign:2']);
    await store.close();
    const again = await run(['ack', 'ic-spy:assign:1'], { USER: 'bob' }, dir);
    assert.equal(again.code, 0);
    assert.equal(again.out, 'ic-spy:assign:1 was already acknowledged or is not critical: nothing repeats for it\n');
  });

  test('takes the store from the config file (legguard.yaml here or --config); --data-dir still overrides', async () => {
    // The database lives where the config says, not in ./data: move it there.
    renameSync(join(dir, 'data'), join(dir, 'state'));
    writeFileSync(join(dir, 'legguard.yaml'), stringify({ account: 'DU1234567', dataDir: 'state' }));
    const r = await run(['ack', 'ic-spy:assign:1', '--by', 'alice'], {}, dir);
    assert.equal(r.err, '');
    assert.equal(r.code, 0);
    const store = await openStore({ dataDir: join(dir, 'state') });
    assert.deepEqual((await store.unackedCritical(AccountId.unsafe('DU1234567'))).map((u) => u.incidentId), ['cc-aapl:assign:2']);
    await store.close();
    const other = await run(['ack', 'cc-aapl:assign:2', '--data-dir', 'nowhere'], {}, dir);
    assert.equal(other.code, 3);
    assert.match(other.err, /no legguard database at .*\/nowhere\/legguard\.db/);
    mkdirSync(join(dir, 'conf'));
    writeFileSync(join(dir, 'conf', 'guard.yaml'), stringify({ account: 'DU1234567', dataDir: '../state' }));
    rmSync(join(dir, 'legguard.yaml'));
    const named = await run(['ack', 'cc-aapl:assign:2', '--config', 'conf/guard.yaml'], { USER: 'bob' }, dir);
    assert.equal(named.err, '');
    assert.match(named.out, /^acknowledged cc-aapl:assign:2 \(by bob, /);
    const bad = await run(['ack', 'cc-aapl:assign:2', '--config', 'missing.yaml'], {}, dir);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /missing\.yaml: cannot read the config file: no such file/);
  });

  test('an unknown incident is NOT_FOUND listing those waiting; a malformed id is INVALID_INPUT', async () => {
    const r = await run(['ack', 'nope:1', '--data-dir', 'data'], {}, dir);
    assert.equal(r.code, 3);
    assert.equal(
      r.err,
      'legguard ack: no alert of DU1234567 names incident "nope:1". Waiting for acknowledgement:\n' +
        '  ic-spy:assign:1  ASSIGNMENT: SPY 2026-01-30 440 P x2 on ic-spy\n' +
        '  cc-aapl:assign:2  ASSIGNMENT: AAPL 200 C on cc-aapl\n',
    );
    const bad = await run(['ack', 'has spaces'], {}, dir);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /IncidentId must be 1-128 characters/);
    const none = await run(['ack'], {}, dir);
    assert.equal(none.code, 2);
    const wrongDir = await run(['ack', 'ic-spy:assign:1', '--data-dir', 'elsewhere'], {}, dir);
    assert.equal(wrongDir.code, 3);
    assert.match(wrongDir.err, /no legguard database at .*elsewhere\/legguard\.db \(give the guard's --config or --data-dir, or set DATABASE_URL\)/);
    assert.ok(!existsSync(join(dir, 'elsewhere')), 'nothing created at a wrong path');
    const by = await run(['ack', 'ic-spy:assign:1', '--by', ' '], {}, dir);
    assert.equal(by.code, 2);
    assert.match(by.err, /--by must be 1-64 printable characters/);
  });
});
