import t from 'tap';
import { SparseHistogram } from '../../src/model/hdr.js';
import { encodeHistogram, histogramSize } from '../../src/pipeline/records.js';
import { CumulativeStream } from '../../src/pipeline/temporality.js';

/** rng is a small deterministic generator so a failure reproduces. */
function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

/** bits spells a double's bit pattern, so 0 and -0 (or two NaNs) are told apart. */
function bits(x: number): string {
  return new BigUint64Array(new Float64Array([x]).buffer)[0]!.toString(16);
}

/** Plain is a histogram as plain data: the reference arithmetic below works on it, not on SparseHistogram. */
interface Plain { i: number[]; c: number[]; n: number; sum: number; min: number; max: number; b: number[] | null; cc: number[] | null }

function plain(h: SparseHistogram): Plain {
  return {
    i: Array.from(h.indices.subarray(0, h.size)), c: Array.from(h.counts.subarray(0, h.size)), n: h.count, sum: h.sum, min: h.min, max: h.max,
    b: h.bounds ? Array.from(h.bounds) : null, cc: h.classicCounts ? Array.from(h.classicCounts) : null,
  };
}

function show(p: Plain | null): string {
  if (p === null) return 'null';
  return JSON.stringify({ i: p.i, c: p.c.map(bits), n: bits(p.n), sum: bits(p.sum), min: bits(p.min), max: bits(p.max), b: p.b?.map(bits) ?? null, cc: p.cc?.map(bits) ?? null });
}

/**
 * refDelta is the point minus the baseline as SparseHistogram.sub defines it, bucket by bucket:
 * the union of indices, counts p + b * -1, min and max of the point, classic counts subtracted
 * when both have the same bounds and dropped when they differ.
 */
function refDelta(p: Plain, base: Plain): Plain {
  const m = new Map<number, number>();
  for (let k = 0; k < p.i.length; k++) m.set(p.i[k]!, p.c[k]!);
  for (let k = 0; k < base.i.length; k++) m.set(base.i[k]!, (m.get(base.i[k]!) ?? 0) + base.c[k]! * -1);
  const u = [...m].sort((x, y) => x[0] - y[0]);
  const out: Plain = { i: u.map((x) => x[0]), c: u.map((x) => x[1]), n: p.n + base.n * -1, sum: p.sum + base.sum * -1, min: p.min, max: p.max, b: null, cc: null };
  if (base.b !== null && p.b !== null && p.b.length === base.b.length && p.b.every((x, k) => x === base.b![k])) {
    out.b = p.b;
    out.cc = p.cc!.map((x, k) => x + base.cc![k]! * -1);
  }
  return out;
}

/** point builds a cumulative point over `nb` classic bounds whose non-empty HDR buckets are `idx`. */
function point(idx: number[], counts: number[], bounds: number[] | null, cc: number[] | null, sum: number, min: number, max: number): SparseHistogram {
  const h = SparseHistogram.fromBuckets(idx, counts, counts.reduce((a, b) => a + b, 0), sum, min, max);
  if (bounds !== null) {
    h.bounds = Float64Array.from(bounds);
    h.classicCounts = Float64Array.from(cc!);
  }
  return h;
}

t.test("a cumulative histogram's delta is, bit for bit, the point minus its baseline, whether its buckets and bounds stay or change", async (t) => {
  const r = rng(7);
  const boundsA = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
  const boundsB = [0.1, 1, 10];
  const boundsC = boundsA.map((x) => x * 2);
  const stream = new CumulativeStream();
  const out = new SparseHistogram();
  let base: Plain | null = null;
  let idx = [3, 40, 700, 2100, 5000, 9000];
  let counts = idx.map(() => 1 + Math.floor(r() * 5));
  let bounds: number[] | null = boundsA;
  let cc: number[] | null = bounds.concat([0]).map(() => Math.floor(r() * 4));
  let sum = 1.5;
  let fast = 0, checked = 0;
  for (let step = 0; step < 400; step++) {
    const roll = r();
    if (roll < 0.08) {
      // a new bucket becomes non-empty: the layout changes
      const add = Math.floor(r() * 12000);
      if (!idx.includes(add)) {
        const k = idx.findIndex((x) => x > add);
        const at = k < 0 ? idx.length : k;
        idx = [...idx.slice(0, at), add, ...idx.slice(at)];
        counts = [...counts.slice(0, at), 1, ...counts.slice(at)];
      }
    } else if (roll < 0.12) {
      bounds = bounds === boundsA ? boundsC : bounds === boundsC ? boundsB : bounds === boundsB ? null : boundsA;
      cc = bounds === null ? null : bounds.concat([0]).map(() => Math.floor(r() * 4));
    } else if (roll < 0.15) {
      // a reset: the sender restarted, fewer observations than the baseline
      idx = [idx[0]!];
      counts = [1];
    }
    // Counts only grow (by fractions too, as a rate-scaled sender may send), so most steps are the steady state.
    counts = counts.map((c) => c + (r() < 0.5 ? 0 : r() < 0.8 ? 1 + Math.floor(r() * 3) : 0.1 * Math.floor(r() * 7)));
    if (cc !== null) cc = cc.map((c) => c + Math.floor(r() * 3));
    sum += r() < 0.1 ? -0 : r() * 3;
    const h = point(idx, counts, bounds, cc, sum, r() < 0.2 ? Infinity : r(), r() < 0.2 ? -Infinity : 5 + r());
    const buf = new Float64Array(histogramSize(h) + 3);
    encodeHistogram(buf, 3, h);
    const p = plain(h);
    const knownBounds = h.bounds;
    const sameStepLayout = base !== null && base.i.length === p.i.length && base.i.every((x, k) => x === p.i[k]) && base.b !== null && p.b !== null && base.b.join() === p.b.join() && p.i.length > 0;
    const want = base === null ? null : p.n < base.n ? p : refDelta(p, base);
    const got = stream.histogramIncrement(buf, 3, 0, 1000 + step, out, knownBounds);
    const gotPlain = got === null ? null : plain(got);
    if (show(gotPlain) !== show(want)) {
      t.equal(show(gotPlain), show(want), `step ${step}: delta`);
      return;
    }
    if (show(plain(stream.h!)) !== show(p)) {
      t.equal(show(plain(stream.h!)), show(p), `step ${step}: the point becomes the baseline`);
      return;
    }
    if (sameStepLayout) fast++;
    base = p;
    checked++;
  }
  t.equal(checked, 400, 'every step matched the reference');
  t.ok(fast > 150, `most steps (${fast}) kept the baseline's buckets and bounds`);
});

t.test('a repeated or older cumulative histogram leaves its baseline as it was', async (t) => {
  const stream = new CumulativeStream();
  const out = new SparseHistogram();
  const enc = (h: SparseHistogram): Float64Array => {
    const buf = new Float64Array(histogramSize(h));
    encodeHistogram(buf, 0, h);
    return buf;
  };
  const b = [1, 2];
  const first = enc(point([10, 20], [1, 2], b, [1, 2, 0], 4, 0.5, 1.5));
  const second = enc(point([10, 20], [3, 2], b, [3, 2, 0], 6, 0.5, 1.5));
  t.equal(stream.histogramIncrement(first, 0, 0, 1000, out, null), null, 'no start time: the first point is the baseline');
  const d = stream.histogramIncrement(second, 0, 0, 2000, out, null)!;
  t.same(plain(d).c, [2, 0]);
  t.equal(stream.histogramIncrement(first, 0, 0, 1500, out, null), null, 'an older point counts nothing');
  t.same(plain(stream.h!).c, [3, 2], 'and does not move the baseline');
});
