import { formatNyTime } from '../adapters/alerts/format-alert.js';
import { LegguardError } from '../core/errors.js';
import type { AccountId } from '../core/ids.js';
import type { LeaseInfo, StorePort } from '../ports/store.js';

export interface LeadershipOptions {
  readonly store: StorePort;
  readonly account: AccountId;
  /** This guard, as the lease and `legguard status` name it (`<host>/<pid>`). */
  readonly holder: string;
  readonly leaseMs: number;
  readonly renewMs: number;
  /** Monotonic milliseconds of this machine (performance.now): it runs on while the process is frozen. */
  readonly perf: () => number;
  readonly log: (level: 'info' | 'warn' | 'error', text: string) => void;
  /** Called once when this guard stops being the leader; it must send nothing more and step down. */
  readonly onLost: (reason: string) => void;
}

export interface Acquired {
  readonly lease: LeaseInfo;
  /** The lease as this guard last saw it held by another (it waited as standby, or took it from a dead holder). */
  readonly tookOverFrom: LeaseInfo | null;
}

/**
 * One guard's side of the account's leader lease (docs/standby.md). The store decides who leads, on its own clock;
 * this guard counts its own lease on the monotonic clock from the moment it asked for it, so that a guard frozen
 * (SIGSTOP, a long pause) past its lease knows it on waking before it sends anything, even if the store is out of
 * reach. Its commits carry the epoch, so the store refuses them once another guard took over.
 */
export class Leadership {
  private lease: LeaseInfo | null = null;
  /** The leader's lease ends here on the monotonic clock: `leaseMs` less a margin after the renewal was asked for. */
  private validUntil = -Infinity;
  private lostReason: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private renewing = false;
  /** When this guard found its lease run out on its monotonic clock (null while it leads). */
  private lapsedAt: number | null = null;
  private readonly waiters: ((leading: boolean) => void)[] = [];

  constructor(private readonly o: LeadershipOptions) {}

  /** The epoch this guard leads at; null before it leads. */
  get epoch(): number | null {
    return this.lease?.epoch ?? null;
  }

  get current(): LeaseInfo | null {
    return this.lease;
  }

  /**
   * Takes the lease. A live lease of another guard refuses with LOCK_HELD (exit 5) naming it, unless `wait`: then this
   * guard is its standby and tries again every `renewMs` until the lease lapses or is released. A holder `isDead`
   * says no longer runs (a guard on this machine killed -9) is taken from at once.
   */
  async acquire(opts: { wait: boolean; signal?: AbortSignal; isDead: (holder: string) => boolean; onStandby?: (leader: LeaseInfo) => void }): Promise<Acquired> {
    const { store, account, holder, leaseMs } = this.o;
    let other: LeaseInfo | null = null;
    let announced = false;
    for (;;) {
      if (opts.signal?.aborted) throw new LegguardError('LOCK_HELD', `stopped while waiting as standby for account ${account}`);
      const t0 = this.o.perf();
      let r;
      try {
        r = await store.acquireLease(account, holder, leaseMs);
        if (!r.acquired && opts.isDead(r.lease.holder)) {
          this.o.log('warn', `the lease for ${account} is held by ${r.lease.holder}, which no longer runs on this machine: taking it over`);
          other = r.lease;
          r = await store.acquireLease(account, holder, leaseMs, { takeFrom: r.lease.holder });
        }
      } catch (e) {
        if (!opts.wait || !LegguardError.is(e, 'STORE_UNREACHABLE')) throw e;
        this.o.log('warn', `standby: ${e.message}; trying again`);
        await sleep(this.o.renewMs, opts.signal);
        continue;
      }
      if (r.acquired) {
        this.take(r.lease, t0);
        const previous = other !== null && other.holder !== holder ? other : null;
        return { lease: r.lease, tookOverFrom: previous };
      }
      if (!opts.wait) {
        const l = r.lease;
        throw new LegguardError(
          'LOCK_HELD',
          `account ${account} is locked: another guard, ${JSON.stringify(l.holder)}, leads it (lease epoch ${l.epoch}, until ${formatNyTime(l.leaseUntil)}). ` +
            'Stop that guard, or start this one with --standby to wait as its standby.',
          { account, owner: l.holder, epoch: l.epoch, leaseUntil: l.leaseUntil },
        );
      }
      other = r.lease;
      if (!announced) {
        announced = true;
        opts.onStandby?.(r.lease);
      }
      await sleep(this.o.renewMs, opts.signal);
    }
  }

