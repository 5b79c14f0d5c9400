// Issue 4, end to end: an assignment posted while the guard cannot hear the broker is found when it hears again and
// handled as a live one: `legguard run --clock lockstep` against `legguard sim-gateway --lockstep`, child processes
// over loopback. While the gateway refuses connections no guard can keep time with it: the world runs through the
// reset window without waiting. Two ways to
// lose the broker: IB's own link to the exchange drops (the scenario's `disconnect`: 1100, then 1101 "data lost",
// the socket stays) and the gateway drops every socket and refuses new ones (its nightly reset drill, `--reset`).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { parseScenario } from '../../src/adapters/sim/load-scenario.js';
import { GatewayProcess, GuardProcess, guardSetup, openGuardStore, replayOutcome, strategiesIn } from '../support/drill.js';
import { condorAssignedOvernight, writeScenario } from '../support/drill-scenarios.js';
import { killAll } from '../support/legguard-process.js';

const cleanups: (() => void)[] = [];
after(async () => {
  await killAll();
  for (const c of cleanups) c();
});

/** Only a bound on a hung drill: lockstep drills take as long as the machine needs, and end the same. */
const HANG_MS = 120_000;

type Entry = Record<string, unknown>;

async function drill(yaml: string, gatewayArgs: readonly string[]): Promise<{ timeline: Entry[]; logs: string[]; gatewayLog: readonly string[] }> {
  const { file, dir } = writeScenario(yaml);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  // The replay plays the same file without the gateway's reset (it has no sockets); the end must be the same.
  const expected = await replayOutcome(parseScenario(yaml, file));
  assert.ok(expected.strategies[0]?.state === 'CLOSED' && expected.positions.length === 0, `the replay ends CLOSED and flat: ${JSON.stringify(expected)}`);
  const gw = await GatewayProcess.start(file, gatewayArgs);
  const setup = guardSetup(file, gw.port);
  cleanups.push(() => rmSync(setup.dir, { recursive: true, force: true }));
  const guard = GuardProcess.start(setup);
  try {
    await guard.waitFor((e) => e.kind === 'state' && e.strategyId === 'ic' && e.to === 'CLOSED', 'closing ic', HANG_MS);
    const positions = await gw.positions(setup.account);
    assert.deepEqual(await guard.proc.stop('SIGTERM'), { code: 0, signal: null }, guard.proc.tail());
    const store = await openGuardStore(setup);
    try {
      assert.deepEqual({ strategies: await strategiesIn(store, setup.account), positions }, expected, `as the replay\n${guard.proc.tail(40)}`);
    } finally {
      await store.close();
    }
    assert.deepEqual(gw.refsSentTwice(), [], `no ref sent twice: ${gw.placedRefs().join(', ')}`);
    const entries = guard.entries();
    return {
      timeline: entries.filter((e) => e.kind !== 'log') as unknown as Entry[],
      logs: entries.flatMap((e) => (e.kind === 'log' ? [e.text] : [])),
      gatewayLog: gw.proc.stdout,
    };
  } finally {
    await guard.proc.stop('SIGKILL');
    await gw.stop();
  }
}

/** Where in the timeline the broker went away, came back, and the assignment was found. */
function checkFoundOnReturn(timeline: Entry[], back: RegExp): void {
  const text = (e: Entry): string => (typeof e.text === 'string' ? e.text : '');
  const down = timeline.findIndex((e) => e.kind === 'note' && /broker disconnected/.test(text(e)));
  const up = timeline.findIndex((e, i) => i > down && e.kind === 'note' && back.test(text(e)));
  const found = timeline.findIndex((e) => e.kind === 'detection');
  const recon = timeline.findIndex((e, i) => i > found && e.kind === 'reconciled');
  assert.ok(down >= 0 && up > down, `the guard heard the broker go (${down}) and come back (${up})`);
  assert.ok(found > up, `the assignment was found after the return (${found} > ${up})`);
  const r = timeline[recon]!;
  assert.equal(r.reason, 'reconnect', 'by the reconciliation that follows a reconnect');
  assert.ok(
    (r.discrepancies as string[]).some((d) => d.includes('440 P')),
    `which names the assigned leg: ${JSON.stringify(r.discrepancies)}`,
  );
  const heardWhileAway = timeline.slice(down, up).filter((e) => e.kind === 'broker-event' && (e.event as { kind: string }).kind !== 'connection');
  assert.deepEqual(heardWhileAway, [], 'nothing but the connection reached the guard while it could not hear');
  const states = timeline.filter((e) => e.kind === 'state').map((e) => `${String(e.from)}->${String(e.to)}`);
  assert.deepEqual(states.slice(-3), ['OPEN->BROKEN', 'BROKEN->EMERGENCY_CLOSING', 'EMERGENCY_CLOSING->CLOSED'], 'broken, closed, flat');
}

describe('an assignment posted while the guard cannot hear the broker', () => {
  test('IB loses its link (1100) and restores it with data lost (1101): found at the 1101 and closed', async () => {
    const yaml = condorAssignedOvernight({ events: '  - { at: "2026-01-28T02:00:00-05:00", disconnect: { seconds: 3600, dataLost: true } }\n' });
    const { timeline } = await drill(yaml, []);
    checkFoundOnReturn(timeline, /broker connected \(data lost\)/);
  });

  test('the gateway drops the socket and refuses connections for half an hour: found on reconnect and closed', async () => {
    const { timeline, logs, gatewayLog } = await drill(condorAssignedOvernight({}), ['--reset', '02:15/30/drop']);
    assert.ok(gatewayLog.some((l) => /nightly reset window begins \(drop\)/.test(l)), 'the gateway dropped the connection');
    assert.ok(logs.some((l) => /TWS connection down .*reconnecting in \d+ ms/.test(l)), `the adapter reconnected: ${logs.join('\n')}`);
    checkFoundOnReturn(timeline, /broker connected/);
  });
});
