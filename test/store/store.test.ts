import t from 'tap';
import { SparseHistogram } from '../../src/model/hdr.js';
import { labelsToRecord } from '../../src/model/labels.js';
import { Matcher } from '../../src/model/matcher.js';
import { MetricKind } from '../../src/model/metric-kind.js';
import { openStore } from '../../src/store/open.js';
import { CLOCK_T0, L, openTemp, pairs, tempDir } from './helpers.js';

const S = 10_000;
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % S);
const eq = (n: string, v: string): Matcher => new Matcher('=', n, v);
const DAY = 86_400_000;
// Everything these tests write, inside the raw tier's retention at the stores' clock (CLOCK_T0).
const ALL = { startMs: T0 - DAY, endMs: T0 + 100 * DAY };
const NOW = (): number => CLOCK_T0;

t.test('a counter reads cumulative since creation, with a start sample at creation and after gaps', async (t) => {
  const { store } = await openTemp(t);
  const app = store.appender();
  const id = app.seriesId('default', L({ __name__: 'req_total', job: 'a' }), MetricKind.Counter);
  app.counter(id, T0, 5);
  app.counter(id, T0 + S, 3);
  app.counter(id, T0 + 4 * S, 2); // after a gap of two windows
  await app.commit();
  const r = store.querier().select('default', [eq('__name__', 'req_total')], ALL);
  t.equal(r.floats.length, 1);
  t.same(pairs(r.floats[0]), [
    [T0 - S, 0], [T0, 5], [T0 + S, 8],
    [T0 + 3 * S, 8], [T0 + 4 * S, 10],
  ]);
  // A range that starts mid-series still reads totals since creation.
  const mid = store.querier().select('default', [eq('__name__', 'req_total')], { startMs: T0 + S, endMs: T0 + 4 * S });
  t.same(pairs(mid.floats[0]), [[T0 + S, 8], [T0 + 3 * S, 8], [T0 + 4 * S, 10]]);
});

t.test('a gauge reads the last value of each window at the window start', async (t) => {
  const { store } = await openTemp(t);
  const app = store.appender();
  const id = app.seriesId('default', L({ __name__: 'temp' }), MetricKind.Gauge);
  app.gauge(id, T0, 3, 1, 4, 8, 3);
  app.gauge(id, T0 + 2 * S, -2.5, -3, 0, -5, 2);
  await app.commit();
  const r = store.querier().select('default', [eq('__name__', 'temp')], ALL);
  t.same(pairs(r.floats[0]), [[T0, 3], [T0 + 2 * S, -2.5]]);
});

t.test('a late window merges into the stored one instead of replacing it', async (t) => {
  const { store } = await openTemp(t);
  let app = store.appender();
  const c = app.seriesId('default', L({ __name__: 'c_total' }), MetricKind.Counter);
  const g = app.seriesId('default', L({ __name__: 'g' }), MetricKind.Gauge);
  const h = app.seriesId('default', L({ __name__: 'lat' }), MetricKind.Histogram);
  for (let i = 0; i < 300; i++) {
    app.counter(c, T0 + i * S, 1);
    app.gauge(g, T0 + i * S, i, i, i, i, 1);
    const hh = new SparseHistogram();
    hh.record(0.1);
    app.histogram(h, T0 + i * S, hh);
  }
  await app.commit();
  app = store.appender();
  app.counter(c, T0 + 5 * S, 10);
  app.gauge(g, T0 + 5 * S, 100, -1, 100, 99, 2);
  const late = new SparseHistogram();
  late.record(2);
  app.histogram(h, T0 + 5 * S, late);
  await app.commit();
  const q = store.querier();
  const cs = pairs(q.select('default', [eq('__name__', 'c_total')], ALL).floats[0]);
  t.same(cs[cs.length - 1], [T0 + 299 * S, 310], 'the late increment adds to the total');
  t.same(cs[6], [T0 + 5 * S, 16], 'and shows from its window on');
  const gs = pairs(q.select('default', [eq('__name__', 'g')], ALL).floats[0]);
  t.same(gs[5], [T0 + 5 * S, 100], 'the gauge takes the newer last value');
  const counts = q.select('default', [eq('__name__', 'lat_count')], ALL).floats[0]!;
  t.equal(counts.values[counts.values.length - 1], 301, 'the histogram windows merge');
  const b1 = q.select('default', [eq('__name__', 'lat_bucket'), eq('le', '1')], ALL).floats[0]!;
  t.equal(b1.values[b1.values.length - 1], 300, 'the late observation lands above le=1');
});

