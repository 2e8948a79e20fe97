import t, { type Test } from 'tap';
import { SparseHistogram } from '../../src/model/hdr.js';
import { MetricKind } from '../../src/model/metric-kind.js';
import { ByteReader, ByteWriter } from '../../src/store/byte-io.js';
import { decodeChunk, decodeChunkFrom, encodeChunk, readChunkHeader, type WindowClock } from '../../src/store/chunk-encoding.js';
import { decodeFloatColumn, encodeFloatColumn, skipFloatColumn } from '../../src/store/float-column.js';
import { decodeHistogram, encodeHistogram } from '../../src/store/histogram-codec.js';
import { PointBuf } from '../../src/store/point-buf.js';
import { rng } from './helpers.js';

function roundTripColumn(values: number[]): Float64Array {
  const w = new ByteWriter(16);
  encodeFloatColumn(w, values, 0, values.length);
  const out = new Float64Array(values.length);
  const r = new ByteReader(w.finish());
  decodeFloatColumn(r, values.length, out, 0);
  t.equal(r.pos, w.pos, 'decoder consumes exactly the encoded bytes');
  return out;
}

t.test('float columns round-trip bit for bit, including NaN, infinities, -0 and huge values', async (t) => {
  const r = rng(1);
  const cases: Record<string, number[]> = {
    integers: Array.from({ length: 128 }, () => Math.floor(r() * 100)),
    decimals: Array.from({ length: 100 }, () => Math.round(r() * 1e4) / 100),
    randomWalk: (() => { let v = 1000; return Array.from({ length: 128 }, () => (v += Math.floor(r() * 21) - 10)); })(),
    fullFloats: Array.from({ length: 64 }, () => r() * 1e9 - 5e8),
    special: [NaN, Infinity, -Infinity, -0, 0, 1e308, -1e308, 5e-324, 2 ** 53, -(2 ** 53) + 1, 0.1 + 0.2],
    repeated: Array.from({ length: 50 }, () => 42.5),
    repeatedNaN: [NaN, NaN, NaN],
    single: [7],
    negatives: Array.from({ length: 90 }, () => -Math.floor(r() * 1e6) / 1000),
  };
  for (const [name, values] of Object.entries(cases)) {
    const out = roundTripColumn(values);
    const same = values.every((v, i) => Object.is(v, out[i]));
    t.ok(same, `${name} round-trips`);
  }
});

t.test('a column stepped over ends where its decode ends, in every mode', async (t) => {
  const r = rng(11);
  const cases: Record<string, number[]> = {
    constDecimal: Array.from({ length: 40 }, () => 4.25),
    constFloat: Array.from({ length: 40 }, () => 0.1 + 0.2),
    frameOfReference: Array.from({ length: 200 }, () => Math.floor(r() * 1000)),
    delta: (() => { let v = 1e6; return Array.from({ length: 200 }, () => (v += Math.floor(r() * 9))); })(),
    wide: Array.from({ length: 64 }, () => Math.floor(r() * 2 ** 40)),
    xor: Array.from({ length: 64 }, () => r() * 1e9 - 5e8),
  };
  for (const [name, values] of Object.entries(cases)) {
    const w = new ByteWriter(16);
    encodeFloatColumn(w, values, 0, values.length);
    w.u8(0xab);
    const bytes = w.finish();
    const skip = new ByteReader(bytes);
    skipFloatColumn(skip, values.length);
    t.equal(skip.u8(), 0xab, `${name}: the byte after the column is read next`);
  }
});

t.test('a packed run unpacked at once equals the same run read value by value', async (t) => {
  const r = rng(12);
  for (const width of [0, 1, 3, 7, 8, 13, 24, 25, 40, 53]) {
    const n = 1 + Math.floor(r() * 300);
    const values = Array.from({ length: n }, () => Math.floor(r() * 2 ** width));
    const w = new ByteWriter(16);
    for (const v of values) w.bits(v, width);
    w.flushBits();
    w.u8(0xcd);
    const bytes = w.finish();
    const out = new Float64Array(n + 2);
    const a = new ByteReader(bytes);
    a.unpack(n, width, out, 2);
    t.same(Array.from(out.subarray(2)), values, `width ${width}: values`);
    t.equal(a.u8(), 0xcd, `width ${width}: unpack ends at the run's last byte`);
    const b = new ByteReader(bytes);
    b.skipPacked(n, width);
    t.equal(b.u8(), 0xcd, `width ${width}: skipPacked ends there too`);
  }
  t.throws(() => new ByteReader(new Uint8Array(3)).unpack(10, 8, new Float64Array(10), 0), /chunk truncated/, 'a short run is refused');
});

