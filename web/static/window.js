// The analysis window shared by the pages (?window=&from=&to=&filter=),
// and its controls.
import { api } from './api.js';
import { el, addMonths, day, iso } from './fmt.js';

const months = { month: 1, quarter: 3, year: 12 };

// windowOf reads the window from the page's parameters; from and to stay
// empty when not given (the server's default window then).
export function windowOf(params) {
  const kind = params.get('window') || '';
  let from = params.get('from') || '', to = params.get('to') || '';
  if (months[kind] && from) {
    from = snap(from, kind);
    to = addMonths(from, months[kind]);
  }
  return { kind, from, to, filter: params.getAll('filter') };
}

// settle fills an empty window from an answer's from and to.
export function settle(w, from, to) {
  if (w.from && w.to) return w;
  const n = (day(to).getUTCFullYear() - day(from).getUTCFullYear()) * 12 + day(to).getUTCMonth() - day(from).getUTCMonth();
  const kind = Object.keys(months).find((k) => months[k] === n && from.endsWith('-01')) || 'custom';
  return { ...w, kind, from, to };
}

function snap(from, kind) {
  const d = day(from);
  d.setUTCDate(1);
  if (kind === 'quarter') d.setUTCMonth(Math.floor(d.getUTCMonth() / 3) * 3);
  if (kind === 'year') d.setUTCMonth(0);
  return iso(d);
}

// previousFrom is where the previous window starts: the previous calendar
// period for month, quarter and year, else the same length just before.
export function previousFrom(w) {
  if (months[w.kind]) return addMonths(w.from, -months[w.kind]);
  return iso(new Date(2 * day(w.from) - day(w.to)));
}

// sparkGrain is the grain of the "last 12 periods" sparkline.
export const sparkGrain = (w) => (w.kind === 'quarter' ? 'quarter' : 'month');

export function windowParams(w, extra = {}) {
  return { window: w.kind === 'custom' ? 'custom' : w.kind, from: w.from, to: w.kind === 'custom' ? w.to : '', filter: w.filter, ...extra };
}

// filterParams are the scorecard's filter=DIM=VALUE as by= and the values
// to pick from a grouped answer.
export function filterBy(filter) {
  const pairs = filter.map((f) => { const i = f.indexOf('='); return [f.slice(0, i), f.slice(i + 1)]; });
  return { by: pairs.map(([d]) => d).join(','), match: (row) => pairs.every(([d, v]) => String(row[d] ?? '') === v) };
}

let dimsCache = null;
// filterDimensions: the customer dimensions worth filtering by (not dates
// or ages, which have too many values) and each rule set's tier.
export async function filterDimensions() {
  if (!dimsCache) {
    const [kpis, rs] = await Promise.all([api('/v1/kpis'), api('/v1/rulesets')]);
    const rev = kpis.kpis.find((k) => k.dimensions.includes('tier:<ruleset>')) || kpis.kpis[0];
    const dims = rev.dimensions.filter((d) => !['signup_date', 'age', 'tier:<ruleset>'].includes(d));
    dimsCache = { dims, tiers: rs.rulesets.map((r) => 'tier:' + r.name), kpis: kpis.kpis };
  }
  return dimsCache;
}

export async function dimensionValues(dim, w) {
  const r = await api('/v1/kpis/active_customers/values', { params: { by: dim, from: w.from, to: w.to } });
  return [...new Set(r.rows.map((x) => x[dim]).filter((v) => v !== null && v !== undefined))].map(String).sort().slice(0, 200);
}

// controls draws the window picker and, with filters, the filter editor;
// apply(w) navigates to the changed window.
export async function controls(w, apply, { filters = true } = {}) {
  const kind = el('select', { id: 'win-kind' }, ...['month', 'quarter', 'year', 'custom'].map((k) => el('option', { value: k, selected: k === w.kind }, k)));
  const from = el('input', { id: 'win-from', type: 'date', value: w.from });
  const to = el('input', { id: 'win-to', type: 'date', value: w.to, disabled: w.kind !== 'custom' });
  const change = () => {
    const k = kind.value;
    const f = from.value || w.from;
    apply({ ...w, kind: k, from: months[k] ? snap(f, k) : f, to: months[k] ? addMonths(snap(f, k), months[k]) : to.value || w.to });
  };
  kind.addEventListener('change', change);
  from.addEventListener('change', change);
  to.addEventListener('change', change);
  const step = (n) => () => {
    const m = months[w.kind];
    if (m) apply({ ...w, from: addMonths(w.from, n * m), to: addMonths(w.to, n * m) });
    else { const len = day(w.to) - day(w.from); apply({ ...w, from: iso(new Date(+day(w.from) + n * len)), to: iso(new Date(+day(w.to) + n * len)) }); }
  };
  const box = el('div', { class: 'controls', role: 'group', 'aria-label': 'Window and filters' },
    el('label', { for: 'win-kind' }, 'Window', kind),
    el('label', { for: 'win-from' }, 'From', from),
    el('label', { for: 'win-to' }, 'To (exclusive)', to),
    el('button', { type: 'button', class: 'plain', onclick: step(-1), 'aria-label': 'Previous window' }, '◀'),
    el('button', { type: 'button', class: 'plain', onclick: step(1), 'aria-label': 'Next window' }, '▶'));
  if (filters) box.append(await filterControls(w, apply));
  return box;
}

async function filterControls(w, apply) {
  const { dims, tiers } = await filterDimensions();
  const dim = el('select', { id: 'filter-dim' }, el('option', { value: '' }, '(choose)'), ...[...dims, ...tiers].map((d) => el('option', { value: d }, d)));
  const val = el('select', { id: 'filter-value', disabled: true }, el('option', { value: '' }, '(value)'));
  const msg = el('span', { class: 'note', role: 'status' });
  let asked = 0; // the latest choice wins over answers still on their way
  dim.addEventListener('change', async () => {
    const mine = ++asked;
    val.replaceChildren(el('option', { value: '' }, '(value)'));
    val.disabled = true;
    msg.textContent = '';
    if (!dim.value) return;
    try {
      const values = await dimensionValues(dim.value, w);
      if (mine !== asked) return;
      val.replaceChildren(el('option', { value: '' }, '(value)'), ...values.map((v) => el('option', { value: v }, v)));
      val.disabled = false;
    } catch (e) { if (mine === asked) msg.textContent = e.message; }
  });
  val.addEventListener('change', () => {
    if (!val.value) return;
    const rest = w.filter.filter((f) => !f.startsWith(dim.value + '='));
    apply({ ...w, filter: [...rest, dim.value + '=' + val.value] });
  });
  const chips = w.filter.map((f) => el('button', { type: 'button', class: 'plain', 'data-filter': f, 'aria-label': 'Remove filter ' + f,
    onclick: () => apply({ ...w, filter: w.filter.filter((x) => x !== f) }) }, f + ' ✕'));
  return el('span', { class: 'controls' },
    el('label', { for: 'filter-dim' }, 'Filter by', dim),
    el('label', { for: 'filter-value' }, 'Value', val), ...chips, msg);
}
