import type { CommandEntry } from './command.js';

/**
 * Every command, in the order `legguard help` lists them. Each lives in its own file, loaded when it runs: a command
 * pays only for its own modules (`legguard status` loads no engine, `legguard run` no simulator or HTML report), and
 * `run` starts reading its config before the daemon's modules load.
 */
export function commands(): readonly CommandEntry[] {
  return [
    { name: 'demo', load: async () => (await import('./demo-command.js')).demoCommand() },
    { name: 'replay', load: async () => (await import('./replay-command.js')).replayCommand() },
    { name: 'run', load: async () => (await import('./run-command.js')).runCommand() },
    { name: 'status', load: async () => (await import('./status-command.js')).statusCommand() },
    { name: 'dashboard', load: async () => (await import('./dashboard-command.js')).dashboardCommand() },
    { name: 'alert', load: async () => (await import('./alert-test-command.js')).alertTestCommand() },
    { name: 'ack', load: async () => (await import('./ack-command.js')).ackCommand() },
    { name: 'halt', load: async () => (await import('./trading-state-command.js')).tradingStateCommand('halt', 'HALTED') },
    { name: 'reduce-only', load: async () => (await import('./trading-state-command.js')).tradingStateCommand('reduce-only', 'REDUCING') },
    { name: 'resume', load: async () => (await import('./trading-state-command.js')).tradingStateCommand('resume', 'ACTIVE') },
    { name: 'config', load: async () => (await import('./config-check-command.js')).configCheckCommand() },
    { name: 'risk', load: async () => (await import('./risk-command.js')).riskCommand() },
    { name: 'strategies', load: async () => (await import('./strategies-command.js')).strategiesCommand() },
    { name: 'sim-gateway', load: async () => (await import('./sim-gateway-command.js')).simGatewayCommand() },
  ];
}
