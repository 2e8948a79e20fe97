import { labelsKey, labelsFromPairs, type Labels } from '../../../src/model/labels.js';
import { QueryError, type QueryEngine, type QueryResult } from '../../../src/query/promql/api.js';
import { FUNCTIONS } from '../../../src/query/promql/functions.js';
import { parseDurationMs, parseExpr } from '../../../src/query/promql/parse.js';
import { MemQuerier } from './mem-querier.js';

/**
 * A runner for Prometheus' promqltest `.test` files (promql/promqltest/testdata), so that
 * Prometheus' own expectations run unchanged against tallyd's engine. It understands:
 *   load <step> / load_with_nhcb <step>   series in expanding notation (a+bxN, a-bxN, axN, _,
 *                                          _xN, stale, NaN, Inf)
 *   clear
 *   eval[_fail|_ordered|_warn|_info] instant at <time> <expr>
 *   eval[...] range from <t> to <t> step <d> <expr>
 *   expect fail [msg:..|regex:..], expect ordered, expect string <s>,
 *   expect range vector from <t> to <t> step <d>; annotation expectations
 *   (expect warn/info/no_warn/no_info) are read and ignored: tallyd has no annotations.
 * Cases that need what tallyd does not claim (native-histogram `{{...}}` literals, experimental
 * functions) are skipped with a reason, never silently.
 */

/** Outcome is one evaluated case. */
export interface Outcome {
  readonly file: string;
  readonly line: number;
  readonly expr: string;
  readonly status: 'pass' | 'fail' | 'skip';
  /** Why it failed or was skipped. */
  readonly reason: string;
}

/** STALE_NAN is Prometheus' stale marker (0x7ff0000000000002) as JavaScript holds it. */
export const STALE_NAN: number = (() => {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setUint32(0, 0x7ff00000);
  dv.setUint32(4, 2);
  return dv.getFloat64(0);
})();

const AGGREGATIONS = new Set(['sum', 'avg', 'min', 'max', 'count', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values', 'group']);
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'atan2', 'offset']);

interface Point {
  t: number;
  v: number;
}

interface Expected {
  labels: Labels;
  /** Instant: one value; range: one value per step (null = no sample). */
  values: Array<number | null>;
}

interface EvalCase {
  line: number;
  expr: string;
  instantAt: number | null;
  range: { start: number; end: number; step: number } | null;
  fail: boolean;
  failMsg: string | null;
  failRegex: RegExp | null;
  ordered: boolean;
  expectString: string | null;
  rangeVector: { start: number; end: number; step: number } | null;
  scalar: number | null;
  rows: Expected[];
  skip: string | null;
}

/** parseTime reads a promqltest time or duration ("50m", "10s53ms", "0", "1.5"). */
export function parseTime(s: string): number {
  const ms = parseDurationMs(s);
  if (Number.isNaN(ms)) throw new Error(`bad time ${JSON.stringify(s)}`);
  return ms;
}

function parseNumberToken(tok: string): number {
  const l = tok.toLowerCase();
  if (l === 'nan') return NaN;
  if (l === 'inf' || l === '+inf') return Infinity;
  if (l === '-inf') return -Infinity;
  if (l === 'stale') return STALE_NAN;
  const n = Number(tok);
  if (Number.isNaN(n)) throw new Error(`bad value ${JSON.stringify(tok)}`);
  return n;
}

/** expandValues expands promqltest value notation; null is a missing point. */
export function expandValues(spec: string): Array<number | null> {
  const out: Array<number | null> = [];
  const num = '([-+]?(?:[\\d.]+(?:[eE][-+]?\\d+)?|Inf|inf|NaN))';
  const seq = new RegExp(`^${num}([+-])([\\d.]+(?:[eE][-+]?\\d+)?)x(\\d+)$`);
  const rep = new RegExp(`^${num}x(\\d+)$`);
  for (const tok of spec.split(/\s+/).filter((x) => x !== '')) {
    let m: RegExpExecArray | null;
    if (tok === '_') out.push(null);
    else if ((m = /^_x(\d+)$/.exec(tok))) for (let i = 0; i < Number(m[1]); i++) out.push(null);
    else if ((m = seq.exec(tok))) {
      const a = parseNumberToken(m[1]!), b = Number(m[3]) * (m[2] === '-' ? -1 : 1), n = Number(m[4]);
      // promqltest accumulates (a, a+b, a+b+b, ...), which rounds like repeated addition.
      let cur = a;
      for (let i = 0; i <= n; i++) {
        out.push(cur);
        cur += b;
      }
    } else if ((m = rep.exec(tok))) {
      for (let i = 0; i <= Number(m[2]); i++) out.push(parseNumberToken(m[1]!));
    } else out.push(parseNumberToken(tok));
  }
  return out;
}

