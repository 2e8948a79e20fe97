/**
 * HDR bucketing shared by aggregation (record), storage (encode) and query (merge, quantile).
 *
 * Layout is HdrHistogram's with lowestDiscernibleValue 1 and 3 significant digits: 2048 sub-buckets,
 * so index i < 2048 holds the integer i exactly and every later bucket halves resolution. Values are
 * recorded as integers after multiplying by HDR_SCALE, so fractional values (seconds, fractional
 * tokens) keep their precision: 1e-6 units to 9e9 units (2^53 / 1e6) span fifteen decimal orders,
 * microseconds to years for durations and single tokens to billions for counts.
 * Indices equal hdr-histogram-js' `countsArrayIndex` for the same configuration (tested).
 */
export const HDR_SCALE = 1e6;
const SUB_HALF_MAG = 10; // log2(subBucketHalfCount)
const SUB_HALF = 1 << SUB_HALF_MAG; // 1024
const SUB_COUNT = SUB_HALF * 2; // 2048
/** HDR_MAX_SCALED is the largest recordable scaled value; larger values are clamped to it. */
export const HDR_MAX_SCALED = Number.MAX_SAFE_INTEGER;

/** floorLog2 returns floor(log2(v)) exactly for integers 1 <= v < 2^53. */
function floorLog2(v: number): number {
  if (v < 4294967296) return 31 - Math.clz32(v);
  return 63 - Math.clz32(Math.floor(v / 4294967296));
}

/** hdrScale converts a user value to the recorded integer (negatives and NaN record as 0). */
export function hdrScale(value: number): number {
  const s = Math.round(value * HDR_SCALE);
  if (!(s > 0)) return 0;
  return s > HDR_MAX_SCALED ? HDR_MAX_SCALED : s;
}

/** hdrIndex returns the counts-array index of a scaled integer value. */
export function hdrIndex(scaled: number): number {
  if (scaled < SUB_COUNT) return scaled;
  const bucket = floorLog2(scaled) - SUB_HALF_MAG;
  const sub = Math.floor(scaled / 2 ** bucket);
  return (bucket + 1) * SUB_HALF + (sub - SUB_HALF);
}

/** hdrIndexOf is hdrIndex(hdrScale(value)). */
export function hdrIndexOf(value: number): number {
  return hdrIndex(hdrScale(value));
}

/** hdrLowest returns the lowest scaled value that maps to an index. */
export function hdrLowest(index: number): number {
  let bucket = Math.floor(index / SUB_HALF) - 1;
  let sub = (index % SUB_HALF) + SUB_HALF;
  if (bucket < 0) {
    sub -= SUB_HALF;
    bucket = 0;
  }
  return sub * 2 ** bucket;
}

/** hdrWidth returns how many scaled integers share an index. */
export function hdrWidth(index: number): number {
  const bucket = Math.floor(index / SUB_HALF) - 1;
  return bucket <= 0 ? 1 : 2 ** bucket;
}

/** hdrLowerBound returns the bucket's lower bound in user units. */
export function hdrLowerBound(index: number): number {
  return hdrLowest(index) / HDR_SCALE;
}

/** hdrUpperBound returns the bucket's exclusive upper bound in user units. */
export function hdrUpperBound(index: number): number {
  return (hdrLowest(index) + hdrWidth(index)) / HDR_SCALE;
}

/**
 * SparseHistogram is a histogram value: the non-zero HDR buckets in ascending index order plus
 * count, sum, min and max of the observations. It is a window's aggregate, a rollup, a delta
 * or a cumulative value depending on who holds it. Counts are floats because rates scale them.
 *
 * A histogram that came from an OTLP explicit-bucket histogram also carries its classic buckets
 * (`bounds` upper bounds, `classicCounts` per bucket with the +Inf bucket last), so `_bucket`
 * series keep the sender's boundaries exactly.
 */
export class SparseHistogram {
  indices: Int32Array;
  counts: Float64Array;
  // Number fields are initialised where declared: an ES2022 class field declared bare starts as
  // undefined, and V8 then boxes every later double store into a fresh heap number.
  size = 0;
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  bounds: Float64Array | null = null;
  classicCounts: Float64Array | null = null;

  constructor(capacity = 8) {
    // One buffer for both, as ensure() grows them: a window's histogram is one ArrayBuffer and
    // one backing store, not two of each (~130 bytes less per open histogram window).
    const block = new ArrayBuffer(capacity * 12);
    this.counts = new Float64Array(block, 0, capacity);
    this.indices = new Int32Array(block, capacity * 8, capacity);
  }

