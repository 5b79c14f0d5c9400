import { LegguardError } from '../../core/errors.js';
import type { VirtualClock } from '../clock/virtual-clock.js';
import type { ClientSession } from './client-session.js';
import { ServerMsg } from './message-ids.js';
import type { LockstepHooks } from './tws-gateway.js';

export interface LockstepOptions {
  /** The simulated world's clock: the scenario's events, the broker's fills, the clearing house. */
  readonly clock: VirtualClock;
  /** The world stops here (the scenario's `until`). */
  readonly until: number;
  /** At most this many times real time; null: as fast as the lockstep clients keep up. */
  readonly speed: number | null;
  /** Whether the gateway refuses connections now (a reset window): time then runs on without clients. */
  readonly refusing: () => boolean;
  /** Awaited after each world timer, so that what it set off (async backend work) is done before the next. */
  readonly settle: () => Promise<void>;
  /** Real monotonic milliseconds (performance.now). */
  readonly perf: () => number;
  readonly log: (line: string) => void;
  /** Once, when the world reached `until` and every lockstep client has caught up with it. */
  readonly onFinished: () => void;
  /** A world timer threw (a scenario event the account cannot take): lockstep stops. */
  readonly onFailure: (e: LegguardError) => void;
  /** How long, in real ms, a client may keep the world waiting before the gateway says so. Default 30 s. */
  readonly stallWarnMs?: number;
}

interface Client {
  /** The `seq` of the client's last idle report that matched what it had been sent; -1 before the first. */
  idleSeq: number;
  /** What time the client must be woken at (epoch ms), or null. */
  deadline: number | null;
  clientId: number | null;
}

/**
 * Scenario time in lockstep with the guards that drill against the gateway (`legguard sim-gateway --lockstep`),
 * as Nautilus' backtest engine steps its clock per event: the world's clock moves only when every lockstep client
 * has handled everything it was sent, and only as far as the earliest thing due, the world's next timer or a
 * client's own deadline. A slow machine, a cold start or a busy core then change how long a drill takes, never what
 * happens in it.
 *
 * The protocol rides on the TWS connection: the gateway numbers the CURRENT_TIME messages it writes to a client; a
 * client that has handled everything up to the n-th and has nothing left to do sends LEGGUARD_LOCKSTEP_IDLE with n
 * and its next deadline. TCP keeps each direction in order, so an idle report with n, read after everything the
 * client sent before it, while nothing but time messages was written to the client since the n-th, means the client
 * and the wire are quiet. Then the gateway writes the next time first and the world's messages at that time after
 * it. A client that was sent something after its last time message is sent the time again (a flush) and reports
 * idle again once it has handled it.
 *
 * Time starts when the first lockstep client has finished its start-up (its first idle report). With no lockstep
 * client connected it holds, but for a reset window (nobody can connect; the world runs to its end) and `advance`.
 */
export class Lockstep implements LockstepHooks {
  private readonly clients = new Map<ClientSession, Client>();
  private stepping = false;
  private checkQueued = false;
  private capTimer: NodeJS.Timeout | null = null;
  private stallTimer: NodeJS.Timeout | null = null;
  private origin: { virtual: number; real: number } | null = null;
  private advanceTarget: number | null = null;
  private finished = false;
  private stopped = false;
  private paused = false;
  private lastProgress: number;

