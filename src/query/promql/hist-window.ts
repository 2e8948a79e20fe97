import { SparseHistogram } from '../../model/hdr.js';
import { equalBounds, sumStats } from './hist-stats.js';

/**
 * Largest bucket count a delta may carry, and most deltas a window may hold, for the sliding sum
 * to stay exact: every partial sum, in any order, then stays below 2^52, where floating-point
 * integers add and subtract without rounding.
 */
const MAX_EXACT_COUNT = 2 ** 32;
const MAX_EXACT_WINDOW = 2 ** 20;

/**
 * SlidingHistogramSum sums a moving window of per-point histogram deltas, as rate() and
 * increase() over a bare histogram need at every step. Adjacent steps' windows share all but a
 * few points (a [5m] window over 10 s data holds 30 deltas and a 1 m step moves it by 6), so
 * instead of merging every delta of the window again at each step it adds the deltas that
 * enter and subtracts those that leave, in dense per-bucket arrays, and keeps the sorted list of
 * buckets that some delta in the window has.
 *
 * Results are bit-for-bit those of summing the window afresh (`sumHistograms`): integer bucket
 * and classic counts add and subtract exactly, the bucket set is the union of the window's
 * deltas' buckets (zero counts included), classic buckets are kept when no delta with
 * observations lacks them and all deltas' bounds agree, and count, sum, min and max (floats
 * whose sum depends on order) are folded over the window by the same code. A fractional or huge
 * count (StatsD sample rates) makes `sum` return null and the caller sums the window itself.
 *
 * One instance is shared by an evaluation's series (the engine is synchronous); it follows one
 * deltas array at a time and starts over when asked about another.
 */
export class SlidingHistogramSum {
  private counts: Float64Array;
  /** How many deltas in the window have each bucket. */
  private touch: Int32Array;
  /** Buckets with touch > 0, ascending. */
  private active: Int32Array;
  private nActive: number;
  private src: readonly SparseHistogram[] | null;
  private lo: number;
  private hi: number;
  private exact: boolean;
  /** Classic bounds of the window (those of the first delta with bounds since the last reset). */
  private bounds: Float64Array | null;
  private classic: Float64Array | null;
  /** Deltas in the window with classic buckets, and of those with other bounds than `bounds`. */
  private withBounds: number;
  private otherBounds: number;
  /** Deltas in the window with observations but no classic buckets. */
  private noBounds: number;

  constructor() {
    this.counts = new Float64Array(1 << 16);
    this.touch = new Int32Array(1 << 16);
    this.active = new Int32Array(256);
    this.nActive = 0;
    this.src = null;
    this.lo = 0;
    this.hi = 0;
    this.exact = true;
    this.bounds = null;
    this.classic = null;
    this.withBounds = 0;
    this.otherBounds = 0;
    this.noBounds = 0;
  }

  /**
   * sum returns the sum of hs[lo..hi) as a new histogram (hi > lo), or null when the window's
   * counts are not all small integers.
   */
  sum(hs: readonly SparseHistogram[], lo: number, hi: number): SparseHistogram | null {
    if (hi - lo > MAX_EXACT_WINDOW) return null;
    const moved = (lo - this.lo) + (hi - this.hi);
    // Another series, a backward move or a jump: start from an empty window.
    if (hs !== this.src || lo < this.lo || hi < this.hi || lo >= this.hi || moved > hi - lo) this.restart(hs, lo);
    if (!this.exact || !this.advance(hs, lo, hi)) return null;
    if (this.otherBounds > 0 && this.otherBounds === this.withBounds) {
      // The bounds changed and the first ones have left the window: take the new ones as the anchor.
      this.restart(hs, lo);
      if (!this.advance(hs, lo, hi)) return null;
    }
    const n = this.nActive;
    const out = new SparseHistogram(Math.max(1, n));
    const act = this.active, counts = this.counts;
    for (let j = 0; j < n; j++) {
      const x = act[j]!;
      out.indices[j] = x;
      out.counts[j] = counts[x]!;
    }
    out.size = n;
    sumStats(hs, lo, hi, out);
    // As a fresh sum: classic buckets only when every delta with observations has them, all alike.
    if (this.withBounds > 0 && this.noBounds === 0 && this.otherBounds === 0) {
      out.bounds = this.bounds;
      out.classicCounts = this.classic!.slice();
    }
    return out;
  }

