// Scenario files for drills with real processes (the gateway reads a file). Each ends in one state whatever the
// timing of the guard within a few minutes of scenario time, so a drill can be compared with the replay.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * An iron condor (all legs bid, expiring in three weeks) whose two short puts are assigned at 10:00, in regular
 * hours: the close goes out at once as three orders (the stock, the call spread as a combo, the long put). The time
 * from `start` (New York, default 09:40) leaves room for a guard process to start; `fills` sets the broker's fill
 * model, `extra` adds events (after the assignment), `fillTimeoutMs` how long a closing order may rest unfilled.
 */
export function condorAssignedInHours(opts: { start?: string; fills?: string; extra?: string; fillTimeoutMs?: number }): string {
  const { start = '09:40', fills = 'immediate', extra = '', fillTimeoutMs = 120_000 } = opts;
  return `name: condor assigned in regular hours (drill)
start: "2026-01-28T${start}:00-05:00"
account: DU0000001
underlyings: { SPY: { price: 436.10, volatility: 0.18 } }
strategies:
  - id: ic
    legs:
      - { symbol: SPY, right: P, strike: 440, expiry: "2026-02-20", qty: -2 }
      - { symbol: SPY, right: P, strike: 430, expiry: "2026-02-20", qty: 2 }
      - { symbol: SPY, right: C, strike: 450, expiry: "2026-02-20", qty: -2 }
      - { symbol: SPY, right: C, strike: 455, expiry: "2026-02-20", qty: 2 }
guard: { onAssignment: close, timeExitDte: 1, fillTimeoutMs: ${fillTimeoutMs} }
fills: { mode: ${fills} }
events:
  - { at: "2026-01-28T10:00:00-05:00", assign: { symbol: SPY, right: P, strike: 440, expiry: "2026-02-20", qty: 2 } }
${extra}until: "2026-01-28T12:00:00-05:00"
`;
}

/**
 * Seed scenario 1 cut to the night that matters: the condor's short puts are assigned at 02:30 (posted while the
 * guard cannot hear, when `events` takes the connection down), the stock is hedged from 04:00, the options closed at
 * the open. It starts the evening before (`start`, New York on the 27th), leaving real time for a guard process to
 * start and connect.
 */
export function condorAssignedOvernight(opts: { start?: string; events?: string }): string {
  const { start = '18:00', events = '' } = opts;
  return `name: condor assigned overnight (drill)
start: "2026-01-27T${start}:00-05:00"
account: DU0000001
underlyings: { SPY: { price: 436.10, volatility: 0.18 } }
strategies:
  - id: ic
    legs:
      - { symbol: SPY, right: P, strike: 440, expiry: "2026-02-20", qty: -2 }
      - { symbol: SPY, right: P, strike: 430, expiry: "2026-02-20", qty: 2 }
      - { symbol: SPY, right: C, strike: 450, expiry: "2026-02-20", qty: -2 }
      - { symbol: SPY, right: C, strike: 455, expiry: "2026-02-20", qty: 2 }
guard: { onAssignment: close, timeExitDte: 1 }
events:
${events}  - { at: "2026-01-28T02:30:00-05:00", assign: { symbol: SPY, right: P, strike: 440, expiry: "2026-02-20", qty: 2 } }
until: "2026-01-28T10:30:00-05:00"
`;
}

/** Writes `yaml` to a scenario file in a fresh temporary directory; returns its path and the directory. */
export function writeScenario(yaml: string): { file: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'legguard-scenario-'));
  const file = join(dir, 'scenario.yaml');
  writeFileSync(file, yaml);
  return { file, dir };
}
