import { z } from 'zod';
import { guardConfigSchema } from '../../app/guard-config-schema.js';
import { expiryClose, formatNyTime, isOpen, nyInstant, type SessionKind } from '../../core/calendar.js';
import { INDEX_SYMBOLS } from '../../core/contract.js';
import { STRATEGY_KINDS } from '../../core/strategy.js';
import { FILL_MODES } from './fill-model.js';

/**
 * The scenario file format (YAML), as issue 2 gives it, with what the simulator needs added. `scenarios/README.md`
 * documents every key with an example. Shape errors and cross-field errors (a symbol without an underlying, an
 * event before `start`, an option trade at 02:30) are both reported as zod issues with the path of the bad field.
 */

/** A scenario spans at most this long: `until` and every event lie within it from `start`. */
export const MAX_SCENARIO_SPAN_DAYS = 731;
const MAX_SCENARIO_SPAN_MS = MAX_SCENARIO_SPAN_DAYS * 86_400_000;
/** The longest scripted disconnect: a week (a longer outage is a different drill). */
export const MAX_DISCONNECT_SECONDS = 7 * 86_400;
/** The longest fill delay the simulator takes: a day. */
export const MAX_FILL_DELAY_MS = 86_400_000;
/** Scenario times lie in these years (the trading calendar knows nothing outside them). */
const FIRST_YEAR = 1990;
const LAST_YEAR = 2100;

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

const instant = z
  .string()
  .regex(INSTANT, 'must be a time with a UTC offset, like "2026-01-28T02:30:00-05:00"')
  .refine((s) => !Number.isNaN(Date.parse(s)), 'is not a real time')
  .refine((s) => inYears(Date.parse(s)), `must lie in the years ${FIRST_YEAR}-${LAST_YEAR}`);

function inYears(t: number): boolean {
  const y = new Date(t).getUTCFullYear();
  return y >= FIRST_YEAR && y <= LAST_YEAR;
}

