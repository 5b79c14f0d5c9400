// What an incident cost survives a restart of the guard in the middle of its close: the engine keeps the cost as it
// goes in the journal (the marks before and after the break, the break's cash, each order's mids, each fill with the
// broker's commission report) and a new engine on the same SQLite file reads it back. The restarted guard closes
// through other orders than an uninterrupted one would (it re-plans what is left), so the cost is checked against
// the broker's own record: every execution of the guard's orders, before the stop and after, with its commission;
// the marks before the break and the break's cash are the same as without the stop. The closing alert says the cost.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_COMMISSIONS } from '../../src/adapters/sim/sim-broker.js';
import { openStore } from '../../src/adapters/store/open-store.js';
import { isOption } from '../../src/core/contract.js';
import { describeCost, type IncidentCost } from '../../src/core/incident-cost.js';
import { GuardHarness } from '../support/guard-harness.js';
import { ROBUSTNESS_SCENARIOS } from '../support/robustness-scenarios.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Outcome {
  /** The newest incident-cost note per incident, as `status` reads it. */
  readonly costs: Map<string, IncidentCost>;
  /** The text of each alert that said an incident's close was over. */
  readonly closing: string[];
  readonly h: GuardHarness;
  /** From the broker's record: the guard's executions, the cash they moved and their commissions. */
  readonly broker: { readonly fills: number; readonly realized: number; readonly commissions: number; readonly before: number };
}

async function brokerRecord(h: GuardHarness, stopAt: string): Promise<Outcome['broker']> {
  const snap = await h.run.broker.snapshot({ executionsSince: null });
  const own = snap.executions.filter((x) => x.orderRef?.startsWith('lg/'));
  const c = DEFAULT_COMMISSIONS;
  const round2 = (x: number): number => Math.round(x * 100) / 100;
  return {
    fills: own.length,
    realized: round2(own.reduce((n, x) => n - (x.side === 'BUY' ? 1 : -1) * x.qty * x.price * (isOption(x.contract) ? x.contract.multiplier : 1), 0)),
    commissions: round2(own.reduce((n, x) => n + Math.max(c.minimum, x.qty * (isOption(x.contract) ? c.perOptionContract : c.perShare)), 0)),
    before: own.filter((x) => x.tsEvent <= Date.parse(stopAt)).length,
  };
}

async function play(yaml: string, restart: { stopAt: string; restartAt: string } | null, stopAt: string): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'legguard-cost-'));
  dirs.push(dir);
  const h = await GuardHarness.create(yaml, { openStore: () => openStore({ dataDir: dir }) });
  await h.start();
  if (restart !== null) {
    await h.runTo(restart.stopAt);
    await h.stop({ reopen: true });
    await h.runTo(restart.restartAt);
    await h.start();
  }
  await h.finish();
  const broker = await brokerRecord(h, stopAt);
  const store = await openStore({ dataDir: dir });
  try {
    const costs = new Map<string, IncidentCost>();
    for (const n of await store.journal({ account: h.scenario.account, types: ['note'] })) {
      const d = n.data as { kind?: string; cost?: IncidentCost };
      if (d.kind === 'incident-cost' && n.incidentId !== null) costs.set(n.incidentId, d.cost!);
    }
    const closing = h.alerts.raised.filter((a) => /^(closed|flat):/.test(a.key) || (a.key.startsWith('expired:') && a.incidentId !== null)).map((a) => a.text);
    return { costs, closing, h, broker };
  } finally {
    await store.close();
  }
}

for (const [name, yaml, stopAt, restartAt] of [
  // Half of each closing order filled at 09:30, the guard gone half a second later, back at 09:30:30.
  ['partial fills', ROBUSTNESS_SCENARIOS.partialFills, '2026-01-28T09:30:00.500-05:00', '2026-01-28T09:30:30-05:00'],
  // The assigned stock sold at 04:00, the options still to close at 09:30: the guard is down from 05:00 to 06:00.
  ['condor assigned', ROBUSTNESS_SCENARIOS.condorAssigned, '2026-01-28T05:00:00-05:00', '2026-01-28T06:00:00-05:00'],
] as const) {
  test(`${name}: stopped mid-close and started again, the whole cost is reported, as without the stop`, async () => {
    const whole = await play(yaml, null, stopAt);
    const restarted = await play(yaml, { stopAt, restartAt }, stopAt);
    assert.ok(restarted.broker.before > 0, 'some closing fills came before the stop');
    assert.ok(restarted.broker.fills > restarted.broker.before, 'and some after the restart');
    for (const o of [whole, restarted]) {
      assert.equal(o.costs.size, 1, 'one incident, costed');
      const [cost] = [...o.costs.values()];
      assert.equal(cost!.orders.reduce((n, x) => n + x.fills, 0), o.broker.fills, 'every execution of the guard, before the stop and after');
      assert.equal(cost!.realized, o.broker.realized, 'the cash they moved');
      assert.equal(cost!.commissions, o.broker.commissions, 'their commissions, as the broker reported them');
      assert.equal(cost!.commissionsPending, 0);
      assert.ok(cost!.total !== null && cost!.valueBeforeBreak !== null && cost!.breakCash !== null && cost!.leftAtMark !== null, JSON.stringify(cost));
      assert.equal(cost!.total, Math.round((cost!.breakCash + cost!.realized - cost!.commissions + cost!.leftAtMark - cost!.valueBeforeBreak) * 100) / 100);
    }
    const [incident, cost] = [...whole.costs][0]!;
    const again = restarted.costs.get(incident)!;
    assert.ok(again, `the restarted guard kept the cost of ${incident}`);
    assert.deepEqual(again.beforeBreak, cost.beforeBreak, 'the marks before the break, kept across the restart');
    assert.equal(again.valueBeforeBreak, cost.valueBeforeBreak);
    assert.equal(again.breakCash, cost.breakCash);
    assert.deepEqual(again.held, cost.held);
    // The alert that ends the incident says what it cost. It goes out on the last fill, which its commission report
    // follows: a report not in yet is said, and the note status reads has it once it comes.
    for (const o of [whole, restarted]) {
      const final = [...o.costs.values()][0]!;
      assert.equal(o.closing.length, 1, o.closing.join('\n'));
      const m = /cost: (-?)\$([\d,.]+) against closing at the last marks before the break .* \(\$[\d,.]+ slippage vs mid, \$([\d,.]+) commissions(, (\d+) fills? not yet reported)?\)/.exec(o.closing[0]!);
      assert.ok(m, o.closing[0]);
      const num = (x: string): number => Number(x.replaceAll(',', ''));
      const alertTotal = (m[1] === '-' ? -1 : 1) * num(m[2]!);
      const alertCommissions = num(m[3]!);
      assert.equal(Math.round((alertTotal - (final.commissions! - alertCommissions)) * 100) / 100, final.total, `${o.closing[0]}\nfinal: ${describeCost(final)}`);
      if (m[5] === undefined) assert.equal(alertCommissions, final.commissions);
    }
  });
}
