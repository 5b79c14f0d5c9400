// Issue 12, `legguard risk --config` over the wire: read-only against `legguard sim-gateway --lockstep` on the XOM
// strangle. At the start nothing is at risk (exit 0); on Thursday morning, the last trading day before the 1.03
// ex-date, the short 120 call is (exit 1, flagged in --json). It connects with its own client id (the guard's + 1000)
// and sends nothing. A gateway that is not there: exit 7.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { GatewayProcess, guardSetup, loadSeed } from '../support/drill.js';
import { killAll, LegguardProcess } from '../support/legguard-process.js';

const dirs: string[] = [];
after(async () => {
  await killAll();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Finding {
  rule: string;
  status: string;
  action: string;
  numbers: Record<string, unknown>;
}
interface RiskJson {
  at: string;
  source: string;
  broker: { clientId: number };
  atRisk: boolean;
  strategies: {
    strategyId: string;
    legs: { leg: string; qty: number; findings: Finding[] }[];
    roll: { kind: string; to: string; net: number | null; legs: { close: string; open: string; closeSource: string; openSource: string }[] } | null;
  }[];
  notes: string[];
}

async function risk(args: readonly string[], cwd: string): Promise<{ code: number | null; out: string; err: string }> {
  const p = LegguardProcess.start('risk', ['risk', ...args], { cwd });
  const exit = await p.exitWithin(60_000);
  assert.ok(exit !== null, `legguard risk did not finish within 60 s\n${p.tail()}`);
  return { code: exit.code, out: p.stdout.join('\n'), err: p.stderr.join('\n') };
}

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('legguard risk --config, over the wire', () => {
  test('XOM strangle: clear at the start (0), the call at risk on the decision day (1), no order; unreachable (7)', async () => {
    const { file } = await loadSeed('strangle-closed-before-ex-dividend.yaml');
    const gw = await GatewayProcess.start(file);
    const setup = guardSetup(file, gw.port);
    dirs.push(setup.dir);
    try {
      const start = await risk(['--config', setup.configFile, '--json'], setup.dir);
      assert.equal(start.code, 0, `nothing at risk at the start\n${start.out}\n${start.err}`);
      const s = JSON.parse(start.out) as RiskJson;
      assert.equal(s.at, '2026-02-09T14:30:00.000Z', "assessed at the broker's (scenario) time");
      assert.deepEqual([s.source, s.broker.clientId, s.atRisk], ['broker', 1017, false]);
      assert.deepEqual(s.strategies[0]!.legs.map((l) => [l.leg, l.qty, l.findings[0]!.status]), [
        ['XOM 2026-02-20 120 C', -1, 'clear'],
        ['XOM 2026-02-20 100 P', -1, 'clear'],
      ]);

      await gw.advance('2026-02-12T10:00:00-05:00');
      const thu = await risk(['--config', setup.configFile, '--json'], setup.dir);
      assert.equal(thu.code, 1, `at risk on Thursday\n${thu.out}\n${thu.err}`);
      const t = JSON.parse(thu.out) as RiskJson;
      assert.equal(t.atRisk, true);
      const call = t.strategies[0]!.legs.find((l) => l.leg === 'XOM 2026-02-20 120 C')!;
      const f = call.findings[0]!;
      assert.deepEqual([f.rule, f.status, f.action], ['ex-dividend-call', 'at-risk', 'close']);
      assert.equal(f.numbers['S'], 128);
      assert.equal(f.numbers['putSource'], 'market', "the put's value from the gateway's quote");
      const roll = t.strategies[0]!.roll!;
      assert.deepEqual([roll.kind, roll.to], ['roll', '2026-03-20'], 'the roll that would keep it: the next monthly expiry');
      const callRoll = roll.legs.find((l) => l.close === 'XOM 2026-02-20 120 C')!;
      assert.deepEqual([callRoll.open, callRoll.closeSource, callRoll.openSource], ['XOM 2026-03-20 120 C', 'market', 'market'], 'both priced from the gateway');
      assert.equal(typeof roll.net, 'number');
      assert.equal(s.strategies[0]!.roll, null, 'no roll when nothing is flagged');

      const text = await risk(['--config', setup.configFile], setup.dir);
      assert.equal(text.code, 1);
      assert.match(text.out, /ex-dividend-call: AT-RISK \(policy close\) -> close now/);
      assert.match(text.out, /\nat risk$/);
      assert.match(text.out, /to keep the position instead \(shown, not sent\): roll XOM 2026-02-20 -> 2026-03-20/);

      assert.deepEqual(gw.placedRefs(1017), [], 'legguard risk sends no order');
      assert.deepEqual(gw.proc.stdout.filter((l) => /client 1017 (placed|cancel|exercise)/.test(l)), []);

      const port = await closedPort();
      const down = await risk(['--config', setup.configFile, '--ib', `127.0.0.1:${port}`, '--timeout', '1'], setup.dir);
      assert.equal(down.code, 7, `${down.out}\n${down.err}`);
      assert.match(down.err, new RegExp(`TWS / IB Gateway at 127\\.0\\.0\\.1:${port} \\(client id 1017\\) unreachable`));
      assert.equal(down.out, '', 'nothing on stdout: no report when the broker cannot be read');
    } finally {
      await gw.stop();
    }
  });
});
