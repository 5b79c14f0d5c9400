// Issue 16, a partition between a leader and PostgreSQL, as real processes against `legguard sim-gateway --lockstep`:
// the leader reaches Postgres through a TCP proxy this test runs; right after its first closing order went out the
// proxy is cut (nothing passes either way, new connections go unanswered, as a network partition). The leader must
// stop sending within one lease and say so (stepping down, exit 6); the standby, which still reaches Postgres, takes
// over, adopts what the broker has, finishes the close; no order ref reaches the gateway twice; the account ends flat.
// The times (cut to the leader's last order, to its step-down, to the takeover) are printed, not asserted.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { GuardProcess, openGuardStore, strategiesIn } from '../support/drill.js';
import { CuttableProxy } from '../support/cuttable-proxy.js';
import { killAll } from '../support/legguard-process.js';
import { postgresForTests } from '../support/postgres.js';
import { standbyWorld } from '../support/standby-world.js';

const pg = await postgresForTests();
const cleanups: (() => Promise<void> | void)[] = [];
const HANG_MS = 120_000;
const LEASE_MS = 6000;

after(async () => {
  await killAll();
  for (const c of cleanups) await Promise.resolve().then(c).catch(() => undefined);
});

describe('a leader cut off PostgreSQL during an emergency close (partition)', { skip: pg.skip ?? false }, () => {
  test('the leader stops sending within one lease and steps down; the standby finishes the close: flat, no ref twice', async (t) => {
    const { expected, gw, setup, schemaUrl } = await standbyWorld(t, pg.url!, 'partition', cleanups);

    const target = new URL(pg.url!);
    const proxy = await CuttableProxy.start(target.hostname, Number(target.port || 5432));
    cleanups.push(() => proxy.close());
    const viaProxy = new URL(schemaUrl);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    const holdDir = mkdtempSync(join(tmpdir(), 'legguard-hold-'));
    cleanups.push(() => rmSync(holdDir, { recursive: true, force: true }));
    const release = join(holdDir, 'release');

    await gw.pause(true);
    const leader = GuardProcess.start(
      { ...setup, databaseUrl: viaProxy.toString() },
      { crashAt: 'order-sent:1', env: { LEGGUARD_HOST_NAME: 'machine-a', LEGGUARD_DRILL_HOLD_UNTIL: release }, args: ['--standby'] },
    );
    await leader.waitFor((e) => e.kind === 'reconciled' && e.reason === 'start', 'the leader reconciling at start', HANG_MS);
    const standby = GuardProcess.start(setup, { env: { LEGGUARD_HOST_NAME: 'machine-b' }, args: ['--standby', '--client-id', '18'] });
    await standby.proc.waitForLine((l) => l.includes('standby for DU0000001'), 'the standby waiting', HANG_MS);
    await gw.pause(false);

    // The leader sent its first closing order and is held there: cut it off Postgres, then let it go on.
    await leader.proc.waitForLine((l) => l.startsWith('drill: holding at order-sent:1'), 'the leader holding after its first order', HANG_MS);
    assert.ok(proxy.connections > 0, 'the leader reaches Postgres through the proxy');
    proxy.cut();
    const cutAt = performance.now();
    writeFileSync(release, '');

    let stepDownAt = 0;
    const line = await leader.proc.waitForLine(
      (l, at) => {
        if (!l.includes('stepping down: this guard no longer leads DU0000001')) return false;
        stepDownAt = at;
        return true;
      },
      'the leader stepping down',
      HANG_MS,
    );
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
    const leaderExit = await leader.proc.exitWithin(HANG_MS);
    assert.deepEqual(leaderExit, { code: 6, signal: null }, leader.proc.tail());
    await standby.waitFor((e) => e.kind === 'state' && e.strategyId === 'ic' && e.to === 'CLOSED', 'the standby closing ic', HANG_MS);

    // The leader's orders as the gateway read them: every one before its step-down, the last within one lease of the cut.
    const placed = gw.proc.stdout.flatMap((l, i) => (/gateway: client 17 placed order /.test(l) ? [gw.proc.stdoutAt[i]!] : []));
    const lastSentAt = Math.max(...placed);
    console.log(
      `partition drill: the leader sent ${placed.length} order(s), the last ${Math.round(lastSentAt - cutAt)} ms after the cut; ` +
        `it stepped down ${Math.round(stepDownAt - cutAt)} ms after the cut; the standby took over ${Math.round(tookOverAt - cutAt)} ms after the cut ` +
        `(lease ${LEASE_MS} ms, renew 1500 ms)`,
    );
    assert.ok(placed.length >= 1, 'the leader sent its first order before the cut');
    assert.ok(lastSentAt <= stepDownAt, `the leader sent nothing after it stepped down (${line})`);

    const positions = await gw.positions(setup.account);
    assert.deepEqual(await standby.proc.stop('SIGTERM'), { code: 0, signal: null }, standby.proc.tail());
    const store = await openGuardStore(setup);
    try {
      assert.deepEqual({ strategies: await strategiesIn(store, setup.account), positions }, expected, standby.proc.tail(40));
      assert.equal((await store.leadership(setup.account, 60_000)).lease?.epoch, 2, 'the standby leads at the next epoch');
    } finally {
      await store.close();
    }
    const refs = [...gw.placedRefs(17), ...gw.placedRefs(18)];
    assert.equal(new Set(refs).size, refs.length, `no order ref sent twice:\n${refs.join('\n')}`);
    assert.ok(gw.placedRefs(18).length >= 1, `the standby sent the rest of the close: ${refs.join(', ')}`);
  });
});
