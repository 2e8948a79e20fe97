import { formatFloat, formatValue, sprintf, type GoMap, type GoValue } from './go-format.js';
import { Template, TemplateError, truth, type TemplateFuncs } from './template.js';

/**
 * The functions Prometheus gives rule templates (template/template.go), with its output formats,
 * plus the Go text/template builtins rule files use. `query` and the console helpers are absent:
 * alert templates here do not run PromQL.
 */

/** toFloat converts like Prometheus' convertToFloat: numbers as they are, strings parsed. */
function toFloat(v: GoValue): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string') {
    const t = v.trim();
    if (/^[-+]?(inf|infinity)$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
    if (/^nan$/i.test(t)) return NaN;
    const n = Number(t);
    if (t === '' || Number.isNaN(n)) throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(v)}: invalid syntax`);
    return n;
  }
  throw new Error(`can't convert ${formatValue(v)} to float`);
}

const g4 = (v: number): string => formatFloat(v, 'g', 4);

/** humanize renders with SI prefixes: 1234567 → "1.235M", 0.0012 → "1.2m". */
export function humanize(x: GoValue): string {
  let v = toFloat(x);
  if (v === 0 || !Number.isFinite(v)) return g4(v);
  if (Math.abs(v) >= 1) {
    let prefix = '';
    for (const p of ['k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y']) {
      if (Math.abs(v) < 1000) break;
      prefix = p;
      v /= 1000;
    }
    return g4(v) + prefix;
  }
  let prefix = '';
  for (const p of ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y']) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return g4(v) + prefix;
}

/** humanize1024 renders with binary prefixes: 1048576 → "1Mi". */
export function humanize1024(x: GoValue): string {
  let v = toFloat(x);
  if (Math.abs(v) <= 1 || !Number.isFinite(v)) return g4(v);
  let prefix = '';
  for (const p of ['ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei', 'Zi', 'Yi']) {
    if (Math.abs(v) < 1024) break;
    prefix = p;
    v /= 1024;
  }
  return g4(v) + prefix;
}

/** humanizeDuration renders seconds: 90061 → "1d 1h 1m 1s", 1.5 → "1.5s", 0.002 → "2ms". */
export function humanizeDuration(x: GoValue): string {
  let v = toFloat(x);
  if (!Number.isFinite(v)) return g4(v);
  if (v === 0) return g4(v) + 's';
  if (Math.abs(v) >= 1) {
    let sign = '';
    if (v < 0) {
      sign = '-';
      v = -v;
    }
    const duration = Math.trunc(v);
    const seconds = duration % 60;
    const minutes = Math.trunc(duration / 60) % 60;
    const hours = Math.trunc(duration / 3600) % 24;
    const days = Math.trunc(duration / 86400);
    if (days !== 0) return `${sign}${days}d ${hours}h ${minutes}m ${seconds}s`;
    if (hours !== 0) return `${sign}${hours}h ${minutes}m ${seconds}s`;
    if (minutes !== 0) return `${sign}${minutes}m ${seconds}s`;
    return `${sign}${g4(v)}s`;
  }
  let prefix = '';
  for (const p of ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y']) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return `${g4(v)}${prefix}s`;
}

/** humanizePercentage renders a ratio as a percentage: 0.1234 → "12.34%". */
export function humanizePercentage(x: GoValue): string {
  return g4(toFloat(x) * 100) + '%';
}

/** humanizeTimestamp renders unix seconds as Go's time.Time String() in UTC, at ms precision. */
export function humanizeTimestamp(x: GoValue): string {
  const v = toFloat(x);
  if (!Number.isFinite(v)) return g4(v);
  // Prometheus goes through model.Time, which keeps milliseconds.
  const ms = Math.trunc((v * 1e9) / 1e6);
  const iso = new Date(ms).toISOString(); // 2006-01-02T15:04:05.000Z
  const frac = iso.slice(19, 23).replace(/\.?0+$/, '');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac} +0000 UTC`;
}

/** title is Go's strings.Title: the first letter of every word upper-cased. */
export function title(x: GoValue): string {
  const s = String(formatValue(x));
  let out = '';
  let prevSep = true;
  for (const ch of s) {
    // Go's isSeparator: ASCII other than letters, digits and '_' separates, as do spaces.
    const isWordChar = ch.charCodeAt(0) < 0x80 ? /[A-Za-z0-9_]/.test(ch) : !/\s/u.test(ch);
    out += prevSep && isWordChar ? ch.toUpperCase() : ch;
    prevSep = !isWordChar;
  }
  return out;
}

function str(x: GoValue, fn: string): string {
  if (typeof x !== 'string') throw new Error(`wrong type for value; expected string; got ${typeof x === 'number' ? 'float64' : typeof x} (${fn})`);
  return x;
}

/** goRegexp turns an RE2 pattern into a JavaScript one (anchored as Prometheus' match is not). */
function goRegexp(pattern: string): RegExp {
  // RE2 and JS agree on the common syntax; (?P<name>) is RE2's named group.
  return new RegExp(pattern.replace(/\(\?P</g, '(?<'), 'u');
}

function basicCompare(a: GoValue, b: GoValue, op: string): number {
  const num = (v: GoValue) => typeof v === 'number' || typeof v === 'bigint';
  if (num(a) && num(b)) {
    const x = Number(a as number | bigint);
    const y = Number(b as number | bigint);
    if (typeof a !== typeof b) throw new Error(`incompatible types for comparison`);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean' && (op === 'eq' || op === 'ne')) return a === b ? 0 : 1;
  throw new Error(`incompatible types for comparison`);
}

/** goSprint is fmt.Sprint: operands joined, with a space between two that are not strings. */
function goSprint(args: readonly GoValue[]): string {
  let out = '';
  for (let i = 0; i < args.length; i++) {
    if (i > 0 && typeof args[i] !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += formatValue(args[i]);
  }
  return out;
}

/** TEMPLATE_FUNCS are every function a rule template may call. */
export const TEMPLATE_FUNCS: TemplateFuncs = {
  humanize,
  humanize1024,
  humanizeDuration,
  humanizePercentage,
  humanizeTimestamp,
  title,
  toUpper: (x) => str(x, 'toUpper').toUpperCase(),
  toLower: (x) => str(x, 'toLower').toLowerCase(),
  printf: (format, ...args) => sprintf(str(format, 'printf'), args),
  print: (...args) => goSprint(args),
  println: (...args) => args.map(formatValue).join(' ') + '\n',
  match: (pattern, text) => goRegexp(str(pattern, 'match')).test(str(text, 'match')),
  reReplaceAll: (pattern, repl, text) =>
    str(text, 'reReplaceAll').replace(new RegExp(goRegexp(str(pattern, 'reReplaceAll')).source, 'gu'), str(repl, 'reReplaceAll').replace(/\$\{?(\w+)\}?/g, '$<$1>').replace(/\$<(\d+)>/g, '$$$1')),
  safeHtml: (x) => str(x, 'safeHtml'),
  stripPort: (x) => {
    const s = str(x, 'stripPort');
    const m = /^\[([^\]]+)\](:\d+)?$/.exec(s) ?? /^([^:]+)(:\d+)?$/.exec(s);
    return m ? m[1]! : s;
  },
  stripDomain: (x) => {
    const s = str(x, 'stripDomain');
    const m = /^([^.:]+)[^:]*(:\d+)?$/.exec(s);
    return m ? m[1]! + (m[2] ?? '') : s;
  },
  toTime: (x) => humanizeTimestamp(x),
  len: (x) => {
    if (typeof x === 'string') return BigInt(Buffer.byteLength(x));
    if (x instanceof Map) return BigInt(x.size);
    if (Array.isArray(x)) return BigInt(x.length);
    throw new Error(`len of type ${typeof x}`);
  },
  index: (coll, ...keys) => {
    let cur: GoValue = coll;
    for (const k of keys) {
      if (cur instanceof Map) cur = cur.has(String(k)) ? cur.get(String(k)) : '';
      else if (Array.isArray(cur) && typeof k === 'bigint') {
        if (k < 0n || k >= BigInt(cur.length)) throw new Error(`index out of range: ${k}`);
        cur = cur[Number(k)];
      } else throw new Error(`can't index item of type ${typeof cur}`);
    }
    return cur;
  },
  not: (x) => !truth(x),
  and: (...a) => a[a.length - 1],
  or: (...a) => a[a.length - 1],
  eq: (a, ...bs) => {
    if (bs.length === 0) throw new Error('missing argument for comparison');
    return bs.some((b) => basicCompare(a, b, 'eq') === 0);
  },
  ne: (a, b) => basicCompare(a, b, 'ne') !== 0,
  lt: (a, b) => basicCompare(a, b, 'lt') < 0,
  le: (a, b) => basicCompare(a, b, 'le') <= 0,
  gt: (a, b) => basicCompare(a, b, 'gt') > 0,
  ge: (a, b) => basicCompare(a, b, 'ge') >= 0,
  urlquery: (...a) => encodeURIComponent(goSprint(a)).replace(/%20/g, '+'),
  html: (...a) => goSprint(a).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&#34;').replace(/'/g, '&#39;'),
  js: (...a) => JSON.stringify(goSprint(a)).slice(1, -1).replace(/'/g, "\\'").replace(/</g, '\\u003C').replace(/>/g, '\\u003E'),
};

