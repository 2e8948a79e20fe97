// The page shell: navigation, time range, auto-refresh, theme and the token prompt. Every
// choice is written to the URL hash, and a hash change re-renders the view.
import { PAGES, VIEWS } from './views.js';
import { el } from './format.js';
import { forgetToken, hasToken } from './api.js';
import { RANGES, REFRESHES, parseDur, readState, timeRange, writeState } from './state.js';
import { destroyDashboard, renderDashboard } from './pages/dashboard.js';
import { destroyExplorer, renderExplorer } from './pages/explorer.js';

const THEME_KEY = 'tallyd.theme';
const main = document.getElementById('main');
let current = { page: null, abort: null, timer: null, seq: 0 };

function applyTheme() {
  const stored = localStorage.getItem(THEME_KEY);
  const dark = stored ? stored === 'dark' : window.matchMedia('(prefers-color-scheme: dark)').matches;
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
}

function toLocalInput(sec) {
  const d = new Date(sec * 1000);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

function setParams(mut, push = false) {
  const { page, params } = readState();
  mut(params);
  writeState(page, params, push);
  render();
}

function buildHeader() {
  const { page, params } = readState();
  const range = timeRange(params);
  const nav = document.getElementById('nav');
  nav.replaceChildren(...PAGES.map((p) => {
    const q = new URLSearchParams();
    for (const k of ['range', 'from', 'to', 'refresh']) if (params.has(k)) q.set(k, params.get(k));
    const qs = q.toString();
    return el('a', { href: `#/${p.id}${qs ? `?${qs}` : ''}`, class: p.id === page ? 'on' : '', 'aria-current': p.id === page ? 'page' : false }, p.title);
  }));
  const rangeSel = document.getElementById('range');
  rangeSel.replaceChildren(...RANGES.map((r) => el('option', { value: r, selected: !range.absolute && r === range.label }, `last ${r}`)),
    el('option', { value: 'custom', selected: range.absolute }, 'custom…'));
  const custom = document.getElementById('custom-range');
  custom.hidden = !range.absolute;
  if (range.absolute) {
    custom.querySelector('[name=from]').value = toLocalInput(range.start);
    custom.querySelector('[name=to]').value = toLocalInput(range.end);
  }
  const refresh = params.get('refresh') ?? 'off';
  document.getElementById('refresh').replaceChildren(...REFRESHES.map((r) => el('option', { value: r, selected: r === refresh }, r === 'off' ? 'refresh off' : `every ${r}`)));
  document.getElementById('signout').hidden = !hasToken();
}

function wireHeader() {
  document.getElementById('range').addEventListener('change', (e) => {
    const v = e.target.value;
    if (v === 'custom') {
      const r = timeRange(readState().params);
      setParams((p) => { p.delete('range'); p.set('from', String(r.start)); p.set('to', String(r.end)); });
    } else setParams((p) => { p.delete('from'); p.delete('to'); p.set('range', v); });
  });
  document.getElementById('custom-range').addEventListener('submit', (e) => {
    e.preventDefault();
    const f = e.target;
    const from = Math.floor(new Date(f.querySelector('[name=from]').value).getTime() / 1000);
    const to = Math.floor(new Date(f.querySelector('[name=to]').value).getTime() / 1000);
    if (Number.isFinite(from) && Number.isFinite(to) && to > from) setParams((p) => { p.set('from', String(from)); p.set('to', String(to)); });
  });
  document.getElementById('refresh').addEventListener('change', (e) => setParams((p) => {
    if (e.target.value === 'off') p.delete('refresh');
    else p.set('refresh', e.target.value);
  }));
  document.getElementById('theme').addEventListener('click', () => {
    localStorage.setItem(THEME_KEY, document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark');
    applyTheme();
    // Charts read colours at draw time: redraw the view.
    main.replaceChildren();
    current.page = null;
    render();
  });
  document.getElementById('reload').addEventListener('click', () => render());
  document.getElementById('signout').addEventListener('click', () => {
    forgetToken();
    render();
  });
  window.addEventListener('hashchange', () => render());
}

/** render draws the page in the URL; a newer render aborts an older one still loading. */
async function render() {
  const seq = ++current.seq;
  current.abort?.abort();
  clearTimeout(current.timer);
  const abort = new AbortController();
  current.abort = abort;
  let { page, params } = readState();
  if (!PAGES.some((p) => p.id === page)) {
    page = 'llm';
    writeState(page, params);
  }
  if (current.page !== page) {
    destroyDashboard(main);
    destroyExplorer();
    main.replaceChildren();
    current.page = page;
  }
  buildHeader();
  document.title = `${PAGES.find((p) => p.id === page).title} · tallyd`;
  document.body.dataset.state = 'loading';
  const ctx = {
    range: timeRange(params),
    params,
    signal: abort.signal,
    setParam: (k, v) => setParams((p) => p.set(k, v)),
    rerender: () => render(),
  };
  const t0 = performance.now();
  try {
    if (page === 'explore') await renderExplorer(main, ctx);
    else if (VIEWS[page]) await renderDashboard(main, page, ctx);
  } finally {
    if (seq === current.seq) {
      document.body.dataset.state = 'ready';
      document.body.dataset.renderMs = String(Math.round(performance.now() - t0));
      // Time from navigation to the first fully drawn view, for the load figures in the tests.
      document.body.dataset.firstReadyMs ??= String(Math.round(performance.now()));
      const every = parseDur(params.get('refresh'));
      if (every) current.timer = setTimeout(render, every * 1000);
    }
  }
}

applyTheme();
window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', applyTheme);
wireHeader();
render();
