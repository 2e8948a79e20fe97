import t from 'tap';
import { SparseHistogram } from '../../src/model/hdr.js';
import { encodeHistogram, histogramSize, readHistogram } from '../../src/pipeline/records.js';

/** hist builds a histogram with `n` buckets and, when `bounds` is given, classic counts. */
function hist(n: number, seed: number, bounds: number[] | null): SparseHistogram {
  const h = new SparseHistogram();
  for (let i = 0; i < n; i++) h.addAtIndex(100 + i * (seed + 1), i + seed);
  h.count = n * (n + 2 * seed - 1) / 2;
  h.sum = seed + 0.25;
  h.min = seed;
  h.max = seed + n;
  if (bounds) {
    h.bounds = Float64Array.from(bounds);
    h.classicCounts = Float64Array.from(bounds.concat([0]).map((_, i) => i + seed));
  }
  return h;
}

function view(h: SparseHistogram): unknown {
  return {
    i: Array.from(h.indices.subarray(0, h.size)), c: Array.from(h.counts.subarray(0, h.size)), n: h.count, sum: h.sum, min: h.min, max: h.max,
    b: h.bounds ? Array.from(h.bounds) : null, cc: h.classicCounts ? Array.from(h.classicCounts) : null,
  };
}

t.test('a histogram read back into a reused one equals what was encoded, growing, shrinking or changing bounds', async (t) => {
  const seq = [hist(3, 1, [1, 2]), hist(20, 2, [1, 2]), hist(2, 3, null), hist(11, 4, [0.5, 1, 2, 5]), hist(0, 5, [0.5, 1, 2, 5]), hist(30, 6, null)];
  const buf = new Float64Array(seq.reduce((a, h) => a + histogramSize(h), 0));
  const offs: number[] = [];
  let p = 0;
  for (const h of seq) {
    offs.push(p);
    p = encodeHistogram(buf, p, h);
  }
  const into = new SparseHistogram();
  for (let k = 0; k < seq.length; k++) {
    readHistogram(into, buf, offs[k]!, null);
    t.same(view(into), view(seq[k]!), `histogram ${k}`);
  }
  const known = Float64Array.from([0.5, 1, 2, 5]);
  const shared = readHistogram(new SparseHistogram(), buf, offs[3]!, known);
  t.equal(shared.bounds, known, 'equal bounds are shared, not copied');
  buf.fill(0);
  t.same(view(shared), view(seq[3]!), 'nothing read refers to the batch buffer');
});
