// The pages: Scorecard and KPI here; the others in more.js.
import { api, pool } from './api.js';
import { el, fmt, fmtChange, fmtPct, csv, download, addMonths } from './fmt.js';
import { lineChart, barChart, waterfall, sparkline, figure, palette } from './chart.js';
import { windowOf, settle, controls, windowParams, previousFrom, sparkGrain, filterBy, filterDimensions } from './window.js';
import { segments, cohorts, clv, customers, customer, targets, report } from './more.js';

export const pages = { scorecard, kpi, segments, cohorts, clv, customers, customer, targets, report };

// scorecardTable draws GET /v1/scorecard's rows; sparklines fill in after.
export function scorecardTable(sc, w, ctx, { edit = true } = {}) {
  const grain = sparkGrain(w);
  const body = el('tbody');
  const table = el('table', { id: 'scorecard', 'aria-label': 'Scorecard' },
    el('thead', {}, el('tr', {},
      el('th', { scope: 'col' }, 'KPI'), el('th', { scope: 'col', class: 'num' }, 'Value'), el('th', { scope: 'col', class: 'num' }, 'Previous'),
      el('th', { scope: 'col', class: 'num' }, 'Change'), el('th', { scope: 'col', class: 'num' }, 'Change %'),
      el('th', { scope: 'col' }, `Last 12 ${grain}s`), el('th', { scope: 'col', class: 'num' }, 'Target'), el('th', { scope: 'col' }, 'Status'))),
    body);
  const sparks = [];
  for (const r of sc.rows) {
    const by = r.by ? Object.entries(r.by).map(([k, v]) => `${k}=${v}`) : [];
    const better = r.change === null ? '' : (r.change > 0) === (r.direction !== 'lower_is_better') ? 'up' : r.change === 0 ? '' : 'down';
    const spark = el('td', { class: 'spark' });
    const st = r.status || 'none';
    const link = el('a', { href: '#/kpi/' + r.kpi + '?' + new URLSearchParams(Object.entries(windowParams(w)).flatMap(([k, v]) => [v].flat().filter((x) => x).map((x) => [k, x]))) }, r.title);
    const tr = el('tr', { 'data-kpi': r.kpi, 'data-by': by.join('&') || null, 'data-status': st },
      el('th', { scope: 'row' }, link, by.length ? el('span', { class: 'note' }, ' (' + by.join(', ') + ')') : null),
      el('td', { class: 'num', 'data-col': 'value', 'data-value': r.value ?? '' }, fmt(r.unit, r.value)),
      el('td', { class: 'num', 'data-col': 'previous', 'data-value': r.previous ?? '' }, fmt(r.unit, r.previous)),
      el('td', { class: 'num ' + better, 'data-col': 'change', 'data-value': r.change ?? '' }, fmtChange(r.unit, r.change)),
      el('td', { class: 'num ' + better, 'data-col': 'change_pct', 'data-value': r.change_pct ?? '' }, fmtPct(r.change_pct)),
      spark,
      el('td', { class: 'num', 'data-col': 'target', 'data-value': r.target ?? '' }, fmt(r.unit, r.target),
        edit && ctx.session.canEdit && !r.by ? [' ', el('a', { href: '#/targets?kpi=' + r.kpi, class: 'edit', 'data-edit': 'target', 'aria-label': 'Edit the target of ' + r.title }, '✎')] : null),
      el('td', {}, el('span', { class: 'status status-' + st }, r.status || 'no target')));
    body.append(tr);
    sparks.push({ r, cell: spark, by: r.by ? Object.entries(r.by).map(([k, v]) => k + '=' + v) : w.filter });
  }
  // The sparklines: the last 12 periods up to the window's end, a few
  // requests at once, after the table is on screen.
  const from = addMonths(w.to, grain === 'quarter' ? -36 : -12);
  const done = pool(sparks, 4, async ({ r, cell, by }) => {
    const f = filterBy(by);
    const res = await api(`/v1/kpis/${r.kpi}/values`, { params: { grain, from, to: w.to, by: f.by } });
    const rows = res.rows.filter(f.match);
    cell.append(sparkline(rows.map((x) => x.value), { label: `${r.title}, last 12 ${grain}s` }));
    cell.dataset.points = rows.length;
  });
  return { table, done };
}

async function scorecard(main, ctx) {
  let w = windowOf(ctx.params);
  const sc = await api('/v1/scorecard', { params: { from: w.from, to: w.to, filter: w.filter } });
  w = settle(w, sc.from, sc.to);
  const nav = (nw) => { const p = windowParams(nw); location.hash = '#/scorecard?' + qs(p); };
  main.append(el('h1', {}, 'Scorecard'), await controls(w, nav),
    el('p', { class: 'note' }, `Window ${sc.from} to ${sc.to} (exclusive), compared with ${sc.previous_from} to ${sc.from}.`));
  const { table, done } = scorecardTable(sc, w, ctx);
  main.append(table,
    el('p', { class: 'noprint' },
      el('button', { type: 'button', class: 'plain', onclick: () => download(`scorecard_${sc.from}_${sc.to}.csv`, new Blob([csv(sc.rows)], { type: 'text/csv' })) }, 'Download CSV'), ' ',
      el('a', { href: '#/report?' + qs(windowParams(w)) }, 'Report view')));
  if (sc.skipped.length) main.append(el('details', {}, el('summary', {}, `${sc.skipped.length} KPIs left off`), el('ul', {}, ...sc.skipped.map((s) => el('li', {}, s.reason)))));
  await done;
  main.dataset.sparklines = 'done';
}

