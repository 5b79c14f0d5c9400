// Property: whatever happens to a random book of strategies (assignments, partial fills, rejects, delayed fills,
// manual trades, liquidations, a dropped link, jumbled delivery), no fill of an order the guard sent ever grows the
// absolute position of a contract only one strategy can hold, or flips its sign. Checked against the simulated
// broker's own account positions just before and just after each fill, not against the gate's arithmetic.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { contractKey, option, stock, type Contract } from '../../src/core/contract.js';
import type { ContractKey } from '../../src/core/ids.js';
import type { OrderRequest } from '../../src/core/order.js';
import type { SimBroker } from '../../src/adapters/sim/sim-broker.js';
import { sid } from '../core/fixtures.js';
import { GuardHarness } from '../support/guard-harness.js';

const SYMBOLS = { SPY: 445, QQQ: 510 } as const;
type Sym = keyof typeof SYMBOLS;
const EXPIRIES = ['2026-01-30', '2026-02-27'] as const;
const START = '2026-01-26T16:30:00-05:00';
const UNTIL = '2026-01-27T12:00:00-05:00';
/** Minutes after 09:30 New York on the 27th. */
const dayAt = (minutes: number): string => new Date(Date.parse('2026-01-27T09:30:00-05:00') + minutes * 60_000).toISOString().replace('.000Z', 'Z');

interface LegSpec {
  readonly symbol: Sym;
  readonly right?: 'P' | 'C';
  readonly strike?: number;
  readonly expiry?: string;
  readonly qty: number;
}

const contractOf = (l: Omit<LegSpec, 'qty'>): Contract =>
  l.right === undefined ? stock(l.symbol) : option({ symbol: l.symbol, right: l.right, strike: l.strike!, expiry: l.expiry! });
const yamlLeg = (l: LegSpec): string =>
  l.right === undefined
    ? `{ symbol: ${l.symbol}, secType: STK, qty: ${l.qty} }`
    : `{ symbol: ${l.symbol}, right: ${l.right}, strike: ${l.strike}, expiry: "${l.expiry}", qty: ${l.qty} }`;

const strategyArb = fc.record({
  kind: fc.constantFrom('vertical', 'condor', 'strangle', 'covered-call'),
  symbol: fc.constantFrom<Sym>('SPY', 'QQQ'),
  expiry: fc.constantFrom(...EXPIRIES),
  qty: fc.integer({ min: 1, max: 3 }),
  a: fc.nat(2),
  b: fc.nat(2),
  puts: fc.boolean(),
});
type StrategyDraw = (typeof strategyArb) extends fc.Arbitrary<infer T> ? T : never;

/** Strikes 5 apart around the underlying: puts below it, calls above; `i` = 0 is the nearest. */
function legsOf(s: StrategyDraw): LegSpec[] {
  const base = SYMBOLS[s.symbol];
  const put = (i: number, qty: number): LegSpec => ({ symbol: s.symbol, right: 'P', strike: base - 5 * (i + 1), expiry: s.expiry, qty });
  const call = (i: number, qty: number): LegSpec => ({ symbol: s.symbol, right: 'C', strike: base + 5 * (i + 1), expiry: s.expiry, qty });
  const q = s.qty;
  switch (s.kind) {
    case 'vertical':
      return s.puts ? [put(s.a, -q), put(s.a + 1, q)] : [call(s.b, -q), call(s.b + 1, q)];
    case 'condor':
      return [put(s.a, -q), put(s.a + 1, q), call(s.b, -q), call(s.b + 1, q)];
    case 'strangle':
      return [put(s.a, -q), call(s.b, -q)];
    default:
      return [{ symbol: s.symbol, qty: 100 * q }, call(s.b, -q)];
  }
}

/** Any contract of the universe: an option on a strike of the grid, or the stock. */
const contractArb = fc.record({
  symbol: fc.constantFrom<Sym>('SPY', 'QQQ'),
  kind: fc.constantFrom('P', 'C', 'STK'),
  i: fc.nat(3),
  expiry: fc.constantFrom(...EXPIRIES),
}).map((c): Omit<LegSpec, 'qty'> => {
  if (c.kind === 'STK') return { symbol: c.symbol };
  const base = SYMBOLS[c.symbol];
  return { symbol: c.symbol, right: c.kind, strike: c.kind === 'P' ? base - 5 * (c.i + 1) : base + 5 * (c.i + 1), expiry: c.expiry };
});

const fillsArb = fc.oneof(
  fc.constant('{ mode: immediate }'),
  fc.integer({ min: 2, max: 8 }).map((f) => `{ mode: partial, fraction: ${f / 10} }`),
  fc.integer({ min: 1, max: 60 }).map((s) => `{ mode: delayed, delayMs: ${s * 1000} }`),
  fc.constant('{ mode: reject }'),
  fc.constant('{ mode: immediate, positionFirst: true }'),
);

