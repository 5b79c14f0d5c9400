import { addDays, expiryClose, nextTradingDay, nyDate, nyInstant, sessionOn } from '../../core/calendar.js';
import { contractKey, describeContract, formatStrike, isOption, type OptionContract } from '../../core/contract.js';
import { LegguardError } from '../../core/errors.js';
import type { EpochMs } from '../../core/quantity.js';
import { exDividendCallDecision, putEarlyExerciseDecision } from '../../core/pricing/early-exercise.js';
import type { Clock } from '../../ports/clock.js';
import { seededRandom } from './seeded-random.js';
import type { Contract } from '../../core/contract.js';
import type { Qty } from '../../core/quantity.js';
import type { SimActivity } from './sim-activity.js';
import { exDateStart, YEAR_MS, type SimMarket } from './sim-market.js';

export interface ClearingSettings {
  /**
   * New York wall time at which a night's results (assignments, exercises, expirations) reach the account: before the
   * next open, as IB posts them. Early assignments post on the next trading day, expirations on the next calendar day.
   */
  readonly postAt: { readonly hour: number; readonly minute: number };
  /** Holders exercise American options early where the pricing says it is optimal (calls before an ex-date, deep ITM puts). */
  readonly earlyExercise: boolean;
  /** Seeds the choice of how many of the account's shorts are assigned when holders exercise early. */
  readonly seed: string;
  /** Exercise by exception: options at least this much in the money at the expiry close are exercised. */
  readonly exerciseThreshold: number;
  /** Tree steps for the holders' early-exercise decisions. */
  readonly steps: number;
}

export const DEFAULT_CLEARING: ClearingSettings = {
  postAt: { hour: 2, minute: 30 },
  earlyExercise: true,
  seed: '1',
  exerciseThreshold: 0.01,
  steps: 1000,
};

/** Why the clearing house assigned or exercised something, for timelines and tests. */
export interface ClearingDecision {
  readonly at: EpochMs;
  readonly contract: OptionContract;
  readonly kind: 'early-call-ex-dividend' | 'early-put-deep-itm';
  /** Contracts the account is short when holders decide, and how many are assigned. */
  readonly short: number;
  readonly assigned: number;
  readonly postAt: EpochMs;
  readonly reason: string;
}

/** A holder's instruction for an option's expiry (IB's exerciseOptions): lapse it, or exercise it; `override` acts against the natural action. */
export interface ExpiryInstruction {
  readonly action: 'exercise' | 'lapse';
  readonly qty: number;
  readonly override: boolean;
}

/** What the clearing house needs of the simulated account (the sim broker implements it). */
export interface ClearedAccount {
  position(contract: Contract): Qty;
  /** The holder's instructions for `contract`'s expiry, in the order given. */
  expiryInstructions(contract: OptionContract): readonly ExpiryInstruction[];
  allPositions(): { contract: Contract; qty: Qty; avgCost: number }[];
  settleOptions(
    items: readonly { contract: OptionContract; optionDelta: number; deliver?: boolean }[],
    kind: SimActivity['kind'],
    text: string,
  ): void;
  cancelExpired(): void;
}

/**
 * An OCC-like clearing house for the simulated account. At every regular close it records the closing prices,
 * cancels working orders in options that can no longer trade, settles the options expiring at that close (posted
 * overnight), and lets holders of options the account is short decide on early exercise:
 *
 * - a short American call is exercised against on the last trading day before an ex-dividend date when exercising
 *   beats holding through the ex-date (`exDividendCallDecision`); the short learns on the morning of the ex-date;
 * - a short American put is exercised against when the American value has fallen to its intrinsic value
 *   (`putEarlyExerciseDecision`); the short learns before the next open;
 * - the number of the account's short contracts assigned is a deterministic, seeded choice between 1 and all.
 *
 * European options (indices: SPX, XSP, NDX, RUT, any underlying marked `kind: index`) are never exercised early.
 * At expiry, exercise by exception: options at least $0.01 in the money on the closing price are exercised (longs)
 * and assigned (shorts): physically settled ones deliver stock, cash-settled ones leave only cash (not modelled);
 * everything else expires worthless. All of it reaches the account as position changes with no execution.
 */
