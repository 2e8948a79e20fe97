import t from 'tap';
import { Recorder } from '../../../src/ingest/embedded/recorder.js';
import type { IngestSink } from '../../../src/ingest/sink.js';
import { ACCEPTED, Refusal, refusedRef, type Verdict } from '../../../src/ingest/sink.js';
import { SparseHistogram } from '../../../src/model/hdr.js';
import { classicBucket } from '../../../src/pipeline/series-slot.js';
import type { Labels } from '../../../src/model/labels.js';
import { MetricKind } from '../../../src/model/metric-kind.js';

interface Sent { op: string; ref: number; value: number; ts: number; count?: number; classic?: number[] }

function fakeSink(): { sink: IngestSink; sent: Sent[]; flushes: number[]; names: string[] } {
  const sent: Sent[] = [];
  const names: string[] = [];
  const out = { sink: null as unknown as IngestSink, sent, flushes: [0], names };
  const no = (): Verdict => { throw new Error('not expected'); };
  out.sink = {
    series(_tenant: string, labels: Labels) {
      const name = labels.find((l) => l.name === '__name__')!.value;
      if (name === 'refused_total') return refusedRef(Refusal.SeriesPerTenant);
      names.push(labels.map((l) => `${l.name}=${l.value}`).join(','));
      return names.length - 1;
    },
    counter(ref, value, ts) { sent.push({ op: 'counter', ref, value, ts }); return ACCEPTED; },
    counterCumulative: no,
    gaugeSet(ref, value, ts) { sent.push({ op: 'gauge', ref, value, ts }); return ACCEPTED; },
    gaugeAdd: no,
    observe: no,
    setMember: no,
    histogram: no,
    histogramCumulative: no,
    histogramBorrowed(ref: number, h: SparseHistogram, cumulative: boolean, _s: number, ts: number) {
      t.equal(cumulative, false);
      sent.push({ op: 'histogram', ref, value: h.sum, ts, count: h.count, classic: [...h.classicCounts!] });
      return ACCEPTED;
    },
    flush() { out.flushes[0]!++; },
    accepting: () => true,
  };
  return out;
}

const BOUNDS = Float64Array.from([0.1, 1, 10]);

t.test('one drain hands over one summed sample per series, stamped with its last point', async (t) => {
  const f = fakeSink();
  let now = 10_500;
  const r = new Recorder(f.sink, { tenant: 'default', resolutionMs: 10_000, drainIntervalMs: 60_000, boundsOf: () => BOUNDS, now: () => now });
  for (let i = 0; i < 100; i++) {
    now = 10_500 + i;
    t.ok(r.record('tok_total', i, { model: `m${i % 3}`, type: 'input' }, MetricKind.Counter));
    t.ok(r.record('lat_seconds', [0.1, 0.5, 3, 20][i % 4]!, { model: `m${i % 3}` }, MetricKind.Histogram));
  }
  t.equal(f.sent.length, 0, 'nothing reaches the sink before a drain');
  r.drain();
  t.equal(f.flushes[0], 1, 'one flush per drain');
  const counters = f.sent.filter((s) => s.op === 'counter');
  t.equal(counters.length, 3);
  const sums = [0, 0, 0];
  for (let i = 0; i < 100; i++) sums[i % 3]! += i;
  for (const c of counters) {
    const m = Number(f.names[c.ref]!.match(/model=m(\d)/)![1]);
    t.equal(c.value, sums[m], `model m${m} sums its increments`);
    t.equal(c.ts, 10_500 + [99, 97, 98][m]!, 'stamped with the last point');
  }
  const hs = f.sent.filter((s) => s.op === 'histogram');
  t.equal(hs.length, 3);
  t.equal(hs.reduce((a, h) => a + h.count!, 0), 100, 'every observation is kept');
  const classic = [0, 0, 0, 0];
  for (const h of hs) h.classic!.forEach((c, i) => (classic[i]! += c));
  t.same(classic, [25, 25, 25, 25], 'classic buckets are le: 0.1 falls in le="0.1", 20 in +Inf');
  f.sent.length = 0;
  r.drain();
  t.equal(f.sent.length, 0, 'a drain with nothing held sends nothing');
});

t.test('held points never cross a window boundary', async (t) => {
  const f = fakeSink();
  let now = 19_990;
  const r = new Recorder(f.sink, { tenant: 'default', resolutionMs: 10_000, drainIntervalMs: 60_000, boundsOf: () => BOUNDS, now: () => now });
  r.record('c_total', 1, {}, MetricKind.Counter);
  now = 19_999;
  r.record('c_total', 2, {}, MetricKind.Counter);
  now = 20_000;
  r.record('c_total', 4, {}, MetricKind.Counter);
  t.same(f.sent, [{ op: 'counter', ref: 0, value: 3, ts: 19_999 }], 'the first window is handed over when the next begins');
  r.drain();
  t.same(f.sent[1], { op: 'counter', ref: 0, value: 4, ts: 20_000 });
});

