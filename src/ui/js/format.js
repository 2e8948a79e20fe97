// Number, time and label formatting shared by charts and tables.

const SI = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];

/** fmtNum prints a number with at most 3 significant digits and an SI suffix. */
export function fmtNum(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  const a = Math.abs(v);
  for (const [f, s] of SI) if (a >= f) return `${trim(v / f)}${s}`;
  if (a === 0) return '0';
  if (a < 0.001) return v.toExponential(1);
  return trim(v);
}

function trim(v) {
  return String(Number(v.toPrecision(3)));
}

/** fmtDuration prints seconds as µs, ms, s, min or h. */
export function fmtDuration(s) {
  if (s === null || s === undefined || Number.isNaN(s)) return '–';
  const a = Math.abs(s);
  if (a === 0) return '0';
  if (a < 1e-3) return `${trim(s * 1e6)}µs`;
  if (a < 1) return `${trim(s * 1e3)}ms`;
  if (a < 120) return `${trim(s)}s`;
  if (a < 7200) return `${trim(s / 60)}min`;
  return `${trim(s / 3600)}h`;
}

/** fmtUsd prints dollars with cents, or more digits for small amounts. */
export function fmtUsd(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  const a = Math.abs(v);
  if (a >= 1e6) return `$${fmtNum(v)}`;
  if (a >= 1 || a === 0) return `$${v.toFixed(2)}`;
  return `$${Number(v.toPrecision(2))}`;
}

/** fmtUnit formats a value in one of the panel units of views.js. */
export function fmtUnit(v, unit) {
  switch (unit) {
    case 's': return fmtDuration(v);
    case 'usd': return fmtUsd(v);
    case 'usd/h': return `${fmtUsd(v)}/h`;
    case 'ratio': return v === null || v === undefined || Number.isNaN(v) ? '–' : `${trim(v * 100)}%`;
    case '/s': return `${fmtNum(v)}/s`;
    case 'tok/s': return `${fmtNum(v)} tok/s`;
    default: return fmtNum(v);
  }
}

/** fmtTime prints a unix-seconds time in the browser's zone. */
export function fmtTime(sec) {
  const d = new Date(sec * 1000);
  return d.toLocaleString(undefined, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

/** legendOf fills a `{{label}}` template from a series' labels, or prints the selector. */
export function legendOf(template, metric) {
  if (template) {
    const s = template.replace(/\{\{\s*(\w+)\s*\}\}/g, (_m, k) => metric[k] ?? '').trim();
    if (s) return s;
  }
  return seriesName(metric);
}

/** seriesName prints labels as a PromQL selector. */
export function seriesName(metric) {
  const name = metric.__name__ ?? '';
  const rest = Object.keys(metric).filter((k) => k !== '__name__').sort().map((k) => `${k}="${metric[k]}"`);
  return rest.length ? `${name}{${rest.join(', ')}}` : name || '{}';
}

/** el builds a DOM element: el('div', {class: 'x'}, child, 'text'). */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    // CSSOM, not a style attribute: the page's CSP allows no inline style attributes.
    else if (k === 'style') Object.assign(e.style, v);
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}
