import { METRIC_NAME, type Labels } from '../../model/labels.js';
import { Matcher } from '../../model/matcher.js';
import type { Querier } from '../../store/interface.js';

/** ShipSeries is one series' samples to ship, in ascending time order. */
export interface ShipSeries {
  readonly labels: Labels;
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
}

const ALL = [new Matcher('=~', METRIC_NAME, '.+')];

/**
 * collectWindows is THE place that decides what a stored window looks like on the wire: it
 * returns every float sample of a tenant with `fromMs < t < toMs`, exactly as a reader of the
 * store sees it through the Querier (counters cumulative, gauges as the window's last value,
 * histograms as `_bucket{le}`, `_sum`, `_count`), at the timestamp the Querier gives a window's
 * sample. Changing how windows are stamped or how counters read back (the Querier) changes what
 * is shipped, with nothing to touch here. The read reaches `aheadMs` (one window) past `toMs`:
 * a window whose only point sits on its start carries its gap sample at the previous window's
 * start (store/view.ts gapTime), so a read that ends before that window would leave out a sample
 * that every later read of the range serves. Histogram-valued (native) samples are left out:
 * remote write 1.0 carries floats only, and the classic series carry the same data.
 */
export function collectWindows(querier: Querier, tenant: string, fromMs: number, toMs: number, aheadMs: number): ShipSeries[] {
  if (toMs - fromMs < 2) return [];
  const res = querier.select(tenant, ALL, { startMs: fromMs + 1, endMs: toMs - 1 + aheadMs });
  const out: ShipSeries[] = [];
  for (const s of res.floats) {
    const ts = s.timestamps;
    let a = 0;
    while (a < ts.length && ts[a]! <= fromMs) a++;
    let b = ts.length;
    while (b > a && ts[b - 1]! >= toMs) b--;
    if (b > a) out.push({ labels: s.labels, timestamps: ts.subarray(a, b), values: s.values.subarray(a, b) });
  }
  return out;
}