t.test('rollback discards points and commit is durable across a restart', async (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  let store = await openStore({ dataDir: dir, rawResolutionMs: S, now: NOW });
  const app = store.appender();
  const ids: number[] = [];
  for (let s = 0; s < 50; s++) {
    const kind = s % 3 === 0 ? MetricKind.Counter : s % 3 === 1 ? MetricKind.Gauge : MetricKind.Histogram;
    ids.push(app.seriesId('default', L({ __name__: `m${s % 3}`, idx: String(s) }), kind, kind === MetricKind.Histogram ? { bounds: [0.1, 1], help: 'latency' } : undefined));
  }
  for (let w = 0; w < 1000; w++) {
    for (let s = 0; s < 50; s++) {
      if (s % 3 === 0) app.counter(ids[s]!, T0 + w * S, w % 7);
      else if (s % 3 === 1) app.gauge(ids[s]!, T0 + w * S, w, w, w, w, 1);
      else {
        const h = new SparseHistogram();
        h.record((w % 10) / 10);
        app.histogram(ids[s]!, T0 + w * S, h);
      }
    }
  }
  await app.commit();
  const dropped = store.appender();
  dropped.counter(ids[0]!, T0 + 5000 * S, 1000);
  dropped.rollback();
  const before = store.querier().select('default', [new Matcher('=~', '__name__', 'm.*')], ALL);
  await store.close();
  store = await openStore({ dataDir: dir, rawResolutionMs: S, now: NOW });
  t.teardown(() => store.close());
  const after = store.querier().select('default', [new Matcher('=~', '__name__', 'm.*')], ALL);
  t.equal(after.floats.length, before.floats.length, 'every float series is found again');
  t.equal(after.histograms.length, 16, 'every histogram series is found again');
  t.same(after.floats.map((s) => pairs(s)), before.floats.map((s) => pairs(s)), 'every point is found again');
  const c0 = after.floats.find((s) => labelsToRecord(s.labels).idx === '0')!;
  t.equal(c0.timestamps[c0.timestamps.length - 1], T0 + 999 * S, 'the rolled back window is absent');
  t.same(store.querier().metadata('default', 'm2'), [{ metric: 'm2', type: 'histogram', help: 'latency', unit: '' }]);
  // Appending after the restart continues the same series.
  const app2 = store.appender();
  const again = app2.seriesId('default', L({ __name__: 'm0', idx: '0' }), MetricKind.Counter);
  t.equal(again, ids[0], 'the series keeps its id');
  app2.counter(again, T0 + 1000 * S, 4);
  await app2.commit();
  const c0b = store.querier().select('default', [eq('idx', '0'), eq('__name__', 'm0')], ALL).floats[0]!;
  t.equal(c0b.values[c0b.values.length - 1], c0.values[c0.values.length - 1]! + 4);
});

t.test('tenants are isolated: the same labels in two tenants are two series', async (t) => {
  const { store } = await openTemp(t);
  const app = store.appender();
  const a = app.seriesId('acme', L({ __name__: 'x_total', job: 'j' }), MetricKind.Counter);
  const b = app.seriesId('globex', L({ __name__: 'x_total', job: 'j' }), MetricKind.Counter);
  t.not(a, b);
  app.counter(a, T0, 1);
  app.counter(b, T0, 100);
  await app.commit();
  const q = store.querier();
  t.same(pairs(q.select('acme', [eq('__name__', 'x_total')], ALL).floats[0]), [[T0 - S, 0], [T0, 1]]);
  t.same(pairs(q.select('globex', [eq('__name__', 'x_total')], ALL).floats[0]), [[T0 - S, 0], [T0, 100]]);
  t.same(q.select('other', [new Matcher('=~', '__name__', '.+')], ALL).floats, []);
  t.same(q.labelValues('other', 'job', [], 0, 2e13), []);
  t.same(q.labelNames('acme', [], 0, 2e13), ['__name__', 'job']);
  t.same(q.series('globex', [eq('job', 'j')], 0, 2e13).length, 1);
});

