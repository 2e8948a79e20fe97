import { hdrLowerBound, hdrUpperBound, type SparseHistogram } from '../../model/hdr.js';
import { compareLabels, getLabel, labelsKey, withLabel, type Labels } from '../../model/labels.js';
import { QueryError } from './api.js';
import { unwrapParens, type Call } from './ast.js';
import type { EvalApi, Value } from './eval-api.js';
import { absentLabels, dropMetricName, mergeByLabels } from './series-ops.js';
import { bucketFraction, bucketQuantile, parseLe, type Bucket } from './quantile.js';
import { compileAnchored } from '../../model/re2.js';
import { StepSeries } from './value.js';

/**
 * Functions over instant vectors and scalars (Prometheus' functions.go): per-sample math, date
 * functions, label manipulation, histogram functions, absent, scalar/vector/time, sorting.
 */

const MATH: Readonly<Record<string, (v: number) => number>> = {
  abs: Math.abs, ceil: Math.ceil, floor: Math.floor, exp: Math.exp, sqrt: Math.sqrt, ln: Math.log,
  log2: Math.log2, log10: Math.log10, sin: Math.sin, cos: Math.cos, tan: Math.tan, asin: Math.asin,
  acos: Math.acos, atan: Math.atan, sinh: Math.sinh, cosh: Math.cosh, tanh: Math.tanh, asinh: Math.asinh,
  acosh: Math.acosh, atanh: Math.atanh,
  deg: (v) => (v * 180) / Math.PI,
  rad: (v) => (v * Math.PI) / 180,
  sgn: (v) => (v < 0 ? -1 : v > 0 ? 1 : v),
};

function dateOf(v: number): Date | null {
  if (!Number.isFinite(v)) return null;
  return new Date(Math.trunc(v) * 1000);
}