t.test('integer counter increments pack below one byte per value', async (t) => {
  const r = rng(2);
  const values = Array.from({ length: 128 }, () => Math.floor(r() * 100));
  const w = new ByteWriter(16);
  encodeFloatColumn(w, values, 0, values.length);
  t.ok(w.pos < 128, `128 values in ${w.pos} bytes`);
});

function hist(values: number[]): SparseHistogram {
  const h = new SparseHistogram();
  for (const v of values) h.record(v);
  return h;
}

type Asserts = Test;

function sameHist(t: Asserts, a: SparseHistogram, b: SparseHistogram, msg: string): void {
  t.same(Array.from(b.indices.subarray(0, b.size)), Array.from(a.indices.subarray(0, a.size)), `${msg}: indices`);
  t.same(Array.from(b.counts.subarray(0, b.size)), Array.from(a.counts.subarray(0, a.size)), `${msg}: counts`);
  t.ok(Object.is(a.count, b.count) && Object.is(a.sum, b.sum) && Object.is(a.min, b.min) && Object.is(a.max, b.max), `${msg}: count/sum/min/max`);
  t.same(b.bounds ? Array.from(b.bounds) : null, a.bounds ? Array.from(a.bounds) : null, `${msg}: bounds`);
  t.same(b.classicCounts ? Array.from(b.classicCounts) : null, a.classicCounts ? Array.from(a.classicCounts) : null, `${msg}: classic counts`);
}

t.test('histogram windows round-trip exactly and stay small', async (t) => {
  const r = rng(3);
  const micro = hist(Array.from({ length: 5 }, () => Math.round(r() * 2e5) / 1e6));
  const full = hist(Array.from({ length: 40 }, () => r() * 3));
  const empty = new SparseHistogram();
  const scaled = hist([0.5, 1.5, 2.5]).scale(0.1);
  const classic = hist([0.003, 0.2, 7]);
  classic.bounds = Float64Array.from([0.005, 0.1, 1]);
  classic.classicCounts = Float64Array.from([1, 0, 1, 1]);
  const huge = hist([1e9, 5e-7, 123456.789]);
  for (const [name, h] of Object.entries({ micro, full, empty, scaled, classic, huge })) {
    const w = new ByteWriter(16);
    encodeHistogram(w, h, null);
    const back = decodeHistogram(new ByteReader(w.finish()), null);
    sameHist(t, h, back, name);
  }
  const w = new ByteWriter(16);
  encodeHistogram(w, micro, null);
  t.ok(w.pos <= 32, `a 5-observation window costs ${w.pos} bytes`);
});

