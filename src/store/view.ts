import { PROMETHEUS_DEFAULT_BUCKETS, SparseHistogram } from '../model/hdr.js';
import { lastBucketsFor } from './bucket-columns.js';
import { METRIC_NAME, withLabel, type Labels } from '../model/labels.js';
import type { FloatSeries, HistogramSeries } from './interface.js';
import type { SeriesWindows } from './series-reader.js';
import type { Tier } from './tier.js';
import { isStaleNaN } from '../model/stale.js';

/** Variant is which Prometheus view of a stored series a selector asked for. */
export const enum Variant {
  Plain = 0,
  Bucket = 1,
  Sum = 2,
  Count = 3,
}

/** VARIANT_SUFFIX is the metric-name suffix of each variant. */
export const VARIANT_SUFFIX = ['', '_bucket', '_sum', '_count'] as const;

const EMPTY_HIST = new SparseHistogram(1);

/** formatLe renders a bucket bound as Prometheus prints `le`. */
export function formatLe(le: number): string {
  if (le === Infinity) return '+Inf';
  if (le === -Infinity) return '-Inf';
  return String(le);
}

/** bucketBounds returns the `le` bounds of a histogram series, +Inf last. */
export function bucketBounds(metaBounds: readonly number[] | undefined, w: SeriesWindows | null): number[] {
  let b: ArrayLike<number> | null = metaBounds && metaBounds.length > 0 ? metaBounds : null;
  if (b === null && w !== null) {
    for (const h of w.pts.hists) if (h.bounds !== null) { b = h.bounds; break; }
  }
  const out = Array.from(b ?? PROMETHEUS_DEFAULT_BUCKETS);
  if (out[out.length - 1] !== Infinity) out.push(Infinity);
  return out;
}

/** Range is the query window in ms plus the window indices to read for it. */
export interface ViewRange {
  readonly startMs: number;
  readonly endMs: number;
  /** First window whose sample can fall in range, minus one (for gap detection). */
  readonly fromIdx: number;
  /** Last window whose sample, or whose gap sample one window earlier, can fall in range. */
  readonly toIdx: number;
}

/** viewRange derives the windows to read for [startMs, endMs]. */
export function viewRange(tier: Tier, startMs: number, endMs: number): ViewRange {
  // Window i's sample is at its last point's time, inside [start(i), end(i)), and so is its gap
  // sample; the window before the first one that can hold startMs is read for gap detection.
  return { startMs, endMs, fromIdx: tier.index(startMs) - 1, toIdx: tier.index(endMs) };
}

/**
 * gapTime is where the sample before a window that follows a gap goes: the window's start (no
 * point of the series came between the previous window and it), or, when the window's own
 * sample sits on its start, the previous window's start.
 */
function gapTime(tier: Tier, idx: number, t: number): number {
  const s = tier.start(idx);
  return s < t ? s : tier.start(idx - 1);
}

/** isRaw says whether a counter window carries the sender's own value (or its stale marker). */
function isRaw(v: number): boolean {
  return v === v || isStaleNaN(v);
}

/**
 * cumulativeView builds a float series from per-window increments `inc(i)`, each sample at its
 * window's last point time: a window carrying the sender's value (`raw`, counters that arrived
 * cumulative) reads that value; otherwise the running total including the window, and a window
 * after a gap (or the series' first) is preceded by a sample at its start holding the total
 * before it (0 at creation).
 */
export function cumulativeView(labels: Labels, tier: Tier, r: ViewRange, w: SeriesWindows, base: number, inc: (i: number) => number, raw: Float64Array | null = null, thin = false, lead: Lead | null = null): FloatSeries {
  // Walked twice: counted, then stored in arrays of their final size (arrays of twice the
  // windows, then copied to size, were most of a day-long counter read), whole or thinned.
  const out = new Samples();
  walkCumulative(tier, r, w, base, inc, raw, out, lead);
  out.store(thin);
  walkCumulative(tier, r, w, base, inc, raw, out, lead);
  return out.series(labels);
}

/**
 * Lead asks cumulativeView for the last sample in [fromMs, r.startMs) before the samples in
 * range (SelectHints.leadFrom): the last one of the windows read, else `seedT`/`seedV` (the
 * sample of the last window before them; seedT < fromMs when there is none).
 */
