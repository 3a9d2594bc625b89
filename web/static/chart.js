// Small SVG charts: line, bar, waterfall, heatmap, sparkline; and the
// frame around each (figure) with its downloads: SVG, PNG and the data as
// CSV. Styles are SVG attributes, not CSS, so a downloaded SVG or PNG
// looks as it does on the page.
import { el, csv, download } from './fmt.js';

const NS = 'http://www.w3.org/2000/svg';
export const palette = ['#0b57d0', '#d9480f', '#2b8a3e', '#862e9c', '#c92a2a', '#1098ad', '#5c940d', '#e67700'];
const axis = '#4f5862', grid = '#e3e6ea';

function s(tag, attrs = {}, ...kids) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) e.setAttribute(k, v);
  for (const k of kids) e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return e;
}

function svgRoot(w, h, label) {
  return s('svg', { xmlns: NS, viewBox: `0 0 ${w} ${h}`, width: w, height: h, role: 'img', 'aria-label': label, 'font-size': 11, 'font-family': 'system-ui, sans-serif' },
    s('rect', { width: w, height: h, fill: '#fff' }));
}

// ticks are about n round numbers covering [lo, hi].
function ticks(lo, hi, n = 5) {
  if (lo === hi) { lo -= 1; hi += 1; }
  const step0 = (hi - lo) / n, mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((x) => x >= step0);
  const out = [];
  const end = Math.ceil(hi / step - 1e-9) * step; // the last tick covers hi
  for (let v = Math.floor(lo / step) * step; v <= end + step * 1e-9; v += step) out.push(+v.toFixed(12));
  return out;
}

// leftMargin fits the longest tick label of a y axis (about 7 px a
// character at the charts' font size), so large values are not cut off.
function leftMargin(t, fmt) {
  return Math.max(64, 12 + 7 * Math.max(...t.map((v) => String(fmt(v)).length)));
}

function yAxis(g, t, y, x0, x1, fmt) {
  for (const v of t) {
    g.append(s('line', { x1: x0, x2: x1, y1: y(v), y2: y(v), stroke: grid }));
    g.append(s('text', { x: x0 - 4, y: y(v) + 4, 'text-anchor': 'end', fill: axis }, fmt(v)));
  }
}

// lineChart: series [{name, points: [{x: label, y}], dash, color}], an
// optional horizontal target line {y, label}.
export function lineChart({ series, target, fmt = String, label = 'line chart', width = 640, height = 260 }) {
  const svg = svgRoot(width, height, label);
  const m = { l: 64, r: 12, t: 12, b: 40 };
  const labels = [...new Set(series.flatMap((se) => se.points.map((p) => p.x)))];
  const ys = series.flatMap((se) => se.points.map((p) => p.y)).filter((v) => v !== null && Number.isFinite(v));
  if (target && Number.isFinite(target.y)) ys.push(target.y);
  if (!ys.length) { svg.append(s('text', { x: width / 2, y: height / 2, 'text-anchor': 'middle', fill: axis }, 'no data')); return svg; }
  const t = ticks(Math.min(0, ...ys) < 0 ? Math.min(...ys) : Math.min(...ys) * 0.95, Math.max(...ys) * 1.02);
  const lo = t[0], hi = t[t.length - 1];
  m.l = leftMargin(t, fmt);
  const x = (i) => m.l + (labels.length < 2 ? (width - m.l - m.r) / 2 : (i * (width - m.l - m.r)) / (labels.length - 1));
  const y = (v) => height - m.b - ((v - lo) / (hi - lo || 1)) * (height - m.t - m.b);
  const g = s('g');
  svg.append(g);
  yAxis(g, t, y, m.l, width - m.r, fmt);
  const every = Math.ceil(labels.length / 8);
  labels.forEach((l, i) => { if (i % every === 0) g.append(s('text', { x: x(i), y: height - m.b + 14, 'text-anchor': 'middle', fill: axis }, l)); });
  if (target && Number.isFinite(target.y)) {
    g.append(s('line', { x1: m.l, x2: width - m.r, y1: y(target.y), y2: y(target.y), stroke: '#a3161d', 'stroke-dasharray': '6 3', 'stroke-width': 1.5, 'data-role': 'target' }));
    g.append(s('text', { x: width - m.r, y: y(target.y) - 4, 'text-anchor': 'end', fill: '#a3161d' }, target.label || 'target'));
  }
  series.forEach((se, k) => {
    const color = se.color || palette[k % palette.length];
    const pts = se.points.map((p) => [labels.indexOf(p.x), p.y]).filter(([, v]) => v !== null && Number.isFinite(v));
    const idx = se.index ? se.points.map((p, i) => [i, p.y]).filter(([, v]) => v !== null && Number.isFinite(v)) : pts;
    if (!idx.length) return;
    g.append(s('polyline', { points: idx.map(([i, v]) => `${x(i)},${y(v)}`).join(' '), fill: 'none', stroke: color, 'stroke-width': 2, 'stroke-dasharray': se.dash ? '4 3' : undefined, 'data-role': 'series' }));
    for (const [i, v] of idx) g.append(s('circle', { cx: x(i), cy: y(v), r: 2.5, fill: color }, s('title', {}, `${se.name} ${labels[i] ?? i}: ${fmt(v)}`)));
  });
  // legend
  series.forEach((se, k) => {
    const lx = m.l + k * 260;
    g.append(s('line', { x1: lx, x2: lx + 18, y1: height - 8, y2: height - 8, stroke: se.color || palette[k % palette.length], 'stroke-width': 2, 'stroke-dasharray': se.dash ? '4 3' : undefined }));
    g.append(s('text', { x: lx + 22, y: height - 4, fill: axis }, se.name));
  });
  return svg;
}