const DATE: Readonly<Record<string, (d: Date) => number>> = {
  day_of_month: (d) => d.getUTCDate(),
  day_of_week: (d) => d.getUTCDay(),
  day_of_year: (d) => Math.floor((d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86400000) + 1,
  days_in_month: (d) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate(),
  hour: (d) => d.getUTCHours(),
  minute: (d) => d.getUTCMinutes(),
  month: (d) => d.getUTCMonth() + 1,
  year: (d) => d.getUTCFullYear(),
};

/** mapFloats applies f to every float sample, dropping the name and skipping histograms. */
function mapFloats(ev: EvalApi, series: StepSeries[], f: (v: number, step: number) => number | null): StepSeries[] {
  const out: StepSeries[] = [];
  for (const s of series) {
    const o = new StepSeries(dropMetricName(s.labels), ev.steps);
    for (let i = 0; i < ev.steps; i++) {
      if (s.present[i] === 0 || s.h(i) !== null) continue;
      const r = f(s.vs[i]!, i);
      if (r !== null) o.set(i, r);
    }
    if (o.count > 0) out.push(o);
  }
  return mergeByLabels(out);
}

/** mapHistograms applies f to every histogram sample (floats are skipped), dropping the name. */
function mapHistograms(ev: EvalApi, series: StepSeries[], f: (h: SparseHistogram, step: number) => number): StepSeries[] {
  const out: StepSeries[] = [];
  for (const s of series) {
    if (s.hs === null) continue;
    const o = new StepSeries(dropMetricName(s.labels), ev.steps);
    for (let i = 0; i < ev.steps; i++) {
      const h = s.h(i);
      if (s.present[i] === 1 && h !== null) o.set(i, f(h, i));
    }
    if (o.count > 0) out.push(o);
  }
  return mergeByLabels(out);
}

function vector(ev: EvalApi, series: StepSeries[]): Value {
  return { kind: 'vector', series: ev.holdSeries(series) };
}

/** InstantFn evaluates one call of a function over instant vectors, scalars or strings. */
export type InstantFn = (ev: EvalApi, c: Call) => Value;

function mathFn(math: (v: number) => number): InstantFn {
  return (ev, c) => {
    const arg = ev.eval(c.args[0]!);
    const r = mapFloats(ev, (arg as { series: StepSeries[] }).series, (v) => math(v));
    ev.releaseValue(arg);
    return vector(ev, r);
  };
}

function dateFn(date: (d: Date) => number): InstantFn {
  return (ev, c) => {
    const n = ev.steps;
    if (c.args.length === 0) {
      const s = new StepSeries([], n);
      for (let i = 0; i < n; i++) s.set(i, date(new Date(ev.ts(i) - (ev.ts(i) % 1000))));
      return vector(ev, [s]);
    }
    const arg = ev.evalVector(c.args[0]!);
    return vector(ev, mapFloats(ev, arg, (v) => {
      const d = dateOf(v);
      return d === null ? NaN : date(d);
    }));
  };
}

function clampFn(kind: 'clamp' | 'clamp_min' | 'clamp_max'): InstantFn {
  return (ev, c) => {
    const series = ev.evalVector(c.args[0]!);
    const a = ev.evalScalar(c.args[1]!);
    const b = kind === 'clamp' ? ev.evalScalar(c.args[2]!) : null;
    return vector(ev, mapFloats(ev, series, (v, i) => {
      if (kind === 'clamp_min') return Math.max(a[i]!, v);
      if (kind === 'clamp_max') return Math.min(a[i]!, v);
      if (b![i]! < a[i]!) return null;
      return Math.max(a[i]!, Math.min(b![i]!, v));
    }));
  };
}

function histogramFn(f: (h: SparseHistogram) => number): InstantFn {
  return (ev, c) => vector(ev, mapHistograms(ev, ev.evalVector(c.args[0]!), f));
}

/**
 * INSTANT_FUNCTIONS are the implementations of every function over instant vectors and
 * scalars, keyed by name; the function registry (functions.ts) pairs each with its signature.
 */
export const INSTANT_FUNCTIONS: Readonly<Record<string, InstantFn>> = {
  ...Object.fromEntries(Object.entries(MATH).map(([k, m]) => [k, mathFn(m)])),
  ...Object.fromEntries(Object.entries(DATE).map(([k, d]) => [k, dateFn(d)])),
  time: (ev) => {
    const n = ev.steps;
    const vs = new Float64Array(n);
    for (let i = 0; i < n; i++) vs[i] = ev.ts(i) / 1000;
    return { kind: 'scalar', vs };
  },
  pi: (ev) => ({ kind: 'scalar', vs: new Float64Array(ev.steps).fill(Math.PI) }),
  vector: (ev, c) => {
    const n = ev.steps;
    const vs = ev.evalScalar(c.args[0]!);
    const s = new StepSeries([], n);
    for (let i = 0; i < n; i++) s.set(i, vs[i]!);
    return vector(ev, [s]);
  },
  scalar: (ev, c) => {
    const n = ev.steps;
    const series = ev.evalVector(c.args[0]!);
    const vs = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let found = -1, count = 0;
      for (let j = 0; j < series.length; j++) {
        if (series[j]!.present[i] === 1) {
          count++;
          found = j;
        }
      }
      vs[i] = count === 1 && series[found]!.h(i) === null ? series[found]!.vs[i]! : NaN;
    }
    return { kind: 'scalar', vs };
  },
  timestamp: (ev, c) => {
    const n = ev.steps;
    const inner = unwrapParens(c.args[0]!);
    if (inner.kind === 'vector') {
      const series = ev.evalSelector(inner, true);
      for (const s of series) s.labels = dropMetricName(s.labels);
      return vector(ev, mergeByLabels(series));
    }
    const series = ev.evalVector(c.args[0]!);
    const out: StepSeries[] = [];
    for (const s of series) {
      const o = new StepSeries(dropMetricName(s.labels), n);
      for (let i = 0; i < n; i++) if (s.present[i] === 1) o.set(i, ev.ts(i) / 1000);
      out.push(o);
    }
    return vector(ev, mergeByLabels(out));
  },
  clamp: clampFn('clamp'),
  clamp_min: clampFn('clamp_min'),
  clamp_max: clampFn('clamp_max'),
  round: (ev, c) => {
    const series = ev.evalVector(c.args[0]!);
    const to = c.args.length > 1 ? ev.evalScalar(c.args[1]!) : null;
    return vector(ev, mapFloats(ev, series, (v, i) => {
      const inv = 1 / (to === null ? 1 : to[i]!);
      return Math.floor(v * inv + 0.5) / inv;
    }));
  },
  absent: (ev, c) => {
    const n = ev.steps;
    const series = ev.evalVector(c.args[0]!);
    const inner = unwrapParens(c.args[0]!);
    const s = new StepSeries(absentLabels(inner.kind === 'vector' ? inner : null), n);
    for (let i = 0; i < n; i++) {
      let any = false;
      for (const x of series) if (x.present[i] === 1) { any = true; break; }
      if (!any) s.set(i, 1);
    }
    return vector(ev, s.count > 0 ? [s] : []);
  },
  label_replace: (ev, c) => vector(ev, labelReplace(ev, c)),
  label_join: (ev, c) => vector(ev, labelJoin(ev, c)),
  sort: (ev, c) => vector(ev, sortByValue(ev, ev.evalVector(c.args[0]!), false)),
  sort_desc: (ev, c) => vector(ev, sortByValue(ev, ev.evalVector(c.args[0]!), true)),
  sort_by_label: (ev, c) => vector(ev, sortByLabel(ev, c, false)),
  sort_by_label_desc: (ev, c) => vector(ev, sortByLabel(ev, c, true)),
  histogram_quantile: (ev, c) => {
    const q = ev.evalScalar(c.args[0]!);
    return vector(ev, classicBuckets(ev, ev.evalVector(c.args[1]!), (h, i) => h.quantile(q[i]!), (b, i) => bucketQuantile(q[i]!, b)));
  },
  histogram_count: histogramFn((h) => h.count),
  histogram_sum: histogramFn((h) => h.sum),
  histogram_avg: histogramFn((h) => h.sum / h.count),
  histogram_stdvar: histogramFn((h) => histogramVariance(h)),
  histogram_stddev: histogramFn((h) => Math.sqrt(histogramVariance(h))),
  histogram_fraction: (ev, c) => {
    const lower = ev.evalScalar(c.args[0]!);
    const upper = ev.evalScalar(c.args[1]!);
    return vector(ev, classicBuckets(ev, ev.evalVector(c.args[2]!), (h, i) => h.fraction(lower[i]!, upper[i]!), (b, i) => bucketFraction(lower[i]!, upper[i]!, b)));
  },
};