/** Something that happens on the 27th between 09:30 and 11:30. */
const dayEventArb = fc.record({
  minute: fc.integer({ min: 0, max: 120 }),
  what: fc.oneof(
    fc.record({ kind: fc.constant('price' as const), symbol: fc.constantFrom<Sym>('SPY', 'QQQ'), move: fc.integer({ min: -12, max: 12 }) }),
    fc.record({ kind: fc.constant('fills' as const), fills: fillsArb }),
    fc.record({ kind: fc.constant('trade' as const), contract: contractArb, qty: fc.constantFrom(-2, -1, 1, 2) }),
    fc.record({ kind: fc.constant('liquidate' as const), contract: contractArb, qty: fc.integer({ min: 1, max: 3 }) }),
    fc.record({ kind: fc.constant('disconnect' as const), seconds: fc.integer({ min: 5, max: 300 }), dataLost: fc.boolean() }),
  ),
});

const worldArb = fc.record({
  strategies: fc.array(strategyArb, { minLength: 1, maxLength: 4 }),
  outside: fc.array(fc.record({ contract: contractArb, qty: fc.constantFrom(-1, 1, 2) }), { maxLength: 2 }),
  /** The night's assignments: which of the account's short options (an index into them) and how many. */
  assignments: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 3 })), { minLength: 1, maxLength: 3 }),
  fills: fillsArb,
  day: fc.array(dayEventArb, { maxLength: 5 }),
  jumble: fc.option(
    fc.record({
      seed: fc.nat().map(String),
      duplicate: fc.constantFrom(0, 0.2),
      shuffle: fc.boolean(),
      holdBack: fc.constantFrom(0, 0.2),
      holdBackMs: fc.integer({ min: 0, max: 2_000 }),
      holdBackPositions: fc.constantFrom(0, 0.2),
    }),
    { nil: undefined },
  ),
});
type World = (typeof worldArb) extends fc.Arbitrary<infer T> ? T : never;

interface Built {
  readonly yaml: string;
  /** Contracts exactly one strategy can ever hold: no other strategy, outside position or manual trade touches them. */
  readonly unshared: ReadonlySet<ContractKey>;
  /** Liquidations, applied by the test at their time when the account holds the contract (the sim refuses otherwise). */
  readonly liquidations: readonly { at: string; contract: Contract; qty: number }[];
}

function build(w: World): Built {
  const legs = w.strategies.map(legsOf);
  // Who may hold each contract. Stock on a symbol: every strategy with an option on it (assignment delivers it).
  const holders = new Map<ContractKey, Set<string>>();
  const hold = (key: ContractKey, who: string): void => {
    const s = holders.get(key) ?? new Set<string>();
    s.add(who);
    holders.set(key, s);
  };
  legs.forEach((ls, i) => {
    for (const l of ls) {
      hold(contractKey(contractOf(l)), `s${i}`);
      hold(contractKey(stock(l.symbol)), `s${i}`);
    }
  });
  for (const o of w.outside) {
    hold(contractKey(contractOf(o.contract)), 'outside');
    // An outside option's assignment or exercise delivers stock outside any strategy: the stock is shared then.
    if (o.contract.right !== undefined) hold(contractKey(stock(o.contract.symbol)), 'outside');
  }

  // The account's net short options at the start, for assignments it can take.
  const net = new Map<ContractKey, { leg: LegSpec; qty: number }>();
  for (const l of [...legs.flat(), ...w.outside.map((o) => ({ ...o.contract, qty: o.qty * (o.contract.right ? 1 : 100) }))]) {
    if (l.right === undefined) continue;
    const k = contractKey(contractOf(l));
    net.set(k, { leg: l, qty: (net.get(k)?.qty ?? 0) + l.qty });
  }
  const shorts = [...net.values()].filter((n) => n.qty < 0);
  const nightEvents: string[] = [];
  w.assignments.forEach(([pick, want], i) => {
    if (shorts.length === 0) return;
    const s = shorts[pick % shorts.length]!;
    const n = Math.min(want, -s.qty);
    if (n === 0) return;
    s.qty += n;
    const { symbol, right, strike, expiry } = s.leg;
    nightEvents.push(`  - { at: "2026-01-27T02:${30 + i}:00-05:00", assign: { symbol: ${symbol}, right: ${right}, strike: ${strike}, expiry: "${expiry}", qty: ${n} } }`);
  });

  const dayEvents: string[] = [];
  const liquidations: Built['liquidations'][number][] = [];
  for (const e of [...w.day].sort((a, b) => a.minute - b.minute)) {
    const at = dayAt(e.minute);
    const x = e.what;
    switch (x.kind) {
      case 'price':
        dayEvents.push(`  - { at: "${at}", price: { ${x.symbol}: ${SYMBOLS[x.symbol] + x.move} } }`);
        break;
      case 'fills':
        dayEvents.push(`  - { at: "${at}", fills: ${x.fills} }`);
        break;
      case 'trade': {
        const qty = x.contract.right === undefined ? x.qty * 100 : x.qty;
        hold(contractKey(contractOf(x.contract)), 'outside');
        dayEvents.push(`  - { at: "${at}", trade: ${yamlLeg({ ...x.contract, qty })} }`);
        break;
      }
      case 'liquidate':
        liquidations.push({ at, contract: contractOf(x.contract), qty: x.contract.right === undefined ? x.qty * 100 : x.qty });
        break;
      case 'disconnect':
        dayEvents.push(`  - { at: "${at}", disconnect: { seconds: ${x.seconds}, dataLost: ${x.dataLost} } }`);
        break;
    }
  }

  const yaml = `
name: random book
start: "${START}"
account: DU0000001
underlyings: { SPY: { price: ${SYMBOLS.SPY}, volatility: 0.2 }, QQQ: { price: ${SYMBOLS.QQQ}, volatility: 0.25 } }
clearing: { earlyExercise: false }
fills: ${w.fills}
strategies:
${legs.map((ls, i) => `  - id: s${i}\n    legs:\n${ls.map((l) => `      - ${yamlLeg(l)}`).join('\n')}`).join('\n')}
${w.outside.length > 0 ? `positions:\n${w.outside.map((o) => `  - ${yamlLeg({ ...o.contract, qty: o.contract.right === undefined ? o.qty * 100 : o.qty })}`).join('\n')}` : ''}
events:
${[...nightEvents, ...dayEvents].join('\n') || '  []'}
until: "${UNTIL}"
`;
  const unshared = new Set([...holders].filter(([, who]) => who.size === 1 && !who.has('outside')).map(([k]) => k));
  return { yaml, unshared, liquidations };
}

