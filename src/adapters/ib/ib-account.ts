import { SecType, type CommissionReport as IbCommissionReport, type Contract as IbContract, type Execution } from '@stoqey/ib';
import { contractKey, type Contract } from '../../core/contract.js';
import type { BrokerEvent, ExecutionReport, PositionReport } from '../../core/events.js';
import { ExecId, type AccountId, type ContractKey } from '../../core/ids.js';
import type { EpochMs } from '../../core/quantity.js';
import type { Req, Round } from './ib-requests.js';
import { drop, isDrop, readExecution, readPosition, type Drop } from './ib-translate.js';

export interface PositionsRound extends Round<PositionReport[]> {
  readonly seen: Map<ContractKey, PositionReport>;
}

/** What one account message turned into: an event to pass on and/or a drop (or warning) to say; null for nothing. */
export type Outcome = { readonly event?: BrokerEvent; readonly drop?: Drop } | null;

/**
 * The account as TWS streams it: positions (live updates and the lists reqPositions answers), executions (live, and
 * the rows of an executions request), commission reports and account values. Only the guarded account's messages
 * count; each is checked (`ib-translate`) before it becomes an event.
 *
 * TWS answers every reqPositions (each snapshot asks) with the whole list again, on the same stream as live updates;
 * passed on as events, each echo would be a report of a level as it was when sent, queued behind whatever the engine
 * is doing, and a reconciliation that reads the broker afresh can overtake it (a short put reported -2 again after
 * the assignment had made it 0). Only changes go on; the snapshot keeps every report. `resetChanges` at each
 * (re)connect, so the first report of each contract goes on.
 */
export class AccountFeed {
  positionsRound: PositionsRound | null = null;
  private readonly lastPosition = new Map<ContractKey, number>();
  private readonly values = new Map<string, string>();
  /**
   * Execution ids of other accounts of the login (TWS sends every account's executions and their commission reports to
   * a master client): their commission reports are not this account's. The most recent 10,000.
   */
  private readonly foreignExecs = new Set<string>();

  constructor(
    private readonly account: AccountId,
    private readonly clientId: number,
    private readonly twsTimeZone: string | undefined,
  ) {}

  resetChanges(): void {
    this.lastPosition.clear();
  }

  onPosition(acct: unknown, contract: Contract | null, pos: unknown, avgCost: unknown, at: EpochMs): Outcome {
    if (acct !== this.account || contract === null) return null;
    const report = readPosition({ account: this.account, contract, pos, avgCost, at });
    if (isDrop(report)) return { drop: report };
    const key = contractKey(contract);
    // Fractional shares: the whole ones count (readPositionQty); said, rate-limited, with the drops.
    const fraction = Number.isInteger(Number(pos)) ? undefined : drop('position', 'pos', `${String(pos)} has a fraction of a share: ${report.qty} whole shares counted`);
    this.positionsRound?.seen.set(key, report);
    if (this.lastPosition.get(key) === report.qty) return fraction ? { drop: fraction } : null;
    this.lastPosition.set(key, report.qty);
    return fraction ? { event: report, drop: fraction } : { event: report };
  }

  /** The end of a positions list: the round's reports (non-zero), marked reconciled. */
  endPositions(round: PositionsRound): PositionReport[] {
    return [...round.seen.values()].filter((p) => p.qty !== 0).map((p) => ({ ...p, reconciled: true }));
  }

  /**
   * An execution. A combo's own summary row (BAG) is skipped: its legs come as executions of their own. Rows of an
   * executions request go to it (`req`); live ones are events (the engine keeps each execution id once).
   */
  onExecution(c: IbContract | undefined, contract: Contract | null, x: Execution | undefined, req: Req | undefined, at: EpochMs): Outcome {
    if (c?.secType === SecType.BAG) return null;
    if (x?.acctNumber !== undefined && x.acctNumber !== this.account) return null;
    if (contract === null) return null;
    const own = typeof x?.orderId === 'number' && x.orderId > 0 && (x.clientId === undefined || x.clientId === this.clientId);
    const report = readExecution({ account: this.account, contract, x, own, at, twsTimeZone: this.twsTimeZone });
    if (isDrop(report)) return { drop: report };
    if (req !== undefined) {
      if (req.kind === 'executions') req.rows.push({ ...report, reconciled: true });
      return null;
    }
    return { event: report };
  }

  /** An execution of another account of the login went by (it is not passed on; see `foreignExecs`). */
  foreignExecution(execId: unknown): void {
    if (typeof execId !== 'string') return;
    this.foreignExecs.add(execId);
    if (this.foreignExecs.size > 10_000) this.foreignExecs.delete(this.foreignExecs.values().next().value!);
  }

  onCommission(cr: IbCommissionReport | undefined, at: EpochMs): Outcome {
    if (typeof cr?.execId !== 'string' || !ExecId.is(cr.execId)) return { drop: drop('commissionReport', 'execId', `is not an execution id: ${String(cr?.execId)}`) };
    if (this.foreignExecs.has(cr.execId)) return null;
    const commission = Number(cr.commission);
    if (!(Number.isFinite(commission) && Math.abs(commission) < 1e9)) return { drop: drop('commissionReport', 'commission', `is not an amount: ${String(cr.commission)}`) };
    const currency = typeof cr.currency === 'string' && /^[A-Z]{3}$/.test(cr.currency) ? cr.currency : 'USD';
    return { event: { kind: 'commission', execId: ExecId.unsafe(cr.execId), commission, currency, tsEvent: at, tsInit: at } };
  }

  onAccountValue(key: unknown, value: unknown, currency: unknown): void {
    if (typeof key !== 'string' || typeof value !== 'string' || key.length > 100 || value.length > 200) return;
    if (this.values.size >= 10_000 && !this.values.has(`${key}/${String(currency)}`)) return;
    this.values.set(`${key}/${typeof currency === 'string' ? currency : ''}`, value);
  }

  /** An account value TWS reported (reqAccountUpdates): `NetLiquidation/USD` -> `123456.78`. */
  accountValue(key: string, currency = 'USD'): string | null {
    return this.values.get(`${key}/${currency}`) ?? this.values.get(`${key}/`) ?? null;
  }

  /** Rows of an executions request from `since` on (IB filters by whole seconds; this keeps exactly what was asked). */
  static since(rows: readonly ExecutionReport[], since: number | null): ExecutionReport[] {
    return rows.filter((x) => since === null || x.tsEvent >= since);
  }
}
