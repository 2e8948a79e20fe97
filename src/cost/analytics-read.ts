import { labelsKey, type Labels } from '../model/labels.js';
import type { Matcher } from '../model/matcher.js';
import type { SparseHistogram } from '../model/hdr.js';
import type { Querier } from '../store/interface.js';

/**
 * analytics-read.ts reads counter increments and window histograms over long ranges in time
 * slices, so memory stays bounded whatever the range (90 days of 10k series read at once would
 * hold every sample in memory).
 */

/** SLICE_MS is the span of one select. */
const SLICE_MS = 7 * 86_400_000;
/** MARGIN_MS reaches back before a slice for the sample that precedes the first window. */
const MARGIN_MS = 86_400_000;

/**
 * tierHint is the step hint for the querier's tier choice. Ranges aligned to the hour (or 5
 * minutes) read that tier exactly; ranges of a week or more read the hour tier, so a range edge
 * may be off by up to one hour window; shorter unaligned ranges read the finest tier covering them.
 */
export function tierHint(fromMs: number, toMs: number, stepMs: number): number {
  const aligned = (r: number) => fromMs % r === 0 && (toMs % r === 0 || (toMs + 1) % r === 0);
  let hint = aligned(3_600_000) || toMs - fromMs >= 7 * 86_400_000 ? 3_600_000 : aligned(300_000) ? 300_000 : 1;
  if (stepMs > 0 && stepMs < hint) hint = stepMs;
  return hint;
}

/**
 * forEachIncrement calls `fn(labels, key, tsMs, increment)` for every increment of the matched
 * counter series whose sample time lies in [fromMs, toMs]. Counters read cumulative (store
 * contract); the increment of a sample is its difference to the previous one (a drop is a reset,
 * counting the new value). A series' first sample is its baseline: the querier precedes every
 * window after a gap with the previous cumulative value, and the margin reaches it.
 */
export function forEachIncrement(
  q: Querier, tenant: string, matchers: readonly Matcher[], fromMs: number, toMs: number, hintMs: number,
  fn: (labels: Labels, key: string, tsMs: number, inc: number) => void,
): void {
  const last = new Map<string, { t: number; v: number }>();
  for (let s = fromMs; s <= toMs; s += SLICE_MS) {
    const e = Math.min(toMs, s + SLICE_MS - 1);
    const res = q.select(tenant, matchers, { startMs: s - MARGIN_MS, endMs: e, stepMs: hintMs });
    for (const f of res.floats) {
      const key = labelsKey(f.labels);
      let st = last.get(key);
      const ts = f.timestamps, vs = f.values;
      for (let i = 0; i < ts.length; i++) {
        const t = ts[i]!, v = vs[i]!;
        if (st !== undefined && t <= st.t) continue;
        if (st === undefined) {
          last.set(key, (st = { t, v }));
          if (t >= fromMs) {
            // A series whose first visible sample is inside the range: it was created there (0 before).
            if (v >= 0 && t <= toMs) fn(f.labels, key, t, v);
          }
          continue;
        }
        const inc = v >= st.v ? v - st.v : v;
        st.t = t;
        st.v = v;
        if (t >= fromMs && t <= toMs && inc >= 0) fn(f.labels, key, t, inc);
      }
    }
  }
}

/**
 * forEachWindowHistogram calls `fn(labels, tsMs, h)` for the histogram of every window of the
 * matched histogram series with time in [fromMs, toMs]. `h` is the store's; callers MUST NOT
 * mutate it.
 */
export function forEachWindowHistogram(
  q: Querier, tenant: string, matchers: readonly Matcher[], fromMs: number, toMs: number, hintMs: number,
  fn: (labels: Labels, tsMs: number, h: SparseHistogram) => void,
): void {
  const last = new Map<string, number>();
  for (let s = fromMs; s <= toMs; s += SLICE_MS) {
    const e = Math.min(toMs, s + SLICE_MS - 1);
    const res = q.select(tenant, matchers, { startMs: s, endMs: e, stepMs: hintMs });
    for (const hs of res.histograms) {
      const key = labelsKey(hs.labels);
      const lt = last.get(key) ?? -Infinity;
      const ts = hs.timestamps;
      let maxT = lt;
      for (let i = 0; i < ts.length; i++) {
        const t = ts[i]!;
        if (t <= lt || t < fromMs || t > toMs) continue;
        const h = hs.deltas[i]!;
        if (h.count > 0) fn(hs.labels, t, h);
        if (t > maxT) maxT = t;
      }
      last.set(key, maxT);
    }
  }
}
