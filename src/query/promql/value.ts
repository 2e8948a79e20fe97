import { SparseHistogram } from '../../model/hdr.js';
import type { Labels } from '../../model/labels.js';
import { equalBounds, sumStats } from './hist-stats.js';
import { SlidingHistogramSum } from './hist-window.js';

/**
 * StepSeries is one series of an instant-vector expression evaluated at every step of a query,
 * stored densely: `present[i]` says whether step i has a sample, `vs[i]` is its float value and
 * `hs[i]` (when `hs` exists) its histogram value. Dense arrays make per-step operators index
 * lookups instead of cursor walks.
 */
export class StepSeries {
  labels: Labels;
  readonly vs: Float64Array;
  readonly present: Uint8Array;
  hs: Array<SparseHistogram | null> | null;
  count: number;

  constructor(labels: Labels, steps: number) {
    this.labels = labels;
    this.vs = new Float64Array(steps);
    this.present = new Uint8Array(steps);
    this.hs = null;
    this.count = 0;
  }

  /** reset empties the series for reuse as scratch under new labels. */
  reset(labels: Labels): void {
    this.labels = labels;
    if (this.count > 0) {
      this.present.fill(0);
      if (this.hs !== null) this.hs.fill(null);
    }
    this.count = 0;
  }

  /** set stores a float sample at step i. */
  set(i: number, v: number): void {
    if (this.present[i] === 0) this.count++;
    this.present[i] = 1;
    this.vs[i] = v;
    if (this.hs !== null) this.hs[i] = null;
  }

  /** setH stores a histogram sample at step i. */
  setH(i: number, h: SparseHistogram): void {
    if (this.present[i] === 0) this.count++;
    this.present[i] = 1;
    this.vs[i] = 0;
    if (this.hs === null) this.hs = new Array<SparseHistogram | null>(this.vs.length).fill(null);
    this.hs[i] = h;
  }

  /** h returns the histogram at step i, or null for a float (or absent) sample. */
  h(i: number): SparseHistogram | null {
    return this.hs === null ? null : this.hs[i]!;
  }
}

/**
 * HistSource gives histogram values of a range series either as per-point deltas plus a lazy
 * base (straight from the store: rate() sums deltas and never builds cumulative buckets) or as
 * absolute values (subquery output).
 */
export class HistSource {
  readonly deltas: readonly SparseHistogram[] | null;
  readonly abs: readonly SparseHistogram[] | null;
  private readonly baseFn: (() => SparseHistogram) | null;
  private cur: SparseHistogram | null;
  private curIdx: number;
  private snap: SparseHistogram | null;
  private snapIdx: number;

  constructor(deltas: readonly SparseHistogram[] | null, base: (() => SparseHistogram) | null, abs: readonly SparseHistogram[] | null) {
    this.deltas = deltas;
    this.abs = abs;
    this.baseFn = base;
    this.cur = null;
    this.curIdx = -1;
    this.snap = null;
    this.snapIdx = -1;
  }

  /**
   * at returns the cumulative histogram of point i as an immutable snapshot. Forward walks (the
   * common case: steps advance) add one delta per point; the last snapshot is reused when the
   * same point is asked for again.
   */
  at(i: number): SparseHistogram {
    if (this.abs !== null) return this.abs[i]!;
    if (this.snapIdx === i) return this.snap!;
    if (this.cur === null || this.curIdx > i) {
      this.cur = this.baseFn!().clone();
      this.curIdx = -1;
    }
    if (i - this.curIdx > 1) {
      this.cur = this.cur.add(sumHistograms(this.deltas!, this.curIdx + 1, i + 1));
    } else if (i > this.curIdx) {
      this.cur.add(this.deltas![i]!);
    }
    this.curIdx = i;
    this.snap = this.cur.clone();
    this.snapIdx = i;
    return this.snap;
  }

  /** increase returns the change from point lo to point hi (hi > lo) as a new histogram. */
  increase(lo: number, hi: number): SparseHistogram {
    if (this.deltas !== null) return sumHistograms(this.deltas, lo + 1, hi + 1);
    return this.abs![hi]!.clone().sub(this.abs![lo]!);
  }

