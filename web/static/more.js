// Segments, Cohorts, CLV, Customers (360), Targets and the report view.
import { api, pool, ApiError } from './api.js';
import { el, fmt, fmtInt, fmtNum, addMonths } from './fmt.js';
import { lineChart, barChart, heatmap, figure } from './chart.js';
import { windowOf, settle, controls, windowParams } from './window.js';
import { scorecardTable, kpiCharts, qs } from './pages.js';

const pct = (v) => fmt('ratio', v);

async function defaultWindow(ctx) {
  let w = windowOf(ctx.params);
  if (!w.from) {
    const sc = await api('/v1/scorecard');
    w = settle(w, sc.from, sc.to);
  }
  return w;
}

export async function segments(main, ctx) {
  const list = (await api('/v1/rulesets')).rulesets;
  const name = ctx.params.get('ruleset') || (list.find((r) => r.name === 'rfm_segments') || list[0]).name;
  const w = await defaultWindow(ctx);
  const nav = (extra) => { location.hash = '#/segments?' + qs({ ...windowParams(w), ruleset: name, ...extra }); };
  const pick = el('select', { id: 'ruleset' }, ...list.map((r) => el('option', { value: r.name, selected: r.name === name }, r.name)));
  pick.addEventListener('change', () => nav({ ruleset: pick.value }));
  const rs = list.find((r) => r.name === name);
  main.append(el('h1', {}, 'Segments'), el('div', { class: 'controls' }, el('label', { for: 'ruleset' }, 'Rule set', pick)), el('p', {}, rs.description));
  const tiersBox = el('section', { 'aria-label': 'Tiers' });
  main.append(tiersBox);
  if (ctx.session.canEdit) {
    const btn = el('button', { type: 'button', 'data-edit': 'evaluate' }, 'Evaluate now');
    btn.addEventListener('click', async () => {
      btn.disabled = true;
      try { await api(`/v1/rulesets/${name}/evaluate`, { method: 'POST' }); nav({ t: Date.now() }); } catch (e) { tiersBox.append(el('p', { class: 'error' }, e.message)); btn.disabled = false; }
    });
    main.insertBefore(el('p', { class: 'noprint' }, btn), tiersBox);
  }
  await tierTable(tiersBox, name, w);
  // The migration matrix between two as-of dates.
  const toAsOf = ctx.params.get('to_as_of') || w.to, fromAsOf = ctx.params.get('from_as_of') || addMonths(toAsOf, -6);
  const fa = el('input', { id: 'from-as-of', type: 'date', value: fromAsOf }), ta = el('input', { id: 'to-as-of', type: 'date', value: toAsOf });
  const upd = () => nav({ from_as_of: fa.value, to_as_of: ta.value });
  fa.addEventListener('change', upd); ta.addEventListener('change', upd);
  main.append(el('h2', {}, 'Migration between two evaluations'), el('div', { class: 'controls' }, el('label', { for: 'from-as-of' }, 'From as of', fa), el('label', { for: 'to-as-of' }, 'To as of', ta)));
  try {
    const tr = await api(`/v1/rulesets/${name}/transitions`, { params: { from_as_of: fromAsOf, to_as_of: toAsOf } });
    const froms = [...new Set(tr.matrix.map((c) => c.from_tier))], tos = [...new Set(tr.matrix.map((c) => c.to_tier))];
    const cellOf = new Map(tr.matrix.map((c) => [c.from_tier + '\0' + c.to_tier, c.customers]));
    main.append(el('p', { class: 'note' }, `${fmtInt(tr.moved)} customers moved, ${fmtInt(tr.stayed)} stayed.`),
      figure(`Migration ${fromAsOf} → ${toAsOf}`, heatmap({ label: 'migration matrix', rows: froms, cols: tos, rowTitle: 'from', colTitle: 'to', cell: 44, fmt: fmtInt, value: (r, c) => cellOf.get(r + '\0' + c) }), tr.matrix, `${name}_migration_${fromAsOf}_${toAsOf}`));
  } catch (e) { main.append(el('p', { class: 'note' }, e.message)); }
  main.append(el('h2', {}, 'RFM grid'), await rfmGrid());
}

