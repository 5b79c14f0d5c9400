import { test } from 'node:test';
import { loadScenario } from '../src/adapters/sim/load-scenario.js';
import { MemoryStore } from '../src/adapters/store/memory-store.js';
import { replay } from '../src/app/replay.js';
test('x', async () => {
  const store = new MemoryStore(); await store.init();
  const r = await replay({ scenario: await loadScenario('scenarios/short-call-assigned-ex-dividend.yaml'), store });
  console.log(JSON.stringify(r.report.detections));
  for (const e of r.timeline.filter((e) => e.kind === 'note')) console.log(JSON.stringify(e).slice(0, 300));
  for (const o of r.report.orders) console.log(o.placedAt, o.status, o.avgFillPrice, o.legs.map((l) => `${l.action} ${l.qty} ${l.secType} ${l.strike ?? ''}${l.right ?? ''} pos ${l.positionBefore}`).join(' / '));
});
