import { hdrIndex, hdrScale, type SparseHistogram } from '../model/hdr.js';
import type { HistSummary } from './hist-summary.js';

/**
 * lastBucketsFor maps bounds to the last HDR bucket index each counts (countLE counts a bucket
 * while its lowest value is at most the scaled bound, i.e. up to the bucket holding it), or null
 * unless the finite bounds ascend from >= 0 (then every count goes through countLE). Infinity
 * maps to Infinity.
 */
export function lastBucketsFor(les: ArrayLike<number>): Float64Array | null {
  const out = new Float64Array(les.length);
  for (let i = 0; i < les.length; i++) {
    const le = les[i]!;
    if (le === Infinity) out[i] = Infinity;
    else if (!(le >= 0) || (i > 0 && !(le > les[i - 1]!))) return null;
    else out[i] = hdrIndex(hdrScale(le));
  }
  return out;
}

/**
 * BucketColumns hold what the classic views of a histogram series (`_bucket{le}`, `_sum`,
 * `_count`) read from each window: its `<= le` count for every bound, its count and its sum, in
 * columns beside a PointBuf's window indices and times. A read that needs nothing else decodes
 * every window into one reused histogram and keeps these numbers instead of a SparseHistogram
 * per window: a day of 10 s windows is 8,640 histograms a series, and allocating them (and
 * collecting them) was most of a `_bucket` query's time.
 *
 * `les` are fixed before the read: the series' configured bounds, else Prometheus' defaults.
 * Without configured bounds the classic views take the bounds of the first window that carries
 * its sender's own (an OTLP explicit histogram); such a window clears `fits`, and the caller then
 * reads the series' histograms instead.
 */
export class BucketColumns {
  /** Bounds, ascending as given, +Inf last. */
  readonly les: Float64Array;
  readonly width: number;
  /** fits is false once a window carried classic bounds that `les` may not be (see above). */
  fits: boolean;
  /** counts[i], sums[i]: window i's count and sum; le[i * width + l]: its `<= les[l]` count. */
  counts: Float64Array;
  sums: Float64Array;
  le: Float64Array;
  private readonly lastBucket: Float64Array | null;
  private readonly boundsGiven: boolean;
  /** The splits segmentsOf last mapped, and their map. */
  private mapFor: Int32Array | null = null;
  private map: Int32Array | null = null;

  constructor(les: ArrayLike<number>, boundsGiven: boolean, capacity: number) {
    this.les = Float64Array.from(les);
    this.width = this.les.length;
    this.fits = true;
    this.counts = new Float64Array(capacity);
    this.sums = new Float64Array(capacity);
    this.le = new Float64Array(capacity * this.width);
    this.lastBucket = lastBucketsFor(this.les);
    this.boundsGiven = boundsGiven;
  }

  /** isFor says whether these columns were made for `les` (and `boundsGiven`). */
  isFor(les: readonly number[], boundsGiven: boolean): boolean {
    if (boundsGiven !== this.boundsGiven || les.length !== this.width) return false;
    for (let l = 0; l < les.length; l++) if (!Object.is(les[l], this.les[l])) return false;
    return true;
  }

  /** reuse readies the columns for another read (rows are overwritten as windows arrive). */
  reuse(): this {
    this.fits = true;
    return this;
  }

  /** like returns empty columns for the same bounds. */
  like(capacity: number): BucketColumns {
    return new BucketColumns(this.les, this.boundsGiven, capacity);
  }

  /** grow keeps the first `n` rows in room for `cap`. */
  grow(cap: number, n: number): void {
    const c = new Float64Array(cap), s = new Float64Array(cap), l = new Float64Array(cap * this.width);
    c.set(this.counts.subarray(0, n));
    s.set(this.sums.subarray(0, n));
    l.set(this.le.subarray(0, n * this.width));
    this.counts = c;
    this.sums = s;
    this.le = l;
  }

  /** shift moves rows [pos, n) one row up (an insert at pos). */
  shift(pos: number, n: number): void {
    this.counts.copyWithin(pos + 1, pos, n);
    this.sums.copyWithin(pos + 1, pos, n);
    this.le.copyWithin((pos + 1) * this.width, pos * this.width, n * this.width);
  }