// tierTable: customers per tier (the latest evaluation's assignments) and
// revenue share in the window (the revenue KPI by tier).
async function tierTable(box, name, w) {
  let rev;
  try {
    rev = await api('/v1/kpis/revenue/values', { params: { by: 'tier:' + name, from: w.from, to: w.to } });
  } catch (e) {
    if (e instanceof ApiError && e.code === 'unknown_dimension') { box.append(el('p', { class: 'note' }, e.message)); return; }
    throw e;
  }
  const col = 'tier:' + name;
  const total = rev.rows.reduce((a, r) => a + (r.value || 0), 0);
  // Every tier of the rule set, in rule order, also those without revenue
  // in the window (lost, never bought); then any other tier the revenue has
  // (an older version's).
  const revenueOf = new Map(rev.rows.map((r) => [r[col], r.value]));
  const tiers = (await api(`/v1/rulesets/${name}`)).tiers || [];
  for (const t of revenueOf.keys()) if (!tiers.includes(t)) tiers.push(t);
  const counts = await pool(tiers, 4, (t) => t === null ? null : api(`/v1/rulesets/${name}/assignments`, { params: { tier: t, limit: 1 } }).then((a) => a.total));
  const rows = tiers.map((t, i) => {
    const revenue = revenueOf.get(t) ?? 0;
    return { tier: t, customers: typeof counts[i] === 'number' ? counts[i] : null, revenue, revenue_share: total ? revenue / total : null };
  });
  box.append(el('table', { id: 'tiers', 'aria-label': 'Tiers' },
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Tier'), el('th', { scope: 'col', class: 'num' }, 'Customers'), el('th', { scope: 'col', class: 'num' }, `Revenue ${w.from} – ${w.to}`), el('th', { scope: 'col', class: 'num' }, 'Revenue share'))),
    el('tbody', {}, ...rows.map((r) => el('tr', {}, el('td', {}, r.tier ?? '(none)'), el('td', { class: 'num' }, fmtInt(r.customers)), el('td', { class: 'num' }, fmt('currency', r.revenue)), el('td', { class: 'num' }, pct(r.revenue_share)))))),
  figure('Revenue share by tier', barChart({ label: 'revenue share by tier', fmt: pct, bars: rows.map((r) => ({ label: r.tier, value: r.revenue_share })) }), rows, `${name}_tiers`));
}

// rfmGrid counts customers by recency and frequency score (1..5): 25
// counts of one-row pages, never the customers themselves.
async function rfmGrid() {
  const cells = [];
  for (let r = 5; r >= 1; r--) for (let f = 1; f <= 5; f++) cells.push({ r, f });
  const totals = await pool(cells, 4, (c) => api('/v1/customers', { params: { where: `r_score == ${c.r} && f_score == ${c.f}`, limit: 1 } }).then((p) => p.total));
  const map = new Map(cells.map((c, i) => [c.r + '/' + c.f, totals[i]]));
  const data = cells.map((c, i) => ({ r_score: c.r, f_score: c.f, customers: totals[i] }));
  return figure('Customers by recency (R) and frequency (F) score', heatmap({ label: 'RFM grid', rows: ['R5', 'R4', 'R3', 'R2', 'R1'], cols: ['F1', 'F2', 'F3', 'F4', 'F5'], rowTitle: 'recency', colTitle: 'frequency', cell: 56, fmt: fmtInt,
    value: (row, col) => map.get(row.slice(1) + '/' + col.slice(1)) }), data, 'rfm_grid');
}

