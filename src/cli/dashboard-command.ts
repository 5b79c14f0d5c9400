import { Redactor } from '../adapters/alerts/redactor.js';
import { configSecrets } from '../app/config-secrets.js';
import { DEFAULT_CONFIG_FILE } from '../app/config.js';
import { LegguardError } from '../core/errors.js';
import { startHttpEdge } from '../web/http-edge.js';
import type { Command } from './command.js';
import { openAccountsStore, readAccounts } from './accounts-store.js';
import { defaultStoreDeps, describeStore, STORE_FLAGS, type StoreDeps } from './command-store.js';
import { parseCommandArgs } from './parse-args.js';
import { httpEdgeOptions } from './run-command.js';

/** Where `legguard dashboard` listens when neither `--http` nor the config's `http.listen` says. */
export const DEFAULT_DASHBOARD_LISTEN = '127.0.0.1:8765';

/**
 * `legguard dashboard [--config FILE | --data-dir DIR] [--account ID] [--http HOST:PORT]`: the dashboard read-only over
 * a store when no guard runs (the record a replay or a drill leaves, or a stopped guard's), for every account the
 * store holds (the page has an account selector; the API takes `?account=`), or only the one `--account` names.
 * Runs until Ctrl-C / SIGTERM.
 */
export function dashboardCommand(deps: StoreDeps & { readonly stop?: AbortSignal } = defaultStoreDeps): Command {
  const usage = `legguard dashboard [--config ${DEFAULT_CONFIG_FILE} | --data-dir DIR] [--account ID] [--http HOST:PORT, default ${DEFAULT_DASHBOARD_LISTEN}]   (Postgres: DATABASE_URL)`;
  return {
    name: 'dashboard',
    summary: 'the dashboard, read-only over a store (a replay\'s or a stopped guard\'s record), every account or one',
    usage,
    async run(args, io) {
      const { values, positionals } = parseCommandArgs('dashboard', args, { ...STORE_FLAGS, http: { type: 'string' } });
      if (positionals.length > 0) throw new LegguardError('INVALID_INPUT', `dashboard takes no arguments; usage: ${usage}`);
      const str = (k: string): string | undefined => (typeof values[k] === 'string' ? values[k] : undefined);
      const now = deps.clock.now();
      // The address and its token are checked before the store is opened: a refused --http opens nothing.
      let checked: ReturnType<typeof httpEdgeOptions> = null;
      const where = await openAccountsStore(values, io, deps, now, { beforeOpen: (c) => (checked = httpEdgeOptions(str('http') ?? c.http.listen ?? DEFAULT_DASHBOARD_LISTEN, c, io.env)) });
      const { options, store } = where;
      try {
        const { config, selected } = readAccounts(where);
        const http = checked as ReturnType<typeof httpEdgeOptions>;
        if (http === null) throw new LegguardError('INTERNAL', 'no address for the dashboard');
        const redactor = new Redactor([...configSecrets(config, io.env), http.token]);
        // Loaded here, not at the top: the metrics module brings prom-client, which no other command needs.
        const { storeEdgeApi } = await import('../web/store-edge-api.js');
        const edge = await startHttpEdge({
          address: http.address,
          token: http.token,
          tokenEnv: http.tokenEnv,
          api: storeEdgeApi(store, config, describeStore(options), deps.clock, selected),
          redact: (t) => redactor.redact(t),
          log: (level, text) => io.stderr.write(`${level}: ${redactor.redact(text)}\n`),
        });
        const shown = selected !== null ? [selected] : where.accounts;
        io.stdout.write(`legguard dashboard (read-only) for ${shown.join(', ')} on ${edge.url}/ over ${describeStore(options)}; Ctrl-C stops it\n`);
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
