// The dashboard's shell: who the user is (GET /v1/session, or the login
// form), the hash router (#/page/arg?query), and the window shared by the
// pages. Pages are functions (main, ctx) → Promise, in pages.js.
import { api, ApiError } from './api.js';
import { el } from './fmt.js';
import { pages } from './pages.js';

const main = document.getElementById('main');
const who = document.getElementById('who');

export const session = { me: null, canEdit: false };

function route() {
  const h = location.hash.replace(/^#\/?/, '') || 'scorecard';
  const [path, query = ''] = h.split('?');
  const [page, ...rest] = path.split('/');
  return { page, arg: decodeURIComponent(rest.join('/')), params: new URLSearchParams(query) };
}

// go changes the hash; render follows from hashchange.
export function go(page, arg = '', params = {}) {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== '' && v !== undefined && v !== null)).toString();
  location.hash = '#/' + page + (arg ? '/' + encodeURIComponent(arg) : '') + (q ? '?' + q : '');
}

let renderSeq = 0;
async function render() {
  const seq = ++renderSeq;
  const r = route();
  for (const a of document.querySelectorAll('#nav a')) {
    a.classList.toggle('active', a.getAttribute('href') === '#/' + r.page);
    if (a.getAttribute('href') === '#/' + r.page) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  const page = pages[r.page];
  main.replaceChildren();
  if (!page) { main.append(el('p', { class: 'error' }, 'No such page: ' + r.page)); return; }
  main.setAttribute('aria-busy', 'true');
  try {
    await page(main, { ...r, go, session, stale: () => seq !== renderSeq });
  } catch (e) {
    if (seq !== renderSeq) return;
    if (e instanceof ApiError && e.status === 401) { showLogin(e.message); return; }
    main.append(el('p', { class: 'error', role: 'alert' }, e.message || String(e)));
    if (!(e instanceof ApiError)) console.warn(e); // a bug: keep the stack for the developer
  } finally {
    if (seq === renderSeq) { main.setAttribute('aria-busy', 'false'); main.dataset.ready = r.page; }
  }
}

function showWho() {
  const me = session.me;
  who.replaceChildren();
  if (!me) return;
  const scope = me.scope ? ' · scope ' + Object.entries(me.scope).map(([k, v]) => `${k}=${v.join('|')}`).join(', ') : '';
  who.append(el('span', { 'data-role': me.role }, `${me.name} (${me.role})${scope}`));
  if (me.via === 'cookie') {
    who.append(' ', el('button', { type: 'button', class: 'plain', onclick: logout }, 'Log out'));
  }
}

async function logout() {
  await api('/v1/session', { method: 'DELETE' });
  session.me = null;
  showWho();
  showLogin('');
}

function showLogin(message) {
  main.replaceChildren();
  main.dataset.ready = 'login';
  const input = el('input', { id: 'login-key', type: 'password', name: 'key', autocomplete: 'current-password', required: true });
  const status = el('p', { class: message ? 'error' : 'note', role: 'status' }, message || 'Log in with an API key (custkpi keys create).');
  const form = el('form', { class: 'login', id: 'login' },
    el('h1', {}, 'Log in'), status,
    el('label', { for: 'login-key' }, 'API key'), input,
    el('button', { type: 'submit' }, 'Log in'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      session.me = await api('/v1/session', { method: 'POST', body: { key: input.value } });
      session.canEdit = session.me.role !== 'reader';
      showWho();
      render();
    } catch (e) {
      status.className = 'error';
      status.textContent = e.message;
    }
  });
  main.append(form);
  input.focus();
}

async function start() {
  try {
    session.me = await api('/v1/session');
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) { showLogin(''); return; }
    main.replaceChildren(el('p', { class: 'error', role: 'alert' }, e.message));
    return;
  }
  session.canEdit = session.me.role !== 'reader';
  showWho();
  render();
}

window.addEventListener('hashchange', () => (session.me ? render() : showLogin('')));
start();
