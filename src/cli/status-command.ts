import { formatNyTime } from '../adapters/alerts/format-alert.js';
import { Redactor } from '../adapters/alerts/redactor.js';
import { configSecrets } from '../app/config-secrets.js';
import { describeCost } from '../core/incident-cost.js';
import { LegguardError } from '../core/errors.js';
import type { Command } from './command.js';
import { DEFAULT_DATA_DIR, openAccountsStore, readAccounts } from './accounts-store.js';
import { defaultStoreDeps, describeStore, STORE_FLAGS, STORE_FLAGS_USAGE, type StoreDeps } from './command-store.js';
import { parseCommandArgs } from './parse-args.js';
import { gatherAccountsStatus, type AccountsStatus, type StatusReport } from '../app/status-report.js';
import { columns } from './strategy-format.js';
import { TRADING_STATE_MEANING } from '../engine/trading-state-change.js';

function ny(isoTime: string): string {
  return formatNyTime(Date.parse(isoTime));
}

/** `5 s`, `3 min`, `2 h`, `4 d`. */
function span(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} d`;
}

/**
 * How old a time of the record is, on the record's own clock. A live guard's record is on this machine's clock:
 * `5 min ago`. A replay's or a drill's is on its scenario's, months from today, where an age against now
 * ("307 d ago") would say nothing true: there the age counts back from the record's latest time.
 */
function age(isoTime: string, r: StatusReport): string {
  if (r.clock.kind === 'wall' || r.clock.latestRecordAt === null) return `${span(Date.parse(r.at) - Date.parse(isoTime))} ago`;
  const before = Date.parse(r.clock.latestRecordAt) - Date.parse(isoTime);
  return before <= 0 ? "the record's latest" : `${span(before)} before the record's latest`;
}

function signed(h: { contract: string; qty: number }): string {
  return `${h.qty > 0 ? '+' : ''}${h.qty} ${h.contract}`;
}

/** A PENDING strategy is not guarded: why (what the guard found missing at the broker), and its legs. */
function waiting(s: StatusReport['strategies'][number]): string {
  const legs = `legs ${s.legs.map(signed).join(', ')}`;
  const n = s.notAtBroker;
  if (n === null) return `not guarded yet: waits for a guard to find every leg at the broker; ${legs}`;
  return (
    `not guarded: not at the broker (${ny(n.at)}): ${n.missing.join(', ')}` +
    `${n.atBroker.length > 0 ? `; at the broker, outside any strategy until every leg is: ${n.atBroker.join(', ')}` : ''}; ${legs}`
  );
}

