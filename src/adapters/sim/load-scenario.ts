import type { GuardConfigInput } from '../../app/guard-config-schema.js';
import { parseYamlMapping, readUserFile } from '../../lib/yaml-file.js';
import { zodToError } from '../../lib/zod-errors.js';
import { INDEX_SYMBOLS, IsoDate, option, stock, type Contract, type OptionContract } from '../../core/contract.js';
import { AccountId, StrategyId } from '../../core/ids.js';
import type { Leg } from '../../core/leg.js';
import { EpochMs, Qty } from '../../core/quantity.js';
import { inferKind } from '../../core/strategy-kind.js';
import type { StrategyDefinition, StrategyKind } from '../../core/strategy.js';
import type { ClearingSettings } from './clearing-house.js';
import type { FillModel } from './fill-model.js';
import type { MarketSettings, UnderlyingSpec } from './sim-market.js';
import { isOptionFields, scenarioSchema, type ScenarioInput, type StrategyInput } from './scenario-schema.js';

/** One scripted change, at the time the broker shows it on the account. `index` is its place in the file's `events`. */
export type ScenarioEvent = { readonly index: number; readonly at: EpochMs } & (
  | { readonly kind: 'price'; readonly prices: Readonly<Record<string, number>> }
  | { readonly kind: 'volatility'; readonly volatilities: Readonly<Record<string, number>> }
  | { readonly kind: 'assign'; readonly contract: OptionContract; readonly qty: number }
  | { readonly kind: 'exercise'; readonly contract: OptionContract; readonly qty: number }
  /** By the account holder outside legguard; signed (negative sells). */
  | { readonly kind: 'trade'; readonly contract: Contract; readonly qty: number }
  /** One combo order by the account holder outside legguard (a `trade` with `legs`): every leg fills, one permanent id. */
  | { readonly kind: 'combo'; readonly legs: readonly Leg[] }
  /** By the broker; `qty` is how much it closes, toward zero. */
  | { readonly kind: 'liquidate'; readonly contract: Contract; readonly qty: number }
  | { readonly kind: 'disconnect'; readonly seconds: number; readonly dataLost: boolean }
  | { readonly kind: 'fills'; readonly model: Partial<FillModel> }
);

/** A validated scenario, in the project's own types. */
export interface Scenario {
  /** The file it came from (as given), for messages. */
  readonly file: string;
  readonly name: string;
  readonly description: string | null;
  readonly account: AccountId;
  readonly start: EpochMs;
  readonly until: EpochMs;
  readonly underlyings: readonly UnderlyingSpec[];
  /**
   * The strategies to guard, in file order (`createdAt` is `start` plus the index, so attribution of a shared
   * contract goes to the earlier one first). `kind` is inferred from the legs when the file does not give it.
   */
  readonly strategies: readonly StrategyDefinition[];
  /** Broker positions outside any strategy. */
  readonly outside: readonly Leg[];
  /** The `guard:` block as written, validated against the guard config schema; defaults are not filled in. */
  readonly guard: GuardConfigInput;
  readonly events: readonly ScenarioEvent[];
  readonly fills: Partial<FillModel>;
  readonly market: Partial<MarketSettings>;
  readonly clearing: Partial<ClearingSettings>;
}

/**
 * Reads and validates a scenario file. Every failure is `LegguardError('SCENARIO_INVALID')` (exit 2) with a message
 * naming the file, the field and the problem, e.g.
 * `scenarios/x.yaml: events[1].assign.expiry: an option needs expiry (...)`.
 */
export async function loadScenario(path: string): Promise<Scenario> {
  const text = await readUserFile(path, 'SCENARIO_INVALID', 'scenario');
  return parseScenario(text, path);
}

/** Validates scenario text (YAML or JSON); `file` names it in messages. */
export function parseScenario(text: string, file: string): Scenario {
  const raw = parseYamlMapping(text, file, 'SCENARIO_INVALID', 'a scenario is a mapping of keys (name, start, underlyings ...)');
  const r = scenarioSchema.safeParse(raw);
  if (!r.success) throw zodToError('SCENARIO_INVALID', file, r.error);
  return build(r.data, file);
}

