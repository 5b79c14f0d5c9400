// A config file over CONFIG_OFF_THREAD_BYTES (thousands of strategies listed in it) is read on a worker thread:
// the same config, and the same errors, as read in the guard's own thread.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { stringify } from 'yaml';
import { CONFIG_OFF_THREAD_BYTES, loadConfig, parseConfig } from '../../src/app/config.js';
import { LegguardError } from '../../src/core/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'legguard-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const NOW = Date.parse('2026-01-26T10:00:00-05:00');

function condor(i: number, putStrike: number): Record<string, unknown> {
  const expiry = '2026-03-20';
  return {
    id: `ic-${i}`,
    legs: [
      { symbol: 'SPY', right: 'P', strike: putStrike, expiry, qty: -1 },
      { symbol: 'SPY', right: 'P', strike: putStrike - 5, expiry, qty: 1 },
      { symbol: 'SPY', right: 'C', strike: 500 + (i % 50), expiry, qty: -1 },
      { symbol: 'SPY', right: 'C', strike: 505 + (i % 50), expiry, qty: 1 },
    ],
  };
}

function write(name: string, strategies: Record<string, unknown>[]): string {
  const file = join(dir, name);
  writeFileSync(file, stringify({ account: 'DU0000001', dataDir: 'data', strategies }));
  assert.ok(readFileSync(file).length > CONFIG_OFF_THREAD_BYTES, `${name} is not over the off-thread size`);
  return file;
}

test('a large config read off the thread is the config read in it', async () => {
  const file = write('big.yaml', Array.from({ length: 2000 }, (_, i) => condor(i, 400 + (i % 30))));
  const got = await loadConfig(file, { LEGGUARD_X: '1' }, NOW);
  assert.equal(got.strategies.length, 2000);
  assert.deepEqual(got, parseConfig(readFileSync(file, 'utf8'), file, { LEGGUARD_X: '1' }, NOW));
});

test('a large config with a problem: the same CONFIG_INVALID, message and details as in the thread', async () => {
  const strategies = Array.from({ length: 2000 }, (_, i) => condor(i, 400 + (i % 30)));
  strategies[1234] = { id: 'ic-bad', legs: [{ symbol: 'SPY', right: 'X', strike: 400, expiry: '2026-03-20', qty: -1 }] };
  const file = write('bad.yaml', strategies);
  const inThread = (() => {
    try {
      parseConfig(readFileSync(file, 'utf8'), file, {}, NOW);
    } catch (e) {
      return e;
    }
    return null;
  })();
  assert.ok(LegguardError.is(inThread, 'CONFIG_INVALID'));
  await assert.rejects(loadConfig(file, {}, NOW), (e: unknown) => {
    assert.ok(LegguardError.is(e, 'CONFIG_INVALID'));
    assert.equal(e.message, inThread.message);
    assert.deepEqual(e.details, inThread.details);
    assert.match(e.message, /strategies\[1234\]/);
    return true;
  });
});
