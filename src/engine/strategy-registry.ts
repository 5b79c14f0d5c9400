import { LegguardError } from '../core/errors.js';
import type { StrategyDefinition } from '../core/strategy.js';
import type { StorePort, StrategyRecord } from '../ports/store.js';
import type { EngineContext, StrategyRuntime } from './engine-host.js';

/** The guarded strategies: loaded at start, added while running, and picked up from (or dropped with) the store. */
export class StrategyRegistry {
  constructor(
    private readonly ctx: EngineContext,
    private readonly store: Pick<StorePort, 'listStrategies'>,
  ) {}

  adopt(r: StrategyRecord): void {
    const id = r.definition.id;
    this.ctx.book.addStrategy(id, r.definition.createdAt);
    for (const h of r.holdings) this.ctx.book.set(id, h.contract, h.qty);
    this.ctx.strategies.set(id, {
      def: r.definition,
      state: r.state,
      broken: r.broken,
      incidentId: r.broken?.incidentId ?? null,
      closing: null,
      updatedAt: r.updatedAt,
    });
  }

  /**
   * Guards a new strategy: it waits PENDING, holding nothing, until a reconciliation finds every leg at the broker
   * (then it holds them and is OPEN); a leg the broker does not show is reported, never detected.
   */
  async add(def: StrategyDefinition): Promise<void> {
    if (this.ctx.strategies.has(def.id)) {
      throw new LegguardError('INVALID_INPUT', `strategy ${def.id} is already guarded`, { strategyId: def.id });
    }
    this.ctx.book.addStrategy(def.id, def.createdAt);
    const now = this.ctx.clock.now();
    const rt: StrategyRuntime = { def, state: 'PENDING', broken: null, incidentId: null, closing: null, updatedAt: now };
    this.ctx.strategies.set(def.id, rt);
    await this.ctx.commit({
      strategies: [this.ctx.record(rt)],
      stateChanges: [{ strategyId: def.id, from: null, to: 'PENDING', at: now, reason: 'guarded', incidentId: null }],
    });
    this.ctx.emit({ kind: 'state', at: now, strategyId: def.id, from: null, to: 'PENDING', reason: 'guarded' });
  }

  /**
   * Strategies added to the store by `legguard strategies add` while the guard runs are adopted (PENDING until the
   * reconciliation that follows finds their legs at the broker); strategies removed from it are dropped, their
   * holdings passing to the outside so the book still adds up to the broker. A strategy in an incident is never
   * dropped. A PENDING strategy replaced in the store (a typo fixed with `--replace`) waits with its new legs.
   */
  async sync(): Promise<void> {
    const records = await this.store.listStrategies(this.ctx.account);
    const inStore = new Set<string>();
    for (const r of records) {
      inStore.add(r.definition.id);
      const known = this.ctx.strategies.get(r.definition.id);
      if (known?.state === 'PENDING' && r.state === 'PENDING' && JSON.stringify(known.def) !== JSON.stringify(r.definition)) {
        // It holds nothing, so nothing moves in the book but its rank.
        this.ctx.book.removeStrategy(r.definition.id);
        this.adopt(r);
        this.ctx.emit({ kind: 'note', at: this.ctx.clock.now(), strategyId: r.definition.id, text: 'replaced in the store while waiting for its legs: waits with the new ones' });
        continue;
      }
      if (!known && r.state !== 'CLOSED') {
        this.adopt(r);
        this.ctx.emit({ kind: 'note', at: this.ctx.clock.now(), strategyId: r.definition.id, text: 'now guarded (added to the store)' });
      }
    }
    for (const [id, rt] of this.ctx.strategies) {
      if (inStore.has(id) || rt.state === 'BROKEN' || rt.state === 'EMERGENCY_CLOSING' || rt.state === 'CLOSING') continue;
      for (const h of this.ctx.book.holdings(id)) {
        this.ctx.book.apply(id, h.contract, 0 - h.qty);
        this.ctx.book.apply(null, h.contract, h.qty);
      }
      this.ctx.book.removeStrategy(id);
      this.ctx.strategies.delete(id);
      this.ctx.emit({ kind: 'note', at: this.ctx.clock.now(), strategyId: id, text: 'no longer guarded (removed from the store); its positions count as outside any strategy' });
      await this.ctx.commit({ outside: this.ctx.book.holdings(null) });
    }
  }
}
