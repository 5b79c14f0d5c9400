import type Database from 'better-sqlite3';
import { checkText } from './store-codec.js';
import { alertRow, historyRow, journalRow, orderRow, strategyRows, type PreparedBatch } from './store-rows.js';

/**
 * The hot part of a commit on SQLite (strategies and their holdings, state changes, journal entries, orders, alerts:
 * what a burst of breaks writes) through better-sqlite3 statements prepared once per connection and run once per row.
 * Through Kysely, every commit built each INSERT's SQL again (a node tree per row, compiled to text), and SQLite
 * prepared that text again: a third of a thousand-strategy commit. The statements and their conflict clauses are the
 * ones `writeBatch` (kysely-store.ts) builds, so both write the same rows the same way; the rows come from the same
 * checks (store-rows.ts). It runs inside the caller's transaction, on the connection the caller holds: a row that
 * cannot be stored throws and the caller rolls back.
 */
export class SqliteBatchWriter {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {}

  /** Writes what `p` holds of strategies, removals, state changes, journal, orders and alerts. */
  writeHot(p: PreparedBatch): void {
    const account = p.account;
    const upsertStrategy = this.statement(
      'insert into legguard_strategies (account, strategy_id, kind, state, definition, broken, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?) ' +
        'on conflict (account, strategy_id) do update set kind = excluded.kind, state = excluded.state, definition = excluded.definition, ' +
        'broken = excluded.broken, created_at = excluded.created_at, updated_at = excluded.updated_at',
    );
    const deleteHoldings = this.statement('delete from legguard_holdings where account = ? and strategy_id = ?');
    const insertHolding = this.statement('insert into legguard_holdings (account, strategy_id, idx, contract_key, contract, qty) values (?, ?, ?, ?, ?, ?)');
    for (const r of p.strategies) {
      const { row, holdings } = strategyRows(account, r);
      upsertStrategy.run(row.account, row.strategy_id, row.kind, row.state, row.definition, row.broken, row.created_at, row.updated_at);
      deleteHoldings.run(account, row.strategy_id);
      for (const h of holdings) insertHolding.run(h.account, h.strategy_id, h.idx, h.contract_key, h.contract, h.qty);
    }
    if (p.removeStrategies.length > 0) {
      const deleteStrategy = this.statement('delete from legguard_strategies where account = ? and strategy_id = ?');
      for (const id of p.removeStrategies) {
        const checked = checkText(id, 'strategy id to remove', { nonEmpty: true });
        deleteHoldings.run(account, checked);
        deleteStrategy.run(account, checked);
      }
    }
    if (p.stateChanges.length > 0) {
      const insertHistory = this.statement(
        'insert into legguard_state_history (account, strategy_id, from_state, to_state, at, reason, incident_id) values (?, ?, ?, ?, ?, ?, ?)',
      );
      for (const c of p.stateChanges) {
        const h = historyRow(account, c);
        insertHistory.run(h.account, h.strategy_id, h.from_state, h.to_state, h.at, h.reason, h.incident_id);
      }
    }
    if (p.journal.length > 0) {
      const insertJournal = this.statement(
        'insert into legguard_journal (account, key, at, type, strategy_id, incident_id, data) values (?, ?, ?, ?, ?, ?, ?) on conflict (account, key) do nothing',
      );
      for (const e of p.journal) {
        const j = journalRow(account, e);
        insertJournal.run(j.account, j.key, j.at, j.type, j.strategy_id, j.incident_id, j.data);
      }
    }
    if (p.orders.length > 0) {
      const upsertOrder = this.statement(
        'insert into legguard_orders (account, ref, strategy_id, incident_id, status, order_id, request, filled_qty, avg_fill_price, placed_at, position_before, reason, updated_at) ' +
          'values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict (account, ref) do update set strategy_id = excluded.strategy_id, ' +
          'incident_id = excluded.incident_id, status = excluded.status, order_id = excluded.order_id, request = excluded.request, ' +
          'filled_qty = excluded.filled_qty, avg_fill_price = excluded.avg_fill_price, placed_at = excluded.placed_at, ' +
          'position_before = excluded.position_before, reason = excluded.reason, updated_at = excluded.updated_at',
      );
      for (const x of p.orders) {
        const o = orderRow(account, x);
        upsertOrder.run(o.account, o.ref, o.strategy_id, o.incident_id, o.status, o.order_id, o.request, o.filled_qty, o.avg_fill_price, o.placed_at, o.position_before, o.reason, o.updated_at);
      }
    }
    if (p.alerts.length > 0) {
      const insertAlert = this.statement(
        'insert into legguard_alerts (account, key, severity, incident_id, strategy_id, at, alert) values (?, ?, ?, ?, ?, ?, ?) on conflict (account, key) do nothing',
      );
      const seen = new Set<string>();
      for (const x of p.alerts) {
        const a = alertRow(account, x);
        if (seen.has(a.key)) continue;
        seen.add(a.key);
        insertAlert.run(a.account, a.key, a.severity, a.incident_id, a.strategy_id, a.at, a.alert);
      }
    }
  }

  private statement(text: string): Database.Statement {
    let s = this.statements.get(text);
    if (s === undefined) {
      s = this.db.prepare(text);
      this.statements.set(text, s);
    }
    return s;
  }
}
