// `legguard halt`, `reduce-only` and `resume`: the account's trading state in the store a guard reads, journaled with
// who, why and when; `legguard status` shows it.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { openStore } from '../../src/adapters/store/open-store.js';
import { AccountId } from '../../src/core/ids.js';
import { EpochMs } from '../../src/core/quantity.js';
import type { StorePort } from '../../src/ports/store.js';
import { runLegguard } from './cli-run.js';

const ACCT = AccountId.unsafe('DU111');
const root = mkdtempSync(join(tmpdir(), 'legguard-trading-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
function workdir(): string {
  const dir = join(root, `w${++n}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'legguard.yaml'), stringify({ account: 'DU111' }));
  return dir;
}

async function withStore<T>(dir: string, fn: (s: StorePort) => Promise<T>): Promise<T> {
  const s = await openStore({ dataDir: join(dir, 'data') });
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

describe('legguard halt, reduce-only, resume', () => {
  test('halt (no store yet: created), reduce-only, resume: each prints the new state, stores it and journals who, why, when', async () => {
    const dir = workdir();
    const env = { USER: 'alice' };
    const h = await runLegguard(['halt', '--reason', 'vol spike, checking positions'], { cwd: dir, env });
    assert.equal(h.err, '');
    assert.equal(h.code, 0);
    assert.match(h.out, new RegExp(`^trading HALTED for DU111 \\(was ACTIVE\\), set by alice \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d ET: vol spike, checking positions; in SQLite ${dir}/data/legguard\\.db\\n`));
    assert.match(h.out, /\nnothing is sent: working orders are cancelled;.*\nno guard is running: the next one starts HALTED\n$/);
    await withStore(dir, async (s) => {
      const t = await s.tradingState(ACCT);
      assert.deepEqual([t.state, t.by, t.reason], ['HALTED', 'alice', 'vol spike, checking positions']);
      assert.ok(t.at !== null && Math.abs(t.at - Date.now()) < 600_000, 'when: now');
    });

    const st = await runLegguard(['status'], { cwd: dir });
    assert.equal(st.code, 0, st.err);
    assert.match(st.out, /\ntrading: HALTED \(set by alice .* ET: vol spike, checking positions\): nothing is sent/);

    const r = await runLegguard(['reduce-only', '--by', 'bob'], { cwd: dir, env });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^trading REDUCING for DU111 \(was HALTED\), set by bob .* ET; in SQLite/);
    const again = await runLegguard(['reduce-only'], { cwd: dir, env });
    assert.match(again.out, /^trading REDUCING for DU111 \(it already was\), set by alice/);
    const a = await runLegguard(['resume', '--reason', 'all clear'], { cwd: dir, env });
    assert.equal(a.code, 0, a.err);
    assert.match(a.out, /^trading ACTIVE for DU111 \(was REDUCING\), set by alice .*: all clear; in SQLite/);
    await withStore(dir, async (s) => {
      assert.equal((await s.tradingState(ACCT)).state, 'ACTIVE');
      const journal = await s.journal({ account: ACCT, types: ['trading-state'] });
      const rows = journal.map((j) => {
        const d = j.data as Record<string, unknown>;
        return [d.from, d.to, d.by, d.reason, d.source];
      });
      // The repeated reduce-only is journaled too (its own time in the key); the changes, in order:
      assert.deepEqual(
        rows.filter((x) => x[0] !== x[1]),
        [
          ['ACTIVE', 'HALTED', 'alice', 'vol spike, checking positions', 'legguard halt'],
          ['HALTED', 'REDUCING', 'bob', null, 'legguard reduce-only'],
          ['REDUCING', 'ACTIVE', 'alice', 'all clear', 'legguard resume'],
        ],
      );
    });
  });

  test('a running guard (a live lock) is told it takes the change within a second', async () => {
    const dir = workdir();
    assert.equal((await runLegguard(['halt'], { cwd: dir })).code, 0);
    await withStore(dir, (s) => s.acquireLock(ACCT, 'guard-host/4242', EpochMs.unsafe(Date.now()), 60_000));
    const r = await runLegguard(['resume'], { cwd: dir });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /\nthe running guard \(guard-host\/4242\) takes it within 1 s, journals and alerts it\n$/);
  });

  test('refused: resume or reduce-only with no store (NOT_FOUND, none created), an argument, a reason with a control character', async () => {
    const dir = workdir();
    const r = await runLegguard(['resume'], { cwd: dir });
    assert.equal(r.code, 3, r.err);
    assert.match(r.err, /^legguard resume: no legguard database at .*legguard\.db/);
    assert.equal(existsSync(join(dir, 'data', 'legguard.db')), false, 'none created');
    const arg = await runLegguard(['halt', 'now'], { cwd: dir });
    assert.equal(arg.code, 2);
    assert.match(arg.err, /halt takes no arguments \(got "now"\)/);
    const bad = await runLegguard(['halt', '--reason', 'a\nb'], { cwd: dir });
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--reason must be 1-500 printable characters on one line/);
    assert.equal(existsSync(join(dir, 'data', 'legguard.db')), false, 'nothing written');
  });
});