function build(s: ScenarioInput, file: string): Scenario {
  const start = EpochMs.unsafe(Date.parse(s.start));
  const account = AccountId.parse(s.account);
  const kinds = new Map<string, 'stock' | 'index'>();
  const underlyings: UnderlyingSpec[] = Object.entries(s.underlyings).map(([sym, u]) => {
    const symbol = sym.toUpperCase();
    const kind = u.kind ?? (INDEX_SYMBOLS.has(symbol) ? 'index' : 'stock');
    kinds.set(symbol, kind);
    return {
      symbol,
      price: u.price,
      kind,
      ...(u.volatility !== undefined ? { volatility: u.volatility } : {}),
      ...(u.dividendYield !== undefined ? { dividendYield: u.dividendYield } : {}),
      dividends: (u.dividends ?? []).map((d) => ({ exDate: IsoDate.unsafe(d.exDate), amount: d.amount })),
    };
  });

  const isIndex = (symbol: string): boolean => kinds.get(symbol.toUpperCase()) === 'index';
  const contract = (c: ContractInput): Contract => contractFrom(c, isIndex);
  const leg = (l: ContractInput & { qty: number }): Leg => ({ contract: contract(l), qty: Qty.unsafe(l.qty) });
  const strategies = buildStrategies(s.strategies, account, start, isIndex);

  const events: ScenarioEvent[] = s.events.map((e, index): ScenarioEvent => {
    const at = EpochMs.unsafe(Date.parse(e.at));
    if (e.price) return { index, at, kind: 'price', prices: upper(e.price) };
    if (e.volatility) return { index, at, kind: 'volatility', volatilities: upper(e.volatility) };
    if (e.assign) return { index, at, kind: 'assign', contract: contract(e.assign) as OptionContract, qty: e.assign.qty };
    if (e.exercise) return { index, at, kind: 'exercise', contract: contract(e.exercise) as OptionContract, qty: e.exercise.qty };
    if (e.trade && 'legs' in e.trade) return { index, at, kind: 'combo', legs: e.trade.legs.map(leg) };
    if (e.trade) return { index, at, kind: 'trade', contract: contract(e.trade), qty: e.trade.qty };
    if (e.liquidate) return { index, at, kind: 'liquidate', contract: contract(e.liquidate), qty: e.liquidate.qty };
    if (e.disconnect) return { index, at, kind: 'disconnect', seconds: e.disconnect.seconds, dataLost: e.disconnect.dataLost ?? false };
    const f = e.fills!;
    return { index, at, kind: 'fills', model: fillSpec(f) };
  });

  const market: Partial<MarketSettings> = {
    ...(s.market?.rate !== undefined ? { rate: s.market.rate } : {}),
    ...(s.market?.stockSpread !== undefined ? { stockSpread: s.market.stockSpread } : {}),
    ...(s.market?.quoteSteps !== undefined ? { quoteSteps: s.market.quoteSteps } : {}),
    ...(s.market?.optionSpread
      ? {
          optionSpread: {
            fraction: s.market.optionSpread.fraction ?? 0.04,
            minWidth: s.market.optionSpread.minWidth ?? 0.02,
          },
        }
      : {}),
  };
  const clearing: Partial<ClearingSettings> = {
    ...(s.clearing?.postAt !== undefined
      ? { postAt: { hour: Number(s.clearing.postAt.slice(0, 2)), minute: Number(s.clearing.postAt.slice(3, 5)) } }
      : {}),
    ...(s.clearing?.earlyExercise !== undefined ? { earlyExercise: s.clearing.earlyExercise } : {}),
    ...(s.clearing?.exerciseThreshold !== undefined ? { exerciseThreshold: s.clearing.exerciseThreshold } : {}),
    ...(s.seed !== undefined ? { seed: String(s.seed) } : {}),
  };

  return {
    file,
    name: s.name,
    description: s.description ?? null,
    account,
    start,
    until: EpochMs.unsafe(Date.parse(s.until)),
    underlyings,
    strategies,
    outside: s.positions.map(leg),
    guard: s.guard ?? {},
    events,
    fills: s.fills ? fillSpec(s.fills) : {},
    market,
    clearing,
  };
}

type ContractInput = { symbol: string; secType?: 'STK' | 'OPT' | undefined; right?: 'C' | 'P' | undefined; strike?: number | undefined; expiry?: string | undefined; multiplier?: number | undefined };

function contractFrom(c: ContractInput, isIndex: (symbol: string) => boolean): Contract {
  if (!isOptionFields(c)) return stock(c.symbol);
  return option({
    symbol: c.symbol,
    right: c.right!,
    strike: c.strike!,
    expiry: c.expiry!,
    index: isIndex(c.symbol) || INDEX_SYMBOLS.has(c.symbol.toUpperCase()),
    ...(c.multiplier !== undefined ? { multiplier: c.multiplier } : {}),
  });
}

/**
 * Strategy definitions from validated `strategies:` entries (scenario files, the config file, `strategies import`):
 * legs built with `option()`/`stock()`, the kind inferred when not given, `createdAt` = `createdFrom` plus the index
 * (file order is attribution order).
 */
export function buildStrategies(
  entries: readonly StrategyInput[],
  account: AccountId,
  createdFrom: number,
  isIndex: (symbol: string) => boolean = (s) => INDEX_SYMBOLS.has(s.toUpperCase()),
): StrategyDefinition[] {
  return entries.map((st, i) => {
    const legs = st.legs.map((l): Leg => ({ contract: contractFrom(l, isIndex), qty: Qty.unsafe(l.qty) }));
    const kind: StrategyKind = st.kind ?? inferKind(legs);
    return {
      id: StrategyId.parse(st.id),
      account,
      kind,
      legs,
      ...(st.policy !== undefined ? { policy: st.policy } : {}),
      createdAt: EpochMs.unsafe(createdFrom + i),
    };
  });
}

function upper(r: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k.toUpperCase(), v]));
}

function fillSpec(f: { mode?: FillModel['mode'] | undefined; delayMs?: number | undefined; fraction?: number | undefined; reason?: string | undefined; positionFirst?: boolean | undefined }): Partial<FillModel> {
  return {
    ...(f.mode !== undefined ? { mode: f.mode } : {}),
    ...(f.delayMs !== undefined ? { delayMs: f.delayMs } : {}),
    ...(f.fraction !== undefined ? { fraction: f.fraction } : {}),
    ...(f.reason !== undefined ? { rejectReason: f.reason } : {}),
    ...(f.positionFirst !== undefined ? { positionFirst: f.positionFirst } : {}),
  };
}
