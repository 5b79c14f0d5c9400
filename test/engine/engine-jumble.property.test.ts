// Property: however the broker's events are duplicated, shuffled and delayed (within the correlation window), and
// wherever the guard is stopped and restarted on the same store and broker, a scenario ends with the same holdings,
// states and account as its clean, uninterrupted run, and no order ref is ever sent twice.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GuardHarness, type FinalState } from '../support/guard-harness.js';
import { ROBUSTNESS_SCENARIOS, type RobustnessScenario } from '../support/robustness-scenarios.js';

const NAMES = Object.keys(ROBUSTNESS_SCENARIOS) as RobustnessScenario[];
const clean = new Map<RobustnessScenario, FinalState>();

async function cleanFinal(name: RobustnessScenario): Promise<FinalState> {
  let f = clean.get(name);
  if (!f) {
    const h = await GuardHarness.create(ROBUSTNESS_SCENARIOS[name]);
    await h.start();
    f = await h.finish();
    clean.set(name, f);
  }
  return f;
}

describe('jumbled delivery and restarts, property', () => {
  test('same end as the clean run, no ref sent twice, no fill crossing zero', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...NAMES),
        fc.record({
          seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }).map(String),
          duplicate: fc.double({ min: 0, max: 0.6, noNaN: true }),
          shuffle: fc.boolean(),
          holdBack: fc.double({ min: 0, max: 0.6, noNaN: true }),
          holdBackMs: fc.integer({ min: 0, max: 3_000 }),
          holdBackPositions: fc.double({ min: 0, max: 0.6, noNaN: true }),
        }),
        // Where in the run (a fraction of its span) the guard stops, and for how long; null: it never stops.
        fc.option(fc.record({ at: fc.double({ min: 0, max: 1, noNaN: true }), downMs: fc.integer({ min: 0, max: 45 * 60_000 }) }), { nil: null }),
        async (name, jumble, restart) => {
          const want = await cleanFinal(name);
          const h = await GuardHarness.create(ROBUSTNESS_SCENARIOS[name], { jumble });
          await h.start();
          if (restart) {
            const start = h.scenario.start;
            const stopAt = start + Math.floor(restart.at * (h.scenario.until - start));
            await h.runTo(new Date(stopAt).toISOString());
            await h.stop();
            await h.runTo(new Date(Math.min(stopAt + restart.downMs, h.scenario.until)).toISOString());
            await h.start();
          }
          const got = await h.finish();
          assert.deepEqual(got, want, `${name}: final state`);
          assert.deepEqual(h.broker.sentTwice(), [], `${name}: no ref twice\n${h.describeSent()}`);
          const races = h.alerts.raised.filter((a) => a.title.startsWith('RACE'));
          assert.deepEqual(races.map((a) => a.text), [], `${name}: no fill crossed zero`);
        },
      ),
      { numRuns: Number(process.env['LEGGUARD_ENGINE_PROPERTY_RUNS'] ?? 30) },
    );
  });
});
