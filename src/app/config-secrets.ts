import { channelSecrets } from '../adapters/alerts/build-channels.js';
import { urlPassword } from '../adapters/store/redact-url.js';
import type { LegguardConfig } from './config.js';

/**
 * Every secret a config names, for redacting what is shown: the channel secrets of the shared `alerts:` and of each
 * account's own (`accounts[n].alerts`), and the database password. A status or a dashboard over several accounts
 * shows what any of their channels said, so every account's secrets are kept out, not only the first's.
 */
export function configSecrets(config: Pick<LegguardConfig, 'alerts' | 'accounts' | 'databaseUrl'>, env: NodeJS.ProcessEnv): (string | null | undefined)[] {
  return [
    ...channelSecrets(config.alerts, env),
    ...config.accounts.flatMap((a) => channelSecrets(a.alerts, env)),
    config.databaseUrl !== null ? urlPassword(config.databaseUrl) : null,
  ];
}
