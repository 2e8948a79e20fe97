// URL state: the hash holds the page and every choice that shapes the view
// (#/llm?range=6h&refresh=30s), so a copied link reproduces what the sender saw.

export const RANGES = ['15m', '1h', '6h', '24h', '7d', '30d'];
export const REFRESHES = ['off', '10s', '30s', '1m', '5m'];

/** parseDur turns 15m / 1h / 7d into seconds; null when it is not a duration. */
export function parseDur(s) {
  const m = /^(\d+)(s|m|h|d|w)$/.exec(s ?? '');
  if (!m) return null;
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2]];
}

/** readState parses location.hash into {page, params}. */
export function readState() {
  const h = location.hash.replace(/^#\/?/, '');
  const q = h.indexOf('?');
  const page = (q >= 0 ? h.slice(0, q) : h) || 'llm';
  const params = new URLSearchParams(q >= 0 ? h.slice(q + 1) : '');
  return { page, params };
}

/** writeState sets the hash; `push` adds a history entry (page changes), else replaces it. */
export function writeState(page, params, push = false) {
  const qs = params.toString();
  const hash = `#/${page}${qs ? `?${qs}` : ''}`;
  if (hash === location.hash) return;
  if (push) location.hash = hash;
  else history.replaceState(null, '', hash);
}

/**
 * timeRange resolves the params into unix seconds: either a relative `range` ending now, or an
 * absolute `from`/`to`.
 */
export function timeRange(params) {
  const from = Number(params.get('from'));
  const to = Number(params.get('to'));
  if (params.has('from') && params.has('to') && Number.isFinite(from) && Number.isFinite(to) && to > from) {
    return { start: from, end: to, label: 'custom', absolute: true };
  }
  const r = params.get('range');
  const secs = parseDur(r) ?? 3600;
  const end = Math.floor(Date.now() / 1000);
  return { start: end - secs, end, label: parseDur(r) ? r : '1h', absolute: false };
}

/**
 * MIN_STEP is tallyd's default flush interval, the resolution of its raw tier: a finer step
 * would only read the same samples again (and cost the query engine as much again).
 */
export const MIN_STEP = 10;

const NICE = [10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800];

/**
 * stepFor picks the query step so that a chart `px` pixels wide gets at most one point per
 * pixel: the page never pulls points it cannot draw. Steps are rounded up to a nice value and
 * the range aligned to it, so a refresh reads the same bucket boundaries.
 */
export function stepFor(start, end, px) {
  const raw = Math.max(MIN_STEP, (end - start) / Math.max(16, Math.floor(px)));
  const step = NICE.find((n) => n >= raw) ?? Math.ceil(raw / 86400) * 86400;
  return { step, start: Math.floor(start / step) * step, end: Math.ceil(end / step) * step };
}

/**
 * rateWindow is the range-vector window for rate() at a step: two steps, and at least five
 * minutes, so senders that flush once a minute still give rate() several points per window.
 */
export function rateWindow(step) {
  return `${Math.max(300, 2 * step)}s`;
}

/** expand substitutes Grafana's variables in a view query for the page's own values. */
export function expand(expr, { step, rangeSec }) {
  return expr
    .replaceAll('$__rate_interval', rateWindow(step))
    .replaceAll('$__interval', `${step}s`)
    .replaceAll('$__range', `${Math.max(60, Math.round(rangeSec))}s`);
}