t.test('matchers select like Prometheus, including regex and empty-label semantics', async (t) => {
  const { store } = await openTemp(t);
  const app = store.appender();
  const mk = (rec: Record<string, string>): void => {
    const id = app.seriesId('default', L(rec), MetricKind.Gauge);
    app.gauge(id, T0, 1, 1, 1, 1, 1);
  };
  mk({ __name__: 'up', job: 'api', env: 'prod' });
  mk({ __name__: 'up', job: 'api', env: 'dev' });
  mk({ __name__: 'up', job: 'db' });
  mk({ __name__: 'down', job: 'web', env: 'prod' });
  await app.commit();
  const q = store.querier();
  const jobs = (ms: Matcher[]): string[] => q.series('default', ms, 0, 2e13).map((l) => `${labelsToRecord(l).__name__}/${labelsToRecord(l).job}/${labelsToRecord(l).env ?? ''}`);
  t.same(jobs([eq('__name__', 'up'), eq('env', 'prod')]), ['up/api/prod']);
  t.same(jobs([eq('__name__', 'up'), new Matcher('!=', 'env', 'prod')]), ['up/api/dev', 'up/db/'], '!= keeps series without the label');
  t.same(jobs([new Matcher('=~', 'job', 'a.|d.')]), ['up/db/'], 'regex is anchored');
  t.same(jobs([new Matcher('=~', 'job', 'ap.*|web')]), ['down/web/prod', 'up/api/dev', 'up/api/prod']);
  t.same(jobs([eq('__name__', 'up'), eq('env', '')]), ['up/db/'], 'env="" selects series without env');
  t.same(jobs([eq('__name__', 'up'), new Matcher('=~', 'env', 'dev|')]), ['up/api/dev', 'up/db/'], 'a regex matching empty includes series without the label');
  t.same(jobs([new Matcher('!~', 'env', 'prod|dev'), new Matcher('=~', '__name__', '.+')]), ['up/db/']);
  t.same(jobs([new Matcher('!=', '__name__', 'up'), new Matcher('=~', 'job', '.+')]), ['down/web/prod']);
  t.same(q.labelValues('default', 'job', [], 0, 2e13), ['api', 'db', 'web']);
  t.same(q.labelValues('default', 'env', [eq('__name__', 'up')], 0, 2e13), ['dev', 'prod']);
  t.same(q.labelNames('default', [eq('job', 'db')], 0, 2e13), ['__name__', 'job']);
});

