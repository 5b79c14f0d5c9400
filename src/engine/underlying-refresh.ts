import type { UnderlyingInfo } from '../ports/broker.js';

export interface UnderlyingRefreshHost {
  /** The symbols to ask for (the guarded strategies' underlyings); none while the broker link is down. */
  symbols(): readonly string[];
  /** The broker's answer, or null (logged) when it has none. Runs outside the serial queue: it may take seconds. */
  fetch(symbol: string): Promise<UnderlyingInfo | null>;
  /** Keeps an answer; the engine does it as a step of its serial queue (events lane), so state changes stay serial. */
  apply(u: UnderlyingInfo): Promise<void>;
}

/** IB market-data lines are few and each answer may wait seconds for the dividend tick: a handful at a time. */
const CONCURRENCY = 4;

/**
 * Asks the broker for the price and dividends (IB generic tick 456) of every guarded underlying, at start and on an
 * interval, so broker dividends reach the early-assignment rules (market-data.ts merges nothing; the engine combines
 * them with the config's or scenario's). The asking happens outside the serial queue, so a slow answer never holds a
 * broker event; one refresh at a time (a request while one runs joins it).
 */
export class UnderlyingRefresh {
  private running: Promise<void> | null = null;

  constructor(private readonly h: UnderlyingRefreshHost) {}

  /** Starts a refresh unless one runs; resolves when it has ended. */
  start(): Promise<void> {
    this.running ??= this.all().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** The refresh under way, or null. */
  get pending(): Promise<void> | null {
    return this.running;
  }

  private async all(): Promise<void> {
    const todo = [...new Set(this.h.symbols())];
    const worker = async (): Promise<void> => {
      for (let s = todo.shift(); s !== undefined; s = todo.shift()) {
        const u = await this.h.fetch(s);
        if (u) await this.h.apply(u);
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, todo.length) }, worker));
  }
}
