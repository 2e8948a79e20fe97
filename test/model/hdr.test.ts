import t from 'tap';
import * as hdr from 'hdr-histogram-js';
import { SparseHistogram, hdrIndex, hdrIndexOf, hdrLowest, hdrScale, hdrWidth } from '../../src/model/hdr.js';

t.test('bucket indices equal hdr-histogram-js for the same layout', async (t) => {
  const ref = hdr.build({ bitBucketSize: 'packed', lowestDiscernibleValue: 1, highestTrackableValue: 2 ** 40, numberOfSignificantValueDigits: 3 }) as unknown as {
    countsArrayIndex(v: number): number;
  };
  const values = [0, 1, 2, 1000, 2047, 2048, 2049, 4095, 4096, 123456, 999_999, 1_000_000, 3_600_000_000, 2 ** 39 + 12345];
  for (let i = 0; i < 2000; i++) values.push(Math.floor(Math.random() * 2 ** (1 + Math.random() * 38)));
  for (const v of values) {
    if (ref.countsArrayIndex(v) !== hdrIndex(v)) t.fail(`index of ${v}: ours ${hdrIndex(v)} vs ${ref.countsArrayIndex(v)}`);
  }
  t.pass(`${values.length} values agree`);
});

t.test('every value falls inside its bucket and buckets are under 0.1% wide', async (t) => {
  for (const v of [1, 2047, 2048, 99_999, 1e6, 1e9, 1e12, 1e15, 2 ** 52 + 1]) {
    const i = hdrIndex(v);
    t.ok(hdrLowest(i) <= v && v < hdrLowest(i) + hdrWidth(i), `value ${v} in bucket ${i}`);
    if (v >= 2048) t.ok(hdrWidth(i) / hdrLowest(i) <= 1 / 1024, `bucket ${i} relative width`);
  }
});

t.test('fractional values are scaled, never truncated to zero', async (t) => {
  t.equal(hdrScale(0.000001), 1);
  t.equal(hdrScale(0.25), 250_000);
  t.equal(hdrScale(-3), 0);
  const h = new SparseHistogram();
  h.record(0.0004);
  t.ok(h.quantile(0.5) > 0.0003 && h.quantile(0.5) < 0.0005, 'quantile of a sub-millisecond value keeps it');
});

t.test('quantiles are within 1% of exact over nine orders of magnitude', async (t) => {
  const h = new SparseHistogram();
  const xs: number[] = [];
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < 20000; i++) {
    const v = 10 ** (-2.5 + rnd() * 9.5);
    xs.push(v);
    h.record(v);
  }
  xs.sort((a, b) => a - b);
  for (const q of [0.01, 0.5, 0.9, 0.99, 0.999]) {
    const exact = xs[Math.ceil(q * xs.length) - 1]!;
    const got = h.quantile(q);
    t.ok(Math.abs(got - exact) / exact < 0.01, `q${q}: ${got} vs exact ${exact}`);
  }
  t.equal(h.quantile(0), xs[0], 'q0 is the minimum');
  const tiny = new SparseHistogram();
  for (const v of [1e-6, 2e-6, 3.5e-6, 7e-6]) tiny.record(v);
  t.ok(Math.abs(tiny.quantile(0.5) - 2e-6) <= 1.5e-6, 'microsecond values keep microsecond resolution');
  t.equal(h.quantile(1), xs[xs.length - 1], 'q1 is the maximum');
});

t.test('merging two histograms equals recording everything into one', async (t) => {
  const a = new SparseHistogram(), b = new SparseHistogram(), all = new SparseHistogram();
  for (let i = 1; i <= 500; i++) {
    const v = i * 0.013;
    (i % 3 ? a : b).record(v);
    all.record(v);
  }
  const m = a.clone().add(b);
  t.same(Array.from(m.indices.subarray(0, m.size)), Array.from(all.indices.subarray(0, all.size)));
  t.same(Array.from(m.counts.subarray(0, m.size)), Array.from(all.counts.subarray(0, all.size)));
  t.equal(m.count, 500);
  t.ok(Math.abs(m.sum - all.sum) < 1e-9);
  const d = m.clone().sub(b);
  t.equal(d.count, a.count, 'subtracting gives back the other part');
  t.equal(d.countLE(1), a.countLE(1));
});

t.test('countLE counts observations at or below a classic bucket bound', async (t) => {
  const h = new SparseHistogram();
  for (const v of [0.05, 0.1, 0.1, 0.25, 0.3, 1, 5]) h.record(v);
  t.equal(h.countLE(0.1), 3);
  t.equal(h.countLE(0.25), 4);
  t.equal(h.countLE(0.5), 5);
  t.equal(h.countLE(Infinity), 7);
  t.equal(h.countLE(0.01), 0);
});

t.test('a new histogram keeps its indices and counts in one buffer, as growing it does', async (t) => {
  const h = new SparseHistogram();
  t.equal(h.indices.buffer, h.counts.buffer, 'one backing store per histogram, not two');
  for (let v = 1; v <= 20; v++) h.record(v);
  t.equal(h.indices.buffer, h.counts.buffer);
  t.same(Array.from(h.indices.subarray(0, h.size)), Array.from({ length: 20 }, (_, i) => hdrIndexOf(i + 1)));
  t.same(Array.from(h.counts.subarray(0, h.size)), new Array(20).fill(1));
});
