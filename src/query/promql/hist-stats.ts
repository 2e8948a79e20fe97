import type { SparseHistogram } from '../../model/hdr.js';

// Folds over a run of histograms shared by a fresh sum (sumHistograms) and the sliding window
// sum, so both add in the same order and agree to the bit.

/** sumStats sets `out`'s count, sum, min and max to those of hs[lo..hi) added in order. */
export function sumStats(hs: readonly SparseHistogram[], lo: number, hi: number, out: SparseHistogram): void {
  let count = 0, sum = 0, min = Infinity, max = -Infinity;
  for (let k = lo; k < hi; k++) {
    const h = hs[k]!;
    count += h.count;
    sum += h.sum;
    if (h.count > 0) {
      if (h.min < min) min = h.min;
      if (h.max > max) max = h.max;
    }
  }
  out.count = count;
  out.sum = sum;
  out.min = min;
  out.max = max;
}

/** equalBounds compares classic bucket bounds by value (the same array is the common case). */
export function equalBounds(a: Float64Array, b: Float64Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let q = 0; q < a.length; q++) if (a[q] !== b[q]) return false;
  return true;
}