export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const x of [v].flat()) if (x !== '' && x !== undefined && x !== null) u.append(k, x);
  return u.toString();
}

const grainFor = { year: 'month', quarter: 'week', month: 'day', custom: 'month' };

// kpiCharts draws a KPI's trend, breakdown and variance for a window.
export async function kpiCharts(k, w, { grain, dim, version } = {}) {
  grain = grain || grainFor[w.kind] || 'month';
  const prevFrom = previousFrom(w);
  const f = filterBy(w.filter);
  const where = { by: f.by };
  const [cur, prev, tg] = await Promise.all([
    api(`/v1/kpis/${k.name}/values`, { params: { grain, from: w.from, to: w.to, version, ...where } }),
    api(`/v1/kpis/${k.name}/values`, { params: { grain, from: prevFrom, to: w.from, version, ...where } }),
    api(`/v1/targets/${k.name}`).catch(() => ({ targets: [] })),
  ]);
  const target = (tg.targets || []).find((t) => !t.by || Object.keys(t.by).length === 0);
  const curRows = cur.rows.filter(f.match), prevRows = prev.rows.filter(f.match);
  const u = (v) => fmt(k.unit, v);
  const out = [];
  out.push(figure(`${k.title}: trend by ${grain}`, lineChart({
    label: `${k.title} by ${grain}`, fmt: u,
    series: [{ name: `${w.from} – ${w.to}`, points: curRows.map((r) => ({ x: r.period, y: r.value })) },
      { name: `previous (${prevFrom} – ${w.from})`, dash: true, color: '#868e96', index: true, points: prevRows.map((r, i) => ({ x: curRows[i]?.period ?? r.period, y: r.value })) }],
    target: target ? { y: target.target, label: 'target ' + u(target.target) } : null,
  }), [...curRows.map((r) => ({ window: 'current', ...r })), ...prevRows.map((r) => ({ window: 'previous', ...r }))], `${k.name}_trend_${w.from}_${w.to}`));
  if (dim) {
    const [br, va] = await Promise.all([
      api(`/v1/kpis/${k.name}/values`, { params: { by: [dim, f.by].filter((x) => x).join(','), from: w.from, to: w.to, version } }),
      k.kind === 'matrix' ? null : api(`/v1/kpis/${k.name}/variance`, { params: { by: dim, from: w.from, to: w.to } }).catch((e) => e),
    ]);
    const rows = br.rows.filter(f.match);
    out.push(figure(`${k.title} by ${dim}`, barChart({ label: `${k.title} by ${dim}`, fmt: u, bars: rows.map((r) => ({ label: r[dim], value: r.value })) }), rows, `${k.name}_by_${dim}`));
    if (va instanceof Error) out.push(el('p', { class: 'note' }, 'Variance: ' + va.message));
    else if (va) {
      out.push(figure(`${k.title}: change by ${dim} (rate + mix)`, waterfall({
        label: `variance of ${k.title} by ${dim}`, fmt: u,
        start: { label: 'previous', value: va.previous }, end: { label: 'current', value: va.value },
        steps: va.rows.map((r) => ({ label: r[dim], value: r.contribution })),
      }), va.rows, `${k.name}_variance_${dim}`));
      out.push(el('table', { 'aria-label': 'Variance by ' + dim },
        el('thead', {}, el('tr', {}, ...[dim, 'previous', 'value', 'rate effect', 'mix effect', 'contribution'].map((h, i) => el('th', { scope: 'col', class: i ? 'num' : '' }, h)))),
        el('tbody', {}, ...va.rows.map((r) => el('tr', {}, el('td', {}, r[dim] ?? '(none)'),
          ...[r.previous, r.value].map((v) => el('td', { class: 'num' }, u(v))),
          ...[r.rate_effect, r.mix_effect, r.contribution].map((v) => el('td', { class: 'num' }, fmtChange(k.unit, v))))))));
    }
  }
  return out;
}

