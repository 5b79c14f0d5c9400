import type { RunningDaemon } from '../app/daemon.js';
import type { CrashPoint } from '../engine/guard-engine.js';
import { LegguardError } from '../core/errors.js';
import type { Command } from './command.js';
import { resolveConfig } from './config-source.js';
import { parseCommandArgs } from './parse-args.js';
import { useColor } from './use-color.js';
import { TimelineFormatter } from './timeline-format.js';
import { checkExposure, parseListen, type ListenAddress } from '../web/listen-address.js';
import type { LegguardConfig } from '../app/config.js';

/**
 * The HTTP edge asked for, `--http HOST:PORT` over the config's `http.listen`, or null for none. Refused here, before
 * anything starts, when other machines could reach it and no token is set.
 */
export function httpEdgeOptions(
  flag: string | undefined,
  config: Pick<LegguardConfig, 'http'>,
  env: NodeJS.ProcessEnv,
): { address: ListenAddress; token: string | null; tokenEnv: string } | null {
  const spec = flag ?? config.http.listen;
  if (spec === null) return null;
  const address = parseListen(spec, flag !== undefined ? '--http' : 'http.listen');
  const raw = env[config.http.tokenEnv];
  const token = raw !== undefined && raw.trim() !== '' ? raw.trim() : null;
  if (token !== null && token.length < 16) {
    throw new LegguardError('CONFIG_INVALID', `${config.http.tokenEnv} is too short for a bearer token: use 16 characters or more (a long random secret)`, { field: 'http.tokenEnv' });
  }
  checkExposure(address, token, config.http.tokenEnv);
  return { address, token, tokenEnv: config.http.tokenEnv };
}

function parseClock(spec: string | undefined): { kind: 'system' } | { kind: 'broker'; speed: number } | { kind: 'lockstep' } {
  if (spec === undefined || spec === 'system') return { kind: 'system' };
  if (spec === 'lockstep' || spec === 'broker:lockstep') return { kind: 'lockstep' };
  const m = /^broker(?::(\d+(?:\.\d+)?))?$/.exec(spec);
  if (!m) {
    throw new LegguardError(
      'INVALID_INPUT',
      `--clock must be system, lockstep (with legguard sim-gateway --lockstep), broker or broker:<speed> (broker:3600 runs an hour a second); got ${JSON.stringify(spec)}`,
    );
  }
  const speed = m[1] === undefined ? 1 : Number(m[1]);
  if (!(speed > 0 && speed <= 1_000_000)) throw new LegguardError('INVALID_INPUT', `--clock speed must be above 0 and at most 1000000; got ${m[1]}`);
  return { kind: 'broker', speed };
}

/**
 * `legguard run`: the long-running guard. Stops gracefully on SIGINT/SIGTERM (exit 0); exits 70 when a broken
 * invariant stops it (a restart reconciles and resumes), 5 when another guard leads the account (without --standby),
 * 6 when it stepped down: another guard took the lease over (FENCED) or this one could not renew it in time.
 * A config of `accounts:` guards each account in this one process (`--account` picks one of them); an account whose
 * guard stops by itself is restarted alone while the others guard on, and the exit codes above are the last one's
 * once no account is guarded (see `startDaemon`).
 */
export function runCommand(deps: { readonly crashPoint?: (point: CrashPoint) => void } = {}): Command {
  return {
    name: 'run',
    summary: 'guard the strategies in the store against assignment, connected to TWS or IB Gateway',
    usage:
      'legguard run [--config legguard.yaml] [--ib host:port] [--client-id N] [--account ID] [--data-dir DIR] ' +
      '[--clock system|lockstep|broker[:speed]] [--http HOST:PORT] [--standby] [--json]   (Postgres: set DATABASE_URL; a pair: docs/standby.md)',
    async run(args, io) {
      const { values } = parseCommandArgs('run', args, {
        config: { type: 'string' },
        ib: { type: 'string' },
        'client-id': { type: 'string' },
        account: { type: 'string' },
        'data-dir': { type: 'string' },
        clock: { type: 'string' },
        http: { type: 'string' },
        json: { type: 'boolean' },
        standby: { type: 'boolean' },
      });
      const str = (k: string): string | undefined => (typeof values[k] === 'string' ? values[k] : undefined);
      // The config (a large one is read on a worker thread) and the daemon's modules load side by side.
      const reading = resolveConfig(
        { config: str('config'), account: str('account'), dataDir: str('data-dir'), ib: str('ib'), clientId: str('client-id'), allAccounts: true },
        io,
        Date.now(),
      );
      const loading = import('../app/daemon.js');
      loading.catch(() => undefined); // awaited below, once the config is good
      const config = await reading;
      const clock = parseClock(str('clock'));
      const http = httpEdgeOptions(str('http'), config, io.env);
      const json = values.json === true;
      const several = config.accounts.length > 1;
      const fmt = new TimelineFormatter(!json && useColor(io));
      // Signals are heard from before start-up: a service manager's SIGTERM while the guard connects or reconciles
      // must stop it cleanly (lock released, store closed), not kill it by the default action.
      const abort = new AbortController();
      let daemon: RunningDaemon | null = null;
      const onSignal = (sig: string): void => {
        abort.abort(sig);
        if (daemon) void daemon.stop(sig);
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        try {
          const { startDaemon } = await loading;
          daemon = await startDaemon({
            config,
            clock,
            env: io.env,
            ...(deps.crashPoint ? { crashPoint: deps.crashPoint } : {}),
            abort: abort.signal,
            ...(http !== null ? { http } : {}),
            standby: values.standby === true,
            // Every line names its account (JSON: `account`; text: `[DU...]` when the process guards several).
            out: ({ level, text, timeline, account }) => {
              const named = account === null ? {} : { account };
              if (json) {
                io.stdout.write(`${JSON.stringify(timeline ? { level, ...timeline, ...named } : { level, text, at: new Date().toISOString(), ...named })}\n`);
                return;
              }
              const line = timeline ? fmt.format(timeline) : `${fmt.time(Date.now())}  ${level.toUpperCase().padEnd(9)} ${text}`;
              if (line !== null) io.stdout.write(`${several && account !== null ? `[${account}] ` : ''}${line}\n`);
            },
          });
        } catch (e) {
          if (!abort.signal.aborted) throw e;
          io.stderr.write(`legguard run: stopped (${String(abort.signal.reason)}) while starting\n`);
          return 0;
        }
        const code = await daemon.done;
        // A guard that stepped down cut off its store may hold connections that never answer (and never close): they
        // would keep the process alive. It has said why it leaves; it ends once its output is written.
        if (daemon.stopAbandoned()) setTimeout(() => process.exit(code), 1000).unref();
        return code;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    },
  };
}
