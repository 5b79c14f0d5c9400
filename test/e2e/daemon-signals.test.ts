// `legguard run` stops cleanly on SIGTERM at any time, start-up included: a service manager stopping a guard that
// is still connecting must get exit 0 and a released lock, not a process killed by the signal's default action.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { GuardProcess, guardSetup, loadSeed, openGuardStore } from '../support/drill.js';
import { killAll } from '../support/legguard-process.js';

after(() => killAll());

test('SIGTERM while the guard waits for TWS to answer: exit 0, the lock released', async (t) => {
  // A "TWS" that accepts the connection and never answers the handshake.
  const held: Socket[] = [];
  const mute = createServer((s) => held.push(s));
  await new Promise<void>((r) => mute.listen(0, '127.0.0.1', () => r()));
  t.after(() => {
    for (const s of held) s.destroy();
    mute.close();
  });
  const { file } = await loadSeed('iron-condor-put-assigned.yaml');
  const setup = guardSetup(file, (mute.address() as { port: number }).port);
  t.after(() => rmSync(setup.dir, { recursive: true, force: true }));

  const guard = GuardProcess.start(setup);
  await guard.proc.waitForLine((l) => l.includes('connecting to TWS'), 'saying it connects');
  for (let i = 0; i < 100 && held.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(held.length, 1, 'the guard opened its connection');
  const exit = await guard.proc.stop('SIGTERM', 5_000);
  assert.deepEqual(exit, { code: 0, signal: null }, `a clean stop, not the signal's default\n${guard.proc.tail()}`);
  assert.ok(guard.proc.stderr.some((l) => /stopped \(SIGTERM\) while starting/.test(l)), guard.proc.tail());

  const store = await openGuardStore(setup);
  try {
    assert.equal(await store.lockHolder(setup.account), null, 'the lock is released');
  } finally {
    await store.close();
  }
});

test('nothing listening at the TWS port: a line per attempt until the connect timeout, then exit 1 naming the problem, the lock released', async (t) => {
  // A port nothing listens on: taken from the kernel, then given back.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const { file } = await loadSeed('iron-condor-put-assigned.yaml');
  const setup = guardSetup(file, port, { broker: { connectTimeoutSeconds: 2 } });
  t.after(() => rmSync(setup.dir, { recursive: true, force: true }));

  const guard = GuardProcess.start(setup);
  const exit = await guard.proc.exitWithin(60_000);
  assert.deepEqual(exit, { code: 1, signal: null }, `gave up with exit 1 (not 13, not a hang)\n${guard.proc.tail()}`);
  const attempts = guard.logs(/connecting to TWS at 127\.0\.0\.1:\d+/);
  const retries = guard.logs(/TWS connection down \(connect ECONNREFUSED .*\); reconnecting in \d+ ms/);
  assert.ok(attempts.length >= 2 && retries.length >= 1, `retried, saying so each time:\n${guard.proc.tail()}`);
  assert.ok(
    guard.proc.stderr.some((l) => /cannot connect to TWS\/IB Gateway at 127\.0\.0\.1:\d+ as client 17/.test(l) && /ECONNREFUSED/.test(l)),
    `one line naming where and why:\n${guard.proc.stderr.join('\n')}`,
  );
  const store = await openGuardStore(setup);
  try {
    assert.equal(await store.lockHolder(setup.account), null, 'the lock is released');
  } finally {
    await store.close();
  }
});