export async function cohorts(main, ctx) {
  const w = await defaultWindow(ctx);
  main.append(el('h1', {}, 'Cohorts'), await controls(w, (nw) => { location.hash = '#/cohorts?' + qs(windowParams(nw)); }, { filters: false }));
  const res = await api('/v1/kpis/cohort_retention/values', { params: { from: w.from, to: w.to } });
  const cs = [...new Set(res.rows.map((r) => r.cohort))].sort(), offs = [...new Set(res.rows.map((r) => r.month_offset))].sort((a, b) => a - b);
  const v = new Map(res.rows.map((r) => [r.cohort + '/' + r.month_offset, r.value]));
  const size = new Map(res.rows.filter((r) => r.month_offset === 0).map((r) => [r.cohort, r.customers]));
  main.append(el('p', { class: 'note' }, 'Share of each signup cohort buying in each month after signup.'),
    figure('Cohort retention', heatmap({ label: 'cohort retention', rows: cs.map((c) => `${c} (${fmtInt(size.get(c))})`), cols: offs.map(String), rowTitle: 'cohort', colTitle: 'months since signup', cell: 40, max: 1, fmt: (x) => Math.round(x * 100) + '%',
      value: (r, c) => v.get(r.slice(0, 10) + '/' + c) }), res.rows, `cohort_retention_${w.from}_${w.to}`));
}

export async function clv(main, ctx) {
  main.append(el('h1', {}, 'Customer lifetime value'));
  let fit = null;
  try { fit = await api('/v1/models/clv'); } catch (e) { if (!(e instanceof ApiError && e.status === 404)) throw e; main.append(el('p', { class: 'note' }, e.message)); }
  if (ctx.session.canEdit) main.append(fitForm(fit));
  if (!fit) return;
  const m = fit.bgnbd || {}, gg = fit.gamma_gamma || {}, h = fit.holdout;
  const dl = (pairs) => el('dl', { class: 'kv' }, ...pairs.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
  main.append(el('h2', {}, `Model ${fit.model}, fitted ${fit.fitted_at}`),
    el('div', { class: 'grid2' },
      dl([['customers', fmtInt(fit.customers)], ['calibration end', (fit.summary?.calibration_end || '').slice(0, 10)], ['holdout end', (fit.summary?.holdout_end || '').slice(0, 10) || '–'],
        ...Object.entries(m).filter(([, v]) => typeof v === 'number').map(([k, v]) => ['BG/NBD ' + k, fmtNum(v)]),
        ...Object.entries(gg).filter(([, v]) => typeof v === 'number').map(([k, v]) => ['Gamma-Gamma ' + k, fmtNum(v)])]),
      h ? dl([['holdout actual', fmtNum(h.actual_total)], ['holdout expected', fmtNum(h.expected_total)], ['error %', fmtNum(h.total_error_pct)], ['customer MAE', fmtNum(h.customer_mae)]]) : el('span')));
  const charts = [];
  if (fit.tracking?.length) {
    const t = fit.tracking;
    charts.push(figure('Tracking: cumulative repeat purchases, actual vs expected', lineChart({ label: 'tracking curve', fmt: fmtInt,
      series: [{ name: 'actual', points: t.map((p) => ({ x: String(p.period), y: p.actual_cumulative })) }, { name: 'expected', dash: true, points: t.map((p) => ({ x: String(p.period), y: p.expected_cumulative })) }] }), t, 'clv_tracking'));
  }
  // P(alive): ten counts of one-row pages.
  const bins = Array.from({ length: 10 }, (_, i) => ({ lo: i / 10, hi: (i + 1) / 10 }));
  const counts = await pool(bins, 4, (b) => api('/v1/customers', { params: { where: `p_alive >= ${b.lo} && p_alive ${b.hi >= 1 ? '<=' : '<'} ${b.hi}`, limit: 1 } }).then((p) => p.total));
  const hist = bins.map((b, i) => ({ p_alive_from: b.lo, p_alive_to: b.hi, customers: typeof counts[i] === 'number' ? counts[i] : null }));
  charts.push(figure('P(alive) distribution', barChart({ label: 'P(alive) histogram', fmt: fmtInt, bars: hist.map((b) => ({ label: `${b.p_alive_from.toFixed(1)}–${b.p_alive_to.toFixed(1)}`, value: b.customers })) }), hist, 'clv_p_alive'));
  main.append(el('div', { class: 'grid2' }, ...charts));
  const top = await api('/v1/customers', { params: { order_by: 'clv_12m', desc: true, limit: 20 } });
  main.append(el('h2', {}, 'Top 20 customers by 12-month CLV'), customerTable(top.rows, ['customer_id', 'region', 'segment', 'frequency', 'monetary', 'p_alive', 'expected_purchases_90d', 'clv_12m']));
}

function fitForm(fit) {
  const cal = el('input', { id: 'clv-cal', type: 'date', value: (fit?.summary?.calibration_end || '').slice(0, 10), required: true });
  const hold = el('input', { id: 'clv-hold', type: 'date', value: (fit?.summary?.holdout_end || '').slice(0, 10) });
  const msg = el('span', { role: 'status', class: 'note' });
  const form = el('form', { class: 'controls noprint', 'data-edit': 'clv-fit' }, el('label', { for: 'clv-cal' }, 'Calibration end', cal), el('label', { for: 'clv-hold' }, 'Holdout end (optional)', hold), el('button', { type: 'submit' }, 'Fit model'), msg);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.textContent = 'fitting…';
    try {
      await api('/v1/models/clv/fit', { method: 'POST', body: { calibration_end: cal.value, unit: 'week', ...(hold.value ? { holdout_end: hold.value } : {}) } });
      location.hash = '#/clv?t=' + Date.now();
    } catch (e) { msg.textContent = e.message; }
  });
  return form;
}

