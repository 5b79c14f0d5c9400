import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadScenario } from '../adapters/sim/load-scenario.js';
import { SQLITE_FILE } from '../adapters/store/open-store.js';
import { formatStrike, isOption } from '../core/contract.js';
import { LegguardError } from '../core/errors.js';
import { groupPositions, type Grouping } from '../core/grouping/group-positions.js';
import { tradedTogether } from '../core/grouping/traded-together.js';
import { unguardedPositions } from '../core/grouping/unguarded.js';
import type { Leg } from '../core/leg.js';
import { EpochMs } from '../core/quantity.js';
import type { StrategyDefinition } from '../core/strategy.js';
import type { StrategyRecord } from '../ports/store.js';
import type { CommandIo } from './command.js';
import { describeStore, openCommandStore, STORE_FLAGS, storeOptions, type StoreDeps } from './command-store.js';
import { resolveConfig } from './config-source.js';
import { brokerBook, openIbBroker, scenarioBook, type OpenBroker } from './discover-source.js';
import { parseCommandArgs } from './parse-args.js';
import { guardNewStrategies, pickupNote, refuseExpiredLegs } from './strategies-writes.js';
import { columns, formatHolding, formatLegs } from './strategy-format.js';

export const DISCOVER_USAGE =
  'legguard strategies discover [--config FILE | --scenario FILE] [--json] [--apply] [--client-id N]   (live: client id = the config\'s + 1)';

/** What `strategies discover` reads from besides the store: the live broker (tests give their own). */
export interface DiscoverDeps extends StoreDeps {
  readonly openBroker?: OpenBroker;
}

/** A leg as scenario files write it: `symbol`, `secType`, for an option `right`, `strike`, `expiry`; signed `qty`. */
export interface LegJson {
  readonly symbol: string;
  readonly secType: 'STK' | 'OPT';
  readonly right?: 'C' | 'P';
  readonly strike?: number;
  readonly expiry?: string;
  /** Only where it is not 100 (mini options). */
  readonly multiplier?: number;
  readonly qty: number;
}

export function legJson(l: Leg): LegJson {
  const c = l.contract;
  if (!isOption(c)) return { symbol: c.symbol, secType: 'STK', qty: l.qty };
  return {
    symbol: c.symbol,
    secType: 'OPT',
    right: c.right,
    strike: Number(formatStrike(c.strike)),
    expiry: c.expiry,
    ...(c.multiplier !== 100 ? { multiplier: c.multiplier } : {}),
    qty: l.qty,
  };
}

/** The `--json` shape of issue 13: `{"strategies": [{"id", "kind", "legs": [leg]}], "ungrouped": [leg]}`. */
export function discoverJson(g: Grouping): { strategies: { id: string; kind: string; legs: LegJson[] }[]; ungrouped: LegJson[] } {
  return {
    strategies: g.proposals.map((p) => ({ id: p.id, kind: p.kind, legs: p.legs.map(legJson) })),
    ungrouped: g.ungrouped.map(legJson),
  };
}

/** What guarded strategies hold: a PENDING one its legs (it claims them), a CLOSED one nothing, the rest their holdings. */
function heldByStore(records: readonly StrategyRecord[]): Leg[] {
  return records.flatMap((r) => (r.state === 'CLOSED' ? [] : r.state === 'PENDING' ? r.definition.legs : r.holdings));
}

/**
 * `legguard strategies discover`: what the account holds, grouped into the strategies legguard knows (core/grouping),
 * less what strategies in the store already hold; the legs of a combo order the broker still reports (same perm id)
 * stay one strategy. From the live broker (read-only, its own client id: the config's + 1 unless `--client-id`, so
 * a running guard keeps its connection) or a scenario's starting book. `--apply` adds the proposals to the store in
 * one commit, each PENDING until a guard finds its legs at the broker.
 */
