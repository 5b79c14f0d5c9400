import type { Holding } from '../book.js';
import { expiryClose as expiryCloseUncached, nextOpen, nyDate, nyInstant, previousTradingDay, sessionOn as sessionOnUncached, type Session } from '../calendar.js';
import { contractKey, describeContract, isOption, type Contract, type OptionContract } from '../contract.js';
import type { EpochMs } from '../quantity.js';
import type { CashDividend } from '../pricing/option-input.js';
import type { Dividend, QuoteView } from '../quote-view.js';
import type { StrategyDefinition, StrategyKind } from '../strategy.js';
import { deepItmPutRisk } from './deep-itm-put-risk.js';
import { policyOf, type EarlyAssignmentSettings, type RiskPolicy, type RiskRuleName } from './early-assignment-settings.js';
import { exDividendCallRisk } from './ex-dividend-call-risk.js';
import { AFTER_HOURS_MS, expirationRisk } from './expiration-risk.js';

const YEAR_MS = 365 * 86_400_000;

/** The expiration rule looks from this New York time on the last trading day (earlier on an early-close day). */
const EXPIRATION_FROM_MINUTE = 15 * 60;

/** Strategies whose plan is to be assigned: their risks are reported, never acted on. */
const PLANNED: ReadonlySet<StrategyKind> = new Set(['covered-call', 'cash-secured-put']);

/** What the risk rules know beyond one strategy: the policy, the rate, volatilities and dividends per underlying. */
export interface RiskEnvironment {
  readonly settings: EarlyAssignmentSettings;
  /** The risk-free rate, annual, continuous (config `market.rate`). */
  readonly rate: number;
  /** The model's volatility for an underlying; null when unknown (then only market prices decide). */
  readonly volatility: (symbol: string) => number | null;
  /** Announced dividends of an underlying (the broker's and the config's). */
  readonly dividends: (symbol: string) => readonly Dividend[];
  /** Tree steps for American values (default 1,000). */
  readonly steps?: number;
  /** Expiries listed per underlying, for the roll shown with a flag; null or absent: the standard monthly cycle. */
  readonly expiries?: (symbol: string) => readonly string[] | null;
}

/** One strategy and its market, as the risk assessment reads them. */
export interface RiskView {
  readonly strategy: Pick<StrategyDefinition, 'id' | 'kind'>;
  /** What the strategy holds now. */
  readonly holdings: readonly Holding[];
  readonly now: EpochMs;
  readonly spot: (symbol: string) => number | null;
  readonly quote: (contract: Contract) => QuoteView | null;
}

/**
 * `at-risk`: the condition holds inside its window (the guard acts now, by policy). `watch`: it holds on today's
 * numbers, but its window opens later (`actAt`). `clear`: it does not hold. `unknown`: not enough to tell (no spot,
 * no volatility and no quote).
 */
export type RiskStatus = 'at-risk' | 'watch' | 'clear' | 'unknown';

/** `close` the strategy, `alert` with the numbers, `report` only (a strategy whose plan is assignment), `none`. */
export type RiskAction = 'close' | 'alert' | 'report' | 'none';

export type RiskNumbers = Readonly<Record<string, number | string | null>>;

export interface RiskFinding {
  readonly rule: RiskRuleName;
  readonly status: RiskStatus;
  readonly numbers: RiskNumbers;
  readonly reason: string;
  readonly policy: RiskPolicy;
  readonly action: RiskAction;
  /** When the guard acts: now for `at-risk`, the window's start for `watch`; null when it will not act. */
  readonly actAt: EpochMs | null;
  /** The latest moment of the window's day the guard closes (`actBy`, or the close when earlier); null off-window. */
  readonly deadline: EpochMs | null;
}

export interface LegRisk {
  readonly contract: OptionContract;
  readonly leg: string;
  readonly qty: number;
  /** Why no early-exercise rule applies (European, cash-settled), or null. */
  readonly exempt: string | null;
  readonly findings: readonly RiskFinding[];
}

export interface StrategyRisk {
  readonly strategyId: string;
  readonly kind: StrategyKind;
  /** Covered call, cash-secured put: assignment is the plan; reported, not acted on. */
  readonly planned: boolean;
  /** Every short option leg. */
  readonly legs: readonly LegRisk[];
}

