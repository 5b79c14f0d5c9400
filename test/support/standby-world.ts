// The world every standby drill on PostgreSQL starts from: the condor assigned in hours as a scenario file, a schema
// of its own on the test server, the uninterrupted replay's outcome to compare with, the sim gateway, and a guard
// set-up pointing at both. What it creates is removed through `cleanups` (and the gateway stopped after the test).
import type { TestContext } from 'node:test';
import { rmSync } from 'node:fs';
import { parseScenario } from '../../src/adapters/sim/load-scenario.js';
import { GatewayProcess, guardSetup, replayOutcome } from './drill.js';
import { condorAssignedInHours, writeScenario } from './drill-scenarios.js';
import { testSchema } from './postgres.js';

export type Cleanup = () => Promise<void> | void;

export async function standbyWorld(t: TestContext, pgUrl: string, schema: string, cleanups: Cleanup[]) {
  const yaml = condorAssignedInHours({});
  const { file, dir } = writeScenario(yaml);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const s = testSchema(pgUrl, schema);
  cleanups.push(s.drop);
  const expected = await replayOutcome(parseScenario(yaml, file));
  const gw = await GatewayProcess.start(file);
  t.after(() => gw.stop());
  const setup = guardSetup(file, gw.port, { databaseUrl: s.url });
  cleanups.push(() => rmSync(setup.dir, { recursive: true, force: true }));
  return { file, expected, gw, setup, schemaUrl: s.url };
}