t.test('chunks round-trip counters, gauges and histograms at irregular timestamps', async (t) => {
  const r = rng(4);
  const base = 1_000_000;
  const c = new PointBuf(MetricKind.Counter);
  const g = new PointBuf(MetricKind.Gauge);
  const h = new PointBuf(MetricKind.Histogram);
  let w = base;
  // Windows of 10 s; each window's last point a jittered few ms past a 10 s grid (or anywhere).
  const clock: WindowClock = { start: (idx: number): number => idx * 10_000 };
  let raw = 7917;
  for (let i = 0; i < 700; i++) {
    w += r() < 0.8 ? 1 : 1 + Math.floor(r() * 1000);
    const ts = clock.start(w) + (i % 50 === 0 ? Math.floor(r() * 9999) : 2000 + Math.floor(r() * 8));
    const inc = Math.floor(r() * 50);
    // A third of the windows carry the sender's cumulative value (resets included).
    raw = i % 200 === 199 ? inc : raw + inc;
    c.pushCounter(w, inc, ts, i % 3 === 0 ? raw : NaN);
    const v = Math.round(r() * 1000) / 10;
    g.pushGauge(w, v, v - 1, v + 2.5, v * 3, i % 3 === 0 ? 1 : 3, ts);
    h.pushHistogram(w, hist([r(), r() * 10]), ts);
  }
  // Raw tier clock (version 2 chunks) and, for counters and gauges, a rollup tier's (version 3,
  // with skip prefixes; a rollup folds histograms to its precision, see histogram-codec.ts).
  const rollup: WindowClock = { ...clock, ordinal: 1 };
  for (const [buf, clk] of [[c, clock], [c, rollup], [g, clock], [g, rollup], [h, clock]] as Array<[PointBuf, WindowClock]>) {
    const bytes = encodeChunk(buf, base + 1, clk);
    const out = new PointBuf(buf.kind);
    const hdr = decodeChunk(bytes, base + 1, out, clk);
    t.equal(hdr.points, buf.n);
    t.equal(hdr.skippable, buf.kind !== MetricKind.Histogram && clk.ordinal === 1, `kind ${buf.kind}: skip prefixes only in rollup counters and gauges`);
    t.same(Array.from(out.idx.subarray(0, out.n)), Array.from(buf.idx.subarray(0, buf.n)), `kind ${buf.kind}: windows`);
    t.same(Array.from(out.t.subarray(0, out.n)), Array.from(buf.t.subarray(0, buf.n)), `kind ${buf.kind}: last point times`);
    if (buf.kind === MetricKind.Counter) {
      t.same(Array.from(out.a.subarray(0, out.n)), Array.from(buf.a.subarray(0, buf.n)), 'increments');
      t.same(Array.from(out.b.subarray(0, out.n)), Array.from(buf.b.subarray(0, buf.n)), "sender's values");
      let sum = 0;
      for (let i = 0; i < buf.n; i++) sum += buf.a[i]!;
      t.equal(readChunkHeader(bytes).sum, sum, 'header keeps the increment sum');
    } else if (buf.kind === MetricKind.Gauge) {
      for (const col of ['a', 'b', 'c', 'd', 'e'] as const) t.same(Array.from(out[col].subarray(0, out.n)), Array.from(buf[col].subarray(0, buf.n)), `gauge column ${col}`);
      // A read for samples keeps the last values and steps over min, max, sum and count.
      for (const until of [Infinity, buf.idx[buf.n >> 1]!]) {
        const lasts = new PointBuf(MetricKind.Gauge, 16, null, true);
        decodeChunk(bytes, base + 1, lasts, clk, until);
        const k = until === Infinity ? buf.n : (buf.n >> 1) + 1;
        t.equal(lasts.n, k, `values-only gauge read up to ${until}: windows`);
        t.same(Array.from(lasts.a.subarray(0, lasts.n)), Array.from(buf.a.subarray(0, k)), `values-only gauge read up to ${until}: last values`);
        t.same(Array.from(lasts.t.subarray(0, lasts.n)), Array.from(buf.t.subarray(0, k)), `values-only gauge read up to ${until}: times`);
        t.equal(lasts.c.length, 0, 'no max column is kept');
      }
    } else {
      for (let i = 0; i < buf.n; i += 97) sameHist(t, buf.hists[i]!, out.hists[i]!, `window ${i}`);
      t.equal(readChunkHeader(bytes).agg!.count, buf.n * 2, 'header keeps the merged histogram');
    }
  }
});

t.test('a read starting late in a rollup chunk steps over earlier blocks and still counts their increments', async (t) => {
  const r = rng(9);
  const base = 500;
  const rollup = { start: (idx: number): number => idx * 3_600_000, ordinal: 2 };
  const raw = { start: (idx: number): number => idx * 3_600_000 };
  const c = new PointBuf(MetricKind.Counter);
  const g = new PointBuf(MetricKind.Gauge);
  let w = base;
  for (let i = 0; i < 2000; i++) {
    w += r() < 0.9 ? 1 : 2 + Math.floor(r() * 5);
    const ts = rollup.start(w) + 3_599_000;
    c.pushCounter(w, Math.floor(r() * 1000), ts, i % 2 === 0 ? i * 7 : NaN);
    g.pushGauge(w, i, i, i, i, 1, ts);
  }
  const lastIdx = c.idx[c.n - 1]!;
  for (const buf of [c, g]) {
    const v3 = encodeChunk(buf, base, rollup), v2 = encodeChunk(buf, base, raw);
    for (const fromIdx of [base, base + 129, lastIdx - 24, lastIdx, lastIdx + 5]) {
      for (const [name, bytes] of [['version 3', v3], ['version 2', v2]] as const) {
        const out = new PointBuf(buf.kind);
        const skipped = decodeChunkFrom(bytes, base, out, rollup, fromIdx);
        // Windows at or after fromIdx are all there, as encoded.
        const want: number[] = [], got: number[] = [];
        for (let i = 0; i < buf.n; i++) if (buf.idx[i]! >= fromIdx) want.push(buf.idx[i]!, buf.a[i]!);
        for (let i = 0; i < out.n; i++) if (out.idx[i]! >= fromIdx) got.push(out.idx[i]!, out.a[i]!);
        t.same(got, want, `${name} kind ${buf.kind} from ${fromIdx}: windows from the start on`);
        if (buf.kind === MetricKind.Counter) {
          // Stepped-over increments plus the decoded ones before fromIdx: every increment before it.
          let before = 0, decodedBefore = 0;
          for (let i = 0; i < buf.n; i++) if (buf.idx[i]! < fromIdx) before += buf.a[i]!;
          for (let i = 0; i < out.n; i++) if (out.idx[i]! < fromIdx) decodedBefore += out.a[i]!;
          t.equal(skipped + decodedBefore, before, `${name} from ${fromIdx}: increments before the start`);
        } else t.equal(skipped, 0);
        if (name === 'version 2' || fromIdx <= base + 129) continue;
        t.ok(out.n <= 128 + 24 + 5, `${name} kind ${buf.kind} from ${fromIdx}: ${out.n} of ${buf.n} windows decoded`);
      }
    }
    t.equal(decodeChunk(v3, base, new PointBuf(buf.kind), rollup).points, buf.n);
  }
  // The prefixes cost a few bytes a block.
  t.ok(encodeChunk(c, base, rollup).length < encodeChunk(c, base, raw).length + 16 * Math.ceil(c.n / 128), 'about 12 bytes a counter block');
});

