import t from 'tap';
import { PROMETHEUS_DEFAULT_BUCKETS, SparseHistogram, hdrIndexOf } from '../../src/model/hdr.js';
import { ByteReader, ByteWriter } from '../../src/store/byte-io.js';
import { BucketColumns } from '../../src/store/bucket-columns.js';
import { FOLD, decodeHistogram, decodeWindowRow, encodeHistogram, foldSplits, startBlock } from '../../src/store/histogram-codec.js';
import { BitReader, BitWriter, RiceState } from '../../src/store/rice.js';
import { FOLDED_V3 } from './fixtures/folded-v3.js';

// Rollup tiers store histograms folded (FOLD HDR sub-buckets as one); these tests measure what
// that costs against the exact observations a rollup window holds.

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
}

function normal(r: () => number): number {
  return Math.sqrt(-2 * Math.log(r())) * Math.cos(2 * Math.PI * r());
}

/** Distributions in seconds, rounded to the microsecond as the HDR scale records them. */
const DISTRIBUTIONS: Record<string, (r: () => number) => number> = {
  lognormal: (r) => Math.exp(-3 + 0.8 * normal(r)),
  wideLognormal: (r) => Math.exp(-1 + 2.5 * normal(r)),
  uniform: (r) => 0.001 + r() * 9.999,
  exponential: (r) => -Math.log(r()) * 0.2,
  pareto: (r) => 0.01 / r() ** (1 / 1.2),
  bimodal: (r) => (r() < 0.7 ? 0.02 + 0.005 * normal(r) : 1.5 + 0.3 * normal(r)),
  narrow: (r) => 0.25 + 0.0005 * normal(r),
  tokens: (r) => Math.floor(1 + r() * 4000),
};

function roundTrip(h: SparseHistogram, splits?: Int32Array): SparseHistogram {
  const w = new ByteWriter(64);
  encodeHistogram(w, h, null, splits);
  const r = new ByteReader(w.finish());
  const out = decodeHistogram(r, null);
  t.equal(r.pos, w.pos, 'decoder consumes exactly the encoded bytes');
  return out;
}

function view(h: SparseHistogram): object {
  return { indices: Array.from(h.indices.subarray(0, h.size)), counts: Array.from(h.counts.subarray(0, h.size)), count: h.count, sum: h.sum, min: h.min, max: h.max };
}