export async function strategiesDiscover(args: readonly string[], io: CommandIo, deps: DiscoverDeps): Promise<number> {
  const { values, positionals } = parseCommandArgs('discover', args, {
    ...STORE_FLAGS,
    scenario: { type: 'string' },
    json: { type: 'boolean' },
    apply: { type: 'boolean' },
    'client-id': { type: 'string' },
  });
  if (positionals.length > 0) throw new LegguardError('INVALID_INPUT', `discover takes no arguments; usage: ${DISCOVER_USAGE}`);
  const str = (k: string): string | undefined => (typeof values[k] === 'string' ? values[k] : undefined);
  const scenarioFile = str('scenario');
  if (scenarioFile !== undefined && str('config') !== undefined) {
    throw new LegguardError('INVALID_INPUT', 'discover: give --config (the live broker) or --scenario (its starting book), not both');
  }
  if (scenarioFile !== undefined && str('client-id') !== undefined) throw new LegguardError('INVALID_INPUT', 'discover: --client-id is for the live broker, not --scenario');
  const now = deps.clock.now();
  const scenario = scenarioFile !== undefined ? await loadScenario(resolve(io.cwd, scenarioFile)) : null;
  const config = await resolveConfig({ config: str('config'), account: str('account') ?? scenario?.account, dataDir: str('data-dir'), clientId: str('client-id') }, io, now);

  let source: string;
  let snapshot;
  if (scenario !== null) {
    source = `the starting book of ${scenarioFile}`;
    snapshot = await scenarioBook(scenario);
  } else {
    const b = config.broker;
    const clientId = str('client-id') !== undefined ? b.clientId : b.clientId + 1;
    source = `${b.host}:${b.port} (client id ${clientId}, read-only)`;
    const broker = (deps.openBroker ?? openIbBroker)({ ...config, broker: { ...b, clientId } }, (line) => io.stderr.write(`ib: ${line}\n`));
    snapshot = await brokerBook(broker);
  }
  if (snapshot.account !== config.account) {
    throw new LegguardError('INVALID_INPUT', `discover: the broker's account is ${snapshot.account}, the config's ${config.account}`);
  }

  const opts = storeOptions(config);
  const hasStore = (opts.databaseUrl ?? '') !== '' || existsSync(join(opts.dataDir, SQLITE_FILE));
  const store = values.apply === true || hasStore ? await openCommandStore(opts, deps, values.apply === true, io) : null;
  try {
    const records = store !== null ? await store.listStrategies(config.account) : [];
    const positions = snapshot.positions.map((p): Leg => ({ contract: p.contract, qty: p.qty }));
    const free = unguardedPositions(positions, heldByStore(records));
    const grouping = groupPositions({
      positions: free,
      together: tradedTogether(snapshot.executions),
      takenIds: new Set(records.map((r) => r.definition.id)),
    });
    const defs: StrategyDefinition[] = grouping.proposals.map((p, i) => ({ id: p.id, account: config.account, kind: p.kind, legs: p.legs, createdAt: EpochMs.unsafe(now + i) }));
    if (values.apply === true && defs.length > 0) {
      refuseExpiredLegs(defs, now, (i, j) => `${defs[i]!.id} leg ${j + 1}`);
      await guardNewStrategies(store!, config.account, defs, { replace: false, now, source: 'legguard strategies discover --apply' });
    }
    if (values.json === true) {
      io.stdout.write(`${JSON.stringify(discoverJson(grouping), null, 2)}\n`);
      return 0;
    }
    const guarded = records.filter((r) => r.state !== 'CLOSED').length;
    io.stdout.write(
      `${grouping.proposals.length} strateg${grouping.proposals.length === 1 ? 'y' : 'ies'} in ${source} for ${config.account}` +
        `${guarded > 0 ? `, beyond what the ${guarded} strateg${guarded === 1 ? 'y' : 'ies'} in ${describeStore(opts)} hold` : ''}${grouping.proposals.length > 0 ? ':' : ''}\n`,
    );
    if (grouping.proposals.length > 0) {
      io.stdout.write(`${columns(grouping.proposals.map((p) => [p.id, p.kind, `${p.source === 'combo' ? 'traded together; ' : ''}${formatLegs(p.legs)}`])).join('\n')}\n`);
    }
    io.stdout.write(grouping.ungrouped.length > 0 ? `ungrouped (outside any strategy): ${grouping.ungrouped.map(formatHolding).join(', ')}\n` : 'nothing left ungrouped\n');
    if (values.apply === true) {
      io.stdout.write(
        defs.length > 0
          ? `added ${defs.length} to ${describeStore(opts)}, each PENDING.\n${pickupNote({ added: defs, replaced: [] }, config.guard.reconcileIntervalMs)}\n`
          : 'nothing to add.\n',
      );
    } else if (defs.length > 0) {
      io.stdout.write('Give --apply to guard them (added to the store in one commit), or copy them into a strategies file and edit it first (--json).\n');
    }
    return 0;
  } finally {
    await store?.close();
  }
}
