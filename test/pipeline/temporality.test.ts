import t from 'tap';
import { SparseHistogram } from '../../src/model/hdr.js';
import { MetricKind } from '../../src/model/metric-kind.js';
import { fold, key, L, ManualClock, RES, T0, startPipeline, tempDir } from './helpers.js';

const name = L('calls_total', { job: 'agent' });

type T = { teardown(fn: () => unknown): void };

async function counterWindows(t: T, feed: Array<[total: number, start: number, ts: number]>): Promise<Array<[number, number]>> {
  const dir = tempDir(t);
  const p = await startPipeline(t, dir, new ManualClock(T0 + 10 * RES));
  const ref = p.series('default', name, MetricKind.Counter);
  for (const [total, start, ts] of feed) p.counterCumulative(ref, total, start, ts);
  await p.flushNow();
  return [...(fold(dir).counters.get(key(name)) ?? new Map<number, number>())].sort((a, b) => a[0] - b[0]);
}

t.test('a cumulative stream with a start time counts its first point in full', async (t) => {
  t.same(await counterWindows(t, [[10, T0 - 5000, T0], [15, T0 - 5000, T0 + RES], [15, T0 - 5000, T0 + 2 * RES]]), [[T0, 10], [T0 + RES, 5], [T0 + 2 * RES, 0]]);
});

t.test('a cumulative stream without a start time uses its first point only as the baseline', async (t) => {
  t.same(await counterWindows(t, [[10, 0, T0], [15, 0, T0 + RES], [22, 0, T0 + 2 * RES]]), [[T0, 0], [T0 + RES, 5], [T0 + 2 * RES, 7]]);
});

t.test('a cumulative counter reset counts the post-reset value once', async (t) => {
  t.same(await counterWindows(t, [[10, 0, T0], [15, 0, T0 + RES], [4, 0, T0 + 2 * RES], [6, 0, T0 + 3 * RES]]), [[T0, 0], [T0 + RES, 5], [T0 + 2 * RES, 4], [T0 + 3 * RES, 2]]);
});

t.test('a new start time starts a new stream even when the total did not drop', async (t) => {
  t.same(await counterWindows(t, [[10, T0 - 1, T0], [30, T0 + RES - 1, T0 + RES], [35, T0 + RES - 1, T0 + 2 * RES]]), [[T0, 10], [T0 + RES, 30], [T0 + 2 * RES, 5]]);
});

t.test('a repeated or older cumulative point counts nothing', async (t) => {
  t.same(await counterWindows(t, [[10, 0, T0], [15, 0, T0 + RES], [15, 0, T0 + RES], [12, 0, T0 + 5]]), [[T0, 0], [T0 + RES, 5]]);
});

t.test('cumulative baselines survive a pipeline restart on the same store', async (t) => {
  const dir = tempDir(t);
  const clock = new ManualClock(T0 + 10 * RES);
  const h = L('lat_seconds', { job: 'agent' });
  const cum = (n: number): SparseHistogram => {
    const x = new SparseHistogram();
    x.record(0.1, n);
    return x;
  };
  const p1 = await startPipeline(t, dir, clock);
  const c1 = p1.series('default', name, MetricKind.Counter);
  const h1 = p1.series('default', h, MetricKind.Histogram);
  p1.counterCumulative(c1, 10, 0, T0);
  p1.counterCumulative(c1, 15, 0, T0 + RES);
  p1.histogramCumulative(h1, cum(3), T0 - 1000, T0);
  p1.histogramCumulative(h1, cum(5), T0 - 1000, T0 + RES);
  await p1.close();

  const p2 = await startPipeline(t, dir, clock);
  const c2 = p2.series('default', name, MetricKind.Counter);
  const h2 = p2.series('default', h, MetricKind.Histogram);
  p2.counterCumulative(c2, 15, 0, T0 + RES, ); // the same point again, e.g. an export retried after the restart
  p2.counterCumulative(c2, 21, 0, T0 + 2 * RES);
  p2.histogramCumulative(h2, cum(9), T0 - 1000, T0 + 2 * RES);
  await p2.flushNow();
  const f = fold(dir);
  const counts = [...f.counters.get(key(name))!].sort((a, b) => a[0] - b[0]);
  t.same(counts, [[T0, 0], [T0 + RES, 5], [T0 + 2 * RES, 6]], 'neither double counted nor dropped');
  const hs = f.histograms.get(key(h))!;
  t.same([...hs].sort((a, b) => a[0] - b[0]).map(([s, x]) => [s, x.count]), [[T0, 3], [T0 + RES, 2], [T0 + 2 * RES, 4]]);
});

t.test('a cumulative histogram reset counts the post-reset histogram in full', async (t) => {
  const dir = tempDir(t);
  const p = await startPipeline(t, dir, new ManualClock(T0 + 10 * RES));
  const ref = p.series('default', L('h'), MetricKind.Histogram);
  const mk = (vals: number[]): SparseHistogram => {
    const x = new SparseHistogram();
    for (const v of vals) x.record(v);
    return x;
  };
  p.histogramCumulative(ref, mk([1, 2]), 0, T0);
  p.histogramCumulative(ref, mk([1, 2, 3, 4]), 0, T0 + RES);
  p.histogramCumulative(ref, mk([7]), 0, T0 + 2 * RES);
  await p.flushNow();
  const hs = fold(dir).histograms.get(key(L('h')))!;
  t.notOk(hs.get(T0), 'the first point without start time is only the baseline');
  t.equal(hs.get(T0 + RES)!.count, 2);
  t.equal(hs.get(T0 + RES)!.sum, 7);
  t.equal(hs.get(T0 + 2 * RES)!.count, 1);
  t.equal(hs.get(T0 + 2 * RES)!.sum, 7);
});