const cellFmt = (k, v) => (typeof v === 'number' ? (Number.isInteger(v) ? fmtInt(v) : fmtNum(v)) : v === null || v === undefined ? '–' : String(v));

function customerTable(rows, cols) {
  return el('table', { class: 'customers', 'aria-label': 'Customers' },
    el('thead', {}, el('tr', {}, ...cols.map((c) => el('th', { scope: 'col' }, c)))),
    el('tbody', {}, ...rows.map((r) => el('tr', {}, ...cols.map((c) => el('td', {}, c === 'customer_id' ? el('a', { href: '#/customer/' + encodeURIComponent(r[c]) }, r[c]) : cellFmt(c, r[c])))))));
}

const PAGE = 50;

export async function customers(main, ctx) {
  const where = ctx.params.get('where') || '', order = ctx.params.get('order_by') || 'monetary', offset = +(ctx.params.get('offset') || 0);
  const wi = el('input', { id: 'cust-where', type: 'text', value: where, size: 40, placeholder: 'monetary > 500.0 && region == "north"' });
  const oi = el('input', { id: 'cust-order', type: 'text', value: order, size: 14 });
  const form = el('form', { class: 'controls' }, el('label', { for: 'cust-where' }, 'Condition (CEL)', wi), el('label', { for: 'cust-order' }, 'Order by (descending)', oi), el('button', { type: 'submit' }, 'Search'));
  const nav = (o) => { location.hash = '#/customers?' + qs({ where: wi.value, order_by: oi.value, offset: o }); };
  form.addEventListener('submit', (ev) => { ev.preventDefault(); nav(0); });
  main.append(el('h1', {}, 'Customers'), form);
  const page = await api('/v1/customers', { params: { where, order_by: order, desc: true, limit: PAGE, offset } });
  main.append(el('div', { class: 'pager' },
    el('button', { type: 'button', class: 'plain', disabled: offset === 0, onclick: () => nav(Math.max(0, offset - PAGE)) }, '◀ previous'),
    el('span', {}, `${fmtInt(offset + 1)}–${fmtInt(Math.min(offset + PAGE, page.total))} of ${fmtInt(page.total)}`),
    el('button', { type: 'button', class: 'plain', disabled: offset + PAGE >= page.total, onclick: () => nav(offset + PAGE) }, 'next ▶')),
  customerTable(page.rows, ['customer_id', 'region', 'segment', 'signup_date', 'frequency', 'monetary', 'recency_days', 'p_alive', 'clv_12m']));
}

