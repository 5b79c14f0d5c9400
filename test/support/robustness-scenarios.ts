import { ironCondor } from './play.js';

/**
 * Scenarios the robustness tests replay through a `JumbledBroker` and across engine restarts. Each ends in one
 * state whatever the delivery order, so a run with mangled delivery can be compared with a clean one.
 */
export const ROBUSTNESS_SCENARIOS = {
  /** Seed scenario 1: both short puts assigned at 02:30; stock hedged at 04:00, options at the open, wing expires. */
  condorAssigned: `
name: condor, short puts assigned overnight
start: "2026-01-26T09:30:00-05:00"
account: DU0000001
underlyings: { SPY: { price: 445.00, volatility: 0.18 } }
strategies:
${ironCondor('ic')}
events:
  - { at: "2026-01-27T10:00:00-05:00", price: { SPY: 436.10 } }
  - { at: "2026-01-28T02:30:00-05:00", assign: { symbol: SPY, right: P, strike: 440, expiry: "2026-01-30", qty: 2 } }
until: "2026-01-31T03:00:00-05:00"
`,
  /** Closing orders fill half at a time, then in full from 09:31: many statuses and executions per order. */
  partialFills: `
name: strangle closed through partial fills
start: "2026-01-26T09:30:00-05:00"
account: DU0000001
underlyings: { SPY: { price: 445.00, volatility: 0.18 } }
strategies:
  - id: strangle
    legs:
      - { symbol: SPY, right: P, strike: 440, expiry: "2026-02-20", qty: -4 }
      - { symbol: SPY, right: C, strike: 455, expiry: "2026-02-20", qty: -4 }
fills: { mode: partial, fraction: 0.5 }
events:
  - { at: "2026-01-27T10:00:00-05:00", price: { SPY: 436.00 } }
  - { at: "2026-01-28T02:30:00-05:00", assign: { symbol: SPY, right: P, strike: 440, expiry: "2026-02-20", qty: 1 } }
  - { at: "2026-01-28T09:31:00-05:00", fills: { mode: immediate } }
until: "2026-01-28T12:00:00-05:00"
`,
  /**
   * Foreign executions: the broker liquidates a long put (the rest is closed) while another strategy on the same
   * underlying, untouched, sees the account holder buy shares outside any strategy.
   */
  liquidationAndManual: `
name: liquidation beside a manual trade
start: "2026-01-26T09:30:00-05:00"
account: DU0000001
underlyings: { SPY: { price: 445.00, volatility: 0.18 } }
strategies:
  - id: put-spread
    legs:
      - { symbol: SPY, right: P, strike: 440, expiry: "2026-02-20", qty: -2 }
      - { symbol: SPY, right: P, strike: 430, expiry: "2026-02-20", qty: 2 }
  - id: call-spread
    legs:
      - { symbol: SPY, right: C, strike: 460, expiry: "2026-02-20", qty: -1 }
      - { symbol: SPY, right: C, strike: 470, expiry: "2026-02-20", qty: 1 }
events:
  - { at: "2026-01-27T10:00:00-05:00", trade: { symbol: SPY, secType: STK, qty: 100 } }
  - { at: "2026-01-27T10:00:00-05:00", liquidate: { symbol: SPY, right: P, strike: 430, expiry: "2026-02-20", qty: 2 } }
until: "2026-01-27T11:00:00-05:00"
`,
  /** Closing orders fill 30 s after they are sent, so they work for a while: room for faults while they do. */
  delayedFills: `
name: condor closed with delayed fills
start: "2026-01-26T09:30:00-05:00"
account: DU0000001
underlyings: { SPY: { price: 445.00, volatility: 0.18 } }
strategies:
${ironCondor('ic')}
guard: { fillTimeoutMs: 120000 }
fills: { mode: delayed, delayMs: 30000 }
events:
  - { at: "2026-01-27T10:00:00-05:00", price: { SPY: 436.10 } }
  - { at: "2026-01-28T02:30:00-05:00", assign: { symbol: SPY, right: P, strike: 440, expiry: "2026-01-30", qty: 2 } }
until: "2026-01-28T11:00:00-05:00"
`,
} as const;

export type RobustnessScenario = keyof typeof ROBUSTNESS_SCENARIOS;
