// Every API call of the page goes through here: it adds the bearer token kept in
// sessionStorage, asks for one when the API answers 401, and turns Prometheus' error body into
// an ApiError the panels show inline.

const TOKEN_KEY = 'tallyd.token';

/** ApiError carries the HTTP status and Prometheus' errorType/error of a failed call. */
export class ApiError extends Error {
  constructor(status, type, message) {
    super(message);
    this.status = status;
    this.type = type;
  }
}

let asking = null;

function askToken(refused) {
  if (!asking) {
    asking = new Promise((resolve) => {
      const dlg = document.getElementById('token-dialog');
      const input = dlg.querySelector('input');
      dlg.querySelector('.token-msg').textContent = refused
        ? 'That token was refused. Enter a valid bearer token.'
        : 'This tallyd requires a bearer token.';
      input.value = '';
      const done = (ok) => {
        dlg.close();
        asking = null;
        const v = input.value.trim();
        if (ok && v) sessionStorage.setItem(TOKEN_KEY, v);
        resolve(ok && v ? v : null);
      };
      dlg.querySelector('form').onsubmit = (e) => { e.preventDefault(); done(true); };
      dlg.querySelector('.token-cancel').onclick = () => done(false);
      dlg.showModal();
      input.focus();
    });
  }
  return asking;
}

/** forgetToken drops the stored token (the "sign out" button). */
export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** hasToken says whether a token is kept for this tab. */
export function hasToken() {
  return sessionStorage.getItem(TOKEN_KEY) !== null;
}

/**
 * apiGet GETs an API path and returns `data` of the answer. Params with undefined values are
 * left out; arrays repeat the parameter.
 */
export async function apiGet(path, params = {}, signal) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null) continue;
    for (const x of Array.isArray(v) ? v : [v]) url.searchParams.append(k, String(x));
  }
  for (let attempt = 0; ; attempt++) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    const headers = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const r = await fetch(url, { headers, signal });
    if (r.status === 401 && attempt < 3) {
      if (token) forgetToken();
      const t = await askToken(token !== null);
      if (t === null) throw new ApiError(401, 'unauthorized', 'this tallyd needs a bearer token');
      continue;
    }
    let body;
    try {
      body = await r.json();
    } catch {
      throw new ApiError(r.status, 'bad_response', `HTTP ${r.status} from ${url.pathname}`);
    }
    if (!r.ok || body.status === 'error') {
      throw new ApiError(r.status, body.errorType ?? 'error', body.error ?? `HTTP ${r.status}`);
    }
    return body.data;
  }
}

/** queryRange runs a PromQL range query; times in unix seconds, step in seconds. */
export function queryRange(expr, start, end, step, signal) {
  return apiGet('/api/v1/query_range', { query: expr, start, end, step }, signal);
}

/** queryInstant runs a PromQL instant query at `time` (unix seconds). */
export function queryInstant(expr, time, signal) {
  return apiGet('/api/v1/query', { query: expr, time }, signal);
}
