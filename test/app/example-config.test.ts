import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadConfig } from '../../src/app/config.js';
import { buildChannels } from '../../src/adapters/alerts/build-channels.js';
import { LegguardError } from '../../src/core/errors.js';

const EXAMPLE = join(import.meta.dirname, '..', '..', 'examples', 'legguard.yaml');

test('the example config in examples/legguard.yaml validates, and its channels build with their secrets set', async () => {
  const c = await loadConfig(EXAMPLE, {}, Date.parse('2026-11-24T12:00:00Z'));
  assert.equal(c.account, 'DU1234567');
  assert.equal(c.broker.type, 'ib');
  assert.deepEqual(c.strategies.map((s) => [s.id, s.kind]), [['ic-spy-feb', 'iron-condor'], ['cc-aapl', 'covered-call']]);
  assert.equal(c.guard.limits.maxContractsPerOrder, 50);
  assert.equal(c.databaseUrl, null, 'no DATABASE_URL: SQLite');
  const built = buildChannels(c.alerts, { env: { TELEGRAM_BOT_TOKEN: '123456:ABCdefGhIJKlmNoPQRsTUVwxyz0123456789', NTFY_TOPIC: 'secret-topic', SMTP_PASSWORD: 'pw' } });
  assert.deepEqual(built.channels.map((ch) => ch.channel.name), ['console', 'phone', 'telegram', 'mail']);
});

test('the example config without its secrets fails at start-up naming the channel and the variable', async () => {
  const c = await loadConfig(EXAMPLE, {}, Date.parse('2026-11-24T12:00:00Z'));
  assert.throws(
    () => buildChannels(c.alerts, { env: {} }),
    (e: unknown) => LegguardError.is(e, 'ALERT_CHANNEL_INVALID') && /TELEGRAM_BOT_TOKEN/.test(e.message) && /telegram/.test(e.message),
  );
});

test('the drill config in examples/drill.yaml validates and guards the first seed scenario’s condor', async () => {
  const c = await loadConfig(join(import.meta.dirname, '..', '..', 'examples', 'drill.yaml'), {}, Date.parse('2026-11-24T12:00:00Z'));
  assert.equal(c.account, 'DU0000001');
  assert.deepEqual([c.broker.host, c.broker.port], ['127.0.0.1', 7497]);
  assert.deepEqual(c.strategies.map((s) => [s.id, s.kind, s.legs.length]), [['ic-spy', 'iron-condor', 4]]);
  assert.deepEqual(buildChannels(c.alerts, { env: {} }).channels.map((ch) => ch.channel.name), ['console']);
});

test('the several-accounts example in examples/legguard-accounts.yaml validates: each account its client id, strategies and channels', async () => {
  const c = await loadConfig(join(import.meta.dirname, '..', '..', 'examples', 'legguard-accounts.yaml'), {}, Date.parse('2026-11-24T12:00:00Z'));
  assert.deepEqual(
    c.accounts.map((a) => [a.account, a.clientId, a.strategies.map((s) => [s.id, s.kind])]),
    [
      ['U1111111', 17, [['ic-spy-feb', 'iron-condor']]],
      ['U2222222', 30, [['cc-aapl', 'covered-call']]],
    ],
  );
  const env = { NTFY_TOPIC: 'desk-topic', NTFY_TOPIC_CLIENT_B: 'client-b-topic' };
  assert.deepEqual(buildChannels(c.accounts[0]!.alerts, { env }).channels.map((ch) => ch.channel.name), ['console', 'desk'], 'the shared channels');
  assert.deepEqual(buildChannels(c.accounts[1]!.alerts, { env }).channels.map((ch) => ch.channel.name), ['client-b'], 'its own only');
  assert.equal(c.guard.limits.maxContractsPerOrder, 50, 'guard: shared');
});
