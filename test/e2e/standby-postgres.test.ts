// Issue 16, a leader and its standby as real processes on PostgreSQL against `legguard sim-gateway --lockstep`: the
// leader is killed with SIGKILL during an emergency close (after its first order went out); the standby, on "another
// machine" (LEGGUARD_HOST_NAME, so it cannot tell the leader died and must wait for the lease to lapse), takes over,
// adopts what the broker has, finishes the close, and no order ref reaches the gateway twice. Takeover time is printed.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { GuardProcess, openGuardStore, strategiesIn } from '../support/drill.js';
import { killAll } from '../support/legguard-process.js';
import { postgresForTests } from '../support/postgres.js';
import { standbyWorld } from '../support/standby-world.js';

const pg = await postgresForTests();
const cleanups: (() => Promise<void> | void)[] = [];
const HANG_MS = 120_000;

after(async () => {
  await killAll();
  for (const c of cleanups) await Promise.resolve().then(c).catch(() => undefined);
});

describe('a standby takes over from a leader killed during an emergency close (Postgres)', { skip: pg.skip ?? false }, () => {
  test('the standby finishes the close: flat, CLOSED, no order ref sent twice, takeover measured', async (t) => {
    const { expected, gw, setup } = await standbyWorld(t, pg.url!, 'standby', cleanups);

    await gw.pause(true);
    const leader = GuardProcess.start(setup, { crashAt: 'order-sent:1', env: { LEGGUARD_HOST_NAME: 'machine-a' }, args: ['--standby'] });
    await leader.waitFor((e) => e.kind === 'reconciled' && e.reason === 'start', 'the leader reconciling at start', HANG_MS);
    const standby = GuardProcess.start(setup, { env: { LEGGUARD_HOST_NAME: 'machine-b' }, args: ['--standby', '--client-id', '18'] });
    await standby.proc.waitForLine((l) => l.includes('standby for DU0000001'), 'the standby waiting', HANG_MS);
    await gw.pause(false);

    const died = await leader.proc.exitWithin(HANG_MS);
    const diedAt = performance.now();
    assert.deepEqual(died, { code: null, signal: 'SIGKILL' }, leader.proc.tail());
    let tookOverAt = 0;
    await standby.proc.waitForLine(
      (l, at) => {
        if (!l.includes('took over DU0000001 from machine-a/')) return false;
        tookOverAt = at;
        return true;
      },
      'the standby taking over',
      HANG_MS,
    );
    const takeoverMs = Math.round(tookOverAt - diedAt);
    console.log(`standby drill: takeover ${takeoverMs} ms after the leader died (lease 6000 ms, renew 1500 ms)`);

    await standby.waitFor((e) => e.kind === 'state' && e.strategyId === 'ic' && e.to === 'CLOSED', 'the standby closing ic', HANG_MS);
    const positions = await gw.positions(setup.account);
    assert.deepEqual(await standby.proc.stop('SIGTERM'), { code: 0, signal: null }, standby.proc.tail());
    const store = await openGuardStore(setup);
    try {
      assert.deepEqual({ strategies: await strategiesIn(store, setup.account), positions }, expected, standby.proc.tail(40));
    } finally {
      await store.close();
    }
    const refs = [...gw.placedRefs(17), ...gw.placedRefs(18)];
    assert.equal(new Set(refs).size, refs.length, `no order ref sent twice:\n${refs.join('\n')}`);
    assert.ok(gw.placedRefs(17).length >= 1 && gw.placedRefs(18).length >= 1, `both sent part of the close: ${refs.join(', ')}`);
  });

  test('a leader frozen (SIGSTOP) past its lease, then resumed: it sends and commits nothing, steps down (exit 6) and says so', async (t) => {
    const { expected, gw, setup } = await standbyWorld(t, pg.url!, 'frozen', cleanups);

    await gw.pause(true);
    const leader = GuardProcess.start(setup, { env: { LEGGUARD_HOST_NAME: 'machine-a' }, args: ['--standby'] });
    await leader.waitFor((e) => e.kind === 'reconciled' && e.reason === 'start', 'the leader reconciling at start', HANG_MS);
    const standby = GuardProcess.start(setup, { env: { LEGGUARD_HOST_NAME: 'machine-b' }, args: ['--standby', '--client-id', '18'] });
    await standby.proc.waitForLine((l) => l.includes('standby for DU0000001'), 'the standby waiting', HANG_MS);

    process.kill(leader.proc.pid, 'SIGSTOP');
    const frozenAt = performance.now();
    let tookOverAt = 0;
    await standby.proc.waitForLine(
      (l, at) => {
        if (!l.includes('took over DU0000001 from machine-a/')) return false;
        tookOverAt = at;
        return true;
      },
      'the standby taking over',
      HANG_MS,
    );
    console.log(`standby drill: takeover ${Math.round(tookOverAt - frozenAt)} ms after the leader froze`);
    const linesBefore = leader.proc.stdout.length;
    process.kill(leader.proc.pid, 'SIGCONT');
    const exit = await leader.proc.exitWithin(HANG_MS);
    assert.deepEqual(exit, { code: 6, signal: null }, leader.proc.tail());
    assert.ok(leader.logs(/^stepping down: this guard no longer leads DU0000001/).length >= 1, leader.proc.tail());
    const after = leader.proc.stdout.slice(linesBefore).filter((l) => l.startsWith('{') && !('text' in (JSON.parse(l) as object)));
    assert.deepEqual(after, [], 'after waking, the old leader acted on nothing (no timeline entry)');
    assert.deepEqual(gw.placedRefs(17), [], 'the old leader sent nothing');

    await gw.pause(false);
    await standby.waitFor((e) => e.kind === 'state' && e.strategyId === 'ic' && e.to === 'CLOSED', 'the standby closing ic', HANG_MS);
    const positions = await gw.positions(setup.account);
    assert.deepEqual(await standby.proc.stop('SIGTERM'), { code: 0, signal: null }, standby.proc.tail());
    const store = await openGuardStore(setup);
    try {
      assert.deepEqual({ strategies: await strategiesIn(store, setup.account), positions }, expected, standby.proc.tail(40));
      assert.equal((await store.leadership(setup.account, 60_000)).lease?.epoch, 2);
    } finally {
      await store.close();
    }
    assert.deepEqual(gw.refsSentTwice(18), []);
  });
});