const date = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine((s) => {
    const d = new Date(`${s}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
  }, 'is not a real date');

const symbol = z.string().regex(/^[A-Za-z][A-Za-z0-9.]{0,11}$/, 'must be a ticker symbol like SPY');
const positive = z.number().positive();
const whole = z.number().int();
const nonZero = whole.refine((n) => n !== 0, 'must not be 0');

/** The fields that name a contract. Without right/strike/expiry it is stock. */
const contractShape = {
  symbol,
  secType: z.enum(['STK', 'OPT']).optional(),
  right: z.enum(['C', 'P']).optional(),
  strike: positive.optional(),
  expiry: date.optional(),
  multiplier: whole.positive().optional(),
};

type ContractFields = {
  secType?: 'STK' | 'OPT' | undefined;
  right?: 'C' | 'P' | undefined;
  strike?: number | undefined;
  expiry?: string | undefined;
  multiplier?: number | undefined;
};

/** True when the fields name an option (any option field, or `secType: OPT`). */
export function isOptionFields(c: ContractFields): boolean {
  return c.secType === 'OPT' || c.right !== undefined || c.strike !== undefined || c.expiry !== undefined;
}

function checkContract(c: ContractFields, ctx: z.RefinementCtx): void {
  if (c.secType === 'STK') {
    for (const k of ['right', 'strike', 'expiry', 'multiplier'] as const) {
      if (c[k] !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: 'a stock (secType STK) has no ' + k });
    }
    return;
  }
  if (isOptionFields(c)) {
    for (const k of ['right', 'strike', 'expiry'] as const) {
      if (c[k] === undefined) ctx.addIssue({ code: 'custom', path: [k], message: `an option needs ${k} (a contract without right, strike and expiry is stock)` });
    }
  }
}

/** A leg, as scenario files, config files and `strategies import` write it. */
export const legSchema = z.strictObject({ ...contractShape, qty: nonZero }).superRefine(checkContract);
const leg = legSchema;

const optionRef = (qty: z.ZodType<number>) =>
  z.strictObject({ ...contractShape, qty }).superRefine((c, ctx) => {
    if (!isOptionFields(c) || c.secType === 'STK') {
      ctx.addIssue({ code: 'custom', path: [], message: 'must name an option (symbol, right, strike, expiry)' });
      return;
    }
    checkContract(c, ctx);
  });

const underlying = z.strictObject({
  price: positive,
  volatility: positive.max(5).optional(),
  dividends: z.array(z.strictObject({ exDate: date, amount: z.number().nonnegative() })).optional(),
  kind: z.enum(['stock', 'index']).optional(),
  dividendYield: z.number().min(0).max(1).optional(),
});

/** The contract a leg names, as one string (two legs naming the same contract would hold one position twice). */
function legContractKey(l: ContractFields & { symbol: string }): string {
  if (!isOptionFields(l) || l.secType === 'STK') return `${l.symbol.toUpperCase()} STK`;
  return `${l.symbol.toUpperCase()} ${l.expiry ?? '?'} ${l.strike ?? '?'} ${l.right ?? '?'} x${l.multiplier ?? 100}`;
}

/** A strategy's legs name distinct contracts: a quantity is one signed number per contract, so a repeat is a typo. */
function checkDistinctLegs(legs: (ContractFields & { symbol: string })[], ctx: z.RefinementCtx): void {
  const first = new Map<string, number>();
  legs.forEach((l, j) => {
    const key = legContractKey(l);
    const at = first.get(key);
    if (at === undefined) first.set(key, j);
    else ctx.addIssue({ code: 'custom', path: [j], message: `names the same contract as leg ${at + 1} (${key}); give one leg with the total signed qty` });
  });
}

const strategyFields = {
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit'),
  kind: z.enum(STRATEGY_KINDS).optional(),
  policy: z.enum(['close', 'hedge', 'alert']).optional(),
};

/** A strategy, as scenario files, `strategies add` and `strategies import` write it: a repeated contract is refused here. */
export const strategySchema = z.strictObject({
  ...strategyFields,
  legs: z.array(leg).min(1, 'a strategy needs at least one leg').superRefine(checkDistinctLegs),
});

/**
 * A strategy as a config file writes it: the same fields, with repeated and expired legs left to the config loader's
 * domain checks (core/leg-checks), which name every problem of the file at once.
 */
export const configStrategySchema = z.strictObject({
  ...strategyFields,
  legs: z.array(leg).min(1, 'a strategy needs at least one leg'),
});
const strategy = strategySchema;
export type StrategyInput = z.infer<typeof strategySchema>;

/** Legs one combo order of the account holder's may have (IB allows more; a strategy has at most four). */
export const MAX_COMBO_LEGS = 8;
const singleTrade = z.strictObject({ ...contractShape, qty: nonZero }).superRefine(checkContract);
const comboTrade = z.strictObject({
  legs: z
    .array(leg)
    .min(2, 'a combo trade has at least 2 legs (one leg is a plain trade: give its contract and qty)')
    .max(MAX_COMBO_LEGS, `a combo trade has at most ${MAX_COMBO_LEGS} legs`)
    .superRefine(checkDistinctLegs),
});
/**
 * A trade by the account holder outside legguard: one contract and a signed `qty`, or one combo order (`legs`, each
 * signed), filled as one order whose legs the broker reports with one permanent id.
 */
const tradeSchema = z.custom<z.infer<typeof singleTrade> | z.infer<typeof comboTrade>>().superRefine((v, ctx) => {
  const isCombo = typeof v === 'object' && v !== null && 'legs' in v;
  const r = (isCombo ? comboTrade : singleTrade).safeParse(v);
  if (!r.success) for (const i of r.error.issues) ctx.addIssue({ ...i, code: 'custom', message: i.message, path: i.path });
});

const ACTIONS = ['price', 'volatility', 'assign', 'exercise', 'trade', 'liquidate', 'disconnect', 'fills'] as const;
export type ScenarioAction = (typeof ACTIONS)[number];

const fills = z.strictObject({
  mode: z.enum(FILL_MODES),
  delayMs: whole.nonnegative().max(MAX_FILL_DELAY_MS, `must be at most ${MAX_FILL_DELAY_MS} (a day)`).optional(),
  fraction: z.number().gt(0).lt(1).optional(),
  reason: z.string().min(1).optional(),
  positionFirst: z.boolean().optional(),
});

const event = z
  .strictObject({
    at: instant,
    price: z.record(symbol, positive).optional(),
    volatility: z.record(symbol, positive.max(5)).optional(),
    assign: optionRef(whole.positive()).optional(),
    exercise: optionRef(whole.positive()).optional(),
    trade: tradeSchema.optional(),
    liquidate: z.strictObject({ ...contractShape, qty: whole.positive() }).superRefine(checkContract).optional(),
    disconnect: z
      .strictObject({ seconds: positive.max(MAX_DISCONNECT_SECONDS, `must be at most ${MAX_DISCONNECT_SECONDS} (7 days)`), dataLost: z.boolean().optional() })
      .optional(),
    fills: fills.optional(),
  })
  .superRefine((e, ctx) => {
    const given = ACTIONS.filter((a) => e[a] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: `an event has exactly one of ${ACTIONS.join(', ')}; got ${given.length === 0 ? 'none' : given.join(' and ')}`,
      });
    }
  });

const hhmm = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a New York time HH:MM')
  .refine((s) => Number(s.slice(0, 2)) < 9, 'must be before 09:00 (results post before the open)');

const market = z.strictObject({
  rate: z.number().min(-0.05).max(0.5).optional(),
  optionSpread: z.strictObject({ fraction: z.number().min(0).max(1).optional(), minWidth: z.number().min(0).optional() }).optional(),
  stockSpread: z.number().min(0).optional(),
  quoteSteps: whole.min(10).max(5000).optional(),
});

const clearing = z.strictObject({
  postAt: hhmm.optional(),
  earlyExercise: z.boolean().optional(),
  exerciseThreshold: z.number().min(0).optional(),
});

export const scenarioSchema = z
  .strictObject({
    name: z.string().min(1),
    description: z.string().optional(),
    start: instant,
    until: instant,
    account: z.string().regex(/^[A-Za-z0-9]{1,32}$/, 'must be 1-32 letters or digits, like DU0000001'),
    underlyings: z.record(symbol, underlying).refine((u) => Object.keys(u).length > 0, 'needs at least one underlying'),
    strategies: z.array(strategy).default([]),
    positions: z.array(leg).default([]),
    guard: guardConfigSchema.optional(),
    events: z.array(event).default([]),
    fills: fills.partial().optional(),
    market: market.optional(),
    clearing: clearing.optional(),
    seed: z.union([z.string().min(1), z.number().int()]).optional(),
  })
  .superRefine((s, ctx) => crossCheck(s, ctx));

export type ScenarioInput = z.infer<typeof scenarioSchema>;

function crossCheck(s: ScenarioInput, ctx: z.RefinementCtx): void {
  const issue = (path: (string | number)[], message: string): void => ctx.addIssue({ code: 'custom', path, message });
  const start = Date.parse(s.start);
  const until = Date.parse(s.until);
  if (until <= start) issue(['until'], `must be after start (${s.start})`);
  // (A time outside the years is already named by its field.)
  else if (inYears(start) && inYears(until) && until - start > MAX_SCENARIO_SPAN_MS) issue(['until'], `must be within ${MAX_SCENARIO_SPAN_DAYS} days (two years) of start (${s.start})`);

  const known = new Map<string, 'stock' | 'index'>();
  // Dividends still to come at a time must stay below the price then (the pricing escrows them from the spot).
  const coming = new Map<string, (at: number) => number>();
  for (const [sym, u] of Object.entries(s.underlyings)) {
    known.set(sym.toUpperCase(), u.kind ?? (INDEX_SYMBOLS.has(sym.toUpperCase()) ? 'index' : 'stock'));
    const divs = u.dividends ?? [];
    coming.set(sym.toUpperCase(), (at) => divs.filter((d) => nyInstant(d.exDate, 0, 0) > at).reduce((n, d) => n + d.amount, 0));
    const due = coming.get(sym.toUpperCase())!(start);
    if (u.price <= due) issue(['underlyings', sym, 'price'], `must be above the ${due.toFixed(2)} of dividends still to come`);
  }

  const checkRef = (path: (string | number)[], c: ContractFields & { symbol: string }, at: number): void => {
    const kind = known.get(c.symbol.toUpperCase());
    if (!kind) {
      issue([...path, 'symbol'], `${c.symbol} is not among the underlyings (${[...known.keys()].join(', ')})`);
      return;
    }
    if (!isOptionFields(c) && kind === 'index') issue([...path, 'symbol'], `${c.symbol} is an index: it cannot be held or traded as stock`);
    if (isOptionFields(c) && c.expiry !== undefined && at >= expiryClose(c.expiry)) {
      issue([...path, 'expiry'], `${c.symbol} ${c.expiry} has already expired at ${formatNyTime(at)}`);
    }
  };

  const ids = new Set<string>();
  s.strategies.forEach((st, i) => {
    if (ids.has(st.id)) issue(['strategies', i, 'id'], `duplicate strategy id ${st.id}`);
    ids.add(st.id);
    st.legs.forEach((l, j) => checkRef(['strategies', i, 'legs', j], l, start));
  });
  s.positions.forEach((l, i) => checkRef(['positions', i], l, start));

  let last = start;
  s.events.forEach((e, i) => {
    const at = Date.parse(e.at);
    if (at < start) issue(['events', i, 'at'], `is before start (${s.start})`);
    else if (at > until) issue(['events', i, 'at'], `is after until (${s.until})`);
    if (at < last) issue(['events', i, 'at'], 'events must be in time order (this one is earlier than the one before)');
    last = Math.max(last, at);
    for (const sym of Object.keys({ ...e.price, ...e.volatility })) {
      if (!known.has(sym.toUpperCase())) issue(['events', i, e.price ? 'price' : 'volatility', sym], `${sym} is not among the underlyings`);
    }
    for (const [sym, p] of Object.entries(e.price ?? {})) {
      const due = coming.get(sym.toUpperCase())?.(at) ?? 0;
      if (p <= due) issue(['events', i, 'price', sym], `must be above the ${due.toFixed(2)} of dividends still to come`);
    }
    const refs: { key: 'assign' | 'exercise' | 'trade' | 'liquidate'; path: (string | number)[]; c: ContractFields & { symbol: string } }[] = [];
    for (const key of ['assign', 'exercise', 'trade', 'liquidate'] as const) {
      const c = e[key];
      if (!c) continue;
      if ('legs' in c) c.legs.forEach((l, j) => refs.push({ key, path: ['events', i, key, 'legs', j], c: l }));
      else refs.push({ key, path: ['events', i, key], c });
    }
    for (const { key, path, c } of refs) {
      checkRef(path, c, at);
      const kind = known.get(c.symbol.toUpperCase());
      if ((key === 'assign' || key === 'exercise') && kind === 'index' && c.expiry !== undefined && at < expiryClose(c.expiry)) {
        issue(path, `${c.symbol} options are European: they are not ${key === 'assign' ? 'assigned' : 'exercised'} before expiry (the clearing house settles them at expiry)`);
      }
      if (key === 'trade' || key === 'liquidate') {
        const session: SessionKind = isOptionFields(c) ? 'option' : 'stock-extended';
        if (!isOpen(at, session)) {
          issue(['events', i, 'at'], `${c.symbol} ${isOptionFields(c) ? 'options trade 09:30-16:00' : 'stock trades 04:00-20:00'} New York on trading days; ${e.at} is outside`);
        }
      }
    }
  });
}
