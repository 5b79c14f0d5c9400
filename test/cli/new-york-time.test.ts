import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLegguard } from './cli-run.js';

const root = mkdtempSync(join(tmpdir(), 'legguard-ny-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** An instant written the machine way (`2026-01-28T09:00:00.000Z`, `...T04:00-05:00`): never what a person reads. */
const MACHINE_TIME = /\d{4}-\d\d-\d\dT\d\d:\d\d/;

describe('human output is in New York time throughout', () => {
  test('legguard demo (npm start): timeline, notes and summaries; no UTC instant anywhere', async () => {
    const r = await runLegguard(['demo', '--data-dir', join(root, 'demo')], { cwd: root, env: { NO_COLOR: '1' } });
    assert.equal(r.code, 0, r.err);
    const machine = r.out.split('\n').filter((l) => MACHINE_TIME.test(l));
    assert.deepEqual(machine, [], 'lines with a UTC / ISO instant');
    // The stock hedge found at 02:30 waits for the pre-market at 04:00 New York, the options for the 09:30 open.
    assert.match(r.out, /NOTE {6}ic-spy: SELL 200 SPY LMT [\d.]+ \(outside RTH\) waits for 2026-01-28 04:00:00 ET \(market closed\)\n/);
    assert.match(r.out, /NOTE {6}ic-spy: BUY 2 SPY 2026-01-30 460 C LMT [\d.]+ waits for 2026-01-28 09:30:00 ET \(market closed\)\n/);
    // The summary names when the broker posted the assignment the same way.
    assert.match(r.out, /\n {2}ic-spy: assignment EARLY reported 2026-01-28 02:30:00 ET; reaction [\d.]+ ms\n/);
  });
});