export class ClearingHouse {
  readonly settings: ClearingSettings;
  readonly decisions: ClearingDecision[] = [];
  private readonly closes = new Map<number, Map<string, number>>();
  private started = false;

  constructor(
    private readonly broker: ClearedAccount,
    private readonly market: SimMarket,
    private readonly clock: Clock,
    settings: Partial<ClearingSettings> = {},
  ) {
    this.settings = { ...DEFAULT_CLEARING, ...settings };
    const { hour, minute } = this.settings.postAt;
    if (!(Number.isInteger(hour) && hour >= 0 && hour < 9) || !(Number.isInteger(minute) && minute >= 0 && minute < 60)) {
      throw new LegguardError('INVALID_INPUT', `clearing postAt must be a New York time before 09:00; got ${hour}:${minute}`);
    }
  }

  /** Arms the first close; each close arms the next. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.armNextClose();
  }

  private armNextClose(): void {
    const now = this.clock.now();
    let date: string = nyDate(now);
    for (let i = 0; i < 15; i++) {
      const s = sessionOn(date, 'option');
      if (s && s.close > now) {
        const day = date;
        this.clock.setTimer(s.close, () => this.onClose(day));
        return;
      }
      date = addDays(date, 1);
    }
  }

  private onClose(day: string): void {
    const now = this.clock.now();
    const prices = new Map<string, number>();
    for (const sym of this.market.symbols()) prices.set(sym, this.market.price(sym));
    this.closes.set(now, prices);
    this.broker.cancelExpired();

    const expiring = this.broker.allPositions().filter((p) => isOption(p.contract) && expiryClose(p.contract.expiry) === now);
    if (expiring.length > 0) {
      const postAt = nyInstant(addDays(day, 1), this.settings.postAt.hour, this.settings.postAt.minute);
      const closeAt = now;
      this.clock.setTimer(postAt, () => this.settleExpiry(closeAt));
    }
    if (this.settings.earlyExercise) this.earlyExercise(day, now, prices);
    this.armNextClose();
  }

  /** Exercise by exception for every option whose last trading moment was the close at `closeAt`. */
  private settleExpiry(closeAt: EpochMs): void {
    const prices = this.closes.get(closeAt);
    if (!prices) return;
    const items: { contract: OptionContract; optionDelta: number; deliver: boolean }[] = [];
    const notes: string[] = [];
    for (const p of this.broker.allPositions()) {
      const c = p.contract;
      if (!isOption(c) || expiryClose(c.expiry) !== closeAt) continue;
      const s = prices.get(c.symbol) ?? this.market.price(c.symbol);
      const itm = c.right === 'C' ? s - c.strike : c.strike - s;
      const natural = itm >= this.settings.exerciseThreshold - 1e-9;
      const physical = c.settlement === 'physical';
      if (p.qty > 0) {
        // A long: the holder's instructions first. A lapse of one in the money, or an exercise of one out of it, goes
        // against the natural action and counts only with override (IB's rule); the rest follows exercise by exception.
        let lapsed = 0;
        let exercisedByHolder = 0;
        for (const i of this.broker.expiryInstructions(c)) {
          if (i.action === 'lapse' && (i.override || !natural)) lapsed += i.qty;
          if (i.action === 'exercise' && (i.override || natural)) exercisedByHolder += i.qty;
        }
        const out = Math.min(p.qty, natural ? p.qty - Math.min(p.qty, lapsed) : exercisedByHolder);
        if (out > 0) items.push({ contract: c, optionDelta: -out, deliver: physical });
        if (p.qty - out > 0) items.push({ contract: c, optionDelta: -(p.qty - out), deliver: false });
        const what = out === p.qty ? (natural ? 'exercised' : 'exercised on instruction') : out === 0 ? (natural ? 'lapsed on instruction' : 'expired worthless') : `${out} exercised, ${p.qty - out} lapsed on instruction`;
        notes.push(`${describeContract(c)} +${p.qty} ${physical || out === 0 ? what : `cash-settled ${(itm * c.multiplier * out).toFixed(2)}`} (${c.symbol} ${s.toFixed(2)} at the close)`);
        continue;
      }
      const exercised = natural;
      items.push({ contract: c, optionDelta: 0 - p.qty, deliver: exercised && physical });
      const what = !exercised
        ? 'expired worthless'
        : physical
          ? p.qty < 0
            ? 'assigned'
            : 'exercised'
          : `cash-settled ${(itm * c.multiplier * p.qty).toFixed(2)}`;
      notes.push(`${describeContract(c)} ${p.qty > 0 ? '+' : ''}${p.qty} ${what} (${c.symbol} ${s.toFixed(2)} at the close)`);
    }
    if (items.length === 0) return;
    this.broker.settleOptions(items, 'expiration', `expiration: ${notes.join('; ')}`);
  }