export async function customer(main, ctx) {
  const c = await api('/v1/customers/' + encodeURIComponent(ctx.arg));
  const f = c.features;
  main.append(el('h1', {}, 'Customer ' + f.customer_id), el('p', {}, el('a', { href: '#/customers' }, '← Customers')));
  const scores = ['p_alive', 'expected_purchases_90d', 'clv_12m'];
  main.append(el('div', { class: 'grid2' },
    el('section', {}, el('h2', {}, 'Features'), el('dl', { class: 'kv', id: 'features' }, ...Object.entries(f).filter(([k]) => !scores.includes(k)).flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, cellFmt(k, v))]))),
    el('section', {}, el('h2', {}, 'CLV scores'), el('dl', { class: 'kv' }, ...scores.flatMap((k) => [el('dt', {}, k), el('dd', {}, cellFmt(k, f[k]))])),
      el('h2', {}, 'Tiers'), el('table', { 'aria-label': 'Tiers' }, el('thead', {}, el('tr', {}, ...['rule set', 'tier', 'version', 'as of'].map((h) => el('th', { scope: 'col' }, h)))),
        el('tbody', {}, ...(c.tiers || []).map((t) => el('tr', {}, el('td', {}, t.ruleset), el('td', {}, t.tier), el('td', {}, t.version), el('td', {}, t.as_of))))))));
  const events = [
    ...(c.recent_orders || []).map((o) => ({ when: o.order_date, kind: 'order', what: `${o.order_id}: ${fmt('currency', o.amount)}, ${o.items} items, ${o.status}` })),
    ...(c.surveys || []).map((s) => ({ when: s.survey_date || s.answered_at || s.date || '', kind: 'survey', what: Object.entries(s).filter(([k]) => k !== 'customer_id').map(([k, v]) => `${k} ${v}`).join(', ') })),
    ...(c.tickets || []).map((t) => ({ when: t.opened_at || t.created_at || t.date || '', kind: 'ticket', what: Object.entries(t).filter(([k]) => k !== 'customer_id').map(([k, v]) => `${k} ${v}`).join(', ') })),
  ].sort((a, b) => String(b.when).localeCompare(String(a.when)));
  main.append(el('h2', {}, 'Timeline'), el('table', { id: 'timeline', 'aria-label': 'Timeline' },
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'when'), el('th', { scope: 'col' }, 'what'), el('th', { scope: 'col' }, 'detail'))),
    el('tbody', {}, ...events.map((e) => el('tr', {}, el('td', {}, String(e.when).slice(0, 16).replace('T', ' ')), el('td', {}, e.kind), el('td', {}, e.what))))));
}

export async function targets(main, ctx) {
  const [kpis, tg] = await Promise.all([api('/v1/kpis'), api('/v1/targets')]);
  const byName = new Map(kpis.kpis.map((k) => [k.name, k]));
  main.append(el('h1', {}, 'Targets'));
  if (ctx.session.canEdit) main.append(targetForm(kpis.kpis, tg.targets, ctx.params.get('kpi')));
  else main.append(el('p', { class: 'note' }, 'Your key is a reader: targets are read-only.'));
  main.append(el('table', { id: 'targets', 'aria-label': 'Targets' },
    el('thead', {}, el('tr', {}, ...['KPI', 'target', 'direction', 'warn within', 'scope', 'period', ''].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, ...tg.targets.map((t) => {
      const k = byName.get(t.kpi) || { unit: '', title: t.kpi };
      const scope = t.by ? Object.entries(t.by).map(([a, b]) => `${a}=${b}`).join(', ') : 'all';
      return el('tr', { 'data-target': t.kpi, 'data-value': t.target },
        el('td', {}, el('a', { href: '#/kpi/' + t.kpi }, k.title)), el('td', { class: 'num' }, fmt(k.unit, t.target)), el('td', {}, t.direction),
        el('td', { class: 'num' }, fmt(k.unit, t.warn_within)), el('td', {}, scope), el('td', {}, t.from ? `${t.from} – ${t.to}` : 'always'),
        el('td', {}, ctx.session.canEdit ? el('a', { href: '#/targets?kpi=' + t.kpi, 'data-edit': 'target', 'aria-label': 'Edit the target of ' + k.title }, 'edit') : ''));
    }))));
  const without = kpis.kpis.filter((k) => !tg.targets.some((t) => t.kpi === k.name));
  main.append(el('h2', {}, `KPIs without a target (${without.length})`), el('ul', { id: 'no-target' }, ...without.map((k) => el('li', {}, el('a', { href: '#/kpi/' + k.name }, k.title)))));
}

function targetForm(kpis, existing, chosen) {
  const k0 = chosen || kpis[0].name;
  const cur = existing.find((t) => t.kpi === k0 && (!t.by || !Object.keys(t.by).length));
  const kpi = el('select', { id: 't-kpi' }, ...kpis.filter((k) => k.kind !== 'matrix').map((k) => el('option', { value: k.name, selected: k.name === k0 }, k.title)));
  kpi.addEventListener('change', () => { location.hash = '#/targets?kpi=' + kpi.value; });
  const unit = (kpis.find((k) => k.name === k0) || {}).unit;
  const value = el('input', { id: 't-value', type: 'number', step: 'any', required: true, value: cur ? cur.target : '' });
  const dir = el('select', { id: 't-direction' }, el('option', { value: '' }, "(the KPI's)"), ...['higher_is_better', 'lower_is_better'].map((d) => el('option', { value: d, selected: cur && cur.direction === d }, d)));
  const warn = el('input', { id: 't-warn', type: 'number', step: 'any', min: 0, value: cur ? cur.warn_within : 0 });
  const msg = el('span', { role: 'status', class: 'note' });
  const form = el('form', { class: 'controls', id: 'target-form', 'data-edit': 'target-form' },
    el('label', { for: 't-kpi' }, 'KPI', kpi), el('label', { for: 't-value' }, `Target (${unit === 'ratio' ? 'a ratio, 0.35 = 35%' : unit})`, value),
    el('label', { for: 't-direction' }, 'Direction', dir), el('label', { for: 't-warn' }, 'Warn within', warn), el('button', { type: 'submit' }, 'Save target'), msg);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const body = { target: +value.value, warn_within: +warn.value || 0 };
      if (dir.value) body.direction = dir.value;
      await api('/v1/targets/' + kpi.value, { method: 'PUT', body });
      location.hash = '#/targets?kpi=' + kpi.value + '&saved=' + Date.now();
    } catch (e) { msg.className = 'error'; msg.textContent = e.message; }
  });
  return form;
}

