import type { Holding } from '../core/book.js';
import { compactContract, expandContract } from '../core/compact-contract.js';
import { contractKey, isOption, type Contract } from '../core/contract.js';
import type { Detection } from '../core/detection.js';
import type { CommissionReport, ExecutionReport } from '../core/events.js';
import type { IncidentId, StrategyId } from '../core/ids.js';
import {
  describeCost,
  executionsCash,
  incidentCost,
  midOf,
  settlementCash,
  type BreakChange,
  type ClosingFill,
  type HeldAtDetection,
  type IncidentCost,
} from '../core/incident-cost.js';
import { isLegguardRef } from '../core/order.js';
import type { Quote } from '../ports/broker.js';
import type { JournalEntry, StorePort } from '../ports/store.js';
import type { TimelineEntry } from './timeline.js';

/** What the incident costs read of the engine and how they write to the journal. */
export interface IncidentCostDeps {
  /** The engine's clock. */
  now(): number;
  /** The last quote the guard holds for a contract, or null. */
  quote(c: Contract): Quote | null;
  holdings(id: StrategyId): readonly Holding[];
  journal(type: JournalEntry['type'], key: string, data: unknown, strategyId: StrategyId | null, incidentId: IncidentId | null): JournalEntry;
  /** Adds a batch to the engine's group commit. */
  commit(batch: { readonly journal: readonly JournalEntry[] }): Promise<void>;
  /** Asks the broker for quotes (kept where `quote` reads them); never on the way of a close. */
  fetchQuotes(contracts: readonly Contract[]): Promise<unknown>;
  /** Runs a step on the engine's serial queue (nothing when the engine stopped). */
  enqueue(step: () => Promise<void> | void): Promise<void>;
  log(level: 'warn', message: string): void;
}

interface Incident {
  readonly strategyId: StrategyId;
  beforeBreak: readonly HeldAtDetection[];
  held: readonly HeldAtDetection[];
  readonly breaks: BreakChange[];
  /** Per closing order ref: each leg's mid when it went out. */
  readonly mids: Map<string, Map<string, number | null>>;
  /** Per execution id. */
  readonly fills: Map<string, Omit<ClosingFill, 'commission'>>;
  readonly commissions: Map<string, number>;
  seq: number;
  closed: boolean;
}

/** The journal note holding an incident's cost as it stands (the newest per incident is the one a restart reads). */
const STATE = 'incident-cost-state';
/** How many unmatched commission reports and outside executions per contract are kept. */
const MAX_UNMATCHED = 1_000;
const MAX_FOREIGN_PER_CONTRACT = 50;
/** Incidents whose close ended kept in memory (for a late commission report); older ones live in the journal only. */
const MAX_CLOSED = 1_000;

/**
 * What each incident costs (core/incident-cost.ts), kept as it happens and in the journal, so a restarted guard
 * reports the whole of it: at the break, what the strategy held before it at the last marks the guard had and what
 * it holds after, and the cash the break moved (an assignment's stock at the strike); each closing order's mids when
 * it went out; each closing fill (in the fill's own commit) and the broker's commission report for it. Every change
 * writes the incident's state as a journal note (`incident-cost-state`); `restore` reads the newest back at start.
 */
