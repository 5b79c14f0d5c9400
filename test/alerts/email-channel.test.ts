import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LegguardError } from '../../src/core/errors.js';
import { EmailChannel, type EmailChannelOptions } from '../../src/adapters/alerts/email-channel.js';
import { Redactor } from '../../src/adapters/alerts/redactor.js';
import { deadPort } from './recording-server.js';
import { sampleAlert } from './sample-alert.js';
import { header, SmtpSink, textBody } from './smtp-sink.js';

const PASSWORD = 'pw-Sup3r$ecret-smtp';
const redactor = new Redactor([PASSWORD]);

describe('email channel against a real SMTP server on loopback', () => {
  const sink = new SmtpSink('guard@example.com', PASSWORD);
  const channels: EmailChannel[] = [];
  const email = (over: Partial<EmailChannelOptions> = {}): EmailChannel => {
    const ch = new EmailChannel({
      name: 'mail',
      host: '127.0.0.1',
      port: sink.port,
      security: 'none',
      user: 'guard@example.com',
      password: PASSWORD,
      from: 'legguard <guard@example.com>',
      to: ['me@example.com', 'partner@example.com'],
      allowSelfSigned: false,
      timeoutMs: 5000,
      redactor,
      ...over,
    });
    channels.push(ch);
    return ch;
  };
  before(async () => {
    await sink.start();
  });
  after(async () => {
    for (const c of channels) c.close();
    await sink.close();
  });
  beforeEach(() => {
    sink.mails.length = 0;
    sink.refuse.clear();
  });

  test('the message arrives, logged in, with subject, recipients, body, key and a Message-ID derived from the key', async () => {
    const a = sampleAlert();
    await email().send(a);
    assert.equal(sink.mails.length, 1);
    const m = sink.mails[0]!;
    assert.equal(m.user, 'guard@example.com');
    assert.equal(m.from, 'guard@example.com');
    assert.deepEqual(m.to, ['me@example.com', 'partner@example.com']);
    assert.equal(header(m.raw, 'subject'), '[legguard CRITICAL] ASSIGNMENT: SPY 2026-01-30 440 P x2 on ic-spy');
    assert.equal(header(m.raw, 'x-legguard-alert-key'), a.key);
    assert.equal(header(m.raw, 'x-legguard-severity'), 'critical');
    assert.equal(header(m.raw, 'message-id'), EmailChannel.messageId(a.key));
    assert.match(header(m.raw, 'x-priority') ?? '', /^1/);
    const body = textBody(m.raw);
    assert.match(body, /^ic-spy broke: the short 440 put was assigned \(200 SPY delivered\)\. Closing everything it still holds\./);
    assert.match(body, /\nunderlying: SPY\nstrike: 440\nright: P\nqty: -2\nearly: true\nnote: -\n/);
    assert.match(body, /\nstrategy: ic-spy\nincident: ic-spy:assignment:1769585405000\nat: 2026-01-28 02:30:05 ET\n/);
    assert.match(body, /Acknowledge to stop repeats: legguard ack ic-spy:assignment:1769585405000/);
    assert.ok(!m.raw.includes(PASSWORD));
  });

  test('non-ASCII content survives', async () => {
    await email().send(sampleAlert({ severity: 'info', title: 'Früh ausgeübt — 440 P', text: 'Zuteilung über Nacht ✓' }));
    const m = sink.mails[0]!;
    assert.match(header(m.raw, 'subject') ?? '', /=\?UTF-8\?/i, 'an encoded word');
    assert.match(textBody(m.raw), /^Zuteilung über Nacht ✓/);
    assert.equal(header(m.raw, 'x-priority'), undefined, 'only critical mail is marked urgent');
  });

  test('the same alert twice gets the same Message-ID; different alerts different ones', () => {
    assert.equal(EmailChannel.messageId('a'), EmailChannel.messageId('a'));
    assert.notEqual(EmailChannel.messageId('a'), EmailChannel.messageId('b'));
    assert.match(EmailChannel.messageId('a'), /^<[0-9a-f]{40}@legguard>$/);
  });

  test('a wrong password fails with a clear error that does not contain it', async () => {
    const e = await email({ password: `${PASSWORD}-wrong` }).send(sampleAlert()).then(
      () => assert.fail('expected a rejection'),
      (x: unknown) => x,
    );
    assert.ok(LegguardError.is(e, 'ALERT_DELIVERY_FAILED'));
    assert.match(e.message, /^channel "mail": SMTP 127\.0\.0\.1:\d+: .*Invalid login/);
    assert.ok(!e.message.includes(PASSWORD));
    assert.equal(sink.mails.length, 0);
  });

  test('every recipient refused is a failure; one of two refused is a delivery', async () => {
    sink.refuse.add('me@example.com');
    await email().send(sampleAlert());
    assert.deepEqual(sink.mails[0]!.to, ['partner@example.com']);
    sink.refuse.add('partner@example.com');
    await assert.rejects(email().send(sampleAlert()), (e: unknown) => LegguardError.is(e, 'ALERT_DELIVERY_FAILED'));
  });

  test('probe logs in without sending; a dead server or a bad password fails with ALERT_CHANNEL_INVALID', async () => {
    await email().probe();
    assert.equal(sink.mails.length, 0);
    const bad = await email({ password: 'nope' }).probe().then(
      () => assert.fail('expected a rejection'),
      (x: unknown) => x,
    );
    assert.ok(LegguardError.is(bad, 'ALERT_CHANNEL_INVALID'));
    assert.match(bad.message, /^alert channel "mail" \(email\): SMTP 127\.0\.0\.1:\d+: .*Invalid login/);
    const port = await deadPort();
    const dead = await email({ port }).probe().then(
      () => assert.fail('expected a rejection'),
      (x: unknown) => x,
    );
    assert.ok(LegguardError.is(dead, 'ALERT_CHANNEL_INVALID'));
    assert.match(dead.message, /ECONNREFUSED/);
  });

  test('starttls required against a server without it fails rather than sending in clear', async () => {
    await assert.rejects(email({ security: 'starttls' }).send(sampleAlert()), (e: unknown) => LegguardError.is(e, 'ALERT_DELIVERY_FAILED'));
    assert.equal(sink.mails.length, 0);
  });
});