  constructor(private readonly opts: LockstepOptions) {
    if (opts.speed !== null && !(Number.isFinite(opts.speed) && opts.speed > 0)) {
      throw new LegguardError('INVALID_INPUT', `lockstep speed must be above 0; got ${opts.speed}`);
    }
    this.lastProgress = opts.perf();
    const every = opts.stallWarnMs ?? 30_000;
    this.stallTimer = setInterval(() => this.warnIfStalled(every), Math.min(every, 10_000));
    this.stallTimer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.capTimer) clearTimeout(this.capTimer);
    if (this.stallTimer) clearInterval(this.stallTimer);
    this.capTimer = null;
    this.stallTimer = null;
  }

  /** Whether the world has reached `until` with every lockstep client caught up. */
  get isFinished(): boolean {
    return this.finished;
  }

  /**
   * Runs the world to `t` although no lockstep client runs (an operator's `advance`: an assignment posted while no
   * guard is up). Refused while a lockstep client is connected: time follows it then.
   */
  advance(t: number): string {
    if (this.clients.size > 0) return `advance ignored: ${this.clients.size} lockstep client(s) connected; time follows them`;
    if (this.stepping) return 'advance ignored: a step is under way; try again';
    if (t <= this.opts.clock.now()) return `advance ignored: ${new Date(t).toISOString()} is not after the scenario's time`;
    this.advanceTarget = t;
    this.schedule();
    return `advancing to ${new Date(Math.min(t, this.opts.until)).toISOString()}`;
  }

  /**
   * Holds scenario time even when every client is idle (an operator's `pause`), until `resume`: a drill stops a guard
   * at a chosen instant, or posts something with `advance` while none runs.
   */
  pause(on: boolean): string {
    this.paused = on;
    if (!on) this.schedule();
    return on ? 'paused: scenario time holds until resume' : 'resumed';
  }

  // ---- hooks from the gateway -------------------------------------------------------------------------------------

  idle(session: ClientSession, seq: number, deadline: number | null): void {
    // A time message the client has not read yet makes the report stale: another comes once it has handled it.
    if (seq !== session.timeWritten) return;
    let c = this.clients.get(session);
    if (!c) {
      c = { idleSeq: -1, deadline: null, clientId: session.clientId };
      this.clients.set(session, c);
      this.opts.log(`lockstep: client ${session.clientId ?? '-'} keeps time with the gateway`);
      this.origin ??= { virtual: this.opts.clock.now(), real: this.opts.perf() };
    }
    c.idleSeq = seq;
    c.deadline = deadline;
    this.schedule();
  }

  written(session: ClientSession, msgId: number): void {
    if (msgId !== ServerMsg.CURRENT_TIME && this.clients.has(session)) this.schedule();
  }

  closed(session: ClientSession): void {
    if (!this.clients.delete(session)) return;
    this.opts.log(`lockstep: client ${session.clientId ?? '-'} left; time holds until a lockstep client reports idle`);
    this.schedule();
  }

  // ---- stepping -----------------------------------------------------------------------------------------------

  /** Looks again on the next turn (once, however many reasons came in the meantime). */
  private schedule(): void {
    if (this.checkQueued || this.stopped) return;
    this.checkQueued = true;
    setImmediate(() => {
      this.checkQueued = false;
      this.check();
    });
  }

  private isIdle(s: ClientSession, c: Client): boolean {
    return c.idleSeq === s.timeWritten && !s.wroteSinceTime;
  }

  private check(): void {
    if (this.stepping || this.stopped) return;
    const clock = this.opts.clock;
    const now = clock.now();
    // A client that reported idle and was sent something since its last time message: the time again, so that it
    // reports once it has handled what came.
    for (const [s, c] of this.clients) {
      if (c.idleSeq === s.timeWritten && s.wroteSinceTime) s.sendTime(Math.floor(now / 1000));
    }
    if (this.clients.size === 0) {
      if (this.opts.refusing() && !this.paused) {
        // Nobody can connect: the world runs on (through the reset window's end) without waiting for anyone.
        const next = clock.nextAt();
        if (next !== null && now < this.opts.until) void this.step(Math.min(Math.max(next, now), this.opts.until));
        return;
      }
      const target = this.advanceTarget;
      if (target !== null) {
        const until = Math.min(target, this.opts.until);
        if (now >= until) {
          this.advanceTarget = null;
          this.opts.log(`advanced to ${new Date(now).toISOString()}`);
          this.maybeFinished();
          return;
        }
        const next = clock.nextAt();
        void this.step(next === null ? until : Math.min(Math.max(next, now), until));
      }
      return;
    }
    for (const [s, c] of this.clients) if (!this.isIdle(s, c)) return;
    this.lastProgress = this.opts.perf();
    if (this.paused) return;
    if (now >= this.opts.until) {
      this.maybeFinished();
      return;
    }
    let target: number | null = clock.nextAt();
    for (const c of this.clients.values()) {
      if (c.deadline !== null) target = target === null ? c.deadline : Math.min(target, c.deadline);
    }
    // Time messages carry whole seconds (IB's CURRENT_TIME): step to a whole second, never before what is due.
    target = Math.min(this.opts.until, ceilSecond(Math.max(target ?? this.opts.until, now)));
    const cap = this.capAt();
    if (cap !== null && target > cap) {
      // Looked at again when the cap should allow it, and at least every 100 ms (the cap follows `perf`).
      const waitMs = Math.min(100, Math.max(1, Math.ceil((target - cap) / this.opts.speed!)));
      this.capTimer ??= setTimeout(() => {
        this.capTimer = null;
        this.check();
      }, waitMs);
      return;
    }
    void this.step(target);
  }

  /** The latest scenario time `--speed` allows now; null without a cap or before time started. */
  private capAt(): number | null {
    if (this.opts.speed === null || this.origin === null) return null;
    return this.origin.virtual + (this.opts.perf() - this.origin.real) * this.opts.speed;
  }

  /** Tells every lockstep client the time `t` first, then runs the world to it. */
  private async step(t: number): Promise<void> {
    this.stepping = true;
    try {
      for (const s of this.clients.keys()) s.sendTime(Math.floor(t / 1000));
      await this.opts.clock.advanceTo(t, this.opts.settle);
    } catch (e) {
      this.stop();
      this.opts.onFailure(LegguardError.is(e) ? e : new LegguardError('INTERNAL', e instanceof Error ? e.message : String(e), {}, { cause: e }));
      return;
    } finally {
      this.stepping = false;
    }
    this.schedule();
  }

  private maybeFinished(): void {
    if (this.finished || this.opts.clock.now() < this.opts.until) return;
    this.finished = true;
    this.opts.onFinished();
  }

  private warnIfStalled(afterMs: number): void {
    if (this.stepping || this.clients.size === 0) return;
    const waiting = [...this.clients].filter(([s, c]) => !this.isIdle(s, c));
    if (waiting.length === 0) {
      this.lastProgress = this.opts.perf();
      return;
    }
    const idleFor = this.opts.perf() - this.lastProgress;
    if (idleFor < afterMs) return;
    this.lastProgress = this.opts.perf();
    const who = waiting.map(([, c]) => c.clientId ?? '-').join(', ');
    this.opts.log(`lockstep: scenario time has waited ${Math.round(idleFor / 1000)} s for client(s) ${who} to report idle`);
  }
}

function ceilSecond(t: number): number {
  return Math.ceil(t / 1000) * 1000;
}