/** True when a finding says the strategy is at risk now or will be when its window opens. */
export function flagged(f: RiskFinding): boolean {
  return f.status === 'at-risk' || f.status === 'watch';
}

export function strategyAtRisk(r: StrategyRisk): boolean {
  return r.legs.some((l) => l.findings.some(flagged));
}

function mid(q: QuoteView | null): number | null {
  if (q === null) return null;
  if (q.bid !== null && q.ask !== null && q.ask >= q.bid) return (q.bid + q.ask) / 2;
  return q.last;
}

// The calendar's answers are pure functions of a date; a pass over 10,000 strategies asks the same few dates again and
// again, and each answer costs time-zone arithmetic. Memoized per date, one map per question keyed by the date itself
// (no key built per call: a pass asks hundreds of thousands of times), each bounded (cleared past 4,096 entries).
function memoOf<K, V>(f: (k: K) => V): (k: K) => V {
  const m = new Map<K, V>();
  return (k) => {
    let v = m.get(k);
    if (v === undefined && !m.has(k)) {
      if (m.size > 4096) m.clear();
      v = f(k);
      m.set(k, v);
    }
    return v as V;
  };
}

const expiryClose = memoOf((expiry: string): EpochMs => expiryCloseUncached(expiry));
/** The options session of a New York date (null: no session). */
const optionSessionOn = memoOf((date: string): Session | null => sessionOnUncached(date, 'option'));
const exDateStart = memoOf((exDate: string): number => nyInstant(exDate, 0, 0));
const nyDateOf = memoOf((t: number): string => nyDate(t));
const nextOptionOpen = memoOf((t: number): EpochMs => nextOpen(t as EpochMs, 'option'));
const dayBefore = memoOf((date: string): string => previousTradingDay(date, true));
const lastTradingDay = memoOf((expiry: string): string => previousTradingDay(expiry));
const expirationFrom = memoOf((day: string): number => nyInstant(day, Math.floor(EXPIRATION_FROM_MINUTE / 60), EXPIRATION_FROM_MINUTE % 60));
const actByCache = new Map<number, (date: string) => EpochMs>();
function actByOn(date: string, minute: number): EpochMs {
  let f = actByCache.get(minute);
  if (!f) {
    f = memoOf((d: string) => nyInstant(d, Math.floor(minute / 60), minute % 60));
    actByCache.set(minute, f);
  }
  return f(date);
}

/** The latest moment of `date` the guard closes: `actBy` New York, or the session's close when earlier. */
function deadlineOn(date: string, settings: EarlyAssignmentSettings): EpochMs | null {
  const s = optionSessionOn(date);
  if (!s) return null;
  const actBy = actByOn(date, settings.actByMinute);
  return (actBy < s.close ? actBy : s.close);
}

interface Raw {
  readonly rule: RiskRuleName;
  readonly atRisk: boolean | null;
  readonly numbers: RiskNumbers;
  readonly reason: string;
  /** The window the guard acts in: from `from` (inclusive) on `day` (its deadline is that day's). */
  readonly from: EpochMs;
  readonly day: string;
}

function finish(raw: Raw, now: EpochMs, settings: EarlyAssignmentSettings, planned: boolean): RiskFinding {
  const policy = policyOf(settings, raw.rule);
  const deadline = deadlineOn(raw.day, settings);
  const base = { rule: raw.rule, numbers: raw.numbers, reason: raw.reason, policy, deadline };
  if (raw.atRisk === null) return { ...base, status: 'unknown', action: 'none', actAt: null };
  if (!raw.atRisk) return { ...base, status: 'clear', action: 'none', actAt: null };
  const status: RiskStatus = now < raw.from ? 'watch' : 'at-risk';
  const actAt = status === 'watch' ? raw.from : now;
  if (policy === 'off') return { ...base, status, action: 'none', actAt: null };
  if (planned) return { ...base, status, action: 'report', actAt };
  if (policy === 'alert') return { ...base, status, action: 'alert', actAt };
  // close: within the window's day up to the deadline; past it (or after the close), a warning only.
  const late = status === 'at-risk' && (deadline === null || now > deadline);
  return { ...base, status, action: late ? 'alert' : 'close', actAt };
}

