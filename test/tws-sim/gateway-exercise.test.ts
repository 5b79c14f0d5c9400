import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { simBackend } from '../../src/adapters/tws-sim/sim-backend.js';
import type { SimBroker } from '../../src/adapters/sim/sim-broker.js';
import { createContractSim, P435, SPY } from '../contract/broker.contract.js';
import { RawClient, startGateway, type RunningGateway } from './harness.js';

/**
 * EXERCISE_OPTIONS on the wire (message 21, server version 193): a well-formed request reaches the simulator behind
 * the gateway; a malformed one is answered with an IB error frame on its reqId, and the connection goes on.
 */
const ACCT = 'DU0000001';

function exercise(reqId: number, over: Partial<Record<'symbol' | 'secType' | 'expiry' | 'action' | 'qty' | 'override' | 'account', string>> = {}): string[] {
  return [
    '21', '2', String(reqId),
    '', over.symbol ?? 'SPY', over.secType ?? 'OPT', over.expiry ?? '20260130', '435', 'P', '100', 'SMART', 'USD', '', '',
    over.action ?? '1', over.qty ?? '1', over.account ?? ACCT, over.override ?? '0',
    '', '', '0',
  ];
}

describe('gateway: EXERCISE_OPTIONS', () => {
  let sim: SimBroker;
  let rg: RunningGateway;

  beforeEach(async () => {
    sim = createContractSim();
    sim.setPrice('SPY', 420);
    sim.setPosition(P435, 1);
    sim.setPosition(SPY, 100);
    rg = await startGateway(simBackend(sim));
  });

  afterEach(async () => {
    await rg.gw.stop();
  });

  test('a well-formed exercise reaches the simulator: the put is exercised, the shares delivered', async () => {
    const raw = await RawClient.started(rg.port, 1);
    raw.send(exercise(7));
    raw.send(['49', '1']);
    await raw.waitFor((f) => f[0] === '49');
    for (let i = 0; i < 20 && sim.position(P435) !== 0; i++) {
      await sim.advance(0);
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(sim.position(P435), 0);
    assert.equal(sim.position(SPY), 0);
    assert.deepEqual(raw.errors().filter(([id]) => id === 7), []);
    raw.close();
  });

  test('malformed requests: an IB error frame on the reqId naming the problem, nothing exercised, the connection goes on', async () => {
    const raw = await RawClient.started(rg.port, 1);
    raw.send(exercise(11).slice(0, 12)); // ends early
    raw.send(exercise(12, { action: '3' }));
    raw.send(exercise(13, { qty: '0' }));
    raw.send(exercise(14, { override: '2' }));
    raw.send(exercise(15, { symbol: 'NOPE' }));
    raw.send(exercise(16, { secType: 'STK', expiry: '' }));
    raw.send(exercise(17, { account: 'DU9999999' }));
    raw.send(exercise(18, { qty: '5' }));
    // The simulator delivers its refusal on its clock's next turn: pump it until the frame is there.
    const refused = raw.waitFor((f) => f[0] === '4' && f[2] === '18');
    let done = false;
    void refused.then(() => (done = true), () => (done = true));
    while (!done) {
      await sim.advance(0);
      await new Promise((r) => setTimeout(r, 5));
    }
    await refused;
    const errs = new Map(raw.errors().map(([id, code, text]) => [id, { code, text }]));
    assert.equal(errs.get(11)?.code, 320);
    assert.match(errs.get(11)!.text, /EXERCISE_OPTIONS/);
    assert.equal(errs.get(12)?.code, 321);
    assert.match(errs.get(12)!.text, /exerciseAction must be 1 \(exercise\) or 2 \(lapse\); got 3/);
    assert.match(errs.get(13)!.text, /exerciseQuantity must be a positive whole number/);
    assert.match(errs.get(14)!.text, /override must be 0 or 1/);
    assert.equal(errs.get(15)?.code, 200);
    assert.match(errs.get(16)!.text, /not an option/);
    assert.match(errs.get(17)!.text, /account DU9999999 is not managed/);
    // Well-formed, but more than the account holds: the simulator's refusal comes back on the request's id.
    assert.equal(errs.get(18)?.code, 321);
    assert.match(errs.get(18)!.text, /the account is long 1/);
    assert.equal(sim.position(P435), 1);
    assert.equal(sim.position(SPY), 100);
    raw.send(['49', '1']);
    await raw.waitFor((f) => f[0] === '49');
    raw.close();
  });
});