// report: the scorecard and the chosen KPIs' pages, for printing.
export async function report(main, ctx) {
  let w = windowOf(ctx.params);
  const sc = await api('/v1/scorecard', { params: { from: w.from, to: w.to, filter: w.filter } });
  w = settle(w, sc.from, sc.to);
  const chosen = (ctx.params.get('kpis') || '').split(',').filter((x) => x);
  const all = (await api('/v1/kpis')).kpis.filter((k) => sc.rows.some((r) => r.kpi === k.name));
  const boxes = all.map((k) => el('label', { class: 'field' }, el('span', {}, el('input', { type: 'checkbox', value: k.name, checked: chosen.includes(k.name), 'aria-label': k.title }), ' ' + k.title)));
  const apply = el('button', { type: 'button', onclick: () => { location.hash = '#/report?' + qs({ ...windowParams(w), kpis: boxes.map((b) => b.querySelector('input')).filter((i) => i.checked).map((i) => i.value).join(',') }); } }, 'Show chosen KPIs');
  main.append(el('div', { class: 'noprint' }, await controls(w, (nw) => { location.hash = '#/report?' + qs({ ...windowParams(nw), kpis: chosen.join(',') }); }),
    el('details', {}, el('summary', {}, 'KPI pages in the report'), el('div', { class: 'controls' }, ...boxes), apply),
    el('p', {}, el('button', { type: 'button', onclick: () => window.print() }, 'Print / save as PDF'))));
  main.append(el('h1', {}, `KPI review ${sc.from} – ${sc.to}`), el('p', { class: 'note' }, `Compared with ${sc.previous_from} – ${sc.from}.` + (w.filter.length ? ' Filter: ' + w.filter.join(', ') : '')));
  const { table, done } = scorecardTable(sc, w, ctx, { edit: false });
  main.append(table);
  for (const name of chosen) {
    const k = all.find((x) => x.name === name);
    if (!k) continue;
    main.append(el('h2', { class: 'page-break' }, k.title), el('p', { class: 'note' }, k.description),
      el('div', { class: 'grid2' }, ...(await kpiCharts(k, w, { dim: k.dimensions.includes('region') ? 'region' : k.dimensions[0] })).filter((c) => c.tagName === 'FIGURE')));
  }
  await done;
}
