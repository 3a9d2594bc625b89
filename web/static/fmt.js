// Number formatting by KPI unit, in one fixed locale so a page reads the
// same on every machine (and the browser tests can parse it back).

const nf = (min, max) => new Intl.NumberFormat('en-US', { minimumFractionDigits: min, maximumFractionDigits: max });
const int = nf(0, 0), two = nf(2, 2), one = nf(1, 1), pct = new Intl.NumberFormat('en-US', { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 });

export function fmt(unit, v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  switch (unit) {
    case 'ratio': return pct.format(v);
    case 'count': return int.format(v);
    case 'currency': return two.format(v);
    case 'hours': return one.format(v) + ' h';
    case 'days': return one.format(v) + ' d';
    case 'nps': return one.format(v);
    default: return two.format(v);
  }
}

// change formats a difference in the KPI's unit (a ratio's in points).
export function fmtChange(unit, v) {
  if (v === null || v === undefined) return '–';
  const sign = v > 0 ? '+' : '';
  if (unit === 'ratio') return sign + one.format(v * 100) + ' pp';
  return sign + fmt(unit, v);
}

export function fmtPct(v) {
  if (v === null || v === undefined) return '–';
  return (v > 0 ? '+' : '') + pct.format(v);
}

export const fmtNum = (v) => (v === null || v === undefined ? '–' : two.format(v));
export const fmtInt = (v) => (v === null || v === undefined ? '–' : int.format(v));

// Dates are the API's YYYY-MM-DD, handled in UTC.
export const day = (s) => new Date(s + 'T00:00:00Z');
export const iso = (d) => d.toISOString().slice(0, 10);
export function addMonths(s, n) {
  const d = day(s);
  d.setUTCMonth(d.getUTCMonth() + n);
  return iso(d);
}

// el builds an element: el('td', {class: 'num'}, 'text', child...).
export function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids.flat()) {
    if (k !== null && k !== undefined && k !== false) e.append(k instanceof Node ? k : String(k));
  }
  return e;
}

// download saves a Blob under a name.
export function download(name, blob) {
  const a = el('a', { href: URL.createObjectURL(blob), download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

// csv turns rows (objects) into CSV text, columns from the first row.
export function csv(rows) {
  if (!rows.length) return '';
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v) => {
    const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    return /[",\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  };
  return [cols.join(','), ...rows.map((r) => cols.map((c) => cell(r[c])).join(','))].join('\n') + '\n';
}