/** exactQuantile is the nearest-rank quantile of the observations (the one the HDR rank finds). */
function exactQuantile(sorted: Float64Array, q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

const QS = [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999];
const WORST_ALLOWED = 0.01;

t.test('a rollup window answers quantiles within 1 % of the exact observations it holds', async (t) => {
  const splits = foldSplits(null);
  let worstAll = 0;
  for (const [name, draw] of Object.entries(DISTRIBUTIONS)) {
    for (const perWindow of [5, 60]) {
      const r = rng(name.length * 7919 + perWindow);
      // 30 raw windows -> one 5 m window; 12 of those -> one 1 h window (a rollup of rollups).
      const obs: number[] = [];
      let hour = new SparseHistogram();
      const unfolded = new SparseHistogram();
      let bytesFine = 0, bytesFolded = 0;
      for (let m5 = 0; m5 < 12; m5++) {
        const five = new SparseHistogram();
        for (let w = 0; w < 30; w++) {
          const raw = new SparseHistogram(8);
          for (let i = 0; i < perWindow; i++) {
            const v = Math.round(draw(r) * 1e6) / 1e6;
            raw.record(v);
            obs.push(v);
          }
          t.same(view(roundTrip(raw)), view(raw), 'the raw tier is lossless');
          five.add(raw);
          unfolded.add(raw);
        }
        const enc = new ByteWriter(64);
        encodeHistogram(enc, five, null);
        bytesFine += enc.pos;
        enc.reset();
        encodeHistogram(enc, five, null, splits);
        bytesFolded += enc.pos;
        const back = roundTrip(five, splits);
        if (!Object.is(back.sum, five.sum)) t.fail(`${name}: a rollup's sum ${five.sum} read back as ${back.sum}`);
        hour.add(back);
      }
      hour = roundTrip(hour, splits);
      const again = roundTrip(hour, splits);
      t.same(view(again), view(hour), `${name}: folding a folded window changes nothing`);
      const sorted = Float64Array.from(obs).sort();
      t.equal(hour.count, sorted.length, 'count is exact');
      t.equal(hour.min, sorted[0], 'min is exact');
      t.equal(hour.max, sorted[sorted.length - 1], 'max is exact');
      let exactSum = 0;
      for (const v of obs) exactSum += v;
      t.ok(Math.abs(hour.sum - exactSum) <= 1e-9 * Math.abs(exactSum), 'sum is exact up to addition order');
      // _bucket{le} reads the same from the rollup as from the raw windows under it.
      for (const le of PROMETHEUS_DEFAULT_BUCKETS) {
        if (hour.countLE(le) !== unfolded.countLE(le)) t.fail(`${name}: _bucket{le="${le}"} ${hour.countLE(le)} != raw ${unfolded.countLE(le)}`);
      }
      let worst = 0, worstQ = 0;
      for (const q of QS) {
        const exact = exactQuantile(sorted, q);
        const got = hour.quantile(q);
        const err = Math.abs(got - exact) / exact;
        if (err > worst) {
          worst = err;
          worstQ = q;
        }
      }
      worstAll = Math.max(worstAll, worst);
      t.ok(worst < WORST_ALLOWED, `${name}, ${perWindow}/window: worst quantile error ${(worst * 100).toFixed(3)} % (q=${worstQ}); 5 m windows ${bytesFine} -> ${bytesFolded} B`);
    }
  }
  t.comment(`worst relative quantile error over every distribution: ${(worstAll * 100).toFixed(3)} % (FOLD ${FOLD})`);
});

t.test('folding keeps every configured bound exact, including bounds inside one folded group', async (t) => {
  // 0.1 and 0.1001 fall in the same group of FOLD sub-buckets; every observation is next to one.
  const bounds = [0.1, 0.1001, 0.5, 2];
  const splits = foldSplits(bounds);
  const r = rng(3);
  const h = new SparseHistogram();
  for (let i = 0; i < 2000; i++) {
    const base = bounds[Math.floor(r() * bounds.length)]!;
    const v = Math.round(base * (1 + (r() - 0.5) * 0.02) * 1e6) / 1e6;
    h.record(v);
  }
  const got = roundTrip(h, splits);
  t.ok(got.size < h.size, `folded ${h.size} -> ${got.size} buckets`);
  for (const le of bounds) t.equal(got.countLE(le), h.countLE(le), `le=${le}`);
  t.same(view(roundTrip(got, splits)), view(got), 'idempotent with splits');
});

t.test('histograms with classic buckets and fractional counts fold too', async (t) => {
  const h = SparseHistogram.fromBuckets([100, 5000, 5001, 5002, 90000], [1.5, 2, 3, 0.25, 7], 13.75, 12.5, 0.0001, 0.2);
  h.bounds = Float64Array.from([0.01, 0.1]);
  h.classicCounts = Float64Array.from([1.5, 5.25, 7]);
  const got = roundTrip(h, foldSplits(null));
  t.equal(got.count, h.count);
  t.equal(got.sum, h.sum);
  t.equal(got.min, h.min);
  t.equal(got.max, h.max);
  t.same(Array.from(got.classicCounts!), Array.from(h.classicCounts));
  t.same(Array.from(got.bounds!), Array.from(h.bounds));
  t.equal(got.indices[0], 100, 'sub-millisecond buckets are not folded');
  t.equal(got.size, 3, 'neighbouring sub-buckets merge');
  t.same(Array.from(got.counts.subarray(0, got.size)), [1.5, 5.25, 7]);
  const empty = new SparseHistogram();
  t.same(view(roundTrip(empty, foldSplits(null))), view(roundTrip(empty)), 'an empty window folds to itself');
});

t.test('format-3 folded windows (8-wide groups, byte varints) read as that build read them', async (t) => {
  for (const f of FOLDED_V3) {
    const bytes = Buffer.from(f.hex, 'hex');
    const r = new ByteReader(bytes);
    const h = decodeHistogram(r, null);
    t.equal(r.pos, bytes.length, `${f.name}: every byte consumed`);
    const got = { ...view(h), bounds: h.bounds ? Array.from(h.bounds) : null, classicCounts: h.classicCounts ? Array.from(h.classicCounts) : null };
    t.same(got, f.decoded, `${f.name}: same buckets, count, sum, min, max and classic buckets`);
  }
});

t.test('a format-3 window merged with new windows refolds into 16-wide groups and keeps every bound', async (t) => {
  const splits = foldSplits(null);
  const r = rng(11);
  for (const f of FOLDED_V3) {
    const old = decodeHistogram(new ByteReader(Buffer.from(f.hex, 'hex')), null);
    if (old.bounds !== null) continue;
    const late = new SparseHistogram();
    for (let i = 0; i < 50; i++) late.record(Math.round(DISTRIBUTIONS.lognormal!(r) * 1e6) / 1e6);
    const merged = old.clone().add(late);
    const got = roundTrip(merged, splits);
    t.equal(got.count, merged.count, `${f.name}: count`);
    for (const le of PROMETHEUS_DEFAULT_BUCKETS) if (got.countLE(le) !== merged.countLE(le)) t.fail(`${f.name}: le=${le} ${got.countLE(le)} != ${merged.countLE(le)}`);
    // Each 8-wide group lies inside one 16-wide group, so nothing moves further than the new fold.
    for (const q of QS) {
      const a = merged.quantile(q), b = got.quantile(q);
      if (Math.abs(a - b) / a > 0.0087) t.fail(`${f.name}: q=${q} ${b} vs ${a}`);
    }
  }
});

t.test('Rice codes round-trip values from 0 to 2^53 at every parameter, adaptively too', async (t) => {
  const values = [0, 1, 2, 3, 7, 8, 19, 20, 21, 1000, 2 ** 20, 2 ** 31 + 5, 2 ** 40 - 1, Number.MAX_SAFE_INTEGER];
  const KS = [0, 1, 5, 20, 24, 25, 31, 40];
  const w = new ByteWriter(64);
  w.u8(7);
  const bw = new BitWriter(w);
  for (const k of KS) for (const v of values) bw.rice(v, k);
  const s = new RiceState(1);
  for (const v of values) bw.adaptive(s, v);
  for (const v of [...values].reverse()) bw.adaptive(s, v);
  bw.finish();
  w.u8(9);
  const r = new ByteReader(w.finish());
  t.equal(r.u8(), 7);
  const br = new BitReader(r);
  const got: number[] = [];
  for (const k of KS) for (let i = 0; i < values.length; i++) got.push(br.rice(k));
  const rs = new RiceState(1);
  for (let i = 0; i < values.length * 2; i++) got.push(br.adaptive(rs));
  br.finish();
  const want: number[] = [];
  for (let k = 0; k < KS.length; k++) want.push(...values);
  want.push(...values, ...[...values].reverse());
  t.same(got, want);
  t.equal(r.u8(), 9, 'the stream ends at its last byte');
  t.equal(r.pos, w.pos, 'every byte consumed');
  const cut = new ByteReader(w.finish().subarray(0, 4), 1);
  t.throws(() => {
    const b = new BitReader(cut);
    for (let i = 0; i < 40; i++) b.rice(0);
    b.finish();
  }, /truncated/, 'a truncated stream is refused');
});

/** rollupWindow is a 5 m window's worth of observations of one distribution. */
function rollupWindow(draw: (r: () => number) => number, seed: number, n: number): SparseHistogram {
  const r = rng(seed);
  const h = new SparseHistogram(64);
  for (let i = 0; i < n; i++) h.record(Math.round(draw(r) * 1e6) / 1e6);
  return h;
}

t.test('a folded window with whole counts is read into bucket columns from its segment counts, as from its buckets', async (t) => {
  const custom = [0.003, 0.02, 0.3, 2, 7.5, Infinity];
  for (const [bounds, les] of [[null, [...PROMETHEUS_DEFAULT_BUCKETS, Infinity]], [custom.slice(0, -1), custom]] as const) {
    const splits = foldSplits(bounds);
    for (const [name, draw] of Object.entries(DISTRIBUTIONS)) {
      // One block's windows: the first names its splits, the others say "same".
      const hs = [5, 150, 1, 2000].map((n, i) => rollupWindow(draw, name.length * 31 + i, n));
      const w = new ByteWriter(64);
      let prev: Int32Array | null = null;
      for (const h of hs) prev = encodeHistogram(w, h, null, splits, prev) ?? prev;
      t.ok(prev === splits, `${name}: the windows carry segments`);
      const bytes = w.finish();
      const full = new ByteReader(bytes), fast = new ByteReader(bytes);
      const want = new BucketColumns(les, bounds !== null, hs.length), got = new BucketColumns(les, bounds !== null, hs.length);
      startBlock();
      for (let i = 0; i < hs.length; i++) want.set(i, decodeHistogram(full, null));
      startBlock();
      for (let i = 0; i < hs.length; i++) t.ok(decodeWindowRow(fast, got, i), `${name}: window ${i} read from its segments`);
      t.equal(fast.pos, full.pos, `${name}: both reads end where the block does`);
      t.same(Array.from(got.le.subarray(0, hs.length * les.length)), Array.from(want.le.subarray(0, hs.length * les.length)), `${name}: <= le counts`);
      t.same(Array.from(got.counts.subarray(0, hs.length)), Array.from(want.counts.subarray(0, hs.length)), `${name}: counts`);
      t.same(Array.from(got.sums.subarray(0, hs.length)), Array.from(want.sums.subarray(0, hs.length)), `${name}: sums`);
      // And the buckets themselves decode as they would have without segments.
      startBlock();
      const again = new ByteReader(bytes);
      for (const h of hs) {
        const plain = new ByteWriter(64);
        encodeHistogram(plain, h, null, splits);
        const back = decodeHistogram(new ByteReader(plain.finish()), null);
        t.same(view(decodeHistogram(again, null)), view(back), `${name}: the window's buckets`);
      }
    }
  }
});

t.test('a window without usable segments is left to the full decode, the reader where it was', async (t) => {
  const splits = foldSplits(null);
  const les = [...PROMETHEUS_DEFAULT_BUCKETS, Infinity];
  const cases: Array<[string, SparseHistogram, Int32Array | undefined, readonly number[]]> = [];
  const scaled = rollupWindow(DISTRIBUTIONS.lognormal!, 5, 40).scale(0.5);
  cases.push(['fractional counts (no segments written)', scaled, splits, les]);
  cases.push(['a raw (unfolded) window', rollupWindow(DISTRIBUTIONS.lognormal!, 6, 40), undefined, les]);
  cases.push(['bounds whose last buckets are not among the splits', rollupWindow(DISTRIBUTIONS.lognormal!, 7, 40), splits, [0.004, 0.3, Infinity]]);
  const classic = rollupWindow(DISTRIBUTIONS.lognormal!, 8, 40);
  const cc = Float64Array.of(classic.countLE(0.1), classic.countLE(1) - classic.countLE(0.1), classic.count - classic.countLE(1));
  classic.bounds = Float64Array.of(0.1, 1);
  classic.classicCounts = cc;
  cases.push(['a window with its own classic buckets', classic, splits, les]);
  for (const [name, h, sp, le] of cases) {
    const w = new ByteWriter(64);
    encodeHistogram(w, h, null, sp);
    const r = new ByteReader(w.finish());
    startBlock();
    const cols = new BucketColumns(le, false, 1);
    t.notOk(decodeWindowRow(r, cols, 0), name);
    t.equal(r.pos, 0, `${name}: the reader is where it was`);
    t.equal(decodeHistogram(r, null).count, h.count, `${name}: the full decode reads it`);
  }
});

t.test('a run of adaptive Rice values reads as the same values read one by one, up to the last byte', async (t) => {
  const r = rng(11);
  // Gaps and counts as rollups hold them, with long quotients, values past 2^30 and 2^53 - 1.
  const values: number[] = [];
  for (let i = 0; i < 3000; i++) {
    const u = r();
    values.push(u < 0.6 ? Math.floor(r() * 4) : u < 0.9 ? Math.floor(r() * 300) : u < 0.97 ? Math.floor(r() * 2 ** 36) : u < 0.99 ? 2 ** 31 + Math.floor(r() * 9) : Number.MAX_SAFE_INTEGER);
    if (i % 500 === 0) values.push(0, 0, 0, 0, 5000, 0);
  }
  for (const n of [1, 2, 7, 40, values.length]) {
    const w = new ByteWriter(64);
    const bw = new BitWriter(w);
    const s = new RiceState(4);
    for (let i = 0; i < n; i++) bw.adaptive(s, values[i]!);
    bw.finish();
    // No byte after the stream: the run's last values are read where fewer than 5 bytes are left.
    const bytes = w.finish();
    const one = new BitReader(new ByteReader(bytes));
    const os = new RiceState(4);
    const want = Float64Array.from({ length: n }, () => one.adaptive(os) + 1);
    const rr = new ByteReader(bytes);
    const run = new BitReader(rr);
    const rs = new RiceState(4);
    const got = new Float64Array(n);
    run.adaptiveRun(rs, got, n, 1);
    run.finish();
    t.same(Array.from(got), Array.from(want), `${n} values`);
    t.same(Array.from(got.subarray(0, Math.min(n, 50))), values.slice(0, Math.min(n, 50)).map((v) => v + 1), `${n} values: the ones written, plus one`);
    t.same([rs.a, rs.n], [os.a, os.n], `${n} values: the state after the run`);
    t.equal(rr.pos, bytes.length, `${n} values: every byte consumed`);
  }
});

t.test('folded windows with counts above 2^32, zero counts or one bucket round-trip', async (t) => {
  const splits = foldSplits(null);
  const big = SparseHistogram.fromBuckets([hdrIndexOf(0.002), hdrIndexOf(0.05), hdrIndexOf(0.05001), hdrIndexOf(1.5)], [2 ** 40, 3, 2 ** 33 + 1, 1], 2 ** 40 + 2 ** 33 + 5, 1e6, 0.002, 1.5);
  const got = roundTrip(big, splits);
  t.same(Array.from(got.counts.subarray(0, got.size)), [2 ** 40, 2 ** 33 + 4, 1]);
  t.equal(got.count, big.count);
  const zero = SparseHistogram.fromBuckets([hdrIndexOf(0.002), hdrIndexOf(0.05)], [0, 4], 4, 0.2, 0.05, 0.05);
  t.same(Array.from(roundTrip(zero, splits).counts.subarray(0, 2)), [0, 4], 'zero counts are kept');
  for (const sum of [0.1 + 0.2, -(0.1 + 0.2), 1e300 * 3.3, 5e-324, 123456.789 + 1e-9, -0]) {
    const h = SparseHistogram.fromBuckets([hdrIndexOf(0.05)], [3], 3, sum, 0.05, 0.05);
    t.ok(Object.is(roundTrip(h, splits).sum, sum), `sum ${sum} is kept bit for bit`);
  }
  const one = SparseHistogram.fromBuckets([hdrIndexOf(0.07)], [1], 1, 0.07, 0.07, 0.07);
  t.same(view(roundTrip(one, splits)), view(roundTrip(roundTrip(one, splits), splits)), 'one bucket');
});
