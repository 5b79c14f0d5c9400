import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_CONFIG_FILE } from '../app/config.js';
import { formatNyTime } from '../adapters/alerts/format-alert.js';
import { TRADING_STATE_POLL_MS } from '../app/daemon.js';
import { checkBy, checkReason, setTradingState } from '../app/operator-actions.js';
import { LegguardError } from '../core/errors.js';
import type { TradingState } from '../core/gate.js';
import { TRADING_STATE_MEANING } from '../engine/trading-state-change.js';
import type { Command, CommandIo } from './command.js';
import { actingAccount, openAccountsStore } from './accounts-store.js';
import { defaultStoreDeps, describeStore, STORE_FLAGS, STORE_FLAGS_USAGE, type StoreDeps } from './command-store.js';
import { parseCommandArgs } from './parse-args.js';

const SUMMARY: Readonly<Record<TradingState, string>> = {
  HALTED: 'halt trading: nothing is sent, working orders are cancelled; closes are planned and held',
  REDUCING: 'reduce-only trading: only orders that reduce a position are sent (every close does)',
  ACTIVE: 'resume trading (ACTIVE): what was held is sent',
};

/**
 * `legguard halt|reduce-only|resume [--reason "..."] [--by name] [--account ID]`: sets one account's trading state in
 * the store the guard reads (as `strategies add` finds it): the config's account, or the one `--account` names (which
 * must be one the config or the store has; a store of several accounts with no config file needs it). A running guard reads it every second, takes it, journals and alerts
 * it; a guard started later starts in it. The change is journaled here too (who, why, when), in the same commit.
 * `halt` creates the store if there is none yet (a guard started later starts halted); the others need one.
 */
export function tradingStateCommand(name: 'halt' | 'reduce-only' | 'resume', state: TradingState, deps: StoreDeps = defaultStoreDeps): Command {
  const usage = `legguard ${name} [--reason "..."] [--by name] ${STORE_FLAGS_USAGE}`;
  return {
    name,
    summary: SUMMARY[state],
    usage,
    async run(args: readonly string[], io: CommandIo): Promise<number> {
      const { values, positionals } = parseCommandArgs(name, args, { ...STORE_FLAGS, reason: { type: 'string' }, by: { type: 'string' } });
      if (positionals.length > 0) throw new LegguardError('INVALID_INPUT', `${name} takes no arguments (got ${JSON.stringify(positionals[0])}); usage: ${usage}`);
      const reason = checkReason(typeof values.reason === 'string' ? values.reason : undefined);
      const by = checkBy(typeof values.by === 'string' ? values.by : (io.env.USER ?? io.env.LOGNAME ?? 'cli'));
      const now = deps.clock.now();
      // A halt may create the store (a guard started later starts halted), when it knows the account it is for.
      const named = typeof values.account === 'string' || typeof values.config === 'string' || existsSync(resolve(io.cwd, DEFAULT_CONFIG_FILE));
      const where = await openAccountsStore(values, io, deps, now, { create: state === 'HALTED' && named });
      const { store, options: opts } = where;
      try {
        const account = actingAccount(where, true);
        const { before } = await setTradingState(store, account, { state, reason, by, now, origin: 'cli', source: `legguard ${name}` });
        const lock = await store.lockHolder(account);
        const guard =
          lock !== null && now < lock.expiresAt
            ? `the running guard (${lock.owner}) takes it within ${TRADING_STATE_POLL_MS / 1000} s, journals and alerts it`
            : `no guard is running: the next one starts ${state}`;
        io.stdout.write(
          `trading ${state} for ${account} (${before.state === state ? 'it already was' : `was ${before.state}`}), set by ${by} ${formatNyTime(now)}` +
            `${reason !== null ? `: ${reason}` : ''}; in ${describeStore(opts)}\n${TRADING_STATE_MEANING[state]}\n${guard}\n`,
        );
        return 0;
      } finally {
        await store.close();
      }
    },
  };
}
