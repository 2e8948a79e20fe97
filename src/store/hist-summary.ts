import { PROMETHEUS_DEFAULT_BUCKETS, hdrIndex, hdrScale, type SparseHistogram } from '../model/hdr.js';
import type { BucketColumns } from './bucket-columns.js';
import { ByteReader, ByteWriter } from './byte-io.js';
import { decodeFloatColumn, encodeFloatColumn } from './float-column.js';

const DEFAULT_LES = Float64Array.from(PROMETHEUS_DEFAULT_BUCKETS);
const DEFAULT_LAST_BUCKETS = lastBuckets(DEFAULT_LES);

/**
 * HistSummary is what a histogram chunk's header keeps about its windows: count, sum and the
 * classic `<= le` counts at the series' bucket bounds. It is what `_count`, `_sum` and
 * `_bucket{le}` need to start a cumulative series at any time without decoding earlier chunks,
 * and it costs tens of bytes per chunk, where a merged HDR histogram would cost about a KB.
 */
export class HistSummary {
  readonly les: Float64Array;
  readonly leCounts: Float64Array;
  count: number;
  sum: number;
  /**
   * For each bound, the last HDR bucket index counted as `<= le` (countLE counts a bucket while
   * its lowest value is at most the scaled bound, i.e. up to the bucket holding it); null when
   * the bounds do not ascend from >= 0, and addWindow then asks countLE.
   */
  private readonly lastBucket: Float64Array | null;

  constructor(les: Float64Array, lastBucket?: Float64Array | null) {
    this.les = les;
    this.leCounts = new Float64Array(les.length);
    this.count = 0;
    this.sum = 0;
    this.lastBucket = lastBucket !== undefined ? lastBucket : les === DEFAULT_LES ? DEFAULT_LAST_BUCKETS : lastBuckets(les);
  }

  /** forBounds builds an empty summary for a series' bounds (Prometheus' defaults when none). */
  static forBounds(bounds: ArrayLike<number> | null | undefined): HistSummary {
    if (!bounds || bounds.length === 0) return new HistSummary(DEFAULT_LES);
    const les: number[] = [];
    for (let i = 0; i < bounds.length; i++) if (bounds[i] !== Infinity) les.push(bounds[i]!);
    return new HistSummary(Float64Array.from(les));
  }

  /**
   * addWindow adds one window. Equal to adding `h.countLE(le)` for every bound, in one pass over
   * the buckets (each prefix sum is accumulated in the same order countLE adds, so the result is
   * bit for bit the same); histograms with classic buckets take countLE.
   */
  addWindow(h: SparseHistogram): void {
    this.count += h.count;
    this.sum += h.sum;
    const les = this.les, out = this.leCounts, lastBucket = this.lastBucket;
    if (lastBucket === null || h.bounds !== null) {
      for (let i = 0; i < les.length; i++) out[i] = out[i]! + h.countLE(les[i]!);
      return;
    }
    let b = 0, s = 0;
    const n = h.size, idx = h.indices, counts = h.counts;
    for (let i = 0; i < les.length; i++) {
      const last = lastBucket[i]!;
      while (b < n && idx[b]! <= last) s += counts[b++]!;
      out[i] = out[i]! + s;
    }
  }

  /**
   * addRow is addWindow for a window read into columns (row j of `cols`; `at[i]` is the column
   * of bound i): the same numbers added in the same order.
   */
  addRow(cols: BucketColumns, j: number, at: Int32Array): void {
    this.count += cols.counts[j]!;
    this.sum += cols.sums[j]!;
    const out = this.leCounts, row = j * cols.width, le = cols.le;
    for (let i = 0; i < out.length; i++) out[i] = out[i]! + le[row + at[i]!]!;
  }

  /** add merges another summary; false when its bounds differ (the caller then decodes). */
  add(o: HistSummary): boolean {
    if (!sameLes(this.les, o.les)) return false;
    this.count += o.count;
    this.sum += o.sum;
    for (let i = 0; i < this.les.length; i++) this.leCounts[i] = this.leCounts[i]! + o.leCounts[i]!;
    return true;
  }

  clone(): HistSummary {
    const c = new HistSummary(this.les, this.lastBucket);
    c.leCounts.set(this.leCounts);
    c.count = this.count;
    c.sum = this.sum;
    return c;
  }

  /** countLE returns the `<= le` count, or null when `le` is not one of the summary's bounds. */
  countLE(le: number): number | null {
    if (le === Infinity) return this.count;
    for (let i = 0; i < this.les.length; i++) if (this.les[i] === le) return this.leCounts[i]!;
    return null;
  }

  encode(w: ByteWriter): void {
    if (this.les === DEFAULT_LES || sameLes(this.les, DEFAULT_LES)) w.u8(0);
    else {
      w.u8(1);
      w.uvarint(this.les.length);
      for (let i = 0; i < this.les.length; i++) w.f64(this.les[i]!);
    }
    w.f64(this.count);
    w.f64(this.sum);
    if (this.les.length > 0) encodeFloatColumn(w, this.leCounts, 0, this.les.length);
  }

  static decode(r: ByteReader): HistSummary {
    let les = DEFAULT_LES;
    if (r.u8() === 1) {
      les = new Float64Array(r.uvarint());
      for (let i = 0; i < les.length; i++) les[i] = r.f64();
    }
    const s = new HistSummary(les);
    s.count = r.f64();
    s.sum = r.f64();
    if (les.length > 0) decodeFloatColumn(r, les.length, s.leCounts, 0);
    return s;
  }
}

/** lastBuckets maps ascending non-negative finite bounds to their HDR bucket indices (else null). */
function lastBuckets(les: Float64Array): Float64Array | null {
  const out = new Float64Array(les.length);
  for (let i = 0; i < les.length; i++) {
    const le = les[i]!;
    if (!(le >= 0) || le === Infinity || (i > 0 && !(le > les[i - 1]!))) return null;
    out[i] = hdrIndex(hdrScale(le));
  }
  return out;
}

function sameLes(a: Float64Array, b: Float64Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** encodedSummaryLength is an upper bound of a summary's encoded size, for chunk budgeting. */
export function encodedSummaryLength(s: HistSummary): number {
  return 24 + (s.les === DEFAULT_LES ? 0 : 9 * s.les.length) + 4 + 8 * s.les.length;
}
