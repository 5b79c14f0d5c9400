import { ackCommand } from './ack-command.js';
import { alertTestCommand } from './alert-test-command.js';
import type { Command } from './command.js';
import { configCheckCommand } from './config-check-command.js';
import { dashboardCommand } from './dashboard-command.js';
import { demoCommand } from './demo-command.js';
import { replayCommand } from './replay-command.js';
import { riskCommand } from './risk-command.js';
import { runCommand } from './run-command.js';
import { simGatewayCommand } from './sim-gateway-command.js';
import { statusCommand } from './status-command.js';
import { strategiesCommand } from './strategies-command.js';
import { tradingStateCommand } from './trading-state-command.js';

/** Every command, in the order `legguard help` lists them. Each lives in its own file. */
export function commands(): readonly Command[] {
  return [
    demoCommand(),
    replayCommand(),
    runCommand(),
    statusCommand(),
    dashboardCommand(),
    alertTestCommand(),
    ackCommand(),
    tradingStateCommand('halt', 'HALTED'),
    tradingStateCommand('reduce-only', 'REDUCING'),
    tradingStateCommand('resume', 'ACTIVE'),
    configCheckCommand(),
    riskCommand(),
    strategiesCommand(),
    simGatewayCommand(),
  ];
}
