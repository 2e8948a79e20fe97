import type { SparseHistogram } from '../model/hdr.js';

/**
 * addHistogram adds `h` into `acc` (acc.add(h), the same values bit for bit). When `h` has a few
 * buckets and `acc` many, as when a commit's windows are added to a series' retired total or a
 * rollup window, each bucket is found by binary search instead of walking every bucket of `acc`.
 */
export function addHistogram(acc: SparseHistogram, h: SparseHistogram): void {
  const m = h.size;
  if (h.bounds !== null || acc.bounds !== null || m * 8 > acc.size) {
    acc.add(h);
    return;
  }
  const idx = h.indices, counts = h.counts;
  for (let j = 0; j < m; j++) acc.addAtIndex(idx[j]!, counts[j]!);
  acc.count += h.count;
  acc.sum += h.sum;
  if (h.min < acc.min) acc.min = h.min;
  if (h.max > acc.max) acc.max = h.max;
}
