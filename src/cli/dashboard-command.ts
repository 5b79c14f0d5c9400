import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { channelSecrets } from '../adapters/alerts/build-channels.js';
import { Redactor } from '../adapters/alerts/redactor.js';
import { urlPassword } from '../adapters/store/redact-url.js';
import { DEFAULT_CONFIG_FILE } from '../app/config.js';
import { LegguardError } from '../core/errors.js';
import { startHttpEdge } from '../web/http-edge.js';
import type { Command } from './command.js';
import { defaultStoreDeps, describeStore, openCommandStore, STORE_FLAGS, storeCommandConfig, storeOptions, type StoreDeps } from './command-store.js';
import { DEFAULT_DATA_DIR } from './ack-command.js';
import { parseCommandArgs } from './parse-args.js';
import { httpEdgeOptions } from './run-command.js';

/** Where `legguard dashboard` listens when neither `--http` nor the config's `http.listen` says. */
export const DEFAULT_DASHBOARD_LISTEN = '127.0.0.1:8765';

/**
 * `legguard dashboard [--config FILE | --data-dir DIR] [--account ID] [--http HOST:PORT]`: the dashboard read-only over
 * a store when no guard runs (the record a replay or a drill leaves, or a stopped guard's). With only a data directory,
 * the account is the one the store holds strategies for. Runs until Ctrl-C / SIGTERM.
 */
export function dashboardCommand(deps: StoreDeps & { readonly stop?: AbortSignal } = defaultStoreDeps): Command {
  const usage = `legguard dashboard [--config ${DEFAULT_CONFIG_FILE} | --data-dir DIR] [--account ID] [--http HOST:PORT, default ${DEFAULT_DASHBOARD_LISTEN}]   (Postgres: DATABASE_URL)`;
  return {
    name: 'dashboard',
    summary: 'the dashboard, read-only over a store (a replay\'s or a stopped guard\'s record)',
    usage,
    async run(args, io) {
      const { values, positionals } = parseCommandArgs('dashboard', args, { ...STORE_FLAGS, http: { type: 'string' } });
      if (positionals.length > 0) throw new LegguardError('INVALID_INPUT', `dashboard takes no arguments; usage: ${usage}`);
      const str = (k: string): string | undefined => (typeof values[k] === 'string' ? values[k] : undefined);
      const now = deps.clock.now();
      let account = str('account');
      if (account === undefined && str('config') === undefined && !existsSync(resolve(io.cwd, DEFAULT_CONFIG_FILE))) {
        account = await onlyAccount({ dataDir: resolve(io.cwd, str('data-dir') ?? DEFAULT_DATA_DIR), databaseUrl: io.env.DATABASE_URL ?? '' }, deps);
      }
      const config = await storeCommandConfig({ ...values, ...(account !== undefined ? { account } : {}) }, io, now);
      const http = httpEdgeOptions(str('http') ?? config.http.listen ?? DEFAULT_DASHBOARD_LISTEN, config, io.env);
      if (http === null) throw new LegguardError('INTERNAL', 'no address for the dashboard');
      const opts = storeOptions(config);
      const store = await openCommandStore(opts, deps, false, io);
      const redactor = new Redactor([...channelSecrets(config.alerts, io.env), config.databaseUrl !== null ? urlPassword(config.databaseUrl) : null, http.token]);
      try {
        // Loaded here, not at the top: the metrics module brings prom-client, which no other command needs.
        const { storeEdgeApi } = await import('../web/store-edge-api.js');
        const edge = await startHttpEdge({
          address: http.address,
          token: http.token,
          tokenEnv: http.tokenEnv,
          api: storeEdgeApi(store, config, describeStore(opts), deps.clock, config.account),
          redact: (t) => redactor.redact(t),
          log: (level, text) => io.stderr.write(`${level}: ${redactor.redact(text)}\n`),
        });
        io.stdout.write(`legguard dashboard (read-only) for ${config.account} on ${edge.url}/ over ${describeStore(opts)}; Ctrl-C stops it\n`);
        await new Promise<void>((done) => {
          const finish = (): void => {
            process.off('SIGINT', finish);
            process.off('SIGTERM', finish);
            done();
          };
          process.on('SIGINT', finish);
          process.on('SIGTERM', finish);
          deps.stop?.addEventListener('abort', finish, { once: true });
        });
        await edge.close();
        return 0;
      } finally {
        await store.close();
      }
    },
  };
}

/** The account a store holds strategies for, when it is one; else INVALID_INPUT naming them. */
async function onlyAccount(opts: { dataDir: string; databaseUrl: string }, deps: StoreDeps): Promise<string> {
  const store = await openCommandStore(opts, deps, false);
  try {
    const accounts = [...new Set((await store.listStrategies(null)).map((r) => r.definition.account as string))].sort();
    if (accounts.length === 1) return accounts[0]!;
    throw new LegguardError(
      'INVALID_INPUT',
      accounts.length === 0 ? `the store in ${opts.dataDir} has no strategies: give --account` : `the store holds several accounts (${accounts.join(', ')}): give --account`,
    );
  } finally {
    await store.close();
  }
}