t.test('bad values and refused series are refused on the call; gauges go through at once', async (t) => {
  const f = fakeSink();
  const r = new Recorder(f.sink, { tenant: 'default', resolutionMs: 10_000, drainIntervalMs: 60_000, boundsOf: () => BOUNDS, now: () => 5 });
  t.notOk(r.record('c_total', -1, {}, MetricKind.Counter));
  t.notOk(r.record('c_total', Infinity, {}, MetricKind.Counter));
  t.notOk(r.record('h_seconds', NaN, {}, MetricKind.Histogram));
  t.notOk(r.record('refused_total', 1, {}, MetricKind.Counter));
  t.ok(r.record('g', 7, { a: 'b' }, MetricKind.Gauge));
  t.same(f.sent, [{ op: 'gauge', ref: 2, value: 7, ts: 5 }]);
  r.drain();
  t.equal(f.sent.length, 1, 'refused values were not held');
});

t.test('the drain timer hands points over without another record call', async (t) => {
  const f = fakeSink();
  const r = new Recorder(f.sink, { tenant: 'default', resolutionMs: 10_000, drainIntervalMs: 20, boundsOf: () => BOUNDS });
  r.record('c_total', 5, {}, MetricKind.Counter);
  await new Promise((res) => setTimeout(res, 200));
  t.equal(f.sent.length, 1);
  t.equal(f.sent[0]!.value, 5);
});

t.test('the same labels listed in another order reach the same series', async (t) => {
  const f = fakeSink();
  const now = 20_000;
  const r = new Recorder(f.sink, { tenant: 'default', resolutionMs: 10_000, drainIntervalMs: 60_000, boundsOf: () => BOUNDS, now: () => now });
  t.ok(r.record('tok_total', 2, { model: 'a', type: 'input' }, MetricKind.Counter));
  t.ok(r.record('tok_total', 3, { type: 'input', model: 'a' }, MetricKind.Counter));
  t.ok(r.record('tok_total', 5, { model: 'a', type: 'input' }, MetricKind.Counter));
  t.ok(r.record('tok_total', 7, { model: 'a', type: 'output' }, MetricKind.Counter));
  t.ok(r.record('tok_total', 11, { model: 'a' }, MetricKind.Counter), 'a prefix of another call\'s labels is its own series');
  t.ok(r.record('tok_total', 13, { model: 'a', type: '' }, MetricKind.Counter), 'an empty value is no label, as everywhere');
  t.same(f.names, ['__name__=tok_total,model=a,type=input', '__name__=tok_total,model=a,type=output', '__name__=tok_total,model=a']);
  r.drain();
  t.same(f.sent.map((s) => [f.names[s.ref], s.value]), [
    ['__name__=tok_total,model=a,type=input', 10],
    ['__name__=tok_total,model=a,type=output', 7],
    ['__name__=tok_total,model=a', 24],
  ]);
});

t.test('a bound series is the one record() uses; a refused one is retried on the next call', async (t) => {
  const f = fakeSink();
  const now = 30_000;
  const r = new Recorder(f.sink, { tenant: 'default', resolutionMs: 10_000, drainIntervalMs: 60_000, boundsOf: () => BOUNDS, now: () => now });
  const add = r.bind('tok_total', { model: 'a' }, MetricKind.Counter);
  t.ok(add(2));
  t.ok(r.record('tok_total', 3, { model: 'a' }, MetricKind.Counter));
  t.notOk(add(-1), 'a negative increment is refused');
  const refused = r.bind('refused_total', {}, MetricKind.Counter);
  t.notOk(refused(1), 'refused by the sink');
  t.notOk(refused(1), 'asked again, refused again');
  t.same(f.names, ['__name__=tok_total,model=a']);
  r.drain();
  t.same(f.sent.map((s) => [f.names[s.ref], s.value]), [['__name__=tok_total,model=a', 5]]);
});

t.test('one metric recorded with other label names at the same step, and with many values of one label, keeps every series apart', async (t) => {
  const f = fakeSink();
  const now = 20_000;
  const r = new Recorder(f.sink, { tenant: 'default', resolutionMs: 10_000, drainIntervalMs: 60_000, boundsOf: () => BOUNDS, now: () => now });
  const want = new Map<string, number>();
  const rec = (labels: Record<string, string>, v: number): void => {
    t.ok(r.record('req_total', v, labels, MetricKind.Counter));
    const key = ['__name__=req_total', ...Object.keys(labels).sort().filter((k) => labels[k] !== '').map((k) => `${k}=${labels[k]}`)].join(',');
    want.set(key, (want.get(key) ?? 0) + v);
  };
  for (let round = 0; round < 3; round++) {
    rec({}, 1);
    rec({ route: '/a' }, 2);
    rec({ user: '/a' }, 3); // the same value under another name at the first step
    rec({ route: '/a', user: 'u1' }, 5);
    rec({ user: 'u1', route: '/a' }, 7);
    rec({ user: 'u1' }, 11);
    // More values of one label than a node scans: the rest are indexed.
    for (let i = 0; i < 40; i++) rec({ route: '/a', user: `u${i}` }, 1);
    for (let i = 0; i < 40; i++) rec({ user: `u${i}` }, 1);
  }
  t.equal(f.names.length, want.size, 'one series per distinct label set');
  r.drain();
  const got = new Map(f.sent.map((s) => [f.names[s.ref]!, s.value]));
  t.same(got, want, 'each series summed its own increments');
});

