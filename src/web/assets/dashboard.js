// The legguard dashboard: reads /api/status, /api/payoff and /healthz, follows /api/events (server-sent events) for
// the live timeline, and sends mutations with the bearer token typed into the page (kept in this page's memory only:
// no cookie, no storage). Plain browser JavaScript, no build step; uPlot draws the payoff curves.
// Several accounts: the page shows one (`?account=` in its address, else the first), a selector lists every account
// with what needs attention in it, and a line above the page names any other account that needs a person.
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const NY = new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
  const ny = (t) => (t === null || t === undefined ? '' : `${NY.format(new Date(t))} ET`);
  const el = (tag, attrs, ...children) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v;
      else if (k.startsWith('data-')) e.setAttribute(k, v);
      else e[k] = v;
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
    return e;
  };
  const contract = (c) => (!c ? '?' : c.secType === 'OPT' ? `${c.symbol} ${c.expiry} ${c.strike} ${c.right}` : c.symbol);
  const orderText = (r) =>
    `${r.ref}: ${(r.legs || []).map((l) => `${l.action} ${l.ratio * r.quantity} ${contract(l.contract)}`).join(' / ')} ${r.orderType}${r.limitPrice !== null && r.limitPrice !== undefined ? ` ${r.limitPrice}` : ''}`;
  const signed = (h) => `${h.qty > 0 ? '+' : ''}${h.qty} ${h.contract}`;

  /** The account the page shows: `?account=` in the page's address, else the first the guard serves (set at the first read). */
  let account = new URLSearchParams(location.search).get('account');
  const q = () => (account === null ? '' : `?account=${encodeURIComponent(account)}`);
  /** `ACTIVE, 3 strategies, 1 BROKEN, 1 not acknowledged` (an `/api/accounts` summary), and whether it needs a person. */
  function summary(a) {
    const parts = [a.tradingState, `${a.strategies} strateg${a.strategies === 1 ? 'y' : 'ies'}`];
    for (const [state, n] of Object.entries(a.attention)) parts.push(`${n} ${state}`);
    if (a.unacknowledged > 0) parts.push(`${a.unacknowledged} not acknowledged`);
    return { text: parts.join(', '), attention: Object.keys(a.attention).length > 0 || a.unacknowledged > 0 || a.tradingState !== 'ACTIVE' };
  }

  function renderAccounts(all) {
    const picker = $('account-picker');
    const select = $('account-select');
    picker.hidden = all.length < 2;
    select.replaceChildren(...all.map((r) => el('option', { value: r.account, selected: r.account === account, 'data-attention': String(summary(r).attention) }, `${r.account}: ${summary(r).text}`)));
    const others = all.filter((r) => r.account !== account && summary(r).attention);
    const line = $('elsewhere');
    line.hidden = others.length === 0;
    line.textContent = others.length === 0 ? '' : `other accounts need attention: ${others.map((r) => `${r.account} (${summary(r).text})`).join('; ')}`;
  }

  /** States each strategy went through while this page was open, from the event stream. */
  const seen = new Map();
  let mode = 'guard';
  let mutations = false;
  const charts = new Map();

  function message(text, kind) {
    const m = $('message');
    m.textContent = text;
    m.className = kind;
  }

  async function getJson(path) {
    const r = await fetch(path, { headers: { accept: 'application/json' } });
    return { status: r.status, body: await r.json() };
  }

  /** A mutation: the token from the field as the bearer; the answer's error shown as it is. */
  async function mutate(path, body) {
    const token = $('token').value.trim();
    const headers = { 'content-type': 'application/json' };
    if (token !== '') headers.authorization = `Bearer ${token}`;
    // The account is always named: with several, the guard refuses a mutation that does not say which.
    const r = await fetch(path, { method: 'POST', headers, body: JSON.stringify({ ...body, account }) });
    let answer = {};
    try {
      answer = await r.json();
    } catch {
      answer = {};
    }
    if (!r.ok) message(`refused (${r.status}): ${answer.error || r.statusText}`, 'error');
    return { status: r.status, body: answer };
  }

  function noteState(id, state) {
    const list = seen.get(id) || [];
    if (list[list.length - 1] !== state) list.push(state);
    seen.set(id, list);
  }

  function renderStatus(s) {
    $('account').textContent = `${s.account} · ${s.store}`;
    const t = s.tradingState;
    const ts = $('trading-state');
    ts.textContent = t.state;
    ts.className = `state trading-${t.state}`;
    $('trading-detail').textContent = t.at ? `set by ${t.by || 'unknown'} ${ny(t.at)}${t.reason ? `: ${t.reason}` : ''}` : '';
    const body = $('strategies').tBodies[0];
    body.replaceChildren();
    for (const st of s.strategies) {
      // The page's first look seeds the history; after that the event stream says each change in order (a status
      // read that started before a change must not append an older state after it).
      if (!seen.has(st.id)) noteState(st.id, st.state);
      const flags = [];
      if (st.broken) flags.push(`BROKEN: ${st.broken.cause}${st.broken.kind ? ` ${st.broken.kind}` : ''} of ${st.broken.leg} ${ny(st.broken.at)}`);
      if (st.state === 'NEEDS_ATTENTION') flags.push('needs a person');
      if (st.notAtBroker) flags.push(`not at the broker: ${st.notAtBroker.missing.join(', ')}`);
      const expiry = payoffs.get(st.id)?.expiry ?? '';
      body.append(
        el(
          'tr',
          { 'data-strategy': st.id },
          el('td', {}, st.id),
          el('td', {}, st.kind),
          el('td', { class: `state state-${st.state}`, 'data-strategy-state': st.id }, st.state),
          el('td', {}, expiry),
          el('td', {}, st.state === 'PENDING' ? `(waits) legs ${st.legs.map(signed).join(', ')}` : st.holdings.length === 0 ? 'flat' : st.holdings.map(signed).join(', ')),
          el('td', {}, flags.join('; ')),
          el('td', { 'data-strategy-history': st.id }, (seen.get(st.id) || []).join(' → ')),
        ),
      );
    }
    const inc = $('incidents');
    inc.replaceChildren();
    if (s.incidents.length === 0) inc.append(el('li', {}, 'none'));
    for (const i of s.incidents) {
      const li = el('li', { 'data-incident': i.incidentId }, el('strong', {}, i.incidentId), ` ${i.strategyId ? `(${i.strategyId}) ` : ''}${ny(i.firstAt)}: `);
      if (i.ack.state === 'acknowledged') li.append(el('span', { class: 'acked' }, `acknowledged by ${i.ack.by} ${ny(i.ack.at)}`));
      else if (i.ack.state === 'waiting') {
        li.append(el('span', { class: 'waiting' }, 'NOT ACKNOWLEDGED '));
        const b = el('button', { class: 'ack', 'data-ack': i.incidentId }, 'Acknowledge');
        b.disabled = mode !== 'guard';
        b.addEventListener('click', () => ack(i.incidentId));
        li.append(b);
      } else li.append('no critical alert');
      if (i.title) li.append(el('div', {}, i.title));
      for (const t of i.transitions) li.append(el('div', { class: 'note' }, t));
      if (i.cost) {
        const c = i.cost;
        const usd = (x) => (x === null || x === undefined ? 'unknown' : `${x < 0 ? '-' : ''}$${Math.abs(x).toLocaleString('en-US', { maximumFractionDigits: 2 })}`);
        li.append(
          el(
            'div',
            { class: 'cost', 'data-cost': i.incidentId },
            `cost: ${usd(c.total)} against closing at the last marks before the break (${usd(c.valueBeforeBreak)}); the break moved ${usd(c.breakCash)}; ` +
              `realized ${usd(c.realized)} in ${c.orders.length} orders; slippage ${usd(c.slippage)} vs mid; commissions ${c.commissions === null || c.commissions === undefined ? 'not reported' : usd(c.commissions)}` +
              `${c.commissionsPending > 0 ? ` (${c.commissionsPending} not reported yet)` : ''}; marked ${usd(c.markAtDetection)} at detection, ${usd(c.versusMark)} against that mark`,
          ),
        );
      }
      inc.append(li);
    }
    const ob = $('orders').tBodies[0];
    ob.replaceChildren();
    if (s.openOrders.length === 0) ob.append(el('tr', {}, el('td', { colSpan: 5 }, 'none')));
    for (const o of s.openOrders) {
      ob.append(
        el(
          'tr',
          {},
          el('td', {}, o.ref),
          el('td', {}, o.status),
          el('td', {}, `${o.legs.join(' / ')} ${o.orderType === 'LMT' ? `LMT ${o.limitPrice}` : 'MKT'}${o.outsideRth ? ' (outside RTH)' : ''}`),
          el('td', {}, `${o.filledQty}/${o.quantity}`),
          el('td', {}, o.placedAt ? ny(o.placedAt) : 'held / not sent'),
        ),
      );
    }
  }

  const payoffs = new Map();
  function renderPayoffs(p) {
    const box = $('payoffs');
    for (const s of p.strategies) {
      payoffs.set(s.id, s);
      if (s.prices.length === 0) continue;
      const data = [s.prices, s.defined, s.held];
      let c = charts.get(s.id);
      if (c) {
        c.state.mark = s.underlyingPrice;
        c.chart.setData(data);
        c.title.textContent = `${s.id} (${s.underlying}) · ${s.state}`;
        continue;
      }
      const title = el('h3', {}, `${s.id} (${s.underlying}) · ${s.state}`);
      const holder = el('div', { class: 'payoff', 'data-payoff': s.id }, title);
      box.append(holder);
      const strikes = s.strikes;
      // The underlying's price, marked on the plot; updated with each refresh.
      const state = { mark: s.underlyingPrice };
      const chart = new uPlot(
        {
          width: 520,
          height: 220,
          scales: { x: { time: false } },
          axes: [{ label: `${s.underlying} at expiry` }, { label: 'value $', size: 70 }],
          series: [
            { label: 'price' },
            { label: 'as defined', stroke: '#2563eb', width: 2 },
            { label: 'held now', stroke: '#dc2626', width: 2, dash: [6, 4] },
          ],
          hooks: {
            draw: [
              (u) => {
                const ctx = u.ctx;
                ctx.save();
                ctx.strokeStyle = '#9ca3af';
                ctx.setLineDash([2, 3]);
                for (const k of strikes) {
                  const x = u.valToPos(k, 'x', true);
                  ctx.beginPath();
                  ctx.moveTo(x, u.bbox.top);
                  ctx.lineTo(x, u.bbox.top + u.bbox.height);
                  ctx.stroke();
                }
                if (state.mark !== null) {
                  ctx.strokeStyle = '#111827';
                  ctx.setLineDash([]);
                  const x = u.valToPos(state.mark, 'x', true);
                  ctx.beginPath();
                  ctx.moveTo(x, u.bbox.top);
                  ctx.lineTo(x, u.bbox.top + u.bbox.height);
                  ctx.stroke();
                }
                ctx.restore();
              },
            ],
          },
        },
        data,
        holder,
      );
      charts.set(s.id, { chart, title, state });
    }
  }

  function renderHealth(h) {
    const b = $('health');
    const broker = h.broker === null ? 'no broker (read-only)' : h.broker.connected ? 'broker connected' : 'broker DISCONNECTED';
    b.textContent = h.mode === 'read-only' ? 'read-only' : h.ok ? `healthy · ${broker}` : `UNHEALTHY · ${broker}`;
    b.className = `badge ${h.mode === 'read-only' ? '' : h.ok ? 'ok' : 'bad'}`;
    const age = h.lastReconciledAgeMs === null ? '' : `, ${Math.round(h.lastReconciledAgeMs / 1000)} s ago (guard clock)`;
    $('health-detail').replaceChildren(
      el('dt', {}, 'broker'),
      el('dd', {}, broker),
      el('dt', {}, 'last reconciliation'),
      el('dd', {}, h.lastReconciledAt ? `${ny(h.lastReconciledAt)}${age}` : 'never'),
      el('dt', {}, 'store'),
      el('dd', {}, h.store.detail),
    );
  }

  let refreshing = null;
  let again = false;
  async function refresh() {
    if (refreshing) {
      again = true;
      return refreshing;
    }
    refreshing = (async () => {
      try {
        // Every account in a line (for the selector), then the shown account's status, payoffs and health.
        const [ac, st, po, he] = await Promise.all([getJson('/api/accounts'), getJson(`/api/status${q()}`), getJson(`/api/payoff${q()}`), getJson(`/healthz${q()}`)]);
        renderAccounts(ac.body.summaries || []);
        renderPayoffs(po.body);
        renderStatus(st.body);
        renderHealth(he.body);
      } catch (e) {
        message(`cannot read the guard: ${e}`, 'error');
      }
    })();
    await refreshing;
    refreshing = null;
    if (again) {
      again = false;
      void refresh();
    }
  }

  function describe(e) {
    switch (e.kind) {
      case 'state':
        return `${e.strategyId}: ${e.from ?? '(new)'} → ${e.to} (${e.reason})`;
      case 'detection':
        return `detected ${e.detection.cause}${e.detection.kind ? ` ${e.detection.kind}` : ''}${e.detection.strategyId ? ` in ${e.detection.strategyId}` : ''}: ${e.detection.reason}`;
      case 'decision':
        return `decided ${e.decision.action} for ${e.decision.strategyId} (${e.decision.rule}): ${e.decision.reason}`;
      case 'order-planned':
        return `order planned ${orderText(e.order.request)}`;
      case 'order-sent':
        return `order sent ${orderText(e.order.request)}`;
      case 'order-update':
        return `order ${e.order.request.ref} ${e.status}${e.reason ? `: ${e.reason}` : ''}`;
      case 'gate-refused':
        return `gate refused ${e.ref}: ${e.reason}`;
      case 'alert':
        return `[${e.alert.severity.toUpperCase()}] ${e.alert.title}`;
      case 'reconciled':
        return `reconciled (${e.reason})${e.discrepancies.length > 0 ? `: ${e.discrepancies.join('; ')}` : ''}`;
      case 'latency':
        return `${e.strategyId}: ${e.cause} to orders in ${e.latencyMs.toFixed(1)} ms (${e.ordersSent} sent)`;
      case 'note':
        return e.text;
      default:
        return null;
    }
  }

  /** A journal entry of the record (`/api/history`), in one line. */
  function describeRecord(j) {
    const d = j.data && typeof j.data === 'object' ? j.data : {};
    const who = j.strategyId ? `${j.strategyId}: ` : '';
    const compact = () => (typeof d.reason === 'string' ? d.reason : typeof d.text === 'string' ? d.text : JSON.stringify(j.data ?? null).slice(0, 200));
    switch (j.type) {
      case 'state':
        return `${who}${d.from ?? '(new)'} → ${d.to ?? '?'}${d.reason ? ` (${d.reason})` : ''}`;
      case 'alert':
        return `[${String(d.severity ?? '').toUpperCase()}] ${d.title ?? compact()}`;
      case 'order':
        return `order ${orderText(d)}`;
      case 'fill':
        return `fill ${d.side} ${d.qty} ${contract(d.contract)} @ ${d.price} (${d.orderRef ?? d.orderId})`;
      case 'decision':
        return `decided ${d.action} for ${d.strategyId} (${d.rule}): ${d.reason}`;
      case 'trading-state':
        return `trading ${d.from ?? '?'} → ${d.to ?? '?'} by ${d.by ?? '?'}${d.reason ? `: ${d.reason}` : ''}`;
      default:
        return `${j.type} ${who}${compact()}`;
    }
  }

  async function loadHistory() {
    try {
      const h = await getJson(`/api/history${q()}`);
      const tl = $('timeline');
      for (const j of h.body.entries) {
        const cls = j.type === 'alert' && j.data && j.data.severity ? j.data.severity : `record ${j.type}`;
        tl.prepend(el('li', { class: cls, 'data-kind': `record-${j.type}` }, `${ny(j.at)}  ${describeRecord(j)}`));
      }
    } catch (e) {
      message(`cannot read the record: ${e}`, 'error');
    }
  }

  function onTimeline(e) {
    // Another account's entry: only the selector and the line above the page change (at the next read).
    if (e.account !== undefined && account !== null && e.account !== account) {
      if (e.kind !== 'broker-event') void refresh();
      return;
    }
    if (e.kind === 'state') noteState(e.strategyId, e.to);
    const text = describe(e);
    if (text !== null) {
      const tl = $('timeline');
      const cls = e.kind === 'alert' ? e.alert.severity : e.kind;
      tl.prepend(el('li', { class: cls, 'data-kind': e.kind }, `${ny(e.at)}  ${text}`));
      while (tl.children.length > 300) tl.lastChild.remove();
    }
    if (e.kind !== 'broker-event') void refresh();
  }

  function follow() {
    const es = new EventSource('/api/events');
    es.addEventListener('hello', (m) => {
      const h = JSON.parse(m.data);
      mode = h.mode;
      mutations = h.mutations;
      $('mode').textContent = mode === 'read-only' ? 'read-only: a stored record' : mutations ? 'live · mutations on' : 'live · mutations off (no token configured)';
      for (const b of document.querySelectorAll('#trading-panel button')) b.disabled = mode !== 'guard';
      $('live').textContent = mode === 'read-only' ? 'the record' : 'live';
      $('live').className = `badge ${mode === 'read-only' ? '' : 'ok'}`;
      void refresh();
    });
    es.addEventListener('timeline', (m) => onTimeline(JSON.parse(m.data)));
    es.onerror = () => {
      $('live').textContent = 'reconnecting';
      $('live').className = 'badge warn';
    };
  }

  async function ack(id) {
    const r = await mutate(`/api/incidents/${encodeURIComponent(id)}/ack`, { by: 'dashboard' });
    if (r.status === 200) message(`acknowledged ${id}`, 'done');
    await refresh();
  }

  // Another account: the page is read afresh for it (its address says which, so it can be bookmarked).
  $('account-select').addEventListener('change', (ev) => {
    const u = new URL(location.href);
    u.searchParams.set('account', ev.target.value);
    location.assign(u.toString());
  });

  for (const b of document.querySelectorAll('#trading-panel button')) {
    b.addEventListener('click', async () => {
      const reason = $('reason').value.trim();
      const r = await mutate('/api/trading-state', { state: b.dataset.state, by: 'dashboard', ...(reason !== '' ? { reason } : {}) });
      if (r.status === 200) message(`trading ${r.body.state} (was ${r.body.was})`, 'done');
      await refresh();
    });
  }

  /** The account to show, settled before anything is read for it: the address's when it is here, else the first. */
  async function settleAccount() {
    try {
      const known = (await getJson('/api/accounts')).body.accounts || [];
      if (account !== null && !known.includes(account)) message(`no account ${account} here; showing ${known[0] || 'none'}`, 'error');
      if (account === null || !known.includes(account)) account = known[0] || null;
    } catch (e) {
      message(`cannot read the guard: ${e}`, 'error');
    }
  }

  void settleAccount().then(() => {
    void loadHistory().then(follow);
    void refresh();
  });
  setInterval(() => void refresh(), 5000);
})();
