import { IbBroker } from '../../src/adapters/ib/ib-broker.js';
import { simBackend } from '../../src/adapters/tws-sim/sim-backend.js';
import { TwsGateway } from '../../src/adapters/tws-sim/tws-gateway.js';
import { CONTRACT_WORLD, createContractSim, runBrokerContract } from '../contract/broker.contract.js';
import { OffsetClock } from '../tws-sim/harness.js';

let clientId = 0;

/**
 * The same broker contract the SimBroker passes, run against the IB adapter talking TWS protocol over loopback to
 * the sim gateway in front of a SimBroker. The adapter keeps real time (its waits are on a socket); the simulator
 * behind the gateway keeps the suite's virtual time, and execution times come from the wire.
 */
runBrokerContract('IB adapter via the sim gateway', async () => {
  const sim = createContractSim();
  const gateway = new TwsGateway({ backend: simBackend(sim) });
  const { port } = await gateway.start();
  const broker = new IbBroker({
    host: '127.0.0.1',
    port,
    clientId: ++clientId,
    account: CONTRACT_WORLD.account,
    clock: new OffsetClock(CONTRACT_WORLD.start),
    backoff: { initialMs: 20, maxMs: 200 },
    connectTimeoutMs: 5000,
    requestTimeoutMs: 5000,
  });
  return {
    broker,
    control: sim,
    teardown: async () => {
      await broker.disconnect();
      await gateway.stop();
    },
  };
});