/** splitSeries splits `name{a="b"} values` into the descriptor and the values text. */
function splitSeries(line: string): [string, string] {
  const s = line.trim();
  const brace = s.indexOf('{');
  const space = s.search(/\s/);
  if (brace >= 0 && (space < 0 || brace < space)) {
    let inStr = false;
    for (let i = brace; i < s.length; i++) {
      const c = s[i]!;
      if (c === '\\' && inStr) { i++; continue; }
      if (c === '"') inStr = !inStr;
      else if (c === '}' && !inStr) return [s.slice(0, i + 1), s.slice(i + 1).trim()];
    }
    throw new Error(`unterminated series ${line}`);
  }
  if (space < 0) return [s, ''];
  return [s.slice(0, space), s.slice(space).trim()];
}

/** parseLabels turns a series descriptor into labels (empty values dropped, as Prometheus). */
export function parseLabels(desc: string): Labels {
  if (desc === '{}') return [];
  const e = parseExpr(desc);
  if (e.kind !== 'vector') throw new Error(`not a series: ${desc}`);
  return labelsFromPairs(e.matchers.map((m) => [m.name, m.value] as const));
}

/** unsupportedFeature names what an expression needs that tallyd does not claim, or null. */
function unsupportedFeature(expr: string): string | null {
  if (expr.includes('{{')) return 'native-histogram literal';
  const stripped = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  for (const m of stripped.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*\(/g)) {
    const name = m[1]!;
    if (FUNCTIONS.has(name) || AGGREGATIONS.has(name.toLowerCase()) || KEYWORDS.has(name.toLowerCase())) continue;
    return `function or aggregation ${name}() is not claimed by tallyd`;
  }
  return null;
}

/**
 * runTestFile runs every eval of one promqltest file against `engine` over an in-memory
 * querier, returning one Outcome per eval command.
 */