t.test('histograms read as _bucket per le, _sum, _count and as bare-name deltas with a base', async (t) => {
  const { store } = await openTemp(t);
  const app = store.appender();
  const dflt = app.seriesId('default', L({ __name__: 'lat_seconds', route: '/a' }), MetricKind.Histogram);
  const custom = app.seriesId('default', L({ __name__: 'tok', route: '/a' }), MetricKind.Histogram, { bounds: [10, 100] });
  const obs = [[0.003, 0.2, 0.2], [1.5], [20]];
  obs.forEach((vals, i) => {
    const h = new SparseHistogram();
    const h2 = new SparseHistogram();
    for (const v of vals) { h.record(v); h2.record(v * 50); }
    app.histogram(dflt, T0 + i * S, h);
    app.histogram(custom, T0 + i * S, h2);
  });
  await app.commit();
  const q = store.querier();
  const buckets = q.select('default', [eq('__name__', 'lat_seconds_bucket')], ALL).floats;
  t.equal(buckets.length, 12, 'Prometheus default bounds plus +Inf');
  const at = (le: string): Array<[number, number]> => pairs(buckets.find((s) => labelsToRecord(s.labels).le === le));
  t.same(at('0.005'), [[T0 - S, 0], [T0, 1], [T0 + S, 1], [T0 + 2 * S, 1]]);
  t.same(at('0.25'), [[T0 - S, 0], [T0, 3], [T0 + S, 3], [T0 + 2 * S, 3]]);
  t.same(at('+Inf'), [[T0 - S, 0], [T0, 3], [T0 + S, 4], [T0 + 2 * S, 5]]);
  t.same(pairs(q.select('default', [eq('__name__', 'lat_seconds_count')], ALL).floats[0]).map((p) => p[1]), [0, 3, 4, 5]);
  const sum = pairs(q.select('default', [eq('__name__', 'lat_seconds_sum')], ALL).floats[0]);
  t.ok(Math.abs(sum[3]![1] - 21.903) < 1e-9, '_sum is cumulative');
  const custBuckets = q.select('default', [eq('__name__', 'tok_bucket')], ALL).floats.map((s) => labelsToRecord(s.labels).le);
  t.same(custBuckets.sort(), ['+Inf', '10', '100'], 'configured bounds');
  const le = q.select('default', [eq('__name__', 'tok_bucket'), eq('le', '100')], ALL).floats;
  t.equal(le.length, 1, 'an le matcher picks one bucket');
  t.same(pairs(le[0]).map((p) => p[1]), [0, 3, 4, 4]);
  // Bare name: histogram samples as deltas.
  const bare = q.select('default', [eq('__name__', 'lat_seconds')], { startMs: T0, endMs: T0 + 2 * S });
  t.equal(bare.floats.length, 0);
  const hs = bare.histograms[0]!;
  t.same(Array.from(hs.timestamps), [T0, T0 + S, T0 + 2 * S]);
  t.equal(hs.base().count, 0, 'nothing before the first window');
  t.same(hs.deltas.map((d) => d.count), [3, 1, 1]);
  const later = q.select('default', [eq('__name__', 'lat_seconds')], { startMs: T0 + S, endMs: T0 + 2 * S }).histograms[0]!;
  t.equal(later.base().count, 3, 'base holds everything before the range');
  t.same(later.deltas.map((d) => d.count), [1, 1]);
  t.same(q.labelValues('default', '__name__', [], 0, 2e13), ['lat_seconds', 'lat_seconds_bucket', 'lat_seconds_count', 'lat_seconds_sum', 'tok', 'tok_bucket', 'tok_count', 'tok_sum']);
  const regex = q.select('default', [new Matcher('=~', '__name__', 'lat_seconds_(sum|count)')], ALL).floats;
  t.equal(regex.length, 2, 'a regex on __name__ sees the virtual names');
});

t.test('a year of chunks keeps every point when the head chunk seals many times', async (t) => {
  const { store } = await openTemp(t);
  const id = (() => {
    const app = store.appender();
    const i = app.seriesId('default', L({ __name__: 'n_total' }), MetricKind.Counter);
    app.rollback();
    return i;
  })();
  let total = 0;
  for (let batch = 0; batch < 20; batch++) {
    const app = store.appender();
    for (let w = 0; w < 1000; w++) {
      const inc = (batch * 1000 + w) % 97;
      total += inc;
      app.counter(id, T0 + (batch * 1000 + w) * S, inc);
    }
    await app.commit();
  }
  const s = store.querier().select('default', [eq('__name__', 'n_total')], ALL).floats[0]!;
  t.equal(s.values.length, 20001);
  t.equal(s.values[s.values.length - 1], total);
  const st = store.stats();
  t.equal(st.tiers[0]!.points, 20000, 'stats count the points');
  t.ok(st.tiers[0]!.bytes < 2 * 20000, `stored compactly (${st.tiers[0]!.bytes} bytes), not one entry per point`);
});