export interface Lead {
  readonly fromMs: number;
  readonly seedT: number;
  readonly seedV: number;
}

/**
 * walkCumulative hands cumulativeView's samples to `out` in order. With a `lead`, samples in
 * [lead.fromMs, r.startMs) are held and only the last one held is added, before the first in
 * range (see Lead); without one, from = r.startMs and nothing before the range is held.
 */
function walkCumulative(tier: Tier, r: ViewRange, w: SeriesWindows, base: number, inc: (i: number) => number, raw: Float64Array | null, out: Samples, lead: Lead | null): void {
  const pts = w.pts;
  const start = r.startMs, end = r.endMs;
  const from = lead === null ? start : lead.fromMs;
  if (lead !== null && lead.seedT >= from && lead.seedT < start) out.hold(lead.seedT, lead.seedV);
  let cum = base;
  for (let i = 0; i < pts.n; i++) {
    const idx = pts.idx[i]!;
    const t = pts.t[i]!;
    const before = cum;
    cum += inc(i);
    if (raw !== null && isRaw(raw[i]!)) {
      if (t >= start) {
        if (t <= end) out.add(t, raw[i]!);
      } else if (t >= from) out.hold(t, raw[i]!);
      continue;
    }
    const gap = i === 0 ? idx > r.fromIdx : pts.idx[i - 1] !== idx - 1;
    if (gap) {
      const s = gapTime(tier, idx, t);
      if (s >= start) {
        if (s <= end) out.add(s, before);
      } else if (s >= from) out.hold(s, before);
    }
    if (t >= start) {
      if (t <= end) out.add(t, cum);
    } else if (t >= from) out.hold(t, cum);
  }
  out.flush();
}

const NO_SAMPLES = new Float64Array(0);

/**
 * Samples collects a view's samples over two walks: the first counts them (and their drops and
 * NaNs), the second stores them in arrays of their final size, every one or, thinned for
 * SelectHints.thin, the first, the last and the two around every drop (see thinSeries).
 */
class Samples {
  private n = 0;
  private drops = 0;
  private nan = false;
  private storing = false;
  private thinning = false;
  private prevT = 0;
  private prevV = 0;
  private lastKept = -1;
  private k = 0;
  private ts: Float64Array = NO_SAMPLES;
  private vs: Float64Array = NO_SAMPLES;
  private held = false;
  private heldT = 0;
  private heldV = 0;

  /** hold keeps a sample to add before the next one added (or at flush), unless another is held first. */
  hold(t: number, v: number): void {
    this.held = true;
    this.heldT = t;
    this.heldV = v;
  }

  /** flush adds the sample held, if any. */
  flush(): void {
    if (!this.held) return;
    this.held = false;
    this.add(this.heldT, this.heldV);
  }

  add(t: number, v: number): void {
    if (this.held) this.flush();
    const i = this.n++;
    if (!this.storing) {
      if (v !== v) this.nan = true;
      else if (i > 0 && v < this.prevV) this.drops++;
      this.prevV = v;
      return;
    }
    if (!this.thinning) {
      this.ts[this.k] = t;
      this.vs[this.k++] = v;
      return;
    }
    if (i === 0 || v < this.prevV) {
      if (i > 0 && this.lastKept !== i - 1) this.keep(this.prevT, this.prevV);
      this.keep(t, v);
      this.lastKept = i;
    }
    this.prevT = t;
    this.prevV = v;
  }

  private keep(t: number, v: number): void {
    this.ts[this.k] = t;
    this.vs[this.k++] = v;
  }

  /** store ends the counting walk: the next stores the samples (thinned with `thin` when that drops some). */
  store(thin: boolean): void {
    const n = this.n;
    this.thinning = thin && !this.nan && n > 2 && 2 + 2 * this.drops < n;
    const size = this.thinning ? 2 + 2 * this.drops : n;
    this.ts = new Float64Array(size);
    this.vs = new Float64Array(size);
    this.storing = true;
    this.n = 0;
  }

  series(labels: Labels): FloatSeries {
    if (!this.thinning) return { labels, timestamps: this.ts, values: this.vs };
    if (this.lastKept !== this.n - 1) this.keep(this.prevT, this.prevV);
    return { labels, timestamps: this.ts.subarray(0, this.k), values: this.vs.subarray(0, this.k), count: this.n };
  }
}

