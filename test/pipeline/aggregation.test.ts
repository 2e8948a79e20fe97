import t from 'tap';
import { SparseHistogram } from '../../src/model/hdr.js';
import { MetricKind } from '../../src/model/metric-kind.js';
import { failNextCommit } from './file-store.js';
import { fold, key, L, ManualClock, RES, T0, startPipeline, tempDir } from './helpers.js';

t.test('counters, gauges, histograms and sets aggregate exactly per window of their own timestamp', async (t) => {
  const dir = tempDir(t);
  const clock = new ManualClock(T0 + 2 * RES + 500);
  const p = await startPipeline(t, dir, clock, { workers: 1 });
  const c = p.series('default', L('reqs_total', { route: '/a' }), MetricKind.Counter);
  const g = p.series('default', L('temp'), MetricKind.Gauge);
  const h = p.series('default', L('lat_seconds'), MetricKind.Histogram);
  const s = p.series('default', L('users'), MetricKind.Gauge);
  // Arrival order differs from timestamp order: each point goes to its own window.
  p.counter(c, 2, T0 + RES + 1);
  p.counter(c, 3, T0 + 5);
  p.counter(c, 0.5, T0 + RES - 1);
  p.gaugeSet(g, 7, T0 + 900);
  p.gaugeSet(g, 5, T0 + 100);
  p.gaugeSet(g, 9, T0 + 400);
  p.gaugeSet(g, -1, T0 + RES);
  p.observe(h, 0.25, 1, T0);
  p.observe(h, 0.003, 4, T0 + 10);
  p.observe(h, 12, 1, T0 + RES + 3);
  for (const m of [1, 2, 2, 3, 1]) p.setMember(s, m, T0 + 1);
  p.setMember(s, 9, T0 + RES);
  await p.flushClosed();
  const f = fold(dir);
  t.same([...f.counters.get(key(L('reqs_total', { route: '/a' })))!], [[T0, 3.5], [T0 + RES, 2]]);
  t.same(f.gauges.get(key(L('temp')))!.get(T0), { last: 7, min: 5, max: 9, sum: 21, count: 3 }, 'last is the latest timestamp, not the latest arrival');
  t.same(f.gauges.get(key(L('temp')))!.get(T0 + RES), { last: -1, min: -1, max: -1, sum: -1, count: 1 });
  const h0 = f.histograms.get(key(L('lat_seconds')))!.get(T0)!;
  t.equal(h0.count, 5);
  t.equal(h0.sum, 0.25 + 0.012);
  t.equal(h0.min, 0.003);
  t.equal(h0.max, 0.25);
  t.ok(Math.abs(h0.quantile(0.5) - 0.003) / 0.003 < 0.01, 'median within HDR precision');
  t.equal(f.histograms.get(key(L('lat_seconds')))!.get(T0 + RES)!.count, 1);
  t.same(f.gauges.get(key(L('users')))!.get(T0), { last: 3, min: 3, max: 3, sum: 3, count: 1 }, 'a set window is its distinct count');
  t.same(f.gauges.get(key(L('users')))!.get(T0 + RES), { last: 1, min: 1, max: 1, sum: 1, count: 1 });
  t.equal(f.commits.length, 1, 'one flush of a worker is one transaction');
});

t.test('a flush writes only windows that have ended; flushNow also persists the open window', async (t) => {
  const dir = tempDir(t);
  const clock = new ManualClock(T0 + RES - 1);
  const p = await startPipeline(t, dir, clock);
  const c = p.series('default', L('c_total'), MetricKind.Counter);
  p.counter(c, 1, T0);
  await p.flushClosed();
  t.equal(fold(dir).counters.size, 0, 'the window has not ended');
  clock.t = T0 + RES;
  await p.flushClosed();
  t.same([...fold(dir).counters.get(key(L('c_total')))!], [[T0, 1]], 'written once it ended');
  p.counter(c, 4, T0 + RES + 10);
  await p.flushNow();
  t.same([...fold(dir).counters.get(key(L('c_total')))!], [[T0, 1], [T0 + RES, 4]], 'flushNow wrote the current window');
});

t.test('a point for an already flushed window is written with the next flush and merges', async (t) => {
  const dir = tempDir(t);
  const clock = new ManualClock(T0 + RES);
  const p = await startPipeline(t, dir, clock);
  const c = p.series('default', L('c_total'), MetricKind.Counter);
  p.counter(c, 1, T0);
  await p.flushClosed();
  p.counter(c, 2, T0 + 3);
  await p.flushClosed();
  const f = fold(dir);
  t.equal(f.commits.length, 2);
  t.equal(f.counters.get(key(L('c_total')))!.get(T0), 3, 'the late increment is added, not lost');
});

