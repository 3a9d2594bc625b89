// The public JSON API, from the page: the session cookie authenticates
// (credentials same-origin), and every change carries X-Requested-With,
// which the server demands of cookie-authenticated changes (CSRF).

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail?.message || `HTTP ${status}`);
    this.status = status;
    this.code = detail?.code || '';
    this.details = detail?.details || {};
  }
}

// url builds /v1 paths; params may hold arrays (repeated parameters);
// empty values are left out.
export function url(path, params = {}) {
  const u = new URL(path, location.origin);
  for (const [k, v] of Object.entries(params)) {
    for (const x of [v].flat()) {
      if (x !== undefined && x !== null && x !== '') u.searchParams.append(k, x);
    }
  }
  return u.pathname + u.search;
}

export async function api(path, { method = 'GET', params, body } = {}) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') headers['X-Requested-With'] = 'custkpi-dashboard';
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(url(path, params), {
    method, headers, credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return null;
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, data?.error);
  return data;
}

// pool runs tasks with at most n at once (the browser keeps six
// connections per host; the server's scorecard runs four at once).
export async function pool(items, n, fn) {
  const out = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const i = next++;
      try { out[i] = await fn(items[i], i); } catch (e) { out[i] = e; }
    }
  }
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}