  /** fromBuckets builds a histogram from parallel ascending index/count arrays (copied). */
  static fromBuckets(indices: ArrayLike<number>, counts: ArrayLike<number>, count: number, sum: number, min: number, max: number): SparseHistogram {
    const h = new SparseHistogram(Math.max(1, indices.length));
    for (let i = 0; i < indices.length; i++) {
      h.indices[i] = indices[i]!;
      h.counts[i] = counts[i]!;
    }
    h.size = indices.length;
    h.count = count;
    h.sum = sum;
    h.min = min;
    h.max = max;
    return h;
  }

  /** clear empties the histogram for reuse: its buffer and classic bounds kept, their counts zero. */
  clear(): void {
    this.size = 0;
    this.count = 0;
    this.sum = 0;
    this.min = Infinity;
    this.max = -Infinity;
    this.classicCounts?.fill(0);
  }

  /** record adds `n` observations of `value` (user units). */
  record(value: number, n = 1): void {
    this.addAtIndex(hdrIndexOf(value), n);
    this.count += n;
    this.sum += value * n;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }

  /** addAtIndex adds `n` to a bucket without touching count/sum/min/max. */
  addAtIndex(index: number, n: number): void {
    const size = this.size;
    // Fast path: ascending or repeated index (common when merging sorted input).
    if (size === 0 || this.indices[size - 1]! < index) {
      this.ensure(size + 1);
      this.indices[size] = index;
      this.counts[size] = n;
      this.size = size + 1;
      return;
    }
    let lo = 0, hi = size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.indices[mid]! < index) lo = mid + 1;
      else hi = mid;
    }
    if (this.indices[lo] === index) {
      this.counts[lo] = this.counts[lo]! + n;
      return;
    }
    this.ensure(size + 1);
    this.indices.copyWithin(lo + 1, lo, size);
    this.counts.copyWithin(lo + 1, lo, size);
    this.indices[lo] = index;
    this.counts[lo] = n;
    this.size = size + 1;
  }

  /** reserve makes room for `n` buckets without changing the histogram. */
  reserve(n: number): void {
    this.ensure(n);
  }

  private ensure(n: number): void {
    if (n <= this.indices.length) return;
    const cap = Math.max(n, this.indices.length * 2);
    // Counts and indices share one buffer, so a merge touches one memory block, not two.
    const block = new ArrayBuffer(cap * 12);
    const nc = new Float64Array(block, 0, cap);
    nc.set(this.counts.subarray(0, this.size));
    const ni = new Int32Array(block, cap * 8, cap);
    ni.set(this.indices.subarray(0, this.size));
    this.indices = ni;
    this.counts = nc;
  }

  /** clone returns an independent copy. */
  clone(): SparseHistogram {
    const h = SparseHistogram.fromBuckets(this.indices.subarray(0, this.size), this.counts.subarray(0, this.size), this.count, this.sum, this.min, this.max);
    if (this.bounds) {
      h.bounds = this.bounds;
      h.classicCounts = this.classicCounts!.slice();
    }
    return h;
  }

  /**
   * add merges `other` into this histogram (exact: bucket counts add). It merges in place,
   * backwards from the end of the union, so it allocates only when the union outgrows capacity.
   * The leading buckets both sides share at the same positions (all of them in a window's steady
   * state, where every delta brings the window's own indices) are added in the pass that finds
   * them; only the rest is counted and merged.
   */
  add(other: SparseHistogram, factor = 1): this {
    const wasEmpty = this.size === 0 && this.count === 0;
    const n = this.size, m = other.size;
    let s = 0;
    {
      const a = this.indices, ac = this.counts, b = other.indices, bc = other.counts;
      const common = n < m ? n : m;
      while (s < common && a[s] === b[s]) {
        ac[s] = ac[s]! + bc[s]! * factor;
        s++;
      }
    }
    let k = n;
    if (s < m) {
      const a = this.indices, b = other.indices;
      let i = s, j = s;
      while (i < n && j < m) {
        const x = a[i]!, y = b[j]!;
        if (x < y) i++;
        else if (y < x) { k++; j++; }
        else { i++; j++; }
      }
      k += m - j;
    }
    this.ensure(k);
    const a = this.indices, ac = this.counts, b = other.indices, bc = other.counts;
    if (k === n) {
      // Every remaining bucket of `other` is already here: add counts.
      for (let i = s, j = s; j < m; j++) {
        const y = b[j]!;
        while (a[i]! < y) i++;
        ac[i] = ac[i]! + bc[j]! * factor;
      }
    } else {
      // The shared prefix [0, s) is done and stays where it is: the union's tail ends at k - 1.
      let i = n - 1, j = m - 1, p = k - 1;
      while (j >= s) {
        const y = b[j]!;
        if (i >= s && a[i]! > y) { a[p] = a[i]!; ac[p--] = ac[i--]!; }
        else if (i >= s && a[i] === y) { a[p] = y; ac[p--] = ac[i--]! + bc[j--]! * factor; }
        else { a[p] = y; ac[p--] = bc[j--]! * factor; }
      }
    }
    this.size = k;
    this.count += other.count * factor;
    this.sum += other.sum * factor;
    if (factor > 0) {
      if (other.min < this.min) this.min = other.min;
      if (other.max > this.max) this.max = other.max;
    }
    if (other.bounds) {
      if (wasEmpty) {
        this.bounds = other.bounds;
        // A loop, not map(c => c * factor): a closure over `factor` would make every call of
        // add allocate a context for it (40 bytes a merge, most of the worker's garbage).
        const oc = other.classicCounts!, cc = new Float64Array(oc.length);
        for (let q = 0; q < oc.length; q++) cc[q] = oc[q]! * factor;
        this.classicCounts = cc;
      } else if (this.bounds && sameBounds(this.bounds, other.bounds)) {
        const cc = this.classicCounts!, oc = other.classicCounts!;
        for (let q = 0; q < cc.length; q++) cc[q] = cc[q]! + oc[q]! * factor;
      } else {
        this.bounds = null;
        this.classicCounts = null;
      }
    } else if (this.bounds && other.count !== 0) {
      this.bounds = null;
      this.classicCounts = null;
    }
    return this;
  }

  /** sub subtracts `other` (a delta between two cumulative values); min/max are kept from this. */
  sub(other: SparseHistogram): this {
    const min = this.min, max = this.max;
    this.add(other, -1);
    this.min = min;
    this.max = max;
    return this;
  }

  /** scale multiplies every count (and sum) by f, as rate() does. */
  scale(f: number): this {
    for (let i = 0; i < this.size; i++) this.counts[i] = this.counts[i]! * f;
    this.count *= f;
    this.sum *= f;
    if (this.classicCounts) for (let i = 0; i < this.classicCounts.length; i++) this.classicCounts[i] = this.classicCounts[i]! * f;
    return this;
  }

  /**
   * quantile returns the q-quantile (0..1) in user units, interpolating linearly inside the HDR
   * bucket that holds the rank and clamping to the observed min and max, so the error is at most
   * one bucket width (under 0.1 % relative). NaN for an empty histogram, as Prometheus.
   */
  quantile(q: number): number {
    if (!(this.count > 0) || Number.isNaN(q)) return NaN;
    if (q < 0) return -Infinity;
    if (q > 1) return Infinity;
    const rank = q * this.count;
    let cum = 0;
    for (let i = 0; i < this.size; i++) {
      const c = this.counts[i]!;
      if (c <= 0) continue;
      if (cum + c >= rank) {
        const idx = this.indices[i]!;
        const lo = hdrLowerBound(idx), hi = hdrUpperBound(idx);
        let v = lo + (hi - lo) * ((rank - cum) / c);
        if (v < this.min) v = this.min;
        if (v > this.max) v = this.max;
        return v;
      }
      cum += c;
    }
    return Number.isFinite(this.max) ? this.max : hdrUpperBound(this.indices[this.size - 1] ?? 0);
  }

  /** countLE returns how many observations are <= le (classic `_bucket{le}` semantics). */
  countLE(le: number): number {
    if (this.bounds) {
      for (let i = 0; i < this.bounds.length; i++) {
        if (this.bounds[i] === le) {
          let s = 0;
          for (let j = 0; j <= i; j++) s += this.classicCounts![j]!;
          return s;
        }
      }
    }
    if (le === Infinity) return this.count;
    if (le < 0) return 0;
    const limit = hdrScale(le);
    let s = 0;
    for (let i = 0; i < this.size; i++) {
      if (hdrLowest(this.indices[i]!) > limit) break;
      s += this.counts[i]!;
    }
    return s;
  }

  /** fraction estimates the share of observations in [lower, upper], as histogram_fraction. */
  fraction(lower: number, upper: number): number {
    if (!(this.count > 0)) return NaN;
    let s = 0;
    for (let i = 0; i < this.size; i++) {
      const idx = this.indices[i]!;
      const lo = hdrLowerBound(idx), hi = hdrUpperBound(idx);
      if (hi <= lower || lo > upper) continue;
      const a = Math.max(lo, lower), b = Math.min(hi, upper);
      s += hi > lo ? (this.counts[i]! * (b - a)) / (hi - lo) : this.counts[i]!;
    }
    return s / this.count;
  }
}

function sameBounds(a: Float64Array, b: Float64Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** PROMETHEUS_DEFAULT_BUCKETS are client_golang's DefBuckets, used when no bounds are configured. */
export const PROMETHEUS_DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
