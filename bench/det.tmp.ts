import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { isOption, type OptionContract } from '../src/core/contract.js';
import { benchStore, benchStrategies, benchWorld } from './bench-world.js';
const { store, dispose } = await benchStore('memory');
const w = await benchWorld(benchStrategies(10_000, { verticals: 0.4 }), store);
let next = 0;
function victim(): OptionContract {
  const ids = [...w.engine.strategies.values()];
  for (let k = 0; k < ids.length; k++) {
    const index = (next + k) % ids.length; const rt = ids[index]!;
    if (rt.state !== 'OPEN') continue;
    for (const leg of rt.def.legs) if (leg.qty < 0 && isOption(leg.contract) && w.broker.position(leg.contract) < 0) { next = index + 1; return leg.contract; }
  }
  throw new Error('none');
}
for (let i = 0; i < 10; i++) { w.broker.postAssignment(victim(), 1); await w.advance(15_000); }
const s = new Session(); s.connect(); await s.post('Profiler.enable'); await s.post('Profiler.setSamplingInterval', { interval: 50 }); await s.post('Profiler.start');
const from = w.timeline.length;
for (let i = 0; i < 200; i++) { w.broker.postAssignment(victim(), 1); await w.advance(15_000); }
const { profile } = await s.post('Profiler.stop');
writeFileSync('/tmp/prof/det.cpuprofile', JSON.stringify(profile));
const lat = w.timeline.slice(from).flatMap((e) => (e.kind === 'latency' ? [e.latencyMs] : [])).sort((a, b) => a - b);
console.log('n', lat.length, 'median', lat[Math.floor(lat.length / 2)], 'p99', lat[Math.floor(lat.length * 0.99)]);
await dispose();