/** The report for a person, section by section; empty sections say so in one line. */
export function formatStatus(r: StatusReport): string[] {
  const out: string[] = [];
  out.push(`legguard status for ${r.account}, ${r.store}, at ${ny(r.at)}`);
  if (r.clock.kind === 'scenario') {
    const end = r.clock.latestRecordAt === null ? '' : `; the record ends ${ny(r.clock.latestRecordAt)}`;
    out.push(`times are scenario time (${r.clock.source ?? 'a scenario'}), not this machine's clock${end}`);
  }
  const l = r.lock;
  out.push(
    l === null
      ? 'guard: not running (no guard holds the lock)'
      : l.live
        ? `guard: running as ${l.owner} (lock taken ${ny(l.acquiredAt)}, refreshed until ${ny(l.expiresAt)})`
        : `guard: not running (the lock of ${l.owner} expired ${ny(l.expiresAt)}: it stopped without releasing it, or hangs)`,
  );
  if (r.leader !== null || r.standbys.length > 0) {
    const ld = r.leader;
    const sb = r.standbys.length === 0 ? 'no standby' : `standby: ${r.standbys.map((x) => `${x.holder} (seen ${ny(x.seenAt)})`).join(', ')}`;
    out.push(
      `${ld === null ? 'leader: none' : `leader: ${ld.holder} at lease epoch ${ld.epoch}, ${ld.live ? 'until' : 'lapsed'} ${ny(ld.leaseUntil)}`}; ${sb}`,
    );
  }
  out.push(
    `last reconciled with the broker: ${r.lastReconciledAt === null ? 'never' : `${ny(r.lastReconciledAt)} (${age(r.lastReconciledAt, r)})`}` +
      `; last execution seen: ${r.lastExecutionAt === null ? 'none' : ny(r.lastExecutionAt)}`,
  );
  const t = r.tradingState;
  out.push(
    `trading: ${t.state}` +
      (t.at === null ? '' : ` (set by ${t.by ?? 'unknown'} ${ny(t.at)}${t.reason !== null ? `: ${t.reason}` : ''})`) +
      `: ${TRADING_STATE_MEANING[t.state]}`,
  );

  const counts = new Map<string, number>();
  for (const s of r.strategies) counts.set(s.state, (counts.get(s.state) ?? 0) + 1);
  out.push(`strategies: ${r.strategies.length}${counts.size > 0 ? ` (${[...counts].map(([k, n]) => `${n} ${k}`).join(', ')})` : ''}`);
  out.push(
    ...columns(
      r.strategies.map((s) => [
        s.id,
        s.kind,
        s.state,
        s.state === 'PENDING'
          ? waiting(s)
          : `${s.broken !== null ? `broken: ${s.broken.cause}${s.broken.kind !== null ? ` ${s.broken.kind}` : ''} of ${s.broken.leg} at ${ny(s.broken.at)} (${s.broken.reason}); ` : ''}` +
            `${s.holdings.length === 0 ? 'flat' : `holds ${s.holdings.map(signed).join(', ')}`}`,
      ]),
    ),
  );
  out.push(`outside any strategy: ${r.outside.length === 0 ? 'nothing' : r.outside.map(signed).join(', ')}`);

  out.push(`open orders: ${r.openOrders.length === 0 ? 'none' : r.openOrders.length}`);
  out.push(
    ...columns(
      r.openOrders.map((o) => [
        o.ref,
        o.status,
        `${o.legs.join(' / ')} ${o.orderType === 'LMT' ? `LMT ${String(o.limitPrice)}` : 'MKT'}${o.outsideRth ? ' (outside regular hours)' : ''}, ` +
          `filled ${o.filledQty}/${o.quantity}${o.placedAt !== null ? `, placed ${ny(o.placedAt)}` : ', not sent yet'}${o.orderId !== null ? `, broker id ${o.orderId}` : ''}`,
      ]),
    ),
  );

  out.push(`recent incidents: ${r.incidents.length === 0 ? 'none' : `${r.incidents.length}, newest first`}`);
  for (const i of r.incidents) {
    const ack =
      i.ack.state === 'acknowledged'
        ? `acknowledged by ${i.ack.by} ${ny(i.ack.at)}`
        : i.ack.state === 'waiting'
          ? `NOT ACKNOWLEDGED: its critical alerts repeat until \`legguard ack ${i.incidentId}\``
          : 'no critical alert';
    out.push(`  ${i.incidentId}${i.strategyId !== null ? ` (${i.strategyId})` : ''}, ${ny(i.firstAt)}${i.lastAt !== i.firstAt ? ` to ${ny(i.lastAt)}` : ''}: ${ack}`);
    if (i.title !== null) out.push(`    ${i.title}${i.criticalAlerts > 1 ? ` (${i.criticalAlerts} critical alerts)` : ''}`);
    for (const t of i.transitions) out.push(`    ${t}`);
    if (i.cost !== null) out.push(`    ${describeCost(i.cost)}`);
  }

  const ob = r.outbox;
  out.push(`alerts outbox: ${ob.alerts} alert${ob.alerts === 1 ? '' : 's'}`);
  out.push(
    ...columns(
      ob.channels.map((c) => [
        c.channel,
        c.type === null ? '(not in the config)' : `(${c.type})`,
        `delivered ${c.delivered}, retrying ${c.retrying}, dead ${c.dead}, skipped ${c.skipped}, not yet tried ${c.notTried}`,
      ]),
    ),
  );
  out.push(`  undelivered: ${ob.undelivered.length === 0 ? 'none' : `${ob.undelivered.length}, most recent first`}`);
  for (const d of ob.undelivered) {
    out.push(
      `    ${d.status} on ${d.channel}: [${d.severity.toUpperCase()}] ${d.title} (raised ${ny(d.raisedAt)}), ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}` +
        `${d.nextAttemptAt !== null ? `, next ${ny(d.nextAttemptAt)}` : ''}: ${d.lastError ?? 'no error recorded'}`,
    );
  }
  out.push(`  unacknowledged critical incidents: ${ob.unacknowledged.length === 0 ? 'none' : ob.unacknowledged.length}`);
  for (const u of ob.unacknowledged) {
    out.push(`    ${u.incidentId}: ${u.title} (since ${ny(u.firstAt)}, last ${ny(u.lastAt)}); \`legguard ack ${u.incidentId}\``);
  }
  return out;
}