  private earlyExercise(day: string, closeAt: EpochMs, prices: Map<string, number>): void {
    const nextDay = nextTradingDay(day, true);
    const rate = this.market.settings.rate;
    for (const p of this.broker.allPositions()) {
      const c = p.contract;
      if (!isOption(c) || p.qty >= 0 || c.style !== 'american' || c.settlement !== 'physical') continue;
      const close = expiryClose(c.expiry);
      if (close <= closeAt) continue;
      const u = this.market.underlying(c.symbol);
      const spot = prices.get(c.symbol) ?? u.price;
      const short = 0 - p.qty;
      if (c.right === 'C') {
        // Holders decide on the last trading day before the ex-date.
        const div = u.dividends.find((d) => d.exDate > day && d.exDate <= nextDay && exDateStart(d.exDate) < close);
        if (!div || div.amount >= spot) continue;
        const from = exDateStart(div.exDate);
        const later = u.dividends
          .filter((d) => d.exDate > div.exDate && exDateStart(d.exDate) < close)
          .map((d) => ({ time: (exDateStart(d.exDate) - from) / YEAR_MS, amount: d.amount }));
        const x = exDividendCallDecision({
          spot,
          strike: c.strike,
          vol: u.volatility,
          rate,
          dividend: div.amount,
          tau: (close - from) / YEAR_MS,
          laterDividends: later,
          steps: this.settings.steps,
        });
        if (!x.exercise) continue;
        const reason =
          `dividend ${div.amount} (ex ${div.exDate}) exceeds put ${x.putValue.toFixed(4)} + interest ${x.interest.toFixed(4)}: ` +
          `exercising pays ${x.exerciseValue.toFixed(2)}, holding is worth ${x.holdValue.toFixed(2)}`;
        this.schedule(c, short, 'early-call-ex-dividend', nextDay, day, reason);
      } else {
        const x = putEarlyExerciseDecision({
          spot,
          strike: c.strike,
          vol: u.volatility,
          rate,
          time: (close - closeAt) / YEAR_MS,
          dividends: this.market.cashDividends(c.symbol, closeAt, close),
          steps: this.settings.steps,
        });
        if (!x.exercise) continue;
        const reason = `deep in the money: American value ${x.americanValue?.toFixed(4)} is its intrinsic value ${x.intrinsic.toFixed(4)}`;
        this.schedule(c, short, 'early-put-deep-itm', nextDay, day, reason);
      }
    }
  }

  private schedule(c: OptionContract, short: number, kind: ClearingDecision['kind'], postDay: string, day: string, reason: string): void {
    const rng = seededRandom(`${this.settings.seed}|${contractKey(c)}|${day}`);
    const assigned = 1 + Math.floor(rng() * short);
    const postAt = nyInstant(postDay, this.settings.postAt.hour, this.settings.postAt.minute);
    const decision: ClearingDecision = { at: this.clock.now(), contract: c, kind, short, assigned, postAt, reason };
    this.decisions.push(decision);
    this.clock.setTimer(postAt, () => {
      // The account may have closed some of the position since; assign no more than it is still short.
      const still = 0 - this.broker.position(c);
      const n = Math.min(assigned, still);
      if (n <= 0) return;
      this.broker.settleOptions(
        [{ contract: c, optionDelta: n }],
        'assignment',
        `assigned ${n} of ${short} short ${c.symbol} ${c.expiry} ${formatStrike(c.strike)} ${c.right} early: ${reason}`,
      );
    });
  }
}