t.test('a read that ends inside a block gets exactly the windows up to its end, in every column layout', async (t) => {
  const r = rng(11);
  const clock: WindowClock = { start: (idx: number): number => idx * 10_000 };
  const rollup: WindowClock = { ...clock, ordinal: 1 };
  const base = 100;
  // Counters as increments only, as the sender's derivable values, and mixed; gauges with the
  // compact flags (min = max = last, count 1) and without; histograms.
  const bufs: Array<[string, PointBuf]> = [];
  const inc = new PointBuf(MetricKind.Counter), derivable = new PointBuf(MetricKind.Counter), mixed = new PointBuf(MetricKind.Counter);
  const flat = new PointBuf(MetricKind.Gauge), full = new PointBuf(MetricKind.Gauge), h = new PointBuf(MetricKind.Histogram);
  let w = base, total = 0;
  for (let i = 0; i < 300; i++) {
    w += r() < 0.8 ? 1 : 2 + Math.floor(r() * 4);
    const ts = clock.start(w) + 1000 + Math.floor(r() * 8000);
    const d = Math.floor(r() * 40);
    total += d;
    inc.pushCounter(w, d, ts);
    derivable.pushCounter(w, i === 0 ? total : d, ts, total);
    mixed.pushCounter(w, d, ts, i % 3 === 0 ? total : NaN);
    const v = Math.round(r() * 1000) / 10;
    flat.pushGauge(w, v, v, v, v, 1, ts);
    full.pushGauge(w, v, v - 1, v + 2, v * 2, 2, ts);
    h.pushHistogram(w, hist([r(), r() * 3]), ts);
  }
  bufs.push(['increments', inc], ['derivable', derivable], ['mixed', mixed], ['flat gauge', flat], ['gauge', full], ['histogram', h]);
  const cols = (b: PointBuf, n: number) => b.kind === MetricKind.Histogram
    ? Array.from({ length: n }, (_, i) => [b.idx[i], b.t[i], b.hists[i]!.count, b.hists[i]!.sum])
    : Array.from({ length: n }, (_, i) => [b.idx[i], b.t[i], b.a[i], b.b[i], b.c[i], b.d[i], b.e[i]]);
  for (const [name, buf] of bufs) {
    for (const clk of buf.kind === MetricKind.Histogram ? [clock] : [clock, rollup]) {
      const bytes = encodeChunk(buf, base, clk);
      const all = new PointBuf(buf.kind);
      decodeChunk(bytes, base, all, clk);
      // Ends inside the first block, on a block's last window, inside a later block, before the first window.
      for (const until of [buf.idx[5]!, buf.idx[127]!, buf.idx[129]! - 1, buf.idx[200]!, base]) {
        const out = new PointBuf(buf.kind);
        decodeChunk(bytes, base, out, clk, until);
        let want = 0;
        while (want < all.n && all.idx[want]! <= until) want++;
        t.equal(out.n, want, `${name} (${clk.ordinal ? 'rollup' : 'raw'}) until ${until}: ${want} windows, none past the end`);
        t.same(cols(out, out.n), cols(all, want), `${name} until ${until}: the same windows as a whole decode`);
      }
    }
  }
});