export function runTestFile(file: string, text: string, engine: QueryEngine): Outcome[] {
  const lines = text.split('\n');
  const out: Outcome[] = [];
  // Series by labels key: loads of the same series append, as in promqltest.
  let store = new Map<string, { labels: Labels; points: Point[] }>();
  let histogramNames = new Set<string>();
  let querier: MemQuerier | null = null;

  const querierNow = (): MemQuerier => {
    if (querier !== null) return querier;
    querier = new MemQuerier();
    for (const s of store.values()) {
      s.points.sort((a, b) => a.t - b.t);
      querier.addFloat(s.labels, s.points.map((p) => p.t), s.points.map((p) => p.v));
    }
    return querier;
  };

  let i = 0;
  const isBody = (l: string | undefined): boolean => l !== undefined && /^\s+\S/.test(l) && !/^\s*#/.test(l);
  while (i < lines.length) {
    const raw = lines[i]!;
    const line = raw.trim();
    i++;
    if (line === '' || line.startsWith('#')) continue;
    if (line === 'clear') {
      store = new Map();
      histogramNames = new Set();
      querier = null;
      continue;
    }
    let m = /^(load|load_with_nhcb)\s+(\S+)$/.exec(line);
    if (m) {
      const step = parseTime(m[2]!);
      querier = null;
      while (i < lines.length && (isBody(lines[i]) || /^\s*#/.test(lines[i]!))) {
        const body = lines[i]!.trim();
        i++;
        if (body.startsWith('#')) continue;
        const [desc, values] = splitSeries(body);
        if (values.includes('{{')) {
          const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(desc);
          if (name) histogramNames.add(name[0]);
          continue;
        }
        const labels = parseLabels(desc);
        const key = labelsKey(labels);
        let s = store.get(key);
        if (s === undefined) {
          s = { labels, points: [] };
          store.set(key, s);
        }
        expandValues(values).forEach((v, k) => {
          if (v === null) return;
          const t = k * step;
          const at = s!.points.findIndex((p) => p.t === t);
          if (at >= 0) s!.points[at] = { t, v };
          else s!.points.push({ t, v });
        });
      }
      continue;
    }
    m = /^(eval(?:_fail|_ordered|_warn|_info)?)\s+(instant\s+at\s+(\S+)|range\s+from\s+(\S+)\s+to\s+(\S+)\s+step\s+(\S+))\s+(.+)$/.exec(line);
    if (!m) {
      // An unknown command: skip it and its body, and say so.
      const startLine = i;
      while (i < lines.length && isBody(lines[i])) i++;
      out.push({ file, line: startLine, expr: line, status: 'skip', reason: 'unknown command' });
      continue;
    }
    const c: EvalCase = {
      line: i,
      expr: m[7]!.trim(),
      instantAt: m[3] !== undefined ? parseTime(m[3]) : null,
      range: m[4] !== undefined ? { start: parseTime(m[4]), end: parseTime(m[5]!), step: parseTime(m[6]!) } : null,
      fail: m[1] === 'eval_fail',
      failMsg: null,
      failRegex: null,
      ordered: m[1] === 'eval_ordered',
      expectString: null,
      rangeVector: null,
      scalar: null,
      rows: [],
      skip: null,
    };
    while (i < lines.length && (isBody(lines[i]) || /^\s*#/.test(lines[i]!))) {
      const body = lines[i]!.trim();
      i++;
      if (body.startsWith('#')) continue;
      const ex = /^expect\s+(\S+)(?:\s(.*))?$/.exec(body);
      if (ex) {
        const kind = ex[1]!, rest = ex[2] ?? '';
        if (kind === 'fail') {
          c.fail = true;
          const r = /^\s*(msg|regex):\s*(.*)$/.exec(rest);
          if (r && r[1] === 'msg') c.failMsg = r[2]!.trim();
          if (r && r[1] === 'regex') c.failRegex = new RegExp(r[2]!.trim());
        } else if (kind === 'ordered') c.ordered = true;
        else if (kind === 'string') c.expectString = rest;
        else if (kind === 'range') {
          const r = /^vector\s+from\s+(\S+)\s+to\s+(\S+)\s+step\s+(\S+)/.exec(rest);
          if (r) c.rangeVector = { start: parseTime(r[1]!), end: parseTime(r[2]!), step: parseTime(r[3]!) };
        }
        continue;
      }
      if (body.includes('{{')) {
        c.skip = 'native-histogram literal in the expected result';
        continue;
      }
      if (/^[-+]?(?:[\d.]+(?:[eE][-+]?\d+)?|Inf|inf|NaN|nan)$/.test(body)) {
        c.scalar = parseNumberToken(body);
        continue;
      }
      const [desc, values] = splitSeries(body);
      c.rows.push({ labels: parseLabels(desc), values: expandValues(values) });
    }
    c.skip ??= unsupportedFeature(c.expr);
    if (c.skip === null) {
      for (const name of histogramNames) {
        if (new RegExp(`(^|[^a-zA-Z0-9_:])${name}([^a-zA-Z0-9_:]|$)`).test(c.expr)) c.skip = `reads native-histogram series ${name}`;
      }
    }
    if (c.skip !== null) {
      out.push({ file, line: c.line, expr: c.expr, status: 'skip', reason: c.skip });
      continue;
    }
    const reason = runCase(c, engine, querierNow());
    out.push({ file, line: c.line, expr: c.expr, status: reason === null ? 'pass' : 'fail', reason: reason ?? '' });
  }
  return out;
}

const MIN_NORMAL = 2.2250738585072014e-308;
const EPSILON = 1e-6;

/** almostEqual is promqltest's comparison (util/almost.Equal with its 1e-6 epsilon). */
export function almostEqual(a: number, b: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b) return true;
  const absSum = Math.abs(a) + Math.abs(b);
  const diff = Math.abs(a - b);
  if (a === 0 || b === 0 || absSum < MIN_NORMAL) return diff < EPSILON * MIN_NORMAL;
  return diff / Math.min(absSum, Number.MAX_VALUE) < EPSILON;
}

function fmtLabels(l: Labels): string {
  return '{' + l.map((x) => `${x.name}=${JSON.stringify(x.value)}`).join(', ') + '}';
}

interface Got {
  labels: Labels;
  points: Array<[number, number]>;
}

/**
 * runCase evaluates one case; null means it passed, otherwise the reason it did not. As
 * promqltest does, a passing instant case is evaluated again as a range query from t-1m to t+1m
 * with a 1m step, and its middle step must give the same answer (unless the order is checked).
 */
function runCase(c: EvalCase, engine: QueryEngine, q: MemQuerier): string | null {
  const instant = checkCase(c, engine, q, false);
  if (instant !== null || c.range !== null || c.fail || c.ordered || c.expectString !== null || c.rangeVector !== null) return instant;
  const ranged = checkCase(c, engine, q, true);
  return ranged === null ? null : `in range mode: ${ranged}`;
}

function checkCase(c: EvalCase, engine: QueryEngine, q: MemQuerier, asRange: boolean): string | null {
  let res: QueryResult;
  try {
    if (asRange) {
      const t = c.instantAt!;
      const r = engine.range(q, 'default', c.expr, t - 60_000, t + 60_000, 60_000);
      if (r.type !== 'matrix') return `range query returned a ${r.type}`;
      // The middle step, as a vector (or the scalar's single series).
      const samples = r.series.flatMap((s) => {
        const k = s.timestamps.indexOf(t);
        return k < 0 ? [] : [{ labels: s.labels, t, v: s.values[k]!, h: null }];
      });
      res = c.scalar !== null ? { type: 'scalar', t, v: samples[0]?.v ?? NaN } : { type: 'vector', samples };
    } else {
      res = c.range !== null
        ? engine.range(q, 'default', c.expr, c.range.start, c.range.end, c.range.step)
        : engine.instant(q, 'default', c.expr, c.instantAt!);
    }
  } catch (e) {
    if (!c.fail) return `unexpected error: ${(e as Error).message}`;
    if (!(e instanceof QueryError)) return `not a QueryError: ${(e as Error).message}`;
    if (c.failMsg !== null && e.message !== c.failMsg && !e.message.includes(c.failMsg)) return `error message ${JSON.stringify(e.message)}, want ${JSON.stringify(c.failMsg)}`;
    if (c.failRegex !== null && !c.failRegex.test(e.message)) return `error message ${JSON.stringify(e.message)} does not match ${c.failRegex}`;
    return null;
  }
  if (c.fail) return `expected an error, got a ${res.type}`;
  if (c.expectString !== null) {
    if (res.type !== 'string') return `expected a string, got a ${res.type}`;
    return res.v === c.expectString ? null : `string ${JSON.stringify(res.v)}, want ${JSON.stringify(c.expectString)}`;
  }
  if (c.scalar !== null) {
    if (res.type !== 'scalar') return `expected a scalar, got a ${res.type}`;
    return almostEqual(res.v, c.scalar) ? null : `scalar ${res.v}, want ${c.scalar}`;
  }
  let got: Got[];
  let stepOf: (k: number) => number;
  if (res.type === 'vector') {
    if (c.range !== null || c.rangeVector !== null) return `expected a matrix, got a vector`;
    got = res.samples.map((s) => ({ labels: s.labels, points: [[c.instantAt!, s.h === null ? s.v : NaN]] }));
    stepOf = () => c.instantAt!;
  } else if (res.type === 'matrix') {
    if (c.range === null && c.rangeVector === null) return `expected a vector, got a matrix`;
    const r = (c.range ?? c.rangeVector)!;
    got = res.series.map((s) => ({ labels: s.labels, points: s.timestamps.map((t, k) => [t, s.values[k]!] as [number, number]) }));
    stepOf = (k) => r.start + k * r.step;
  } else return `unexpected ${res.type} result`;
  const want = c.rows;
  if (!c.ordered) {
    const key = (l: Labels): string => labelsKey(l);
    want.sort((a, b) => (key(a.labels) < key(b.labels) ? -1 : 1));
    got.sort((a, b) => (key(a.labels) < key(b.labels) ? -1 : 1));
  }
  const describe = (): string => `\n  want:\n${want.map((w) => `    ${fmtLabels(w.labels)} ${w.values.map((v) => (v === null ? '_' : v)).join(' ')}`).join('\n')}\n  got:\n${got.map((g) => `    ${fmtLabels(g.labels)} ${g.points.map(([t, v]) => `${v}@${t / 1000}`).join(' ')}`).join('\n')}`;
  if (want.length !== got.length) return `${got.length} series, want ${want.length}${describe()}`;
  for (let k = 0; k < want.length; k++) {
    const w = want[k]!, g = got[k]!;
    if (labelsKey(w.labels) !== labelsKey(g.labels)) return `series ${k}: labels ${fmtLabels(g.labels)}, want ${fmtLabels(w.labels)}${describe()}`;
    const wantPoints: Array<[number, number]> = [];
    w.values.forEach((v, idx) => {
      if (v !== null) wantPoints.push([stepOf(idx), v]);
    });
    if (wantPoints.length !== g.points.length) return `series ${fmtLabels(w.labels)}: ${g.points.length} points, want ${wantPoints.length}${describe()}`;
    for (let p = 0; p < wantPoints.length; p++) {
      const [wt, wv] = wantPoints[p]!, [gt, gv] = g.points[p]!;
      if (wt !== gt || !almostEqual(gv, wv)) return `series ${fmtLabels(w.labels)}: point ${gv}@${gt / 1000}, want ${wv}@${wt / 1000}${describe()}`;
    }
  }
  return null;
}