/** histogramVariance estimates the variance from bucket midpoints, as histogram_stdvar does. */
function histogramVariance(h: SparseHistogram): number {
  if (!(h.count > 0)) return NaN;
  const mean = h.sum / h.count;
  let acc = 0;
  for (let i = 0; i < h.size; i++) {
    const idx = h.indices[i]!;
    const mid = (hdrLowerBound(idx) + hdrUpperBound(idx)) / 2;
    const d = mid - mean;
    acc += h.counts[i]! * d * d;
  }
  return acc / h.count;
}

const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** expandTemplate is Go's Regexp.ExpandString: $1, ${1}, $name, ${name}, $$. */
export function expandTemplate(template: string, m: RegExpExecArray): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const ch = template[i]!;
    if (ch !== '$' || i + 1 >= template.length) {
      out += ch;
      continue;
    }
    if (template[i + 1] === '$') {
      out += '$';
      i++;
      continue;
    }
    let name: string;
    if (template[i + 1] === '{') {
      const end = template.indexOf('}', i + 2);
      if (end < 0) { out += ch; continue; }
      name = template.slice(i + 2, end);
      i = end;
    } else {
      const mm = /^[a-zA-Z0-9_]+/.exec(template.slice(i + 1));
      if (!mm) { out += ch; continue; }
      name = mm[0];
      i += name.length;
    }
    if (/^\d+$/.test(name)) out += m[Number(name)] ?? '';
    else out += m.groups?.[name] ?? '';
  }
  return out;
}

function stringArg(ev: EvalApi, c: Call, i: number): string {
  const v = ev.eval(c.args[i]!);
  if (v.kind !== 'string') throw new QueryError('internal', 'expected string');
  return v.value;
}

function relabel(ev: EvalApi, series: StepSeries[], f: (l: Labels) => Labels): StepSeries[] {
  for (const s of series) s.labels = f(s.labels);
  return mergeByLabels(series);
}

function labelReplace(ev: EvalApi, c: Call): StepSeries[] {
  const series = ev.evalVector(c.args[0]!);
  const dst = stringArg(ev, c, 1), repl = stringArg(ev, c, 2), src = stringArg(ev, c, 3), regex = stringArg(ev, c, 4);
  let re: RegExp;
  try {
    re = compileAnchored(regex);
  } catch (e) {
    throw new QueryError('execution', `invalid regular expression in label_replace(): ${regex}`);
  }
  if (!LABEL_NAME_RE.test(dst)) throw new QueryError('execution', `invalid destination label name in label_replace(): ${dst}`);
  return relabel(ev, series, (labels) => {
    const m = re.exec(getLabel(labels, src));
    if (!m) return labels;
    return withLabel(labels, dst, expandTemplate(repl, m));
  });
}