function exDividendCall(c: OptionContract, view: RiskView, env: RiskEnvironment): Raw | null {
  const now = view.now;
  const today = nyDateOf(now);
  const close = expiryClose(c.expiry);
  const divs = [...env.dividends(c.symbol)]
    .filter((d) => d.amount > 0 && d.exDate > today && exDateStart(d.exDate) < close)
    .sort((a, b) => (a.exDate < b.exDate ? -1 : a.exDate > b.exDate ? 1 : 0));
  const next = divs[0];
  if (!next) return null;
  // Holders decide on the last trading day before the ex-date; the guard acts from that day's open.
  const day = dayBefore(next.exDate);
  const open = optionSessionOn(day)?.open ?? exDateStart(day);
  const from = (open) as EpochMs;
  const S = view.spot(c.symbol);
  const at = exDateStart(next.exDate);
  const tau = (close - at) / YEAR_MS;
  const common = { K: c.strike, D: next.amount, exDate: next.exDate, decisionDay: day, tau };
  if (S === null) return { rule: 'ex-dividend-call', atRisk: null, numbers: { S: null, ...common }, reason: `no price for ${c.symbol}`, from, day };
  const later: CashDividend[] = divs.slice(1).map((d) => ({ time: (exDateStart(d.exDate) - at) / YEAR_MS, amount: d.amount }));
  const putContract: OptionContract = { ...c, right: 'P' };
  const r = exDividendCallRisk({
    spot: S,
    strike: c.strike,
    rate: env.rate,
    dividend: next.amount,
    tau,
    vol: env.volatility(c.symbol),
    laterDividends: later,
    putQuote: mid(view.quote(putContract)),
    ...(env.steps !== undefined ? { steps: env.steps } : {}),
  });
  if (r === null) {
    return { rule: 'ex-dividend-call', atRisk: null, numbers: { S, ...common }, reason: `no volatility for ${c.symbol} and no quote for the ${c.strike} put`, from, day };
  }
  return {
    rule: 'ex-dividend-call',
    atRisk: r.atRisk,
    numbers: { ...r.numbers, exDate: next.exDate, decisionDay: day },
    reason: `ex-date ${next.exDate} (holders decide on ${day}): ${r.reason}`,
    from,
    day,
  };
}

function deepItmPut(c: OptionContract, view: RiskView, env: RiskEnvironment): Raw | null {
  const now = view.now;
  const close = expiryClose(c.expiry);
  if (now >= close) return null;
  // Holders may exercise any trading day: the window is the session now, or the next one.
  const from = nextOptionOpen(now);
  const day = nyDateOf(from);
  const S = view.spot(c.symbol);
  const time = (close - now) / YEAR_MS;
  if (S === null) return { rule: 'deep-itm-put', atRisk: null, numbers: { S: null, K: c.strike, tau: time }, reason: `no price for ${c.symbol}`, from, day };
  const dividends: CashDividend[] = env
    .dividends(c.symbol)
    .filter((d) => d.amount > 0 && exDateStart(d.exDate) > now && exDateStart(d.exDate) <= close)
    .map((d) => ({ time: (exDateStart(d.exDate) - now) / YEAR_MS, amount: d.amount }));
  const r = deepItmPutRisk({
    spot: S,
    strike: c.strike,
    rate: env.rate,
    time,
    vol: env.volatility(c.symbol),
    dividends,
    putQuote: mid(view.quote(c)),
    ...(env.steps !== undefined ? { steps: env.steps } : {}),
  });
  if (r === null) return { rule: 'deep-itm-put', atRisk: null, numbers: { S, K: c.strike, tau: time }, reason: `no volatility for ${c.symbol} and no quote for the put`, from, day };
  return { rule: 'deep-itm-put', atRisk: r.atRisk, numbers: r.numbers, reason: r.reason, from, day };
}

function expiration(c: OptionContract, view: RiskView, env: RiskEnvironment): Raw | null {
  if (c.settlement !== 'physical') return null;
  const now = view.now;
  const day = lastTradingDay(c.expiry);
  if (nyDateOf(now) !== day) return null;
  const session = optionSessionOn(day);
  if (!session) return null;
  const from = Math.min(expirationFrom(day), session.close - 3_600_000) as EpochMs;
  const S = view.spot(c.symbol);
  const time = Math.max(0, session.close + AFTER_HOURS_MS - now) / YEAR_MS;
  if (S === null) return { rule: 'expiration', atRisk: null, numbers: { S: null, K: c.strike, tau: time }, reason: `no price for ${c.symbol}`, from, day };
  const r = expirationRisk({ right: c.right, spot: S, strike: c.strike, time, vol: env.volatility(c.symbol) });
  return { rule: 'expiration', atRisk: r.atRisk, numbers: r.numbers, reason: `expiration day ${c.expiry}: ${r.reason}`, from, day };
}