export class IncidentCosts {
  private readonly incidents = new Map<string, Incident>();
  /** Which incident each closing execution belongs to (a commission report names only the execution). */
  private readonly byExec = new Map<string, string>();
  /** Ended incidents, oldest first. */
  private readonly closedOrder: string[] = [];
  /** Commission reports whose execution no incident has (yet): a report may come before its fill is applied. */
  private readonly unmatched = new Map<string, number>();
  /** Recent executions outside legguard, per contract: the cash of a manual close or a liquidation. */
  private readonly foreign = new Map<string, { qty: number; price: number }[]>();
  /** Quotes asked for marks the guard did not hold at a break. */
  private readonly fetching = new Set<Promise<void>>();
  /** The last of them: the next waits for it. */
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly d: IncidentCostDeps) {}

  private mid(c: Contract): number | null {
    const q = this.d.quote(c);
    return q === null ? null : midOf(q.bid, q.ask, q.last);
  }

  /** Timeline entries the costs follow: outside executions (for a manual close's cash) and closing orders sent. */
  observe(e: TimelineEntry): void {
    if (e.kind === 'broker-event' && e.event.kind === 'execution' && !isLegguardRef(e.event.orderRef)) {
      const x = e.event;
      const key = contractKey(x.contract);
      const list = this.foreign.get(key) ?? [];
      list.push({ qty: (x.side === 'BUY' ? 1 : -1) * x.qty, price: x.price });
      if (list.length > MAX_FOREIGN_PER_CONTRACT) list.shift();
      this.foreign.set(key, list);
      return;
    }
    if (e.kind === 'order-planned') {
      // A mark unknown at the break (no quote held for the contract then) is taken when the close is planned, the
      // first moment the guard asks for quotes; a mark known is never replaced.
      const r = e.order.request;
      const i = r.incidentId === null ? undefined : this.incidents.get(r.incidentId);
      if (i === undefined) return;
      const fill = (hs: readonly HeldAtDetection[]): readonly HeldAtDetection[] => hs.map((h) => (h.mid === null ? { ...h, mid: this.mid(h.contract) } : h));
      i.held = fill(i.held);
      i.beforeBreak = fill(i.beforeBreak);
      return;
    }
    if (e.kind !== 'order-sent') return;
    const r = e.order.request;
    const i = r.incidentId === null ? undefined : this.incidents.get(r.incidentId);
    if (i === undefined || r.incidentId === null || i.mids.has(r.ref)) return;
    const mids = new Map(r.legs.map((l) => [contractKey(l.contract), this.mid(l.contract)]));
    i.mids.set(r.ref, mids);
    this.d.commit({ journal: [this.snapshot(r.incidentId, i)] }).catch((err: unknown) => this.d.log('warn', `keeping the cost of ${r.incidentId}: ${String(err)}`));
    // A leg with no quote held (an order planned before a restart, sent after it) has its mid asked for now.
    const incidentId = r.incidentId;
    this.fetchThen(
      incidentId,
      i,
      r.legs.filter((l) => mids.get(contractKey(l.contract)) === null).map((l) => l.contract),
      () => {
        for (const [k, v] of mids) if (v === null) mids.set(k, this.mid(r.legs.find((l) => contractKey(l.contract) === k)!.contract));
        for (const [execId, f] of i.fills) if (f.ref === r.ref && f.midAtSend === null) i.fills.set(execId, { ...f, midAtSend: mids.get(contractKey(f.contract)) ?? null });
      },
    );
  }

  /** The cash outside executions on `contract` moved to make `change` (the newest that add up to it), or null. */
  private foreignCash(contract: Contract, change: number): number | null {
    const list = this.foreign.get(contractKey(contract));
    if (!list) return null;
    let sum = 0;
    for (let i = list.length - 1; i >= 0; i--) {
      sum += list[i]!.qty;
      if (sum === change) return executionsCash(contract, list.splice(i));
    }
    return null;
  }

  /**
   * A strategy's holdings changed in an incident (the book already moved). A break starts the incident's cost
   * (`starts`): before = now less the changes, marked with the last quotes the guard holds (the break was just
   * seen: they are the last before it), after = now. A later change of a known incident (a wing expiring) is added.
   * Returns the note to commit with the detections, or null when the incident is not costed.
   */
  onDetections(incidentId: IncidentId, strategyId: StrategyId, ds: readonly Detection[], starts: boolean): JournalEntry | null {
    let i = this.incidents.get(incidentId);
    if (i === undefined) {
      if (!starts) return null;
      const after = this.d.holdings(strategyId);
      const before = new Map<string, { contract: Contract; qty: number }>();
      for (const h of after) before.set(contractKey(h.contract), { contract: h.contract, qty: h.qty });
      for (const d of ds) {
        const k = contractKey(d.contract);
        const b = before.get(k) ?? { contract: d.contract, qty: 0 };
        b.qty -= d.change;
        before.set(k, b);
      }
      i = {
        strategyId,
        beforeBreak: [...before.values()].filter((b) => b.qty !== 0).map((b) => ({ contract: b.contract, qty: b.qty, mid: this.mid(b.contract) })),
        held: after.map((h) => ({ contract: h.contract, qty: h.qty, mid: this.mid(h.contract) })),
        breaks: [],
        mids: new Map(),
        fills: new Map(),
        commissions: new Map(),
        seq: 0,
        closed: false,
      };
      this.incidents.set(incidentId, i);
      this.fetchMissingMarks(incidentId, i);
    }
    for (const d of ds) {
      const manual = d.cause === 'manual' || d.cause === 'liquidation' || d.cause === 'unknown' || (!isOption(d.contract) && d.settles === null);
      i.breaks.push({ contract: d.contract, change: d.change, cash: settlementCash(d, manual ? this.foreignCash(d.contract, d.change) : null) });
    }
    // A mark unknown at the break may be known by the time the close is planned; the first known one is kept.
    i.held = i.held.map((h) => (h.mid === null ? { ...h, mid: this.mid(h.contract) } : h));
    return this.snapshot(incidentId, i);
  }

  /**
   * A contract the guard held no quote for at the break (a leg no rule or close had priced: the assigned put) has its
   * mark asked for in the background, off the close's path; the mark taken when the answer comes stands for the
   * last one before the break, and the incident's state (and its cost, when its close already ended) is written again.
   */
  private fetchMissingMarks(incidentId: IncidentId, i: Incident): void {
    // What is still held is quoted when its close is planned (order-planned fills it in): only the legs the break
    // took away (the assigned put) are asked for here.
    const held = new Set(i.held.map((h) => contractKey(h.contract)));
    const missing = i.beforeBreak.filter((h) => h.mid === null && !held.has(contractKey(h.contract))).map((h) => h.contract);
    this.fetchThen(incidentId, i, missing, () => {
      const fill = (hs: readonly HeldAtDetection[]): readonly HeldAtDetection[] => hs.map((h) => (h.mid === null ? { ...h, mid: this.mid(h.contract) } : h));
      i.beforeBreak = fill(i.beforeBreak);
      i.held = fill(i.held);
    });
  }

  /**
   * Asks for quotes of `contracts` in the background, one request at a time (the closes' own quote requests wait
   * behind at most one of these in the broker's pacing, however many strategies broke at once); when they come,
   * `apply` on the queue and the state written.
   */
  private fetchThen(incidentId: IncidentId, i: Incident, contracts: readonly Contract[], apply: () => void): void {
    if (contracts.length === 0) return;
    const p = this.chain
      .then(() => this.d.fetchQuotes(contracts))
      .then(() =>
        this.d.enqueue(async () => {
          apply();
          const journal = [this.snapshot(incidentId, i)];
          if (i.closed) journal.push(this.costNote(incidentId, this.d.now()));
          await this.d.commit({ journal });
        }),
      )
      .catch((err: unknown) => this.d.log('warn', `marks for the cost of ${incidentId}: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => this.fetching.delete(p));
    this.fetching.add(p);
    this.chain = p;
  }

  get busy(): boolean {
    return this.fetching.size > 0;
  }

  /** Resolves when the marks asked for are in (the engine's `idle` waits for them). */
  async settled(): Promise<void> {
    while (this.fetching.size > 0) await Promise.all([...this.fetching]);
  }

  /** One of the guard's own fills, applied to the book: the note to commit with it, or null when not an incident's. */
  onOwnFill(incidentId: IncidentId | null, ref: string, x: ExecutionReport): JournalEntry | null {
    const i = incidentId === null ? undefined : this.incidents.get(incidentId);
    if (i === undefined || incidentId === null || i.fills.has(x.execId)) return null;
    this.byExec.set(x.execId, incidentId);
    i.fills.set(x.execId, {
      ref,
      contract: x.contract,
      qty: (x.side === 'BUY' ? 1 : -1) * x.qty,
      price: x.price,
      midAtSend: i.mids.get(ref)?.get(contractKey(x.contract)) ?? null,
    });
    const c = this.unmatched.get(x.execId);
    if (c !== undefined) {
      this.unmatched.delete(x.execId);
      i.commissions.set(x.execId, c);
    }
    return this.snapshot(incidentId, i);
  }

  /**
   * The broker's commission for an execution. For a closing fill of an incident: the incident it belongs to and the
   * notes to commit (its state; its cost again when its close had already ended). Otherwise kept a while, in case
   * the report came before its fill.
   */
  onCommission(c: CommissionReport, at: number): { readonly strategyId: StrategyId; readonly incidentId: IncidentId; readonly journal: readonly JournalEntry[] } | null {
    const id = this.byExec.get(c.execId);
    const i = id === undefined ? undefined : this.incidents.get(id);
    if (id !== undefined && i !== undefined) {
      if (i.commissions.get(c.execId) === c.commission) return null;
      i.commissions.set(c.execId, c.commission);
      const incidentId = id as IncidentId;
      const journal = [this.snapshot(incidentId, i)];
      if (i.closed) journal.push(this.costNote(incidentId, at));
      return { strategyId: i.strategyId, incidentId, journal };
    }
    this.unmatched.set(c.execId, c.commission);
    if (this.unmatched.size > MAX_UNMATCHED) this.unmatched.delete(this.unmatched.keys().next().value!);
    return null;
  }

  cost(incidentId: IncidentId | string): IncidentCost | null {
    const i = this.incidents.get(incidentId);
    if (i === undefined) return null;
    return incidentCost({
      incidentId,
      strategyId: i.strategyId,
      beforeBreak: i.beforeBreak,
      held: i.held,
      breaks: i.breaks,
      fills: [...i.fills].map(([execId, f]) => ({ ...f, commission: i.commissions.get(execId) ?? null })),
    });
  }

  /** What each strategy held just after it first broke (the replay report's payoff after the break). */
  heldAtBreak(): Map<string, readonly HeldAtDetection[]> {
    const out = new Map<string, readonly HeldAtDetection[]>();
    for (const i of this.incidents.values()) if (!out.has(i.strategyId)) out.set(i.strategyId, i.held);
    return out;
  }

  /** Every incident's cost, in the order they broke. */
  costs(): IncidentCost[] {
    return [...this.incidents.keys()].map((id) => this.cost(id)!);
  }

  /**
   * The incident's close ended (CLOSED, or given up to a person): the note `status` and the dashboard show, with the
   * cost as it stands. Null when the incident is not costed.
   */
  closed(incidentId: IncidentId | null, at: number): JournalEntry | null {
    const i = incidentId === null ? undefined : this.incidents.get(incidentId);
    if (i === undefined || incidentId === null) return null;
    if (!i.closed) this.closedOrder.push(incidentId);
    i.closed = true;
    const note = this.costNote(incidentId, at);
    this.forgetOldClosed();
    return note;
  }

  /** Past `MAX_CLOSED` ended incidents, the oldest leave memory (their cost is in the journal). */
  private forgetOldClosed(): void {
    while (this.closedOrder.length > MAX_CLOSED) {
      const id = this.closedOrder.shift()!;
      const i = this.incidents.get(id);
      if (i === undefined) continue;
      for (const execId of i.fills.keys()) this.byExec.delete(execId);
      this.incidents.delete(id);
    }
  }

  private costNote(incidentId: IncidentId, at: number): JournalEntry {
    const cost = this.cost(incidentId)!;
    const i = this.incidents.get(incidentId)!;
    return this.d.journal('note', `incident-cost:${incidentId}:${at}:${i.seq}`, { kind: 'incident-cost', text: describeCost(cost), cost }, i.strategyId, incidentId);
  }

  /**
   * The incident's state as a journal note. Each contract is written once, in `contracts` (compact:
   * core/compact-contract.ts), and the holdings, breaks and fills name it by its index there: a broken condor's state
   * names its five contracts ten times or more, and a burst of a thousand breaks commits a thousand of these with the
   * plans.
   */
  private snapshot(incidentId: IncidentId, i: Incident): JournalEntry {
    i.seq++;
    return this.d.journal('note', `${STATE}:${incidentId}:${i.seq}`, stateData(i), i.strategyId, incidentId);
  }

  /**
   * At start: each unfinished incident's cost as its newest note left it, plus any closing fill journaled for it
   * that the note missed (written in an earlier flush than the note). A note that does not read is skipped, said.
   */
  async restore(store: Pick<StorePort, 'journal'>, account: JournalEntry['account'], incidents: readonly { readonly incidentId: IncidentId; readonly strategyId: StrategyId }[]): Promise<void> {
    for (const { incidentId, strategyId } of incidents) {
      if (this.incidents.has(incidentId)) continue;
      const entries = await store.journal({ account, incidentId, types: ['note', 'fill'] });
      let state: Incident | null = null;
      for (const e of entries) {
        if (e.type !== 'note') continue;
        const parsed = readState(e.data, strategyId);
        if (parsed === 'not-state') continue;
        if (parsed === null) {
          this.d.log('warn', `the cost of ${incidentId}: a ${STATE} note does not read; skipped`);
          continue;
        }
        if (state === null || parsed.seq > state.seq) state = parsed;
      }
      if (state === null) continue;
      for (const e of entries) {
        if (e.type !== 'fill') continue;
        const x = e.data as ExecutionReport;
        if (typeof x?.execId !== 'string' || state.fills.has(x.execId) || typeof x.orderRef !== 'string') continue;
        state.fills.set(x.execId, { ref: x.orderRef, contract: x.contract, qty: (x.side === 'BUY' ? 1 : -1) * x.qty, price: x.price, midAtSend: state.mids.get(x.orderRef)?.get(contractKey(x.contract)) ?? null });
      }
      this.incidents.set(incidentId, state);
      for (const execId of state.fills.keys()) this.byExec.set(execId, incidentId);
    }
  }
}

/**
 * The note's data (`v: 2`). Plain loops and module functions: a burst of a thousand breaks builds a thousand of these
 * inside its commit, and a closure made per call costs more than the loop it saves.
 */
function stateData(i: Incident): Record<string, unknown> {
  const t: ContractTable = { contracts: [], byObject: new Map(), byKey: new Map() };
  const beforeBreak: [number, number, number | null][] = [];
  for (const h of i.beforeBreak) beforeBreak.push([contractIndex(t, h.contract), h.qty, h.mid]);
  const held: [number, number, number | null][] = [];
  for (const h of i.held) held.push([contractIndex(t, h.contract), h.qty, h.mid]);
  const breaks: [number, number, number | null][] = [];
  for (const b of i.breaks) breaks.push([contractIndex(t, b.contract), b.change, b.cash]);
  const mids: [string, [string, number | null][]][] = [];
  for (const [ref, m] of i.mids) mids.push([ref, [...m]]);
  const fills: [string, string, number, number, number, number | null][] = [];
  for (const [execId, f] of i.fills) fills.push([execId, f.ref, contractIndex(t, f.contract), f.qty, f.price, f.midAtSend]);
  return { kind: STATE, v: 2, seq: i.seq, closed: i.closed, beforeBreak, held, breaks, mids, fills, commissions: [...i.commissions], contracts: t.contracts };
}

/**
 * The contracts a state note names, each once (compact), and where each is in the list: by the object first (the
 * holdings share their contract objects, and a key is a string built each time), then by its key.
 */
interface ContractTable {
  readonly contracts: unknown[];
  readonly byObject: Map<Contract, number>;
  readonly byKey: Map<string, number>;
}

function contractIndex(t: ContractTable, c: Contract): number {
  let n = t.byObject.get(c);
  if (n !== undefined) return n;
  const k = contractKey(c);
  n = t.byKey.get(k);
  if (n === undefined) {
    n = t.contracts.length;
    t.contracts.push(compactContract(c));
    t.byKey.set(k, n);
  }
  t.byObject.set(c, n);
  return n;
}

type Json = Record<string, unknown>;
const isObj = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isMid = (x: unknown): x is number | null => x === null || isNum(x);
const isContract = (x: unknown): x is Contract => isObj(x) && typeof x.symbol === 'string' && (x.secType === 'STK' || (x.secType === 'OPT' && isNum(x.strike) && isNum(x.multiplier)));

/** An `incident-cost-state` note's data read back; 'not-state' for another note, null for one that does not read. */
function readState(data: unknown, strategyId: StrategyId): Incident | 'not-state' | null {
  if (!isObj(data) || data.kind !== STATE) return 'not-state';
  if (!isNum(data.seq) || !Array.isArray(data.breaks) || !Array.isArray(data.mids) || !Array.isArray(data.fills) || !Array.isArray(data.commissions)) return null;
  const parts = data.v === 2 ? readIndexed(data) : readInline(data);
  if (parts === null) return null;
  const mids = new Map<string, Map<string, number | null>>();
  for (const m of data.mids as unknown[]) {
    if (!Array.isArray(m) || typeof m[0] !== 'string' || !Array.isArray(m[1])) return null;
    const legs = new Map<string, number | null>();
    for (const l of m[1] as unknown[]) {
      if (!Array.isArray(l) || typeof l[0] !== 'string' || !isMid(l[1])) return null;
      legs.set(l[0], l[1]);
    }
    mids.set(m[0], legs);
  }
  const commissions = new Map<string, number>();
  for (const c of data.commissions as unknown[]) {
    if (!Array.isArray(c) || typeof c[0] !== 'string' || !isNum(c[1])) return null;
    commissions.set(c[0], c[1]);
  }
  return { strategyId, ...parts, mids, commissions, seq: data.seq, closed: data.closed === true };
}

type StateParts = Pick<Incident, 'beforeBreak' | 'held' | 'breaks' | 'fills'>;

/** The state as written now (`v: 2`): contracts once, in `contracts`, named by index. */
function readIndexed(data: Json): StateParts | null {
  if (!Array.isArray(data.contracts)) return null;
  const contracts = (data.contracts as unknown[]).map(expandContract);
  if (!contracts.every(isContract)) return null;
  const at = (x: unknown): Contract | null => (typeof x === 'number' && Number.isInteger(x) ? (contracts[x] ?? null) : null);
  const held = (x: unknown): HeldAtDetection[] | null => {
    if (!Array.isArray(x)) return null;
    const out: HeldAtDetection[] = [];
    for (const h of x as unknown[]) {
      const contract = Array.isArray(h) ? at(h[0]) : null;
      if (!Array.isArray(h) || contract === null || !isNum(h[1]) || !isMid(h[2])) return null;
      out.push({ contract, qty: h[1], mid: h[2] });
    }
    return out;
  };
  const beforeBreak = held(data.beforeBreak);
  const after = held(data.held);
  if (beforeBreak === null || after === null) return null;
  const breaks: BreakChange[] = [];
  for (const b of data.breaks as unknown[]) {
    const contract = Array.isArray(b) ? at(b[0]) : null;
    if (!Array.isArray(b) || contract === null || !isNum(b[1]) || !isMid(b[2])) return null;
    breaks.push({ contract, change: b[1], cash: b[2] });
  }
  const fills = new Map<string, Omit<ClosingFill, 'commission'>>();
  for (const f of data.fills as unknown[]) {
    const contract = Array.isArray(f) ? at(f[2]) : null;
    if (!Array.isArray(f) || typeof f[0] !== 'string' || typeof f[1] !== 'string' || contract === null || !isNum(f[3]) || !isNum(f[4]) || !isMid(f[5])) return null;
    fills.set(f[0], { ref: f[1], contract, qty: f[3], price: f[4], midAtSend: f[5] });
  }
  return { beforeBreak, held: after, breaks, fills };
}

function readHeld(x: unknown): HeldAtDetection[] | null {
  if (!Array.isArray(x)) return null;
  const out: HeldAtDetection[] = [];
  for (const h of x) {
    if (!isObj(h) || !isContract(h.contract) || !isNum(h.qty) || !isMid(h.mid)) return null;
    out.push({ contract: h.contract, qty: h.qty, mid: h.mid });
  }
  return out;
}

/** The state as notes before `v: 2` hold it (a record written by an earlier version): every contract in full where it is named. */
function readInline(data: Json): StateParts | null {
  const beforeBreak = readHeld(data.beforeBreak);
  const held = readHeld(data.held);
  if (beforeBreak === null || held === null) return null;
  const breaks: BreakChange[] = [];
  for (const b of data.breaks as unknown[]) {
    if (!isObj(b) || !isContract(b.contract) || !isNum(b.change) || !isMid(b.cash)) return null;
    breaks.push({ contract: b.contract, change: b.change, cash: b.cash });
  }
  const fills = new Map<string, Omit<ClosingFill, 'commission'>>();
  for (const f of data.fills as unknown[]) {
    if (!isObj(f) || typeof f.execId !== 'string' || typeof f.ref !== 'string' || !isContract(f.contract) || !isNum(f.qty) || !isNum(f.price) || !isMid(f.midAtSend)) return null;
    fills.set(f.execId, { ref: f.ref, contract: f.contract, qty: f.qty, price: f.price, midAtSend: f.midAtSend });
  }
  return { beforeBreak, held, breaks, fills };
}