function labelJoin(ev: EvalApi, c: Call): StepSeries[] {
  const series = ev.evalVector(c.args[0]!);
  const dst = stringArg(ev, c, 1), sep = stringArg(ev, c, 2);
  const srcs: string[] = [];
  for (let i = 3; i < c.args.length; i++) {
    const s = stringArg(ev, c, i);
    if (!LABEL_NAME_RE.test(s)) throw new QueryError('execution', `invalid source label name in label_join(): ${s}`);
    srcs.push(s);
  }
  if (!LABEL_NAME_RE.test(dst)) throw new QueryError('execution', `invalid destination label name in label_join(): ${dst}`);
  return relabel(ev, series, (labels) => withLabel(labels, dst, srcs.map((s) => getLabel(labels, s)).join(sep)));
}

function sortByValue(ev: EvalApi, series: StepSeries[], desc: boolean): StepSeries[] {
  // Ordering only matters for an instant query's single step; NaN sorts last either way.
  if (ev.steps !== 1) return series;
  return series.slice().sort((a, b) => {
    const x = a.h(0) === null ? a.vs[0]! : NaN, y = b.h(0) === null ? b.vs[0]! : NaN;
    if (Number.isNaN(x)) return Number.isNaN(y) ? 0 : 1;
    if (Number.isNaN(y)) return -1;
    return desc ? y - x : x - y;
  });
}

function sortByLabel(ev: EvalApi, c: Call, desc: boolean): StepSeries[] {
  const series = ev.evalVector(c.args[0]!);
  const names: string[] = [];
  for (let i = 1; i < c.args.length; i++) names.push(stringArg(ev, c, i));
  return series.slice().sort((a, b) => {
    for (const n of names) {
      const x = getLabel(a.labels, n), y = getLabel(b.labels, n);
      if (x !== y) return (x < y ? -1 : 1) * (desc ? -1 : 1);
    }
    return compareLabels(a.labels, b.labels) * (desc ? -1 : 1);
  });
}

/**
 * classicBuckets evaluates a histogram function: histogram samples answer from their own buckets
 * (`ofHist`); classic `le` bucket series are grouped by all their other labels, the metric name
 * included (as Prometheus' signature does), and answered by `ofBuckets`. The output drops the
 * name, so two histograms differing only by name collide and fail, as in Prometheus.
 */
function classicBuckets(
  ev: EvalApi,
  series: StepSeries[],
  ofHist: (h: SparseHistogram, step: number) => number,
  ofBuckets: (b: Bucket[], step: number) => number,
): StepSeries[] {
  const n = ev.steps;
  const groups = new Map<string, { labels: Labels; members: Array<{ s: StepSeries; le: number }> }>();
  const out: StepSeries[] = [];
  for (const s of series) {
    if (s.hs !== null) {
      const o = new StepSeries(dropMetricName(s.labels), n);
      for (let i = 0; i < n; i++) {
        const h = s.h(i);
        if (s.present[i] === 1 && h !== null) o.set(i, ofHist(h, i));
      }
      if (o.count > 0) out.push(o);
      if (o.count === s.count) continue;
    }
    const leStr = getLabel(s.labels, 'le');
    if (leStr === '') continue;
    const le = parseLe(leStr);
    if (Number.isNaN(le)) continue;
    const withName = s.labels.filter((l) => l.name !== 'le');
    const key = labelsKey(withName);
    let g = groups.get(key);
    if (g === undefined) {
      g = { labels: dropMetricName(withName), members: [] };
      groups.set(key, g);
    }
    g.members.push({ s, le });
  }
  const buckets: Bucket[] = [];
  for (const g of groups.values()) {
    const o = new StepSeries(g.labels, n);
    // Members in bound order (stable: equal bounds keep theirs), so each step's buckets arrive
    // sorted; one Bucket per member serves every step (ofBuckets may change them, so each is
    // set again before use).
    const members = g.members.sort((a, b) => (a.le < b.le ? -1 : a.le > b.le ? 1 : 0));
    const own: Bucket[] = members.map((m) => ({ upperBound: m.le, count: 0 }));
    for (let i = 0; i < n; i++) {
      buckets.length = 0;
      for (let j = 0; j < members.length; j++) {
        const m = members[j]!;
        if (m.s.present[i] === 1 && m.s.h(i) === null) {
          const b = own[j]!;
          b.upperBound = m.le;
          b.count = m.s.vs[i]!;
          buckets.push(b);
        }
      }
      if (buckets.length > 0) o.set(i, ofBuckets(buckets, i));
    }
    if (o.count > 0) out.push(o);
    ev.tick(ev.steps);
  }
  return mergeByLabels(out);
}