/** gaugeView stamps each window's `last` at its last point's time. */
/** countBefore is how many of the ascending t[0..n) lie before ms (or at it too, with `orAt`). */
function countBefore(t: Float64Array, n: number, ms: number, orAt: boolean): number {
  let lo = 0, hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (t[mid]! < ms || (orAt && t[mid] === ms)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function gaugeView(labels: Labels, r: ViewRange, w: SeriesWindows): FloatSeries {
  // Window times rise (each lies inside its window), so the samples in range are one run.
  const pts = w.pts, t = pts.t;
  const lo = countBefore(t, pts.n, r.startMs, false), hi = countBefore(t, pts.n, r.endMs, true);
  const out: FloatSeries = { labels, timestamps: t.slice(lo, hi), values: pts.a.slice(lo, hi) };
  if (w.summarized.length === 0) return out;
  // Rows standing for whole chunks (SelectHints.extremes) lie inside the range by construction.
  let count = hi - lo;
  for (let k = 0; k < w.summarized.length; k += 2) count += w.summarized[k + 1]! - 1;
  return { ...out, count };
}

/** histogramView is the bare-name histogram series: per-sample deltas over a lazy base. */
export function histogramView(labels: Labels, tier: Tier, r: ViewRange, w: SeriesWindows): HistogramSeries {
  const pts = w.pts;
  const ts: number[] = [];
  const deltas: SparseHistogram[] = [];
  // Windows before the first emitted sample fold into the base, computed on demand.
  let preCount = 0;
  for (let i = 0; i < pts.n; i++) {
    const idx = pts.idx[i]!;
    const gap = i === 0 ? idx > r.fromIdx : pts.idx[i - 1] !== idx - 1;
    const e = pts.t[i]!;
    if (gap) {
      const s = gapTime(tier, idx, e);
      if (s >= r.startMs && s <= r.endMs) { ts.push(s); deltas.push(EMPTY_HIST); }
    }
    if (e >= r.startMs && e <= r.endMs) { ts.push(e); deltas.push(pts.hists[i]!); }
    else if (ts.length === 0) preCount = i + 1;
  }
  let base: SparseHistogram | null = null;
  return {
    labels,
    timestamps: Float64Array.from(ts),
    deltas,
    base(): SparseHistogram {
      if (base === null) {
        base = w.fullBase();
        for (let i = 0; i < preCount; i++) base.add(pts.hists[i]!);
      }
      return base;
    },
  };
}

/**
 * thinSeries thins a series for SelectHints.thin: its first and last sample and the two around
 * every drop, with `count` the samples it had. Between two kept samples the full series never
 * drops, so a reset scan over the thinned samples finds the same resets, with the same values,
 * in the same order. Returned unchanged when there is nothing to drop or it holds a NaN (the
 * engine drops stale markers, which would join samples thinning separated).
 */
export function thinSeries(s: FloatSeries): FloatSeries {
  const v = s.values, k = v.length;
  if (k <= 2 || s.count !== undefined) return s;
  let keep = 2;
  if (v[0] !== v[0]) return s;
  for (let i = 1; i < k; i++) {
    const b = v[i]!;
    if (b !== b) return s;
    if (b < v[i - 1]!) keep += 2;
  }
  if (keep >= k) return s;
  const t = s.timestamps;
  const ts = new Float64Array(keep), vs = new Float64Array(keep);
  ts[0] = t[0]!;
  vs[0] = v[0]!;
  let p = 1, last = 0;
  const take = (i: number): void => {
    if (i === last) return;
    ts[p] = t[i]!;
    vs[p++] = v[i]!;
    last = i;
  };
  for (let i = 1; i < k; i++) {
    if (v[i]! < v[i - 1]!) {
      take(i - 1);
      take(i);
    }
  }
  take(k - 1);
  return { labels: s.labels, timestamps: ts.subarray(0, p), values: vs.subarray(0, p), count: k };
}

/**
 * bucketBase is each bound's `<= le` count before the windows read: from the header summaries,
 * or for bounds they lack from the histograms decoded before the range.
 */
function bucketBase(w: SeriesWindows, les: readonly number[]): Float64Array {
  const cum = new Float64Array(les.length);
  const summary = w.baseSummary;
  let full: SparseHistogram | null = null;
  for (let l = 0; l < les.length; l++) cum[l] = summary?.countLE(les[l]!) ?? (full ??= w.fullBase()).countLE(les[l]!);
  return cum;
}

/**
 * histogramBucketEnds is histogramBucketViews thinned (SelectHints.thin) without building the
 * series: when no window's `<= le` count is negative or NaN every `_bucket` series only rises,
 * so each keeps its first and last sample, and the running sums are added in the same order as
 * histogramBucketViews adds them. Null (build them, then thin) otherwise.
 */
export function histogramBucketEnds(labels: Labels, name: string, tier: Tier, r: ViewRange, w: SeriesWindows, les: readonly number[]): FloatSeries[] | null {
  const pts = w.pts, n = pts.n, L = les.length;
  const cols = pts.cols;
  if (cols === null) return null;
  const at = new Int32Array(L);
  for (let l = 0; l < L; l++) {
    at[l] = cols.column(les[l]!);
    if (at[l]! < 0) return null;
  }
  // Which samples fall in range: the first and last (as 2i for the gap sample before window i,
  // 2i + 1 for window i's own) and how many. A summary row (SeriesWindows.summarized) stands for
  // its chunk's samples, all in range and neither the first nor the last (see Windows.summarize),
  // unless the samples after it in range were dropped: then null.
  let k = 0, first = -1, last = -1, firstT = 0, lastT = 0;
  const sums = w.summarized;
  let si = 0, nextSummary = sums.length > 0 ? sums[0]! : -1, lastSummary = -1;
  for (let i = 0; i < n; i++) {
    if (i === nextSummary) {
      if (k === 0) return null;
      k += sums[si + 1]!;
      lastSummary = i;
      si += 2;
      nextSummary = si < sums.length ? sums[si]! : -1;
      continue;
    }
    const idx = pts.idx[i]!;
    const gap = i === 0 ? idx > r.fromIdx : pts.idx[i - 1] !== idx - 1;
    const e = pts.t[i]!;
    if (gap) {
      const s = gapTime(tier, idx, e);
      if (s >= r.startMs && s <= r.endMs) {
        if (k++ === 0) { first = 2 * i; firstT = s; }
        last = 2 * i;
        lastT = s;
      }
    }
    if (e >= r.startMs && e <= r.endMs) {
      if (k++ === 0) { first = 2 * i + 1; firstT = e; }
      last = 2 * i + 1;
      lastT = e;
    }
  }
  if (k === 0) return [];
  if (lastSummary > last >> 1) return null;
  const cum = bucketBase(w, les);
  for (let l = 0; l < L; l++) if (cum[l] !== cum[l]) return null;
  const firstV = new Float64Array(L), lastV = new Float64Array(L);
  const W = cols.width, cl = cols.le;
  const end = last >> 1;
  for (let i = 0; i <= end; i++) {
    if (2 * i === first) firstV.set(cum);
    if (2 * i === last) lastV.set(cum);
    const row = i * W;
    for (let l = 0; l < L; l++) {
      const inc = cl[row + at[l]!]!;
      if (!(inc >= 0)) return null;
      cum[l] = cum[l]! + inc;
    }
    if (2 * i + 1 === first) firstV.set(cum);
    if (2 * i + 1 === last) lastV.set(cum);
  }
  const out: FloatSeries[] = [];
  const times = k === 1 ? Float64Array.of(firstT) : Float64Array.of(firstT, lastT);
  for (let l = 0; l < L; l++) {
    const values = k === 1 ? Float64Array.of(firstV[l]!) : Float64Array.of(firstV[l]!, lastV[l]!);
    out.push({ labels: virtualLabels(labels, name, Variant.Bucket, les[l]), timestamps: times, values, count: k });
  }
  return out;
}

/** virtualLabels returns the labels of a variant (and `le` for buckets). */
export function virtualLabels(labels: Labels, name: string, v: Variant, le?: number): Labels {
  if (v === Variant.Plain) return labels;
  let out = withLabel(labels, METRIC_NAME, name + VARIANT_SUFFIX[v]);
  if (v === Variant.Bucket) out = withLabel(out, 'le', formatLe(le!));
  return out;
}

/** histogramFloatViews builds `_bucket{le}` (for `les`), `_sum` and `_count` float series. */
export function histogramFloatView(labels: Labels, name: string, tier: Tier, r: ViewRange, w: SeriesWindows, v: Variant, le: number, thin = false): FloatSeries {
  const hs = w.pts.hists, cols = w.pts.cols;
  const vl = virtualLabels(labels, name, v, le);
  // Header summaries give the base; bounds they lack fall back to decoding earlier windows.
  const summary = w.baseSummary;
  switch (v) {
    case Variant.Sum:
      return cumulativeView(vl, tier, r, w, summary !== null ? summary.sum : w.fullBase().sum, cols !== null ? (i) => cols.sums[i]! : (i) => hs[i]!.sum, null, thin);
    case Variant.Count:
      return cumulativeView(vl, tier, r, w, summary !== null ? summary.count : w.fullBase().count, cols !== null ? (i) => cols.counts[i]! : (i) => hs[i]!.count, null, thin);
    default: {
      const base = summary?.countLE(le) ?? w.fullBase().countLE(le);
      const l = cols !== null ? cols.column(le) : -1;
      if (l >= 0) return cumulativeView(vl, tier, r, w, base, (i) => cols!.le[i * cols!.width + l]!, null, thin);
      return cumulativeView(vl, tier, r, w, base, (i) => hs[i]!.countLE(le), null, thin);
    }
  }
}


/**
 * histogramBucketViews builds the `_bucket{le}` float series of one histogram series for every
 * bound in `les` at once: each window's buckets are walked once for all bounds (countLE would
 * walk them once per bound), and the samples are the ones cumulativeView stamps, with the same
 * running sums.
 */
export function histogramBucketViews(labels: Labels, name: string, tier: Tier, r: ViewRange, w: SeriesWindows, les: readonly number[], thin = false): FloatSeries[] {
  if (thin) {
    const ends = histogramBucketEnds(labels, name, tier, r, w, les);
    if (ends !== null) return ends;
  }
  const pts = w.pts, hs = pts.hists, n = pts.n, L = les.length;
  const cols = pts.cols;
  // Read into columns: each bound's column (every bound the views ask for is one of them).
  const at = new Int32Array(L);
  if (cols !== null) for (let l = 0; l < L; l++) at[l] = cols.column(les[l]!);
  const last = lastBucketsFor(les);
  const cum = bucketBase(w, les);
  const cap = 2 * n;
  const ts = new Float64Array(cap);
  const vals = new Float64Array(cap * L);
  const inc = new Float64Array(L);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const idx = pts.idx[i]!;
    const gap = i === 0 ? idx > r.fromIdx : pts.idx[i - 1] !== idx - 1;
    const e = pts.t[i]!;
    if (gap) {
      const s = gapTime(tier, idx, e);
      if (s >= r.startMs && s <= r.endMs) {
        ts[k] = s;
        for (let l = 0; l < L; l++) vals[l * cap + k] = cum[l]!;
        k++;
      }
    }
    if (cols !== null) {
      const row = i * cols.width, cl = cols.le;
      for (let l = 0; l < L; l++) inc[l] = cl[row + at[l]!]!;
    } else if (last === null || hs[i]!.bounds !== null) {
      const h = hs[i]!;
      for (let l = 0; l < L; l++) inc[l] = h.countLE(les[l]!);
    } else {
      // countLE's prefix sums, added in its order, for every bound in one walk.
      const h = hs[i]!;
      let b = 0, acc = 0;
      const m = h.size, hi = h.indices, hc = h.counts;
      for (let l = 0; l < L; l++) {
        const lb = last[l]!;
        if (lb === Infinity) {
          inc[l] = h.count;
          continue;
        }
        while (b < m && hi[b]! <= lb) acc += hc[b++]!;
        inc[l] = acc;
      }
    }
    for (let l = 0; l < L; l++) cum[l] = cum[l]! + inc[l]!;
    if (e >= r.startMs && e <= r.endMs) {
      ts[k] = e;
      for (let l = 0; l < L; l++) vals[l * cap + k] = cum[l]!;
      k++;
    }
  }
  // The bounds' series share one timestamps array and views of one values array: copies of
  // each were a quarter of a day-long `_bucket` read (readers never change a series' arrays).
  const out: FloatSeries[] = [];
  const times = ts.slice(0, k);
  for (let l = 0; l < L; l++) {
    out.push({ labels: virtualLabels(labels, name, Variant.Bucket, les[l]), timestamps: times, values: vals.subarray(l * cap, l * cap + k) });
  }
  return out;
}