type Positions = ReadonlyMap<ContractKey, number>;
const positionsOf = (b: SimBroker): Positions => new Map(b.allPositions().map((p) => [contractKey(p.contract), p.qty]));

/**
 * Wraps the simulator's fill of an order (the one place a guard order moves the account) to compare the account's
 * positions just before and just after it, in every contract of the order only one strategy can hold. After the first
 * fill that grows or flips one, nothing more fills: a guard that over-closes would otherwise chase its own fills back
 * and forth for the rest of the run.
 */
function watchFills(b: SimBroker, unshared: ReadonlySet<ContractKey>, problems: string[]): void {
  type Fill = (o: { readonly request: OrderRequest }, units: number, px: unknown) => void;
  const inner = b as unknown as { fill: Fill };
  const original = inner.fill.bind(b);
  inner.fill = (o, units, px) => {
    if (problems.length > 0) return;
    const before = positionsOf(b);
    original(o, units, px);
    const after = positionsOf(b);
    for (const k of new Set(o.request.legs.map((l) => contractKey(l.contract)))) {
      if (!unshared.has(k)) continue;
      checkedFills++;
      const p = before.get(k) ?? 0;
      const q = after.get(k) ?? 0;
      if (Math.abs(q) > Math.abs(p) || p * q < 0) problems.push(`${o.request.ref} (${units} units) moved ${k} from ${p} to ${q}`);
    }
  };
}

let checkedFills = 0;

/**
 * A break of a strategy already in NEEDS_ATTENTION (after `maxRejects` rejects, a liquidation of what is left) used
 * to stop the guard (`strategy state NEEDS_ATTENTION does not allow 'emergency-started'`). The shrunk world that
 * found it: a call vertical's short call assigned, every order rejected, the stock liquidated.
 */
const NEEDS_ATTENTION_THEN_LIQUIDATED: World = {
  strategies: [{ kind: 'vertical', symbol: 'SPY', expiry: '2026-01-30', qty: 1, a: 0, b: 0, puts: false }],
  outside: [],
  assignments: [[0, 1]],
  fills: '{ mode: reject }',
  day: [{ minute: 1, what: { kind: 'liquidate', contract: { symbol: 'SPY' }, qty: 1 } }],
  jumble: undefined,
};

