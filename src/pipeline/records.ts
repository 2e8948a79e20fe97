import type { SparseHistogram } from '../model/hdr.js';

/**
 * The record format of a batch: fixed-size records of RECORD_STRIDE float64 slots
 * `[op, slot, a, b, ts]` in a transferable Float64Array, so handing thousands of samples to a
 * worker costs one postMessage and no per-sample objects. Histograms travel in a side buffer.
 */
export const RECORD_STRIDE = 5;

/** Op codes of a record; `a` and `b` per op are noted. */
export const enum Op {
  /** a = increment */
  Counter = 0,
  /** a = cumulative total, b = stream start ms (0 unknown) */
  CounterCumulative = 1,
  /** a = value */
  GaugeSet = 2,
  /** a = delta */
  GaugeAdd = 3,
  /** a = value, b = count */
  Observe = 4,
  /** a = member hash */
  SetMember = 5,
  /** a = offset in the side buffer */
  Histogram = 6,
  /** a = offset in the side buffer, b = stream start ms */
  HistogramCumulative = 7,
  /** the series ends at ts (stale marker); a, b unused */
  Stale = 8,
}

/** OP_COUNT is the number of op codes (size of per-op tallies). */
export const OP_COUNT = 9;

/** histogramSize is how many float64 slots encodeHistogram needs for `h`. */
export function histogramSize(h: SparseHistogram): number {
  const nb = h.bounds ? h.bounds.length : 0;
  return 6 + 2 * h.size + (h.bounds ? 2 * nb + 1 : 0);
}

/**
 * encodeHistogram writes `h` at `off` as `[size, count, sum, min, max, nBounds|-1, indices...,
 * counts..., bounds..., classicCounts...]`; the caller guarantees room (histogramSize).
 */
export function encodeHistogram(buf: Float64Array, off: number, h: SparseHistogram): number {
  const n = h.size;
  buf[off] = n;
  buf[off + 1] = h.count;
  buf[off + 2] = h.sum;
  buf[off + 3] = h.min;
  buf[off + 4] = h.max;
  buf[off + 5] = h.bounds ? h.bounds.length : -1;
  let p = off + 6;
  for (let i = 0; i < n; i++) buf[p++] = h.indices[i]!;
  for (let i = 0; i < n; i++) buf[p++] = h.counts[i]!;
  if (h.bounds) {
    const b = h.bounds, cc = h.classicCounts!;
    for (let i = 0; i < b.length; i++) buf[p++] = b[i]!;
    for (let i = 0; i <= b.length; i++) buf[p++] = cc[i] ?? 0;
  }
  return p;
}

/** histogramCount is the total count of the histogram encoded at `off`. */
export function histogramCount(buf: Float64Array, off: number): number {
  return buf[off + 1]!;
}

/**
 * readHistogram overwrites `h` with the histogram written by encodeHistogram at `off`, reusing
 * h's arrays, so the worker's steady state allocates nothing per histogram. Classic bounds are
 * shared, never copied, when they equal `knownBounds` or h's own (bounds arrays are immutable);
 * h's classic counts array is reused when the length fits (it is never shared).
 */
export function readHistogram(h: SparseHistogram, buf: Float64Array, off: number, knownBounds: Float64Array | null): SparseHistogram {
  const n = buf[off]!;
  const nb = buf[off + 5]!;
  if (h.indices.length < n) {
    if (nb >= 0 && (h.classicCounts === null || h.classicCounts.length !== nb + 1)) {
      // First fill of a histogram with classic buckets (a stream's baseline): counts, classic
      // counts and indices in one block, so reading and merging it touch one piece of memory.
      const block = new ArrayBuffer(n * 8 + (nb + 1) * 8 + n * 4);
      h.counts = new Float64Array(block, 0, n);
      h.classicCounts = new Float64Array(block, n * 8, nb + 1);
      h.indices = new Int32Array(block, (n + nb + 1) * 8, n);
    } else {
      h.size = 0;
      h.reserve(n);
    }
  }
  const idx = h.indices, cnt = h.counts;
  let p = off + 6;
  for (let i = 0; i < n; i++) idx[i] = buf[p + i]!;
  p += n;
  for (let i = 0; i < n; i++) cnt[i] = buf[p + i]!;
  p += n;
  h.size = n;
  h.count = buf[off + 1]!;
  h.sum = buf[off + 2]!;
  h.min = buf[off + 3]!;
  h.max = buf[off + 4]!;
  if (nb < 0) {
    h.bounds = null;
    h.classicCounts = null;
    return h;
  }
  h.bounds = boundsAt(buf, p, nb, knownBounds) ?? boundsAt(buf, p, nb, h.bounds) ?? buf.slice(p, p + nb);
  p += nb;
  let cc = h.classicCounts;
  if (cc === null || cc.length !== nb + 1) cc = h.classicCounts = new Float64Array(nb + 1);
  for (let i = 0; i <= nb; i++) cc[i] = buf[p + i]!;
  return h;
}

/** boundsAt returns `known` when it holds the `nb` bounds encoded at buf[p], else null. */
function boundsAt(buf: Float64Array, p: number, nb: number, known: Float64Array | null): Float64Array | null {
  if (known === null || known.length !== nb) return null;
  for (let i = 0; i < nb; i++) if (known[i] !== buf[p + i]) return null;
  return known;
}
