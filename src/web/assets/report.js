// The replay report's script, inlined into one self-contained HTML file with uPlot and the data (REPORT_DATA).
'use strict';
(function () {
  const data = JSON.parse(document.getElementById('report-data').textContent);
  const NY = new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false });
  const ny = (t) => `${NY.format(new Date(t))} ET`;
  const el = (tag, attrs, ...children) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v;
      else e.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
    return e;
  };
  const money = (x) => (x === null || x === undefined ? 'n/a' : `${x < 0 ? '-' : ''}$${Math.abs(x).toLocaleString('en-US', { maximumFractionDigits: 2 })}`);
  const table = (head, rows) => el('table', {}, el('thead', {}, el('tr', {}, ...head.map((h) => el('th', {}, h)))), el('tbody', {}, ...rows.map((r) => el('tr', {}, ...r.map((c) => el('td', {}, c))))));

  function vlines(u, xs, color) {
    const ctx = u.ctx;
    ctx.save();
    ctx.strokeStyle = color;
    ctx.setLineDash([3, 3]);
    for (const x of xs) {
      const px = u.valToPos(x, 'x', true);
      ctx.beginPath();
      ctx.moveTo(px, u.bbox.top);
      ctx.lineTo(px, u.bbox.top + u.bbox.height);
      ctx.stroke();
    }
    ctx.restore();
  }
  function hlines(u, ys, color) {
    const ctx = u.ctx;
    ctx.save();
    ctx.strokeStyle = color;
    ctx.setLineDash([2, 4]);
    for (const y of ys) {
      const py = u.valToPos(y, 'y', true);
      ctx.beginPath();
      ctx.moveTo(u.bbox.left, py);
      ctx.lineTo(u.bbox.left + u.bbox.width, py);
      ctx.stroke();
    }
    ctx.restore();
  }

  // The price path per underlying, strikes across it, the guard's detections and fills down it.
  const paths = $('paths');
  for (const p of data.pricePaths) {
    const holder = el('div', { class: 'chart' }, el('h3', {}, `${p.symbol}: price, strikes (dotted), detections (red) and fills (green)`));
    paths.append(holder);
    const strikes = p.strikes;
    const detections = data.marks.detections.map((t) => t / 1000);
    const fills = data.marks.fills.map((t) => t / 1000);
    const ys = p.prices.concat(strikes);
    new uPlot(
      {
        width: 900,
        height: 260,
        scales: { y: { range: [Math.min(...ys) * 0.99, Math.max(...ys) * 1.01] } },
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), 'America/New_York'),
        series: [{}, { label: p.symbol, stroke: '#111827', width: 2, paths: uPlot.paths.stepped({ align: 1 }) }],
        hooks: { draw: [(u) => (hlines(u, strikes, '#6b7280'), vlines(u, detections, '#dc2626'), vlines(u, fills, '#16a34a'))] },
      },
      [p.times.map((t) => t / 1000), p.prices],
      holder,
    );
  }

  // Payoff at expiry, before the break (as defined) and after it (what the strategy held when it broke).
  const payoffs = $('payoffs');
  for (const s of data.payoffs) {
    const holder = el('div', { class: 'chart' }, el('h3', {}, `${s.id} (${s.underlying}): change in value at expiry against ${s.underlying} ${s.ref}`));
    payoffs.append(holder);
    new uPlot(
      {
        width: 440,
        height: 240,
        scales: { x: { time: false } },
        axes: [{ label: `${s.underlying} at expiry` }, { size: 70 }],
        series: [{ label: 'price' }, { label: 'as defined', stroke: '#2563eb', width: 2 }, { label: 'after the break', stroke: '#dc2626', width: 2, dash: [6, 4] }],
      },
      [s.prices, s.defined, s.afterBreak],
      holder,
    );
  }

  const r = data.report;
  $('strategies').append(
    table(
      ['strategy', 'kind', 'state', 'broken', 'holds at the end'],
      r.strategies.map((s) => [s.id, s.kind, s.state, s.broken ? `${s.broken.cause}${s.broken.kind ? ` ${s.broken.kind}` : ''} of ${s.broken.leg}` : '', s.holdings.length === 0 ? 'flat' : s.holdings.map((h) => `${h.qty} ${h.contract}`).join(', ')]),
    ),
  );
  $('costs').append(
    r.incidentCosts.length === 0
      ? el('p', {}, 'no incident')
      : table(
          ['incident', 'value before the break', 'the break moved', 'mark at detection', 'realized by the close', 'slippage vs mid', 'commissions', 'realized vs mark', 'total vs before the break'],
          r.incidentCosts.map((c) => [
            c.incidentId,
            money(c.valueBeforeBreak),
            money(c.breakCash),
            money(c.markAtDetection),
            money(c.realized),
            money(c.slippage),
            c.commissions === null ? 'not reported' : money(c.commissions),
            money(c.versusMark),
            money(c.total),
          ]),
        ),
  );
  for (const c of r.incidentCosts) {
    $('costs').append(
      table(
        ['closing order', 'fills', 'realized', 'slippage vs mid', 'commissions'],
        c.orders.map((o) => [o.ref, o.fills, money(o.realized), money(o.slippage), money(o.commissions)]),
      ),
    );
  }
  $('orders').append(
    table(
      ['order', 'purpose', 'status', 'placed', 'legs', 'limit', 'filled', 'avg price'],
      r.orders.map((o) => [o.ref, o.purpose, o.status, o.placedAt ? ny(o.placedAt) : 'not sent', o.legs.map((l) => `${l.action} ${l.qty} ${[l.symbol, l.expiry, l.strike, l.right].filter((x) => x !== undefined && x !== null).join(' ')}`).join(' / '), o.limitPrice ?? 'MKT', o.filledQty, o.avgFillPrice ?? '']),
    ),
  );
  const tl = $('timeline');
  for (const t of data.timeline) tl.append(el('li', { class: t.kind }, t.text));
  function $(id) {
    return document.getElementById(id);
  }
})();
