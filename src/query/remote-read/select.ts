import { compareLabels } from '../../model/labels.js';
import type { FloatSeries, Querier, SelectHints } from '../../store/interface.js';
import type { ReadQuery } from './decode.js';
import { encodeLabels, type SeriesSlice } from './encode.js';

/** lowerBound returns the first index whose timestamp is >= t. */
function lowerBound(ts: Float64Array, t: number): number {
  let lo = 0, hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** upperBound returns the first index whose timestamp is > t. */
function upperBound(ts: Float64Array, t: number): number {
  let lo = 0, hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * selectForRead answers one remote-read query from the querier of a tenant: the float series
 * (histogram-valued series are left out; their `_bucket`, `_sum` and `_count` float series carry
 * the same data in the form remote read can express), cut to the query's inclusive time range,
 * without empty series, sorted by labels as Prometheus' TSDB returns them.
 */
export function selectForRead(querier: Querier, tenant: string, q: ReadQuery): SeriesSlice[] {
  const hints: SelectHints = {
    startMs: q.startMs,
    endMs: q.endMs,
    stepMs: q.hints !== null && q.hints.stepMs > 0 ? q.hints.stepMs : undefined,
    rangeMs: q.hints !== null && q.hints.rangeMs > 0 ? q.hints.rangeMs : undefined,
  };
  const floats: FloatSeries[] = querier.select(tenant, q.matchers, hints).floats.slice();
  floats.sort((a, b) => compareLabels(a.labels, b.labels));
  const out: SeriesSlice[] = [];
  for (const s of floats) {
    const from = lowerBound(s.timestamps, q.startMs);
    const to = upperBound(s.timestamps, q.endMs);
    if (to <= from) continue;
    out.push({ labels: encodeLabels(s.labels), timestamps: s.timestamps, values: s.values, from, to });
  }
  return out;
}

/** sampleCount is the number of samples a set of slices holds. */
export function sampleCount(slices: readonly SeriesSlice[]): number {
  let n = 0;
  for (const s of slices) n += s.to - s.from;
  return n;
}