t.test('gaugeAdd applies deltas to the current value, which carries over to the next window', async (t) => {
  const dir = tempDir(t);
  const p = await startPipeline(t, dir, new ManualClock(T0 + 5 * RES));
  const g = p.series('default', L('queue'), MetricKind.Gauge);
  p.gaugeAdd(g, 5, T0);
  p.gaugeAdd(g, -2, T0 + 1);
  p.gaugeAdd(g, 10, T0 + RES);
  p.gaugeSet(g, 1, T0 + 2 * RES);
  p.gaugeAdd(g, 1, T0 + 2 * RES + 1);
  await p.flushClosed();
  const f = fold(dir).gauges.get(key(L('queue')))!;
  t.same(f.get(T0), { last: 3, min: 3, max: 5, sum: 8, count: 2 });
  t.same(f.get(T0 + RES), { last: 13, min: 13, max: 13, sum: 13, count: 1 });
  t.same(f.get(T0 + 2 * RES), { last: 2, min: 1, max: 2, sum: 3, count: 2 });
});

t.test('pre-aggregated histograms merge exactly into the window, classic buckets included', async (t) => {
  const dir = tempDir(t);
  const p = await startPipeline(t, dir, new ManualClock(T0 + RES));
  const ref = p.series('default', L('tokens'), MetricKind.Histogram, { bounds: [10, 100] });
  const a = new SparseHistogram();
  a.record(5, 2);
  a.record(50);
  a.bounds = Float64Array.from([10, 100]);
  a.classicCounts = Float64Array.from([2, 1, 0]);
  const b = new SparseHistogram();
  b.record(500);
  b.record(5);
  b.bounds = Float64Array.from([10, 100]);
  b.classicCounts = Float64Array.from([1, 0, 1]);
  p.histogram(ref, a, T0);
  p.histogram(ref, b, T0 + 1);
  await p.flushClosed();
  const h = fold(dir).histograms.get(key(L('tokens')))!.get(T0)!;
  t.equal(h.count, 5);
  t.equal(h.sum, 565);
  t.equal(h.min, 5);
  t.equal(h.max, 500);
  t.equal(h.countLE(10), 3);
  t.equal(h.countLE(100), 4);
});

t.test('many series and batches: every increment arrives exactly once', async (t) => {
  const dir = tempDir(t);
  const p = await startPipeline(t, dir, new ManualClock(T0 + RES), { batchRecords: 64 });
  const refs: number[] = [];
  for (let i = 0; i < 200; i++) refs.push(p.series('default', L('n_total', { i: String(i) }), MetricKind.Counter));
  for (let round = 0; round < 50; round++) for (let i = 0; i < 200; i++) p.counter(refs[i]!, i, T0 + round);
  await p.flushClosed();
  const f = fold(dir);
  let all = 0;
  for (let i = 0; i < 200; i++) {
    const v = f.counters.get(key(L('n_total', { i: String(i) })))?.get(T0) ?? 0;
    if (v !== i * 50) t.fail(`series ${i}: ${v}`);
    all += v;
  }
  t.equal(all, 50 * (199 * 200) / 2);
});

t.test('a burst of thousands of new series interleaved with samples counts every increment once', async (t) => {
  const dir = tempDir(t);
  const p = await startPipeline(t, dir, new ManualClock(T0 + RES), { workers: 1 });
  const n = 5000;
  const refs: number[] = [];
  // Definitions and samples interleave in one flush, so definitions leave in several messages.
  for (let i = 0; i < n; i++) {
    refs.push(p.series('default', L('burst_total', { i: String(i) }), MetricKind.Counter));
    p.counter(refs[i]!, i + 1, T0);
  }
  for (let i = 0; i < n; i++) p.counter(refs[i]!, 1, T0 + 1);
  await p.flushClosed();
  const f = fold(dir);
  let wrong = 0;
  for (let i = 0; i < n; i++) if (f.counters.get(key(L('burst_total', { i: String(i) })))?.get(T0) !== i + 2) wrong++;
  t.equal(wrong, 0, `all ${n} series hold their increments`);
  t.equal(p.seriesCount('default'), n);
});

t.test('a failed commit loses nothing: the windows are written by the next flush', async (t) => {
  const dir = tempDir(t);
  const clock = new ManualClock(T0 + RES);
  const p = await startPipeline(t, dir, clock, { workers: 1 });
  const c = p.series('default', L('c_total'), MetricKind.Counter);
  p.counter(c, 1, T0);
  failNextCommit(dir);
  await t.rejects(p.flushClosed(), /injected commit failure/);
  p.counter(c, 2, T0 + 1);
  await p.flushClosed();
  t.same([...fold(dir).counters.get(key(L('c_total')))!], [[T0, 3]]);
});