  /** Renews every `renewMs` until stopped or lost. */
  start(): void {
    this.timer ??= setInterval(() => void this.renew(), this.o.renewMs);
  }

  /**
   * True while this guard leads: it holds the lease and its monotonic clock says the lease has not run out. One that
   * ran out without anybody taking it (the event loop blocked past the lease by a long start-up or GC, a short
   * freeze) is not lost at once: the store is asked whether this guard still holds it at its epoch (no other guard
   * can have led without a higher epoch), and until it answers this guard does not lead. A store that does not
   * confirm within `renewMs` of the lapse, or says another guard leads, loses the lease.
   */
  isLeader(): boolean {
    if (this.lostReason !== null || this.lease === null) return false;
    const now = this.o.perf();
    if (now < this.validUntil) return true;
    if (this.lapsedAt === null) {
      this.lapsedAt = now;
      this.o.log('warn', `the lease for ${this.o.account} was not renewed within ${this.o.leaseMs} ms (this process was blocked or frozen, or the store is slow): sending nothing until the store confirms nobody else leads`);
      if (!this.renewing) void this.renew();
    } else if (now - this.lapsedAt >= this.o.renewMs) {
      this.lose(
        `the lease was not renewed within ${this.o.leaseMs} ms (this process was frozen, or the store out of reach), ` +
          `and the store did not confirm within ${this.o.renewMs} ms that it still leads`,
      );
    }
    return false;
  }

  /**
   * Resolves true at once while this guard leads; during a lapse, once the store has confirmed it still leads (true)
   * or it lost the lease (false). Bounded: a lapse is decided within `renewMs` of the renewal timer.
   */
  whenLeading(): Promise<boolean> {
    if (this.isLeader()) return Promise.resolve(true);
    if (this.lostReason !== null || this.lease === null) return Promise.resolve(false);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Called when the store refused a commit as FENCED: another guard leads. */
  fenced(e: LegguardError): void {
    this.lose(e.message);
  }

  get lost(): string | null {
    return this.lostReason;
  }

  /** Stops renewing and gives the lease up (a standby takes it at once); a standby is forgotten. */
  async release(): Promise<void> {
    this.stopTimer();
    this.settle(false);
    const epoch = this.lostReason === null ? (this.lease?.epoch ?? null) : null;
    await this.o.store.releaseLease(this.o.account, this.o.holder, epoch);
  }

  private async renew(): Promise<void> {
    if (this.lease === null || this.lostReason !== null) return;
    // A renewal that does not come back (the store cut off: a partition drops packets, nothing fails) must not keep
    // this guard from finding out, on its own clock, that its lease ran out: no second one is sent meanwhile.
    if (this.renewing) {
      this.isLeader();
      return;
    }
    this.isLeader(); // notes a lapse (and loses the lease once the store has not confirmed it in time)
    if (this.lostReason !== null) return;
    this.renewing = true;
    const t0 = this.o.perf();
    let again = false;
    try {
      // Renewed at the epoch this guard leads at: the store refuses (FENCED) once another guard took the lease, even
      // after a lapse, so a renewal that succeeds proves nobody else led in between.
      this.take(await this.o.store.renewLease(this.o.account, this.o.holder, this.lease.epoch, this.o.leaseMs), t0);
      if (this.lapsedAt !== null) {
        if (this.o.perf() < this.validUntil) {
          this.o.log('warn', `the lease for ${this.o.account} lapsed for ${Math.round(this.o.perf() - this.lapsedAt)} ms and nobody took it: still leading at epoch ${this.lease.epoch}`);
          this.lapsedAt = null;
          this.settle(true);
        } else again = true; // a renewal asked before the lapse: its lease is already over; ask again now
      }
    } catch (e) {
      if (LegguardError.is(e, 'FENCED')) this.lose(e.message);
      else {
        this.o.log('warn', `could not renew the lease for ${this.o.account}: ${e instanceof Error ? e.message : String(e)}`);
        this.isLeader();
      }
    } finally {
      this.renewing = false;
    }
    if (again && this.lostReason === null) await this.renew();
  }

  private take(lease: LeaseInfo, askedAt: number): void {
    this.lease = lease;
    this.validUntil = askedAt + this.o.leaseMs - Math.min(500, this.o.leaseMs / 10);
  }

  private lose(reason: string): void {
    if (this.lostReason !== null) return;
    this.lostReason = reason;
    this.stopTimer();
    this.settle(false);
    this.o.onLost(reason);
  }

  private settle(leading: boolean): void {
    const waiting = this.waiters.splice(0);
    for (const w of waiting) w(leading);
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