// barChart: horizontal bars [{label, value}].
export function barChart({ bars, fmt = String, label = 'bar chart', width = 640 }) {
  const rowH = 22, m = { l: 150, r: 80, t: 8, b: 8 };
  const height = m.t + m.b + Math.max(1, bars.length) * rowH;
  const svg = svgRoot(width, height, label);
  const vals = bars.map((b) => b.value).filter(Number.isFinite);
  const lo = Math.min(0, ...vals), hi = Math.max(0, ...vals) || 1;
  const x = (v) => m.l + ((v - lo) / (hi - lo || 1)) * (width - m.l - m.r);
  bars.forEach((b, i) => {
    const yy = m.t + i * rowH;
    svg.append(s('text', { x: m.l - 6, y: yy + 15, 'text-anchor': 'end', fill: axis }, String(b.label ?? '(none)').slice(0, 24)));
    if (!Number.isFinite(b.value)) return;
    svg.append(s('rect', { x: Math.min(x(0), x(b.value)), y: yy + 3, width: Math.max(1, Math.abs(x(b.value) - x(0))), height: rowH - 6, fill: b.color || palette[0], 'data-role': 'bar' },
      s('title', {}, `${b.label}: ${fmt(b.value)}`)));
    svg.append(s('text', { x: Math.max(x(0), x(b.value)) + 4, y: yy + 15, fill: axis }, fmt(b.value)));
  });
  return svg;
}

// waterfall: from start through the steps (signed) to end.
export function waterfall({ start, steps, end, fmt = String, label = 'waterfall', width = 640, height = 280 }) {
  const svg = svgRoot(width, height, label);
  const m = { l: 64, r: 12, t: 16, b: 56 };
  const items = [];
  let run = start.value;
  items.push({ label: start.label, lo: 0, hi: start.value, kind: 'total', value: start.value });
  for (const st of steps) {
    items.push({ label: st.label, lo: run, hi: run + st.value, kind: st.value >= 0 ? 'up' : 'down', value: st.value });
    run += st.value;
  }
  items.push({ label: end.label, lo: 0, hi: end.value, kind: 'total', value: end.value });
  // Start the axis near the values, not at 0, so small effects show.
  const tops = items.filter((i) => i.kind !== 'total').flatMap((i) => [i.lo, i.hi]).concat([start.value, end.value]);
  const lo0 = Math.min(...tops), hi0 = Math.max(...tops);
  const pad = (hi0 - lo0) * 0.3 || Math.abs(hi0) * 0.1 || 1;
  const t = ticks(lo0 - pad, hi0 + pad);
  const lo = t[0], hi = t[t.length - 1];
  m.l = leftMargin(t, fmt);
  const bw = (width - m.l - m.r) / items.length;
  const y = (v) => height - m.b - ((v - lo) / (hi - lo || 1)) * (height - m.t - m.b);
  yAxis(svg, t, y, m.l, width - m.r, fmt);
  const color = { total: '#4f5862', up: '#2b8a3e', down: '#c92a2a' };
  items.forEach((it, i) => {
    const a = it.kind === 'total' ? Math.max(lo, 0) : it.lo; // totals rise from the axis
    const top = y(Math.max(a, it.hi)), bot = y(Math.min(a, it.hi));
    const xx = m.l + i * bw + bw * 0.15;
    svg.append(s('rect', { x: xx, y: top, width: bw * 0.7, height: Math.max(1, bot - top), fill: color[it.kind], 'data-role': 'bar' },
      s('title', {}, `${it.label}: ${fmt(it.value)}`)));
    svg.append(s('text', { x: xx + bw * 0.35, y: height - m.b + 14, 'text-anchor': 'middle', fill: axis }, String(it.label).slice(0, 14)));
    svg.append(s('text', { x: xx + bw * 0.35, y: top - 3, 'text-anchor': 'middle', fill: axis, 'font-size': 9 }, (it.kind === 'up' ? '+' : '') + fmt(it.value)));
  });
  return svg;
}