/**
 * Every account's report, one section each (one account: its report alone, as before there were several); a
 * heading names them when there are several.
 */
export function formatAccountsStatus(reports: readonly StatusReport[]): string[] {
  if (reports.length === 1) return formatStatus(reports[0]!);
  const out = [`legguard status: ${reports.length} accounts in ${reports[0]!.store}: ${reports.map((r) => r.account).join(', ')}`];
  for (const r of reports) out.push('', ...formatStatus(r));
  return out;
}

/**
 * `legguard status [--json] [--account ID]`: what the store says, never the broker, for every account in it (the
 * config's and any other the store holds) or the one `--account` names: each strategy's state, broken info and
 * holdings, open orders, recent incidents and whether they are acknowledged, the alerts outbox, the guard's lock and
 * lease and the last reconciliation. Secrets the config names (channel tokens and URLs, the database password) are
 * redacted from everything printed. `--json` prints one object: `accounts` holds every report shown, and the top
 * level is the first one's (the named account's, else the config's), so a reader of one account reads it as before.
 */
export function statusCommand(deps: StoreDeps = defaultStoreDeps): Command {
  return {
    name: 'status',
    summary: 'show what the store says, for every account or one: strategies, orders, incidents, the alerts outbox, the guard lock',
    usage: `legguard status [--json] ${STORE_FLAGS_USAGE}   (no config file: --data-dir, default ${DEFAULT_DATA_DIR}; --account selects one account)`,
    async run(args, io) {
      const { values, positionals } = parseCommandArgs('status', args, { ...STORE_FLAGS, json: { type: 'boolean' } });
      if (positionals.length > 0) throw new LegguardError('INVALID_INPUT', `status takes no arguments; usage: ${this.usage}`);
      const now = deps.clock.now();
      const where = await openAccountsStore(values, io, deps, now);
      const { options } = where;
      let read: ReturnType<typeof readAccounts>;
      try {
        read = readAccounts(where);
      } catch (e) {
        await where.store.close();
        throw e;
      }
      const { config, selected, primary } = read;
      const redactor = new Redactor(configSecrets(config, io.env));
      let report: AccountsStatus;
      try {
        // The first account shown is the primary one (named, or the config's); the others follow in order.
        const shown = selected !== null ? [selected] : [primary, ...where.accounts.filter((a) => a !== primary)];
        report = await gatherAccountsStatus(where.store, shown, config, describeStore(options), now);
      } finally {
        await where.store.close();
      }
      const text = values.json === true ? JSON.stringify(report, null, 2) : formatAccountsStatus(report.accounts).join('\n');
      io.stdout.write(`${redactor.redact(text)}\n`);
      return 0;
    },
  };
}