/** PREDECLARED are the variables Prometheus defines before every rule template. */
export const PREDECLARED = ['$labels', '$externalLabels', '$externalURL', '$value'] as const;

/** TemplateData is what one alert's label and annotation templates see. */
export interface TemplateData {
  readonly labels: Readonly<Record<string, string>>;
  readonly externalLabels: Readonly<Record<string, string>>;
  readonly externalURL: string;
  readonly value: number;
}

function toMap(rec: Readonly<Record<string, string>>): GoMap {
  return new Map(Object.entries(rec));
}

/** parseRuleTemplate compiles a label or annotation template; it throws TemplateError when bad. */
export function parseRuleTemplate(name: string, text: string): Template {
  return Template.parse(name, text, TEMPLATE_FUNCS, PREDECLARED);
}

/**
 * expandRuleTemplate renders a label or annotation value as Prometheus' Expander does: the text
 * without `{{` is returned as is, and a failure yields `<error expanding template: ...>`.
 */
export function expandRuleTemplate(name: string, text: string, data: TemplateData, cache?: Map<string, Template | TemplateError>): string {
  if (!text.includes('{{')) return text;
  let tmpl = cache?.get(text);
  if (tmpl === undefined) {
    try {
      tmpl = parseRuleTemplate(name, text);
    } catch (err) {
      tmpl = err instanceof TemplateError ? err : new TemplateError(String(err));
    }
    cache?.set(text, tmpl);
  }
  if (tmpl instanceof TemplateError) return `<error expanding template: ${tmpl.message}>`;
  const labels = toMap(data.labels);
  const ext = toMap(data.externalLabels);
  const dot: GoMap = new Map<string, GoValue>([
    ['Labels', labels],
    ['ExternalLabels', ext],
    ['ExternalURL', data.externalURL],
    ['Value', data.value],
  ]);
  try {
    return tmpl.execute(dot, { $labels: labels, $externalLabels: ext, $externalURL: data.externalURL, $value: data.value });
  } catch (err) {
    return `<error expanding template: ${(err as Error).message}>`;
  }
}