t.test('a drained histogram holds the buckets, count, sum, min and max of recording each value on its call', async (t) => {
  const f = fakeSink();
  const got: SparseHistogram[] = [];
  f.sink.histogramBorrowed = (_ref: number, h: SparseHistogram) => {
    const c = h.clone();
    got.push(c);
    return ACCEPTED;
  };
  let now = 20_000;
  const r = new Recorder(f.sink, { tenant: 'default', resolutionMs: 10_000, drainIntervalMs: 60_000, boundsOf: () => BOUNDS, now: () => now });
  // More values than are held before a fold, unsorted, with repeats, zero, negatives and decimals
  // whose sum depends on the order of addition.
  let x = 7;
  const values: number[] = [];
  for (let i = 0; i < 700; i++) {
    x = (x * 48271) % 2147483647;
    values.push(i % 50 === 0 ? 0 : i % 97 === 0 ? -0.3 : (x % 100000) / 7919 + (i % 3) * 0.1);
  }
  for (let round = 0; round < 2; round++) {
    const want = new SparseHistogram(16);
    want.bounds = BOUNDS;
    want.classicCounts = new Float64Array(BOUNDS.length + 1);
    const part = round === 0 ? values : values.slice(0, 5);
    for (const v of part) {
      t.ok(r.record('lat_seconds', v, { route: '/a' }, MetricKind.Histogram));
      want.record(v, 1);
      want.classicCounts[classicBucket(BOUNDS, v)]!++;
    }
    r.drain();
    now += 1;
    const h = got[round]!;
    t.same([...h.indices.subarray(0, h.size)], [...want.indices.subarray(0, want.size)], 'the same HDR buckets');
    t.same([...h.counts.subarray(0, h.size)], [...want.counts.subarray(0, want.size)], 'with the same counts');
    t.same([...h.classicCounts!], [...want.classicCounts], 'the same classic bucket counts');
    t.equal(h.count, want.count);
    t.equal(h.sum, want.sum, 'the sum of the values in call order, to the last bit');
    t.equal(h.min, want.min);
    t.equal(h.max, want.max);
  }
});

t.test('one label set under two kinds, many label names, and more series than a site holds keep every series and histogram apart', async (t) => {
  const f = fakeSink();
  const got = new Map<string, { count: number; sum: number; classic: number[] }>();
  f.sink.histogramBorrowed = (ref: number, h: SparseHistogram) => {
    got.set(f.names[ref]!, { count: h.count, sum: h.sum, classic: [...h.classicCounts!] });
    return ACCEPTED;
  };
  const r = new Recorder(f.sink, { tenant: 'default', resolutionMs: 10_000, drainIntervalMs: 60_000, boundsOf: () => BOUNDS, now: () => 20_000 });
  const wide: Record<string, string> = {};
  for (let i = 0; i < 10; i++) wide[`l${i}`] = `v${i}`;
  const wantCounters = new Map<string, number>();
  const wantHist = new Map<string, { count: number; sum: number; classic: number[] }>();
  const key = (labels: Record<string, string>, name: string): string =>
    [`__name__=${name}`, ...Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`)].join(',');
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 30; i++) {
      const labels = { model: `m${i}`, type: i % 2 ? 'input' : 'output' };
      t.ok(r.record('x', i + 1, labels, MetricKind.Counter));
      wantCounters.set(key(labels, 'x'), (wantCounters.get(key(labels, 'x')) ?? 0) + i + 1);
      if (i < 20) {
        t.ok(r.record('x', i / 10, labels, MetricKind.Histogram), 'the same name and labels as a histogram');
        const h = wantHist.get(key(labels, 'x')) ?? { count: 0, sum: 0, classic: [0, 0, 0, 0] };
        h.classic[classicBucket(BOUNDS, i / 10)]!++;
        wantHist.set(key(labels, 'x'), { count: h.count + 1, sum: h.sum + i / 10, classic: h.classic });
      }
    }
    t.ok(r.record('wide', 2, wide, MetricKind.Counter));
    t.ok(r.record('wide', 3, { ...wide, l9: 'other' }, MetricKind.Counter));
    wantCounters.set(key(wide, 'wide'), (wantCounters.get(key(wide, 'wide')) ?? 0) + 2);
    wantCounters.set(key({ ...wide, l9: 'other' }, 'wide'), (wantCounters.get(key({ ...wide, l9: 'other' }, 'wide')) ?? 0) + 3);
  }
  t.equal(f.names.length, wantCounters.size + wantHist.size, 'one series per distinct label set and kind');
  r.drain();
  t.same(new Map(f.sent.filter((s) => s.op === 'counter').map((s) => [f.names[s.ref]!, s.value])), wantCounters, 'each counter summed its own increments');
  t.same(got, wantHist, 'each histogram holds its own observations, in their buckets (parked values survive the buffer growing)');
});