// heatmap: rows × cols, value(r, c) in [min, max] → white..blue.
export function heatmap({ rows, cols, value, fmt = String, label = 'heatmap', rowTitle = '', colTitle = '', cell = 28, max }) {
  // The column labels stand at 45 degrees: the top margin fits the longest
  // (about 5 px of height a character) and the right margin its overhang.
  const longest = Math.max(0, ...cols.map((c) => String(c).slice(0, 18).length));
  const m = { l: 120, t: Math.max(60, 24 + 5 * longest), r: Math.max(8, 5 * longest - cell), b: 8 };
  const width = m.l + cols.length * cell + m.r, height = m.t + rows.length * 20 + m.b;
  const svg = svgRoot(Math.max(width, 200), height, label);
  const vals = rows.flatMap((r) => cols.map((c) => value(r, c))).filter(Number.isFinite);
  const hi = max ?? Math.max(...vals, 1e-12);
  cols.forEach((c, j) => svg.append(s('text', { x: m.l + j * cell + cell / 2, y: m.t - 6, 'text-anchor': 'start', fill: axis, transform: `rotate(-45 ${m.l + j * cell + cell / 2} ${m.t - 6})` }, String(c).slice(0, 18))));
  if (colTitle) svg.append(s('text', { x: m.l, y: 12, fill: axis, 'font-weight': 600 }, colTitle));
  if (rowTitle) svg.append(s('text', { x: 4, y: m.t - 6, fill: axis, 'font-weight': 600 }, rowTitle));
  rows.forEach((r, i) => {
    svg.append(s('text', { x: m.l - 6, y: m.t + i * 20 + 14, 'text-anchor': 'end', fill: axis }, String(r).slice(0, 18)));
    cols.forEach((c, j) => {
      const v = value(r, c);
      if (!Number.isFinite(v)) return;
      const k = Math.max(0, Math.min(1, v / hi));
      const fill = `rgb(${Math.round(255 - 244 * k)},${Math.round(255 - 168 * k)},${Math.round(255 - 47 * k)})`;
      svg.append(s('rect', { x: m.l + j * cell, y: m.t + i * 20, width: cell - 1, height: 19, fill, 'data-role': 'cell' }, s('title', {}, `${r} → ${c}: ${fmt(v)}`)));
      if (cell >= 34) svg.append(s('text', { x: m.l + j * cell + cell / 2, y: m.t + i * 20 + 13, 'text-anchor': 'middle', 'font-size': 9, fill: k > 0.55 ? '#fff' : '#1b1f24' }, fmt(v)));
    });
  });
  return svg;
}

export function sparkline(values, { width = 120, height = 28, label = 'trend' } = {}) {
  const svg = s('svg', { xmlns: NS, viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': label });
  const pts = values.map((v, i) => [i, v]).filter(([, v]) => v !== null && Number.isFinite(v));
  if (pts.length < 1) return svg;
  const ys = pts.map(([, v]) => v), lo = Math.min(...ys), hi = Math.max(...ys);
  const x = (i) => 2 + (values.length < 2 ? 0 : (i * (width - 4)) / (values.length - 1));
  const y = (v) => height - 3 - ((v - lo) / (hi - lo || 1)) * (height - 6);
  svg.append(s('polyline', { points: pts.map(([i, v]) => `${x(i)},${y(v)}`).join(' '), fill: 'none', stroke: palette[0], 'stroke-width': 1.5, 'data-role': 'series' }));
  const [li, lv] = pts[pts.length - 1];
  svg.append(s('circle', { cx: x(li), cy: y(lv), r: 2, fill: palette[0] }));
  return svg;
}

// figure frames a chart with its title and downloads. data is the rows
// the chart draws (for CSV); name the file stem.
export function figure(title, svg, data, name) {
  const stem = name.replace(/[^a-z0-9_.-]+/gi, '_');
  const tools = el('span', { class: 'tools' },
    el('button', { type: 'button', class: 'plain', onclick: () => download(stem + '.svg', svgBlob(svg)) }, 'SVG'),
    el('button', { type: 'button', class: 'plain', onclick: () => png(svg).then((b) => download(stem + '.png', b)) }, 'PNG'),
    el('button', { type: 'button', class: 'plain', onclick: () => download(stem + '.csv', new Blob([csv(data)], { type: 'text/csv' })) }, 'CSV'));
  return el('figure', { class: 'chart', 'data-chart': stem }, el('figcaption', {}, el('span', {}, title), tools), svg);
}

function svgBlob(svg) {
  return new Blob([new XMLSerializer().serializeToString(svg)], { type: 'image/svg+xml' });
}

// png draws the SVG on a canvas at twice its size.
export function png(svg) {
  const w = +svg.getAttribute('width'), h = +svg.getAttribute('height');
  return new Promise((resolve, reject) => {
    const img = new Image();
    const u = URL.createObjectURL(svgBlob(svg));
    img.onload = () => {
      const c = document.createElement('canvas');
      c.width = w * 2; c.height = h * 2;
      const ctx = c.getContext('2d');
      ctx.scale(2, 2);
      ctx.drawImage(img, 0, 0, w, h);
      URL.revokeObjectURL(u);
      c.toBlob((b) => (b ? resolve(b) : reject(new Error('PNG failed'))), 'image/png');
    };
    img.onerror = () => reject(new Error('could not draw the SVG'));
    img.src = u;
  });
}
