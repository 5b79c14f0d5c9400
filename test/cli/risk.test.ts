import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runLegguard } from './cli-run.js';

const ROOT = join(import.meta.dirname, '..', '..');
const XOM = 'scenarios/strangle-closed-before-ex-dividend.yaml';

describe('legguard risk', () => {
  test('the XOM strangle on Wednesday: the call flagged (watch), the guard will close Thursday 09:30; exit 1', async () => {
    const r = await runLegguard(['risk', '--scenario', XOM, '--at', '2026-02-11T11:00:00-05:00', '--json'], { cwd: ROOT });
    assert.equal(r.code, 1, r.err);
    const out = JSON.parse(r.out) as { atRisk: boolean; strategies: { strategyId: string; legs: { leg: string; findings: { rule: string; status: string; action: string; actAt: string; numbers: Record<string, unknown> }[] }[] }[] };
    assert.equal(out.atRisk, true);
    const call = out.strategies[0]!.legs.find((l) => l.leg === 'XOM 2026-02-20 120 C')!;
    const f = call.findings[0]!;
    assert.deepEqual([f.rule, f.status, f.action, f.actAt], ['ex-dividend-call', 'watch', 'close', '2026-02-12T14:30:00.000Z']);
    for (const k of ['S', 'K', 'tau', 'D', 'putValue', 'carry', 'americanValue', 'distance']) assert.ok(k in f.numbers, k);
    assert.equal(f.numbers['S'], 128);
    const roll = (out.strategies[0] as unknown as { roll: { kind: string; from: string; to: string; net: number; legs: { close: string; open: string; qty: number }[]; text: string } }).roll;
    assert.deepEqual([roll.kind, roll.from, roll.to], ['roll', '2026-02-20', '2026-03-20']);
    assert.deepEqual(roll.legs.map((l) => [l.close, l.open, l.qty]), [
      ['XOM 2026-02-20 120 C', 'XOM 2026-03-20 120 C', -1],
      ['XOM 2026-02-20 100 P', 'XOM 2026-03-20 100 P', -1],
    ]);
    assert.equal(typeof roll.net, 'number');
  });

  test('the text shows the roll that would keep a flagged strategy (not sent)', async () => {
    const r = await runLegguard(['risk', '--scenario', XOM, '--at', '2026-02-12T10:00:00-05:00'], { cwd: ROOT });
    assert.equal(r.code, 1, r.err);
    assert.match(r.out, /\n {2}to keep the position instead \(shown, not sent\): roll XOM 2026-02-20 -> 2026-03-20: buy 1 XOM 2026-02-20 120 C at \d+\.\d\d, .*; net (credit|debit) \d+\.\d\d \((market|model|market and model) prices\)\n/);
  });

  test('at the start (XOM 110): nothing at risk, exit 0, the text names each short leg', async () => {
    const r = await runLegguard(['risk', '--scenario', XOM], { cwd: ROOT });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /-1 XOM 2026-02-20 120 C\n {4}ex-dividend-call: CLEAR/);
    assert.match(r.out, /-1 XOM 2026-02-20 100 P\n {4}deep-itm-put: CLEAR/);
    assert.match(r.out, /nothing at risk\n$/);
    assert.doesNotMatch(r.out, /to keep the position/, 'no roll when nothing is flagged');
  });

  test('bad input: exit 2 with a clear message', async () => {
    for (const [args, re] of [
      [['risk'], /give --config FILE \(the running broker, read only\) or --scenario FILE/],
      [['risk', '--scenario', XOM, '--at', 'tomorrow'], /--at must be a time with a UTC offset/],
      [['risk', '--scenario', XOM, '--at', '2027-01-01T10:00:00-05:00'], /is outside the scenario/],
      [['risk', '--scenario', 'scenarios/none.yaml'], /none\.yaml/],
      [['risk', '--config', 'legguard.yaml', '--scenario', XOM], /--scenario belongs to --scenario|--config reads the running broker/],
      [['risk', '--scenario', XOM, '--client-id', '5'], /--client-id only with --config/],
      [['risk', '--config', 'examples/drill.yaml', '--client-id', 'x'], /--client-id must be a whole number/],
      [['risk', '--config', 'examples/drill.yaml', '--client-id', '17'], /is the guard's own/],
      [['risk', '--config', 'examples/drill.yaml', '--timeout', '0'], /--timeout must be seconds/],
      [['risk', '--config', 'nowhere.yaml'], /nowhere\.yaml/],
    ] as const) {
      const r = await runLegguard(args, { cwd: ROOT });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
      assert.match(r.err, re);
    }
  });
});