/**
 * Every short option leg of a strategy with what the look-ahead rules find: the ex-dividend call, the deep
 * in-the-money put (American, physically settled options only: European and cash-settled ones are never exercised
 * early) and the expiration day (physically settled). One function for the engine's rules and `legguard risk`.
 */
export function assessStrategy(view: RiskView, env: RiskEnvironment, memo?: LegRiskMemo): StrategyRisk {
  const planned = PLANNED.has(view.strategy.kind);
  const legs: LegRisk[] = [];
  for (const h of view.holdings) {
    if (h.qty >= 0 || !isOption(h.contract)) continue;
    const c = h.contract;
    if (view.now >= expiryClose(c.expiry)) continue;
    const a = memo ? memo.leg(c, view, env, planned) : assessLeg(c, view, env, planned);
    legs.push({ contract: c, leg: a.leg, qty: h.qty, exempt: a.exempt, findings: a.findings });
  }
  return { strategyId: view.strategy.id, kind: view.strategy.kind, planned, legs };
}

/** What the rules find for one short leg, whatever its quantity: shared by every strategy short that contract. */
interface LegAssessment {
  readonly leg: string;
  readonly exempt: string | null;
  readonly findings: readonly RiskFinding[];
}

function assessLeg(c: OptionContract, view: RiskView, env: RiskEnvironment, planned: boolean): LegAssessment {
  const early = c.style === 'american' && c.settlement === 'physical';
  const exempt = early ? null : `${c.style}, ${c.settlement}-settled: never assigned early${c.settlement === 'cash' ? '; settles in cash, no stock delivered' : ''}`;
  const raws: (Raw | null)[] = [];
  if (early) raws.push(c.right === 'C' ? exDividendCall(c, view, env) : deepItmPut(c, view, env));
  raws.push(expiration(c, view, env));
  const findings = raws.filter((r): r is Raw => r !== null).map((r) => finish(r, view.now, env.settings, planned));
  return { leg: describeContract(c), exempt, findings };
}

interface LegMemoEntry {
  readonly spot: number | null;
  readonly quote: number | null;
  readonly dividends: readonly Dividend[];
  readonly planned: boolean;
  readonly result: LegAssessment;
}

/**
 * One pass's leg assessments, by contract: at 10,000 strategies a pass meets some 40,000 short legs on a few hundred
 * contracts, and each assessment prices an American option on a tree. A leg's findings depend on its contract, the
 * instant, the underlying's price, the quote the rule reads (the put's for a call, its own for a put), the
 * underlying's dividends and whether assignment is the strategy's plan (the rule settings, rate and volatilities are
 * the environment's, fixed for the memo's life): an entry is reused only when every one of them is the same, and the
 * memo empties when the instant changes.
 */
export class LegRiskMemo {
  private at: number | null = null;
  private readonly entries = new Map<string, LegMemoEntry>();

  leg(c: OptionContract, view: RiskView, env: RiskEnvironment, planned: boolean): LegAssessment {
    if (this.at !== view.now) {
      this.entries.clear();
      this.at = view.now;
    }
    const spot = view.spot(c.symbol);
    const quote = mid(view.quote(c.right === 'C' ? { ...c, right: 'P' } : c));
    const dividends = env.dividends(c.symbol);
    const key = contractKey(c);
    const e = this.entries.get(key);
    if (e && e.spot === spot && e.quote === quote && e.planned === planned && sameDividends(e.dividends, dividends)) return e.result;
    const result = assessLeg(c, view, env, planned);
    this.entries.set(key, { spot, quote, dividends, planned, result });
    return result;
  }
}

function sameDividends(a: readonly Dividend[], b: readonly Dividend[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  return a.every((d, i) => d.exDate === b[i]!.exDate && d.amount === b[i]!.amount);
}
