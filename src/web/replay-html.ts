import type { ReplayResult } from '../app/replay.js';
import type { Leg } from '../core/leg.js';
import { payoffPrices, valueAtExpiry, type PayoffPosition } from '../core/payoff.js';
import { dashboardAsset } from './dashboard-assets.js';

export interface ReplayHtmlInput {
  readonly result: ReplayResult;
  /** The timeline as `legguard replay` prints it, one line per entry (no colour). */
  readonly lines: readonly { readonly at: number; readonly kind: string; readonly text: string }[];
}

/** Text for inside a `<script type="application/json">`: nothing in it can close the element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function asset(name: string): string {
  const a = dashboardAsset(name);
  if (a === null) throw new Error(`missing asset ${name}`);
  return a.body.toString('utf8');
}

/**
 * `legguard replay FILE --html OUT`: one self-contained HTML file (uPlot, styles, script and data inlined; nothing
 * fetched, it opens from a disk or a mail attachment): the price path with strikes, detections and fills, the payoff
 * before and after each break, the incident cost, the orders and fills, the timeline.
 */
export function replayHtml(input: ReplayHtmlInput): string {
  const { result } = input;
  const report = result.report;
  const end = Math.max(result.run.clock.now(), ...input.lines.map((l) => l.at));
  const strikesOf = (symbol: string): number[] => {
    const ks = new Set<number>();
    for (const rt of result.engine.strategies.values()) for (const l of rt.def.legs) if (l.contract.secType === 'OPT' && l.contract.symbol === symbol) ks.add(l.contract.strike);
    return [...ks].sort((a, b) => a - b);
  };
  const pricePaths = [...new Set(result.prices.map((p) => p.symbol))].map((symbol) => {
    const points = result.prices.filter((p) => p.symbol === symbol);
    const last = points[points.length - 1]!;
    const all = [...points, { symbol, at: Math.max(end, last.at), price: last.price }];
    return { symbol, times: all.map((p) => p.at), prices: all.map((p) => p.price), strikes: strikesOf(symbol) };
  });
  const detections = report.detections.flatMap((d) => (d.detectedAt !== null ? [Date.parse(d.detectedAt)] : []));
  const fills = result.timeline.flatMap((e) => (e.kind === 'broker-event' && e.event.kind === 'execution' && e.event.orderRef?.startsWith('lg/') ? [e.at as number] : []));
  // Against the underlying's price when the strategy broke (or at the start): stock held after an assignment would
  // otherwise put the curve a share price times the shares above the other, and hide its shape.
  const priceAt = (symbol: string, at: number): number | null => {
    let p: number | null = null;
    for (const x of result.prices) if (x.symbol === symbol && x.at <= at) p = x.price;
    return p;
  };
  const payoffs = [...result.engine.strategies.values()].map((rt) => {
    const legs: readonly Leg[] = rt.def.legs;
    const underlying = legs[0]?.contract.symbol ?? '';
    const after: readonly PayoffPosition[] = result.heldAtBreak.get(rt.def.id) ?? [];
    const brokeAt = report.detections.find((d) => d.strategyId === rt.def.id)?.detectedAt ?? null;
    const ref = priceAt(underlying, brokeAt !== null ? Date.parse(brokeAt) : Number.MAX_SAFE_INTEGER) ?? 0;
    const strikes = [...new Set(legs.flatMap((l) => (l.contract.secType === 'OPT' ? [l.contract.strike] : [])))].sort((a, b) => a - b);
    const prices = payoffPrices(strikes, 81, ref > 0 ? ref : null);
    const change = (ps: readonly PayoffPosition[], p: number): number => valueAtExpiry(ps, p) - valueAtExpiry(ps, ref);
    return {
      id: rt.def.id,
      underlying,
      ref,
      prices,
      defined: prices.map((p) => change(legs, p)),
      afterBreak: prices.map((p) => (after.length === 0 ? null : change(after, p))),
    };
  });
  const data = { report, pricePaths, marks: { detections, fills }, payoffs, timeline: input.lines };
  const title = `legguard replay: ${report.scenario}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(title)}</title>
<style>${asset('uPlot.min.css')}
${asset('dashboard.css')}
main { display: block; } section { margin-bottom: 1em; } .chart { display: inline-block; margin-right: 1em; }
</style>
</head>
<body>
<header><h1>${escapeHtml(title)}</h1><div class="badge">${escapeHtml(report.file)}</div></header>
<main>
<section><h2>Strategies</h2><div id="strategies"></div></section>
<section><h2>Price path</h2><div id="paths"></div></section>
<section><h2>Payoff at expiry</h2><p class="note">How the position's value at expiry changes with the underlying, against its price when the strategy broke (premiums not included): the legs as defined, and what the strategy held right after the break.</p><div id="payoffs"></div></section>
<section><h2>Incident cost</h2><p class="note">Mark at detection: what the strategy held after the break, at mid. Realized: the cash the closing fills brought in (bought back: paid out). Slippage: paid beyond the mid when each order went out. Realized vs mark: the close against selling everything it closed at mid at detection.</p><div id="costs"></div></section>
<section><h2>Orders and fills</h2><div id="orders"></div></section>
<section><h2>Timeline</h2><ol id="timeline"></ol></section>
</main>
<script type="application/json" id="report-data">${scriptJson(data)}</script>
<script>${asset('uPlot.iife.min.js')}</script>
<script>${asset('report.js')}</script>
</body>
</html>
`;
}
