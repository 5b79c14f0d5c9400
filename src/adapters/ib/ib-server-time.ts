import { LegguardError } from '../../core/errors.js';
import { EpochMs } from '../../core/quantity.js';
import type { Clock, TimerHandle } from '../../ports/clock.js';
import type { IbConnection } from './ib-connection.js';
import { DATA_PRIORITY } from './ib-market-data.js';

/**
 * TWS's own time (CURRENT_TIME, to the second): every statement of it goes to the listeners as it arrives, asked for
 * or not, and `currentTime()` asks for one and waits for the next. An answer cannot come on a connection that is
 * gone: `lost` fails every waiter at once rather than at its timeout.
 */
export class ServerTime {
  private readonly listeners = new Set<(t: EpochMs) => void>();
  private readonly lostListeners = new Set<(e: LegguardError) => void>();
  private waiters = 0;

  constructor(
    private readonly deps: {
      readonly conn: IbConnection;
      /** Real time: the request's timeout. */
      readonly clock: Clock;
      readonly timeoutMs: number;
      readonly name: string;
    },
  ) {}

  /** A `currentTime()` still waits for its answer. */
  get busy(): boolean {
    return this.waiters > 0;
  }

  /** Every time TWS states, as it arrives. Returns the unsubscribe function. */
  listen(listener: (t: EpochMs) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** TWS stated its time (already validated). */
  heard(t: EpochMs): void {
    for (const l of [...this.listeners]) l(t);
  }

  /** The connection went: whoever waits for an answer on it fails with `error`. */
  lost(error: LegguardError): void {
    for (const fail of [...this.lostListeners]) fail(error);
  }

  async currentTime(): Promise<EpochMs> {
    const { conn, clock, timeoutMs, name } = this.deps;
    conn.requireReady('currentTime');
    this.waiters++;
    try {
      return await new Promise<EpochMs>((resolve, reject) => {
        let timer: TimerHandle | null = null;
        const offTime = this.listen((t) => {
          off();
          timer?.cancel();
          resolve(t);
        });
        const fail = (e: LegguardError): void => {
          off();
          timer?.cancel();
          reject(e);
        };
        this.lostListeners.add(fail);
        const off = (): void => {
          offTime();
          this.lostListeners.delete(fail);
        };
        timer = clock.setTimer(EpochMs.unsafe(clock.now() + timeoutMs), () => {
          off();
          reject(new LegguardError('BROKER_TIMEOUT', `${name}: TWS did not answer the current time within ${timeoutMs / 1000} s`, { request: 'reqCurrentTime', timeoutMs }));
        });
        conn.send(DATA_PRIORITY, (a) => a.reqCurrentTime()).catch((e: unknown) => {
          off();
          timer?.cancel();
          reject(e instanceof Error ? e : new LegguardError('INTERNAL', String(e)));
        });
      });
    } finally {
      this.waiters--;
    }
  }
}
