// guard.newPositions (issue 13): what the account holder opens while the guard runs, on contracts no strategy holds,
// is grouped and guarded at once (adopt), named in an alert (propose), or left outside (ignore).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MemoryStore } from '../../src/adapters/store/memory-store.js';
import { play } from '../support/play.js';

const FILE = new URL('../../scenarios/iron-condor-opened-while-guarding.yaml', import.meta.url);
const YAML = readFileSync(FILE, 'utf8');
const TRADE_AT = Date.parse('2026-01-26T10:00:00-05:00');
const ID = 'spy-iron-condor-2026-01-30';

const withMode = (mode: string): string => YAML.replace('newPositions: adopt }', `newPositions: ${mode} }`);

describe('guard.newPositions', () => {
  test('adopt: an iron condor opened as one combo order is guarded within a second, and its assignment is handled', async () => {
    const store = new MemoryStore();
    await store.init();
    const r = await play(YAML, { file: 'scenarios/iron-condor-opened-while-guarding.yaml', store });
    const open = r.timeline.find((e) => e.kind === 'state' && e.strategyId === ID && e.to === 'OPEN');
    assert.ok(open, 'the condor became OPEN');
    assert.ok(open.at - TRADE_AT <= 1_000, `guarded ${open.at - TRADE_AT} ms after the fill`);
    const guarding = r.report.alerts.find((a) => a.title === `NOW GUARDING: ${ID}`);
    assert.ok(guarding, 'an info alert says so');
    assert.equal(guarding.severity, 'info');
    assert.match(guarding.text, /^now guarding spy-iron-condor-2026-01-30 \(iron-condor\): -2 SPY 2026-01-30 460 C, \+2 SPY 2026-01-30 465 C, \+2 SPY 2026-01-30 435 P, -2 SPY 2026-01-30 440 P, opened by the account holder as one combo order; OPEN\.$/);
    const s = r.report.strategies.find((x) => x.id === ID);
    assert.ok(s);
    assert.equal(s.kind, 'iron-condor');
    assert.equal(s.state, 'CLOSED');
    assert.equal(s.broken?.cause, 'assignment');
    assert.deepEqual(s.holdings, []);
    assert.deepEqual(r.report.positions, [], 'the account is flat');
    const journaled = (await store.journal({ account: r.run.scenario.account, types: ['note'] })).filter((j) => (j.data as { kind?: string }).kind === 'new-positions');
    assert.deepEqual(journaled.map((j) => j.strategyId), [ID]);
    await store.close();
  });

  test('propose: an alert names the proposal; nothing is guarded, the assignment only alerts', async () => {
    const r = await play(withMode('propose'));
    assert.deepEqual(r.report.strategies, []);
    const a = r.report.alerts.find((x) => x.title.startsWith('NEW POSITIONS'));
    assert.ok(a);
    assert.match(a.text, /spy-iron-condor-2026-01-30 \(iron-condor: .*\)\. Guard it with `legguard strategies discover --apply`\./);
  });

  test('ignore: nothing is guarded and nothing is said', async () => {
    const r = await play(withMode('ignore'));
    assert.deepEqual(r.report.strategies, []);
    assert.equal(r.report.alerts.filter((x) => x.title.startsWith('NEW POSITIONS') || x.title.startsWith('NOW GUARDING')).length, 0);
  });

  test("a trade on a contract a strategy holds keeps today's handling: no new strategy", async () => {
    const yaml = YAML.replace(
      'events:\n',
      `strategies:\n  - id: csp\n    legs:\n      - { symbol: SPY, right: P, strike: 440, expiry: "2026-01-30", qty: -1 }\nevents:\n`,
    );
    const r = await play(yaml);
    assert.deepEqual(
      r.report.strategies.map((s) => s.id),
      ['csp'],
    );
  });
});
