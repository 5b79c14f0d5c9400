import { createContractSim, runBrokerContract } from '../contract/broker.contract.js';

// The simulated broker is its own simulator: the port under test and the control handle are the same object.
runBrokerContract('SimBroker', () => {
  const sim = createContractSim();
  return Promise.resolve({ broker: sim, control: sim, teardown: () => sim.disconnect() });
});
