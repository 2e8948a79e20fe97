import { hdrIndexOf } from '../../model/hdr.js';
import { doubleBytes } from '../../wire/proto-reader.js';

/**
 * BucketLayout is where each explicit bucket of one set of bounds lands in HDR: a fixed
 * representative value per bucket and its HDR index. Fixed per bounds, so cumulative histograms
 * subtract exactly; shared by every series with the same bounds (they are immutable).
 */
export interface BucketLayout {
  /** Upper bounds without +Inf, as the sender gave them. */
  readonly bounds: Float64Array;
  /** The same bounds as an array, for SeriesOptions. */
  readonly boundsList: readonly number[];
  /** The bounds as a packed protobuf double field (little-endian), to compare a point's bytes with. */
  readonly raw: Uint8Array;
  /** HDR index per bucket, +Inf bucket last. */
  readonly index: Int32Array;
  /** Representative value per bucket, +Inf bucket last. */
  readonly value: Float64Array;
}

/** How many distinct bound sets are interned before new ones are built per series instead. */
const MAX_LAYOUTS = 4096;

/**
 * BucketLayouts interns layouts by bound values: a service typically uses a handful of bucket
 * sets across thousands of series, so each set is computed and stored once.
 */
export class BucketLayouts {
  private readonly byKey = new Map<string, BucketLayout>();

  /** get returns the layout of the first `n` values of `bounds` (which may be a reused buffer). */
  get(bounds: Float64Array, n: number): BucketLayout {
    let key = '';
    for (let i = 0; i < n; i++) {
      const b = bounds[i]!;
      key += (i === 0 ? '' : ',') + (Object.is(b, -0) ? '-0' : b);
    }
    let l = this.byKey.get(key);
    if (l === undefined) {
      l = layoutOf(bounds.slice(0, n));
      if (this.byKey.size < MAX_LAYOUTS) this.byKey.set(key, l);
    }
    return l;
  }
}

function layoutOf(bounds: Float64Array): BucketLayout {
  const n = bounds.length + 1;
  const index = new Int32Array(n);
  const value = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    // A fixed representative value per bucket: the midpoint, the first bucket's upper half
    // from 0, the +Inf bucket at its lower bound (where histogram_quantile also stops).
    let v: number;
    if (bounds.length === 0) v = 0;
    else if (i === 0) v = bounds[0]! > 0 ? bounds[0]! / 2 : bounds[0]!;
    else if (i === n - 1) v = bounds[n - 2]!;
    else v = (bounds[i - 1]! + bounds[i]!) / 2;
    value[i] = v;
    index[i] = hdrIndexOf(v);
  }
  return { bounds, boundsList: Array.from(bounds), raw: doubleBytes(bounds), index, value };
}
