import { option, stock } from '../../core/contract.js';
import { LegguardError } from '../../core/errors.js';
import type { SimBroker } from '../sim/sim-broker.js';
import { LoginBroker } from './login-broker.js';
import type { ContractSpec, GatewayBackend } from './gateway-backend.js';

/**
 * The gateway's backend for legguard's simulator: the SimBroker itself, its clock, and contracts resolved against
 * its market (an underlying the scenario marks `kind: index` gets European, cash-settled options and no stock).
 */
export function simBackend(sim: SimBroker): GatewayBackend {
  return simLoginBackend([sim]);
}

/**
 * Several simulated accounts behind one login (`legguard sim-gateway --scenario a.yaml --scenario b.yaml`): one
 * `LoginBroker` over them; they share the first one's clock and market (contracts resolve against it).
 */
export function simLoginBackend(sims: readonly SimBroker[]): GatewayBackend {
  const sim = sims[0];
  if (sim === undefined) throw new LegguardError('INVALID_INPUT', 'the sim gateway needs at least one account');
  const login = sims.length === 1 ? null : new LoginBroker(sims);
  return {
    broker: login ?? sim,
    ...(login !== null ? { accounts: login.accounts } : {}),
    clock: sim.clock,
    resolve: (spec: ContractSpec) => {
      if (!sim.market.has(spec.symbol)) return null;
      const index = sim.market.isIndex(spec.symbol);
      if (spec.secType === 'STK') return index ? null : stock(spec.symbol, spec.currency);
      return option({
        symbol: spec.symbol,
        right: spec.right,
        strike: spec.strike,
        expiry: spec.expiry,
        ...(spec.multiplier !== null ? { multiplier: spec.multiplier } : {}),
        index,
        currency: spec.currency,
        ...(spec.tradingClass !== null && spec.tradingClass !== spec.symbol.toUpperCase() ? { tradingClass: spec.tradingClass } : {}),
      });
    },
  };
}