  private restart(hs: readonly SparseHistogram[], lo: number): void {
    this.clear();
    this.src = hs;
    this.exact = true;
    this.lo = lo;
    this.hi = lo;
  }

  /** advance moves the window to [lo, hi); false (inexact until restarted) on a count it cannot sum exactly. */
  private advance(hs: readonly SparseHistogram[], lo: number, hi: number): boolean {
    for (let k = this.lo; k < lo; k++) this.remove(hs[k]!);
    for (let k = this.hi; k < hi; k++) {
      if (!this.add(hs[k]!)) {
        this.exact = false;
        return false;
      }
    }
    this.lo = lo;
    this.hi = hi;
    return true;
  }

  private clear(): void {
    const act = this.active;
    for (let j = 0; j < this.nActive; j++) {
      const x = act[j]!;
      this.counts[x] = 0;
      this.touch[x] = 0;
    }
    this.nActive = 0;
    this.bounds = null;
    this.classic = null;
    this.withBounds = 0;
    this.otherBounds = 0;
    this.noBounds = 0;
  }

  /** add puts a delta's buckets in the window; false when a count is not a small integer. */
  private add(h: SparseHistogram): boolean {
    const idx = h.indices, cs = h.counts;
    for (let j = 0; j < h.size; j++) {
      const x = idx[j]!, c = cs[j]!;
      if (!Number.isInteger(c) || c > MAX_EXACT_COUNT || c < -MAX_EXACT_COUNT) return false;
      if (x >= this.counts.length) this.grow(x + 1);
      if (this.touch[x]!++ === 0) {
        this.insert(x);
        this.counts[x] = c;
      } else {
        this.counts[x] = this.counts[x]! + c;
      }
    }
    const b = h.bounds;
    if (b === null) {
      if (h.count !== 0) this.noBounds++;
      return true;
    }
    this.withBounds++;
    if (this.bounds === null) {
      this.bounds = b;
      this.classic = new Float64Array(h.classicCounts!.length);
    } else if (!equalBounds(this.bounds, b)) {
      this.otherBounds++;
      return true;
    }
    const cc = h.classicCounts!, sum = this.classic!;
    for (let q = 0; q < sum.length; q++) {
      const c = cc[q]!;
      if (!Number.isInteger(c) || c > MAX_EXACT_COUNT || c < -MAX_EXACT_COUNT) return false;
      sum[q] = sum[q]! + c;
    }
    return true;
  }

  /** remove takes a delta (added earlier) out of the window. */
  private remove(h: SparseHistogram): void {
    const idx = h.indices, cs = h.counts;
    for (let j = 0; j < h.size; j++) {
      const x = idx[j]!;
      if (--this.touch[x]! === 0) {
        this.counts[x] = 0;
        this.drop(x);
      } else {
        this.counts[x] = this.counts[x]! - cs[j]!;
      }
    }
    const b = h.bounds;
    if (b === null) {
      if (h.count !== 0) this.noBounds--;
      return;
    }
    this.withBounds--;
    if (!equalBounds(this.bounds!, b)) {
      this.otherBounds--;
      return;
    }
    const cc = h.classicCounts!, sum = this.classic!;
    for (let q = 0; q < sum.length; q++) sum[q] = sum[q]! - cc[q]!;
  }

  private position(x: number): number {
    const act = this.active;
    let lo = 0, hi = this.nActive;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (act[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private insert(x: number): void {
    const n = this.nActive;
    if (n === this.active.length) {
      const next = new Int32Array(n * 2);
      next.set(this.active);
      this.active = next;
    }
    const act = this.active;
    // Deltas list buckets ascending, so a new bucket is often past the last one.
    if (n === 0 || act[n - 1]! < x) act[n] = x;
    else {
      const p = this.position(x);
      act.copyWithin(p + 1, p, n);
      act[p] = x;
    }
    this.nActive = n + 1;
  }

  private drop(x: number): void {
    const p = this.position(x);
    this.active.copyWithin(p, p + 1, this.nActive);
    this.nActive--;
  }

  private grow(n: number): void {
    const size = Math.max(n, this.counts.length * 2);
    const c = new Float64Array(size);
    c.set(this.counts);
    this.counts = c;
    const t = new Int32Array(size);
    t.set(this.touch);
    this.touch = t;
  }
}