  /**
   * windowIncrease is increase() for windows that move forward step by step (rate, increase):
   * the same result, from a sliding sum of deltas instead of a fresh sum per step.
   */
  windowIncrease(lo: number, hi: number): SparseHistogram {
    if (this.deltas !== null) return sliding.sum(this.deltas, lo + 1, hi + 1) ?? sumHistograms(this.deltas, lo + 1, hi + 1);
    return this.abs![hi]!.clone().sub(this.abs![lo]!);
  }
}

/** RangeData is one series of a range vector: float points or histogram points. */
export interface RangeData {
  readonly labels: Labels;
  readonly t: ArrayLike<number>;
  readonly v: ArrayLike<number>;
  readonly hist: HistSource | null;
  /**
   * samples, when set, is how many samples the series had before the querier thinned it
   * (SelectHints.thin): `t` and `v` hold only the ones rate(), increase(), delta() and resets()
   * need, and a window must then hold all of them.
   */
  readonly samples?: number;
}

/** The sliding window sum every HistSource shares (evaluation is synchronous). */
const sliding = new SlidingHistogramSum();

/** Dense scratch for merging many histograms in one pass; HDR indices stay below 2^16. */
let scratch = new Float64Array(1 << 16);
let touched = new Int32Array(1024);

/** sumHistograms adds hs[lo..hi) into a new histogram in one pass (no per-add reallocation). */
export function sumHistograms(hs: readonly SparseHistogram[], lo: number, hi: number): SparseHistogram {
  let nt = 0;
  for (let k = lo; k < hi; k++) {
    const h = hs[k]!;
    const idx = h.indices, cs = h.counts;
    for (let j = 0; j < h.size; j++) {
      const x = idx[j]!;
      if (x >= scratch.length) {
        const ns = new Float64Array(Math.max(x + 1, scratch.length * 2));
        ns.set(scratch);
        scratch = ns;
      }
      if (scratch[x] === 0) {
        if (nt === touched.length) {
          const nt2 = new Int32Array(nt * 2);
          nt2.set(touched);
          touched = nt2;
        }
        touched[nt++] = x;
      }
      // Keep a touched bucket distinguishable from an untouched one even when counts cancel.
      scratch[x] = scratch[x]! + cs[j]! || Number.MIN_VALUE;
    }
  }
  const sorted = touched.subarray(0, nt).sort();
  const out = new SparseHistogram(Math.max(1, nt));
  for (let j = 0; j < nt; j++) {
    const x = sorted[j]!;
    const c = scratch[x]!;
    out.indices[j] = x;
    out.counts[j] = c === Number.MIN_VALUE ? 0 : c;
    scratch[x] = 0;
  }
  out.size = nt;
  sumSummaries(hs, lo, hi, out);
  return out;
}

/**
 * sumSummaries sets `out`'s count, sum, min and max to those of hs[lo..hi) added in order, and
 * its classic buckets to their sum when every histogram with observations has the same bounds.
 */
export function sumSummaries(hs: readonly SparseHistogram[], lo: number, hi: number, out: SparseHistogram): void {
  sumStats(hs, lo, hi, out);
  let bounds: Float64Array | null = null;
  let classic: Float64Array | null = null;
  let classicOk = true;
  for (let k = lo; k < hi; k++) {
    const h = hs[k]!;
    if (classicOk && h.bounds !== null) {
      if (bounds === null) {
        bounds = h.bounds;
        classic = new Float64Array(h.classicCounts!.length);
      } else if (!equalBounds(bounds, h.bounds)) {
        classicOk = false;
      }
      if (classicOk) {
        const cc = h.classicCounts!;
        for (let q = 0; q < classic!.length; q++) classic![q] = classic![q]! + cc[q]!;
      }
    } else if (h.bounds === null && h.count !== 0) classicOk = false;
  }
  if (classicOk && bounds !== null) {
    out.bounds = bounds;
    out.classicCounts = classic;
  }
}
