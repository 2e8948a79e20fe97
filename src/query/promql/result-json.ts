import { labelsToRecord } from '../../model/labels.js';
import { hdrLowerBound, hdrUpperBound, type SparseHistogram } from '../../model/hdr.js';
import type { QueryResult } from './api.js';

/**
 * formatPromFloat renders a float the way Prometheus' JSON API does (Go's encoding of a float64:
 * shortest round-trip digits, plain decimal for 1e-6 <= |v| < 1e21, otherwise exponent form with
 * a two-digit exponent such as `1e+21` or `1.5e-07`), plus `NaN`, `+Inf`, `-Inf` and `-0`.
 */
export function formatPromFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const abs = Math.abs(v);
  if (abs >= 1e21 || abs < 1e-6) {
    const e = v.toExponential(); // shortest digits, e.g. "1.5e-7"
    return e.replace(/e([+-])(\d)$/, 'e$10$2');
  }
  // Within [1e-6, 1e21) JavaScript, like Go, prints plain shortest round-trip digits.
  return String(v);
}

/** promTime renders unix ms as Prometheus' float seconds. */
export function promTime(ms: number): number {
  return ms / 1000;
}

/** histogramJson renders a histogram value in Prometheus' native-histogram JSON shape. */
export function histogramJson(h: SparseHistogram): { count: string; sum: string; buckets: Array<[number, string, string, string]> } {
  const buckets: Array<[number, string, string, string]> = [];
  for (let i = 0; i < h.size; i++) {
    const c = h.counts[i]!;
    if (c === 0) continue;
    const idx = h.indices[i]!;
    // Boundary rule 1: lower bound inclusive, upper exclusive, which is how HDR buckets hold values.
    buckets.push([1, formatPromFloat(hdrLowerBound(idx)), formatPromFloat(hdrUpperBound(idx)), formatPromFloat(c)]);
  }
  return { count: formatPromFloat(h.count), sum: formatPromFloat(h.sum), buckets };
}

/**
 * resultJson renders an engine result as the `data` object of /api/v1/query(_range). It lives with the
 * engine so query workers can render (and stringify) results off the main thread.
 */
export function resultJson(r: QueryResult): { resultType: string; result: unknown } {
  switch (r.type) {
    case 'scalar':
      return { resultType: 'scalar', result: [promTime(r.t), formatPromFloat(r.v)] };
    case 'string':
      return { resultType: 'string', result: [promTime(r.t), r.v] };
    case 'vector':
      return {
        resultType: 'vector',
        result: r.samples.map((s) =>
          s.h ? { metric: labelsToRecord(s.labels), histogram: [promTime(s.t), histogramJson(s.h)] } : { metric: labelsToRecord(s.labels), value: [promTime(s.t), formatPromFloat(s.v)] },
        ),
      };
    case 'matrix':
      return {
        resultType: 'matrix',
        result: r.series.map((s) => {
          const out: Record<string, unknown> = { metric: labelsToRecord(s.labels) };
          const values: Array<[number, string]> = [];
          const hists: Array<[number, unknown]> = [];
          for (let i = 0; i < s.timestamps.length; i++) {
            const h = s.histograms?.[i];
            if (h) hists.push([promTime(s.timestamps[i]!), histogramJson(h)]);
            else values.push([promTime(s.timestamps[i]!), formatPromFloat(s.values[i]!)]);
          }
          if (values.length || !hists.length) out['values'] = values;
          if (hists.length) out['histograms'] = hists;
          return out;
        }),
      };
  }
}
