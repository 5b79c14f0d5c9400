import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LegguardError } from '../../src/core/errors.js';
import { NtfyChannel } from '../../src/adapters/alerts/ntfy-channel.js';
import { Redactor } from '../../src/adapters/alerts/redactor.js';
import { TelegramChannel } from '../../src/adapters/alerts/telegram-channel.js';
import { WebhookChannel } from '../../src/adapters/alerts/webhook-channel.js';
import { deadPort, RecordingServer } from './recording-server.js';
import { sampleAlert } from './sample-alert.js';

const TOKEN = '123456789:AAHsecretBotTokenValue_xyz-0123456789';
// What buildChannels gives the channels: every secret value, and a webhook URL's path (see build-channels.test.ts).
const redactor = new Redactor([TOKEN, 'sekrit-webhook-auth', 'tk_ntfysecrettoken', '/hook/secret-path']);

async function rejection(p: Promise<unknown>): Promise<LegguardError> {
  try {
    await p;
  } catch (e) {
    assert.ok(LegguardError.is(e), `expected a LegguardError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a rejection');
}

describe('HTTP channels against a recording server on loopback', () => {
  const server = new RecordingServer();
  before(async () => {
    await server.start();
  });
  after(async () => {
    await server.close();
  });
  beforeEach(() => server.reset());

  describe('webhook', () => {
    const hook = (format: 'json' | 'slack' | 'discord', path = '/hook/secret-path'): WebhookChannel =>
      new WebhookChannel({ name: 'ops', url: `${server.url}${path}`, format, headers: { authorization: 'Bearer sekrit-webhook-auth' }, timeoutMs: 5000, redactor });

    test('json: every field of the alert, the key in a header, the configured auth header', async () => {
      const a = sampleAlert();
      await hook('json').send(a);
      assert.equal(server.requests.length, 1);
      const r = server.requests[0]!;
      assert.equal(r.method, 'POST');
      assert.equal(r.path, '/hook/secret-path');
      assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
      assert.equal(r.headers.authorization, 'Bearer sekrit-webhook-auth');
      assert.equal(decodeURIComponent(String(r.headers['x-legguard-alert-key'])), a.key);
      const body = JSON.parse(r.body) as Record<string, unknown>;
      assert.equal(body.source, 'legguard');
      assert.equal(body.key, a.key);
      assert.equal(body.severity, 'critical');
      assert.equal(body.title, a.title);
      assert.equal(body.text, a.text);
      assert.equal(body.incidentId, a.incidentId);
      assert.equal(body.strategyId, 'ic-spy');
      assert.equal(body.at, '2026-01-28T07:30:05.000Z');
      assert.equal(body.atMs, a.at);
      assert.deepEqual(body.facts, a.facts);
      assert.equal(body.ack, `legguard ack ${a.incidentId}`);
    });

    test('slack: notification text and plain-text blocks within Slack limits', async () => {
      const a = sampleAlert({ title: `<@channel> *${'x'.repeat(300)}*` });
      await hook('slack').send(a);
      const body = JSON.parse(server.requests[0]!.body) as { text: string; blocks: { type: string; text?: { type: string; text: string }; elements?: { text: string }[] }[] };
      assert.match(body.text, /^🚨 \[CRITICAL\] <@channel>/);
      assert.deepEqual(body.blocks.map((b) => b.type), ['header', 'section', 'context']);
      const header = body.blocks[0]!.text!;
      assert.equal(header.type, 'plain_text', 'plain text: a title cannot inject mentions or markup');
      assert.ok(header.text.length <= 150, 'Slack rejects headers over 150 characters');
      assert.ok(header.text.endsWith('…'));
      const section = body.blocks[1]!.text!.text;
      assert.match(section, /the short 440 put was assigned/);
      assert.match(section, /underlying: SPY/);
      assert.match(section, /legguard ack ic-spy:assignment:1769585405000/);
      assert.match(body.blocks[2]!.elements![0]!.text, /CRITICAL · 2026-01-28 02:30:05 ET · incident ic-spy/);
    });

    test('discord: one embed with colour, facts as fields, mentions disabled', async () => {
      await hook('discord').send(sampleAlert({ severity: 'warning' }));
      const body = JSON.parse(server.requests[0]!.body) as {
        content: string;
        allowed_mentions: { parse: unknown[] };
        embeds: { title: string; description: string; color: number; fields: { name: string; value: string }[]; timestamp: string; footer: { text: string } }[];
      };
      assert.deepEqual(body.allowed_mentions, { parse: [] });
      assert.match(body.content, /\*\*WARNING\*\* ASSIGNMENT/);
      const e = body.embeds[0]!;
      assert.equal(e.color, 0xf9a825);
      assert.equal(e.title, 'ASSIGNMENT: SPY 2026-01-30 440 P x2 on ic-spy');
      assert.deepEqual(
        e.fields.map((f) => [f.name, f.value]),
        [['underlying', 'SPY'], ['strike', '440'], ['right', 'P'], ['qty', '-2'], ['early', 'true'], ['note', '-']],
      );
      assert.equal(e.timestamp, '2026-01-28T07:30:05.000Z');
      assert.equal(e.footer.text, 'strategy ic-spy · incident ic-spy:assignment:1769585405000');
      assert.doesNotMatch(e.description, /legguard ack/, 'the ack hint is for critical alerts only');
    });

    test('a failing receiver rejects with ALERT_DELIVERY_FAILED naming the channel and status, never the URL path or auth', async () => {
      server.failFirst = 1;
      server.failWith = { status: 503, body: 'echo: Bearer sekrit-webhook-auth /hook/secret-path' };
      const e = await rejection(hook('json').send(sampleAlert()));
      assert.equal(e.code, 'ALERT_DELIVERY_FAILED');
      assert.equal(e.details.status, 503);
      assert.match(e.message, /channel "ops": http:\/\/127\.0\.0\.1:\d+\/… answered HTTP 503/);
      assert.doesNotMatch(e.message, /sekrit-webhook-auth/);
      assert.doesNotMatch(e.message, /\/hook\/secret-path/);
      // The next one goes through: the server failed only the first.
      await hook('json').send(sampleAlert());
      assert.equal(server.accepted.length, 1);
    });

    test('429 with Retry-After carries the wait for the dispatcher', async () => {
      server.failFirst = 1;
      server.failWith = { status: 429, body: 'slow down', headers: { 'retry-after': '30' } };
      const e = await rejection(hook('slack').send(sampleAlert()));
      assert.equal(e.details.retryAfterMs, 30_000);
    });

    test('a redirect is a failure, not a silent re-post elsewhere', async () => {
      server.reply = () => ({ status: 302, headers: { location: 'http://127.0.0.1:1/' } });
      const e = await rejection(hook('json').send(sampleAlert()));
      assert.equal(e.code, 'ALERT_DELIVERY_FAILED');
    });

    test('nothing listening: a clear network error', async () => {
      const port = await deadPort();
      const ch = new WebhookChannel({ name: 'gone', url: `http://127.0.0.1:${port}/x`, format: 'json', headers: {}, timeoutMs: 5000, redactor });
      const e = await rejection(ch.send(sampleAlert()));
      assert.match(e.message, /channel "gone": could not reach http:\/\/127\.0\.0\.1:\d+\/…: .*ECONNREFUSED/);
      const p = await rejection(ch.probe());
      assert.equal(p.code, 'ALERT_CHANNEL_INVALID');
      assert.match(p.message, /alert channel "gone": cannot reach .*ECONNREFUSED/);
      await hook('json').probe(); // a listening server passes the probe
      assert.equal(server.requests.length, 0, 'a probe sends nothing a receiver would show');
    });
  });

  describe('ntfy', () => {
    const ntfy = (token: string | null): NtfyChannel =>
      new NtfyChannel({ name: 'phone', server: `${server.url}/`, topic: 'lg-alerts-7f3k', token, timeoutMs: 5000, redactor });

    test('JSON publish to the server root: topic, title, priority and tags by severity', async () => {
      await ntfy('tk_ntfysecrettoken').send(sampleAlert());
      await ntfy(null).send(sampleAlert({ severity: 'warning', title: 'Ünïcode — title ✓' }));
      await ntfy(null).send(sampleAlert({ severity: 'info' }));
      assert.deepEqual(server.requests.map((r) => r.path), ['/', '/', '/']);
      const bodies = server.requests.map((r) => JSON.parse(r.body) as { topic: string; title: string; message: string; priority: number; tags: string[] });
      assert.deepEqual(bodies.map((b) => [b.topic, b.priority, b.tags[0]]), [
        ['lg-alerts-7f3k', 5, 'rotating_light'],
        ['lg-alerts-7f3k', 4, 'warning'],
        ['lg-alerts-7f3k', 3, 'information_source'],
      ]);
      assert.equal(bodies[1]!.title, 'Ünïcode — title ✓');
      assert.match(bodies[0]!.message, /Acknowledge to stop repeats: legguard ack ic-spy:assignment/);
      assert.equal(server.requests[0]!.headers.authorization, 'Bearer tk_ntfysecrettoken');
      assert.equal(server.requests[1]!.headers.authorization, undefined);
    });

    test('the server refusing is an error with the status', async () => {
      server.failFirst = 1;
      server.failWith = { status: 403, body: '{"code":40301,"error":"forbidden"}' };
      const e = await rejection(ntfy('tk_ntfysecrettoken').send(sampleAlert()));
      assert.equal(e.details.status, 403);
      assert.match(e.message, /channel "phone": .* answered HTTP 403: \{"code":40301/);
    });
  });

  describe('telegram', () => {
    const tg = (): TelegramChannel => new TelegramChannel({ name: 'tg', apiBase: server.url, token: TOKEN, chatId: '-1001234567890', timeoutMs: 5000, redactor });
    beforeEach(() => {
      server.reply = () => ({ status: 200, body: '{"ok":true,"result":{"message_id":7}}' });
    });

    test('sendMessage to /bot<token>/: plain text, chat id, info silent', async () => {
      await tg().send(sampleAlert());
      await tg().send(sampleAlert({ severity: 'info' }));
      const [crit, info] = server.requests;
      assert.equal(crit!.path, `/bot${TOKEN}/sendMessage`);
      const b = JSON.parse(crit!.body) as { chat_id: string; text: string; disable_notification: boolean; parse_mode?: string };
      assert.equal(b.chat_id, '-1001234567890');
      assert.equal(b.parse_mode, undefined);
      assert.equal(b.disable_notification, false);
      assert.match(b.text, /^\[CRITICAL\] ASSIGNMENT: SPY 2026-01-30 440 P x2 on ic-spy\n\nic-spy broke/);
      assert.match(b.text, /at: 2026-01-28 02:30:05 ET/);
      assert.equal((JSON.parse(info!.body) as { disable_notification: boolean }).disable_notification, true);
    });

    test('a long message is cut to Telegram\'s 4096 characters', async () => {
      await tg().send(sampleAlert({ text: 'y'.repeat(10_000) }));
      const b = JSON.parse(server.requests[0]!.body) as { text: string };
      assert.equal(b.text.length, 4096);
    });

    test('errors never show the bot token, though it is in the URL and the server echoes it', async () => {
      server.failFirst = 1;
      server.failWith = { status: 400, body: `{"ok":false,"error_code":400,"description":"Bad Request: chat not found for /bot${TOKEN}/"}` };
      const e = await rejection(tg().send(sampleAlert()));
      assert.equal(e.code, 'ALERT_DELIVERY_FAILED');
      assert.match(e.message, /chat not found/);
      assert.ok(!e.message.includes(TOKEN));
      assert.ok(!e.message.includes('AAHsecret'));
      assert.ok(!JSON.stringify(e.details).includes(TOKEN));
    });

    test('flood control: retry_after from the body', async () => {
      server.failFirst = 1;
      server.failWith = { status: 429, body: '{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}' };
      const e = await rejection(tg().send(sampleAlert()));
      assert.equal(e.details.retryAfterMs, 7000);
    });

    test('HTTP 200 without ok:true is not a delivery', async () => {
      server.reply = () => ({ status: 200, body: '{"ok":false}' });
      const e = await rejection(tg().send(sampleAlert()));
      assert.match(e.message, /did not answer ok/);
    });

    test('probe calls getMe; a rejected token is named as the problem, not shown', async () => {
      await tg().probe();
      assert.equal(server.requests[0]!.path, `/bot${TOKEN}/getMe`);
      server.reply = () => ({ status: 401, body: '{"ok":false,"error_code":401,"description":"Unauthorized"}' });
      const e = await rejection(tg().probe());
      assert.equal(e.code, 'ALERT_CHANNEL_INVALID');
      assert.equal(e.message, 'alert channel "tg" (telegram): the bot token was rejected (check the token environment variable)');
    });
  });
});
