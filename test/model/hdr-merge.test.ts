import t from 'tap';
import { SparseHistogram } from '../../src/model/hdr.js';

/** rnd is a small deterministic generator so a failure reproduces. */
function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

/** sparse builds a histogram with `n` random distinct buckets out of `range`, counts 0..9. */
function sparse(r: () => number, n: number, range: number): SparseHistogram {
  const picked = new Set<number>();
  while (picked.size < Math.min(n, range)) picked.add(Math.floor(r() * range));
  const idx = [...picked].sort((a, b) => a - b);
  const h = SparseHistogram.fromBuckets(idx, idx.map(() => Math.floor(r() * 10)), 0, 0, Infinity, -Infinity);
  for (let i = 0; i < h.size; i++) h.count += h.counts[i]!;
  h.sum = h.count * 0.5;
  return h;
}

/** expected merges bucket by bucket through a Map: the union of indices, counts a + b * factor. */
function expected(a: SparseHistogram, b: SparseHistogram, factor: number): Array<[number, number]> {
  const m = new Map<number, number>();
  for (let i = 0; i < a.size; i++) m.set(a.indices[i]!, a.counts[i]!);
  for (let i = 0; i < b.size; i++) m.set(b.indices[i]!, (m.get(b.indices[i]!) ?? 0) + b.counts[i]! * factor);
  return [...m].sort((x, y) => x[0] - y[0]);
}

function buckets(h: SparseHistogram): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < h.size; i++) out.push([h.indices[i]!, h.counts[i]!]);
  return out;
}

t.test('merging keeps every bucket of both sides, whatever the overlap and capacity', async (t) => {
  const r = rng(11);
  let cases = 0;
  for (let c = 0; c < 400; c++) {
    const range = 4 + Math.floor(r() * 40);
    const a = sparse(r, Math.floor(r() * 20), range);
    const b = sparse(r, Math.floor(r() * 20), range);
    const factor = r() < 0.3 ? -1 : 1;
    const want = expected(a, b, factor);
    const into = a.clone();
    into.add(b, factor);
    const got = buckets(into);
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      t.same(got, want, `case ${c}: ${JSON.stringify(buckets(a))} + ${factor} * ${JSON.stringify(buckets(b))}`);
      return;
    }
    t.equal(into.count, a.count + b.count * factor);
    cases++;
  }
  t.equal(cases, 400, 'every random merge matched the bucket-by-bucket union');
});

t.test('merging leaves the other histogram untouched and can merge a histogram with itself', async (t) => {
  const r = rng(5);
  const a = sparse(r, 12, 30), b = sparse(r, 12, 30);
  const before = buckets(b);
  a.add(b);
  t.same(buckets(b), before, 'the merged-in histogram is not modified');
  const self = sparse(r, 7, 20);
  const doubled = buckets(self).map(([i, c]) => [i, c * 2]);
  self.add(self);
  t.same(buckets(self), doubled, 'adding a histogram to itself doubles every bucket');
});

t.test('repeated merges into one window keep exact integer counts and stop growing', async (t) => {
  const r = rng(3);
  const w = new SparseHistogram();
  const parts: SparseHistogram[] = [];
  for (let i = 0; i < 200; i++) parts.push(sparse(r, 11, 11));
  let total = 0;
  for (const p of parts) {
    w.add(p);
    total += p.count;
  }
  t.equal(w.count, total);
  t.ok(w.size <= 11, `size ${w.size} stays within the 11 possible buckets`);
  let s = 0;
  for (let i = 0; i < w.size; i++) s += w.counts[i]!;
  t.equal(s, total, 'bucket counts add up to the count');
});

t.test('reserve makes room without changing the histogram', async (t) => {
  const r = rng(9);
  const h = sparse(r, 6, 20);
  const before = buckets(h);
  const count = h.count;
  h.reserve(100);
  t.ok(h.indices.length >= 100 && h.counts.length >= 100, 'capacity grew');
  t.same(buckets(h), before);
  t.equal(h.count, count);
  const other = sparse(r, 40, 60);
  const want = expected(h, other, 1);
  h.add(other);
  t.same(buckets(h), want, 'a merge after reserve keeps every bucket');
});

t.test('merging histograms that share their leading buckets and differ after them keeps every bucket', async (t) => {
  const r = rng(17);
  let cases = 0;
  for (let c = 0; c < 400; c++) {
    const a = sparse(r, 1 + Math.floor(r() * 16), 40);
    // b repeats a's first `s` buckets (a window and a delta of its own layout), then goes its own way.
    const s = Math.floor(r() * (a.size + 1));
    const tail = sparse(r, Math.floor(r() * 10), 40);
    const idx: number[] = [], cnt: number[] = [];
    for (let i = 0; i < s; i++) { idx.push(a.indices[i]!); cnt.push(Math.floor(r() * 10)); }
    const last = s > 0 ? a.indices[s - 1]! : -1;
    for (let i = 0; i < tail.size; i++) if (tail.indices[i]! > last) { idx.push(tail.indices[i]!); cnt.push(tail.counts[i]!); }
    const b = SparseHistogram.fromBuckets(idx, cnt, cnt.reduce((x, y) => x + y, 0), 1, Infinity, -Infinity);
    const factor = r() < 0.3 ? -1 : 1;
    const want = expected(a, b, factor);
    // Tight capacity on odd cases, so the merge also has to grow after adding the shared prefix.
    const into = c % 2 === 0 ? a.clone() : SparseHistogram.fromBuckets(a.indices.subarray(0, a.size), a.counts.subarray(0, a.size), a.count, a.sum, a.min, a.max);
    into.add(b, factor);
    const got = buckets(into);
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      t.same(got, want, `case ${c}: ${JSON.stringify(buckets(a))} + ${factor} * ${JSON.stringify(buckets(b))}`);
      return;
    }
    cases++;
  }
  t.equal(cases, 400, 'every merge matched the bucket-by-bucket union');
});

t.test('merging into a histogram with classic buckets allocates nothing per merge', async (t) => {
  const bounds = Float64Array.from([0.1, 1, 10]);
  const d = SparseHistogram.fromBuckets([100, 2000, 5000], [1, 2, 3], 6, 7.5, 0.05, 20);
  d.bounds = bounds;
  d.classicCounts = Float64Array.from([1, 2, 3, 0]);
  const windows: SparseHistogram[] = [];
  for (let i = 0; i < 1000; i++) windows.push(new SparseHistogram());
  const round = (): void => {
    for (let i = 0; i < windows.length; i++) windows[i]!.add(d);
  };
  for (let i = 0; i < 200; i++) round(); // optimised, and every window holds d's layout
  // A scavenge during a trial makes its delta small or negative, never larger: the largest of
  // several trials is the allocation (old: a 40-byte closure context per merge).
  let most = -Infinity;
  for (let trial = 0; trial < 5; trial++) {
    const h0 = process.memoryUsage().heapUsed;
    for (let i = 0; i < 20; i++) round();
    most = Math.max(most, (process.memoryUsage().heapUsed - h0) / (20 * windows.length));
  }
  t.ok(most < 4, `${most.toFixed(1)} bytes per merge`);
  t.equal(windows[0]!.count, 300 * 6);
});