async function kpi(main, ctx) {
  const list = (await filterDimensions()).kpis;
  const name = ctx.arg || 'revenue';
  const pick = el('select', { id: 'kpi-pick' }, ...list.map((k) => el('option', { value: k.name, selected: k.name === name }, k.title)));
  pick.addEventListener('change', () => { location.hash = '#/kpi/' + pick.value + '?' + ctx.params.toString(); });
  main.append(el('div', { class: 'controls' }, el('label', { for: 'kpi-pick' }, 'KPI', pick)));
  const k = await api('/v1/kpis/' + encodeURIComponent(name));
  if (k.kind === 'matrix' || k.name === 'cohort_retention') {
    main.append(el('p', {}, el('a', { href: '#/cohorts' }, 'This KPI is a matrix: see the Cohorts page.')));
  }
  let w = windowOf(ctx.params);
  if (!w.from) {
    const sc = await api('/v1/scorecard', { params: { filter: w.filter } }); // the server's default window
    w = settle(w, sc.from, sc.to);
  }
  const dim = ctx.params.get('dim') || 'region';
  const grain = ctx.params.get('grain') || grainFor[w.kind] || 'month';
  const nav = (nw, extra = {}) => { location.hash = `#/kpi/${name}?` + qs({ ...windowParams(nw), dim, grain, ...extra }); };
  const { dims, tiers } = await filterDimensions();
  const ownDims = k.dimensions.includes('tier:<ruleset>') ? [...dims, ...tiers] : k.dimensions;
  const dimSel = el('select', { id: 'kpi-dim' }, ...ownDims.map((d) => el('option', { value: d, selected: d === dim }, d)));
  dimSel.addEventListener('change', () => nav(w, { dim: dimSel.value }));
  const grainSel = el('select', { id: 'kpi-grain' }, ...k.grains.filter((g) => g !== 'none').map((g) => el('option', { value: g, selected: g === grain }, g)));
  grainSel.addEventListener('change', () => nav(w, { grain: grainSel.value }));
  main.append(el('h1', {}, k.title),
    el('p', {}, k.description),
    el('dl', { class: 'kv' }, el('dt', {}, 'Unit'), el('dd', {}, k.unit), el('dt', {}, 'Direction'), el('dd', {}, k.direction || '–'),
      el('dt', {}, 'Category'), el('dd', {}, k.category), el('dt', {}, 'Versions'), el('dd', {}, k.versions.join(', ') + ` (default ${k.default_version})`),
      el('dt', {}, 'Requires'), el('dd', {}, (k.requires || []).join(', '))),
    await controls(w, (nw) => nav(nw)),
    el('div', { class: 'controls' }, el('label', { for: 'kpi-grain' }, 'Grain', grainSel), el('label', { for: 'kpi-dim' }, 'Breakdown by', dimSel)));
  if (k.kind !== 'matrix' && k.name !== 'cohort_retention') {
    const charts = await kpiCharts(k, w, { grain, dim });
    main.append(el('div', { class: 'grid2' }, ...charts.filter((c) => c.tagName === 'FIGURE')), ...charts.filter((c) => c.tagName !== 'FIGURE'));
  }
  if (k.versions.length > 1) main.append(...(await versions(k, w, dim)));
  main.append(el('h2', {}, 'Definition'));
  for (const v of k.version_details || []) {
    main.append(el('h3', {}, `Version ${v.version}${v.default ? ' (default)' : ''}: ${v.title}`),
      el('p', { class: 'note' }, v.description),
      el('pre', { class: 'sql', 'data-version': v.version, tabindex: 0, 'aria-label': `SQL of version ${v.version}` }, v.sql));
  }
}

// versions compares two versions of a KPI (GET /v1/kpis/{name}/diff).
async function versions(k, w, dim) {
  const a = k.versions[k.versions.length - 2], b = k.versions[k.versions.length - 1];
  const out = [el('h2', {}, `Versions ${a} and ${b} side by side`)];
  const useDim = k.dimensions.includes(dim) || dim.startsWith('tier:') ? dim : '';
  try {
    const d = await api(`/v1/kpis/${k.name}/diff`, { params: { from_version: a, to_version: b, from: w.from, to: w.to, by: useDim } });
    const bars = d.rows.flatMap((r) => [{ label: `${r[useDim] ?? 'all'} v${a}`, value: r.from_value, color: palette[0] }, { label: `${r[useDim] ?? 'all'} v${b}`, value: r.to_value, color: palette[1] }]);
    out.push(figure(`${k.title}: v${a} vs v${b}`, barChart({ label: 'versions', bars, fmt: (v) => fmt(k.unit, v) }), d.rows, `${k.name}_v${a}_v${b}`));
    out.push(el('table', { id: 'diff', 'aria-label': 'Versions compared' },
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, useDim || 'all'), el('th', { scope: 'col', class: 'num' }, `v${a}`), el('th', { scope: 'col', class: 'num' }, `v${b}`), el('th', { scope: 'col', class: 'num' }, 'difference'))),
      el('tbody', {}, ...d.rows.map((r) => el('tr', {}, el('td', {}, r[useDim] ?? 'all'), el('td', { class: 'num' }, fmt(k.unit, r.from_value)), el('td', { class: 'num' }, fmt(k.unit, r.to_value)), el('td', { class: 'num' }, fmtChange(k.unit, r.difference)))))));
  } catch (e) { out.push(el('p', { class: 'note' }, e.message)); }
  return out;
}