  /**
   * set stores row i from a window's histogram: the same numbers, summed in the same order, as
   * `h.countLE(le)` (histograms with classic buckets, or bounds that do not ascend) or one walk
   * of its buckets for every bound (countLE's prefix sums), so running totals over the rows are
   * bit for bit those over the histograms.
   */
  set(i: number, h: SparseHistogram): void {
    const L = this.width, les = this.les, last = this.lastBucket, out = this.le, row = i * L;
    this.counts[i] = h.count;
    this.sums[i] = h.sum;
    if (h.bounds !== null && !this.boundsGiven) this.fits = false;
    if (last === null || h.bounds !== null) {
      for (let l = 0; l < L; l++) out[row + l] = h.countLE(les[l]!);
      return;
    }
    let b = 0, acc = 0;
    const m = h.size, hi = h.indices, hc = h.counts;
    for (let l = 0; l < L; l++) {
      const lb = last[l]!;
      if (lb === Infinity) {
        out[row + l] = h.count;
        continue;
      }
      while (b < m && hi[b]! <= lb) acc += hc[b++]!;
      out[row + l] = acc;
    }
  }

  /**
   * segmentsOf maps each bound to the position of its last bucket among a window's fold
   * `splits` (-1 for +Inf, whose count is the window's), or null when a bound's is not among
   * them, or the bounds go through countLE (see set). The map of the last splits asked is kept:
   * a block's windows name the same ones.
   */
  segmentsOf(splits: Int32Array): Int32Array | null {
    if (splits === this.mapFor) return this.map;
    const last = this.lastBucket;
    let map: Int32Array | null = null;
    if (last !== null) {
      map = new Int32Array(this.width);
      for (let l = 0; l < this.width && map !== null; l++) {
        const lb = last[l]!;
        if (lb === Infinity) map[l] = -1;
        else {
          const j = indexOf(splits, lb);
          if (j < 0) map = null;
          else map[l] = j;
        }
      }
    }
    this.mapFor = splits;
    this.map = map;
    return map;
  }

  /**
   * setRow stores row i from a window's count, sum and running `<= split` counts (`segments`,
   * through segmentsOf's map): the numbers set() adds up from its buckets, whole numbers below
   * 2^53, so equal whatever the order.
   */
  setRow(i: number, count: number, sum: number, segments: Float64Array, map: Int32Array): void {
    const L = this.width, row = i * L, out = this.le;
    this.counts[i] = count;
    this.sums[i] = sum;
    for (let l = 0; l < L; l++) {
      const j = map[l]!;
      out[row + l] = j < 0 ? count : segments[j]!;
    }
  }

  /**
   * setSummary stores row i from a chunk's header summary (its windows' count, sum and `<= le`
   * counts added up); false, storing nothing usable, when a bound is not among the summary's or
   * a count is not a whole number below 2^53.
   */
  setSummary(i: number, s: HistSummary): boolean {
    const L = this.width, row = i * L;
    if (!Number.isSafeInteger(s.count)) return false;
    for (let l = 0; l < L; l++) {
      const v = s.countLE(this.les[l]!);
      if (v === null || !Number.isSafeInteger(v)) return false;
      this.le[row + l] = v;
    }
    this.counts[i] = s.count;
    this.sums[i] = s.sum;
    return true;
  }

  /** copyRow copies row j of `src` (same bounds) into row i. */
  copyRow(i: number, src: BucketColumns, j: number): void {
    const L = this.width;
    this.counts[i] = src.counts[j]!;
    this.sums[i] = src.sums[j]!;
    this.le.set(src.le.subarray(j * L, j * L + L), i * L);
    if (!src.fits) this.fits = false;
  }

  /** column returns the position of bound `le`, or -1. */
  column(le: number): number {
    for (let l = 0; l < this.width; l++) if (this.les[l] === le) return l;
    return -1;
  }
}

/** indexOf finds `v` in ascending `a` (binary search), or -1. */
function indexOf(a: Int32Array, v: number): number {
  let lo = 0, hi = a.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1, x = a[mid]!;
    if (x === v) return mid;
    if (x < v) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