describe('no order grows an unshared position, property', () => {
  test("checked against the broker's positions before and after every fill", async () => {
    await fc.assert(
      fc.asyncProperty(worldArb, async (w) => {
        const { yaml, unshared, liquidations } = build(w);
        const h = await GuardHarness.create(yaml, w.jumble ? { jumble: w.jumble } : {});
        const problems: string[] = [];
        watchFills(h.run.broker, unshared, problems);
        try {
          await h.start();
          for (const l of liquidations) {
            await h.runTo(l.at);
            // The broker liquidates what is there; a contract already flat has nothing to liquidate.
            if (h.run.broker.position(l.contract) !== 0) h.run.broker.liquidate(l.contract, l.qty);
          }
          await h.finish();
        } catch (err) {
          // A guard a growing fill confused may stop: the fill is the finding. Otherwise the guard must never stop.
          if (problems.length === 0) throw err;
        }
        assert.deepEqual(problems, [], `fills that grew or flipped an unshared position\n${h.describeSent()}\n${yaml}`);
      }),
      {
        numRuns: Number(process.env['LEGGUARD_ENGINE_PROPERTY_RUNS'] ?? 30),
        // Replays a failure fast-check printed: LEGGUARD_PROPERTY_SEED=<seed> (with its path, through fast-check's own output).
        ...(process.env['LEGGUARD_PROPERTY_SEED'] ? { seed: Number(process.env['LEGGUARD_PROPERTY_SEED']) } : {}),
      },
    );
    // Not vacuous: the runs closed positions in unshared contracts, and every such fill was checked.
    assert.ok(checkedFills >= 10, `fills checked on unshared contracts: ${checkedFills}`);
  });

  test('a liquidation of a strategy that NEEDS_ATTENTION is journaled, alerted, and what is left is closed again, reduce-only', async () => {
    const { yaml, liquidations } = build(NEEDS_ATTENTION_THEN_LIQUIDATED);
    const h = await GuardHarness.create(yaml);
    await h.start();
    const [l] = liquidations;
    await h.runTo(l!.at);
    const account = h.scenario.account;
    assert.equal(h.run.broker.position(l!.contract), -100, 'the assignment left the account short the stock, every hedge rejected');
    assert.equal((await h.store.listStrategies(account))[0]!.state, 'NEEDS_ATTENTION');
    const sentBefore = h.broker.sent.length;
    const alertsBefore = h.alerts.raised.length;
    h.run.broker.liquidate(l!.contract, l!.qty);
    await h.runTo(dayAt(10));

    // Recorded: the detection and the decision are journaled under the strategy's incident.
    const journal = await h.store.journal({ account, strategyId: sid('s0') });
    const liquidation = journal.filter((j) => j.type === 'detection' && (j.data as { cause?: string }).cause === 'liquidation');
    assert.equal(liquidation.length, 1, 'one detection of the liquidation journaled');
    const decisions = journal.filter((j) => j.type === 'decision' && (j.data as { metadata?: { cause?: string } }).metadata?.cause === 'liquidation');
    assert.equal(decisions.length, 1, 'one decision for it');
    assert.equal((decisions[0]!.data as { action: string }).action, 'EMERGENCY_CLOSE');

    // Alerted, as a break that resumes the close; never as a guard error.
    const after = h.alerts.raised.slice(alertsBefore);
    assert.equal(h.alerts.raised.filter((a) => a.title.startsWith('GUARD ERROR')).length, 0, h.alerts.raised.map((a) => a.title).join('\n'));
    const broke = after.filter((a) => a.title.startsWith('BROKER LIQUIDATION'));
    assert.equal(broke.length, 1, after.map((a) => a.title).join('\n'));
    assert.equal(broke[0]!.severity, 'critical');
    assert.match(broke[0]!.text, /It needed attention before this change; the guard closes what is left again \(policy close, reduce-only\)/);
    assert.match(broke[0]!.text, /It now holds \+1 SPY 2026-01-30 455 C\./);

    // State: NEEDS_ATTENTION -> EMERGENCY_CLOSING (resumed); every order rejected, so it gives up again, with a new alert.
    const states = h.entries('state').filter((s) => s.at >= Date.parse(l!.at));
    assert.deepEqual(
      states.map((s) => `${s.from}->${s.to}`),
      ['NEEDS_ATTENTION->EMERGENCY_CLOSING', 'EMERGENCY_CLOSING->NEEDS_ATTENTION'],
    );
    assert.equal(after.filter((a) => a.title === 'NEEDS ATTENTION: s0').length, 1);

    // Reduce-only: after the liquidation only the long call left is offered, one contract at a time; never the stock.
    const sentAfter = h.broker.sent.slice(sentBefore);
    assert.ok(sentAfter.length > 0, 'the residual was closed again');
    for (const o of sentAfter) {
      assert.deepEqual(
        o.legs.map((x) => `${x.action} ${x.ratio * o.quantity} ${contractKey(x.contract)}`),
        [`SELL 1 ${contractKey(option({ symbol: 'SPY', right: 'C', strike: 455, expiry: '2026-01-30' }))}`],
        o.ref,
      );
    }

    const final = await h.finish();
    assert.equal(h.run.broker.position(l!.contract), 0);
    assert.deepEqual(final.strategies.map((x) => [x.id, x.state, x.holdings]), [['s0', 'NEEDS_ATTENTION', [[contractKey(option({ symbol: 'SPY', right: 'C', strike: 455, expiry: '2026-01-30' })), 1]]]]);
  });
});
