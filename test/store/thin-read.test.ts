import t from 'tap';
import { PROMETHEUS_DEFAULT_BUCKETS, SparseHistogram } from '../../src/model/hdr.js';
import { BucketColumns } from '../../src/store/bucket-columns.js';
import type { StoreDbs } from '../../src/store/dbs.js';
import type { LmdbStore } from '../../src/store/lmdb-store.js';
import { PointBuf } from '../../src/store/point-buf.js';
import { readWindows } from '../../src/store/series-reader.js';
import { Matcher } from '../../src/model/matcher.js';
import { MetricKind } from '../../src/model/metric-kind.js';
import type { FloatSeries } from '../../src/store/interface.js';
import { createEngine } from '../../src/query/promql/engine.js';
import { labelsKey } from '../../src/model/labels.js';
import { CLOCK_T0, L, fullReads, openTemp, rng } from './helpers.js';

const MIN = 60_000, HOUR = 3_600_000, DAY = 86_400_000;
const NOW = Math.floor(CLOCK_T0 / HOUR) * HOUR;
const engine = createEngine();

/**
 * Three days of 10 s windows with gaps (minutes to hours), counters that arrive as increments and
 * as the sender's values with resets, a random-walk gauge, histograms with negative observations
 * (their _sum drops), with configured bounds and with the sender's own classic bounds.
 */
async function load(t: { teardown: (fn: () => unknown) => void }) {
  const { store } = await openTemp(t, { now: () => NOW });
  const app = store.appender();
  const ha = app.seriesId('default', L({ __name__: 'lat_seconds', job: 'a' }), MetricKind.Histogram);
  const hb = app.seriesId('default', L({ __name__: 'lat_seconds', job: 'b' }), MetricKind.Histogram, { bounds: [0.1, 0.5, 1] });
  const hc = app.seriesId('default', L({ __name__: 'rpc_seconds', job: 'c' }), MetricKind.Histogram);
  const ci = app.seriesId('default', L({ __name__: 'req_total', mode: 'inc' }), MetricKind.Counter);
  const cr = app.seriesId('default', L({ __name__: 'req_total', mode: 'raw' }), MetricKind.Counter);
  const g = app.seriesId('default', L({ __name__: 'temp' }), MetricKind.Gauge);
  const r = rng(7);
  let raw = 0, temp = 100, gapUntil = -Infinity;
  const classic = Float64Array.of(0.1, 0.5, 1);
  for (let w = NOW - 3 * DAY; w < NOW; w += 10_000) {
    if (w < gapUntil) continue;
    if (r() < 0.0005) {
      gapUntil = w + Math.floor(r() * 90) * MIN;
      continue;
    }
    const last = w + Math.floor(r() * 9_000);
    for (const id of [ha, hb]) {
      const h = new SparseHistogram();
      const n = 1 + Math.floor(r() * 5);
      for (let i = 0; i < n; i++) h.record(r() < 0.05 ? -r() : Math.exp(r() * 4 - 3));
      app.histogram(id, w, h, last);
    }
    if (r() < 0.9) {
      // The sender's own classic buckets (an OTLP explicit histogram) on a series without bounds.
      const h = new SparseHistogram();
      const cc = new Float64Array(4);
      for (let i = 0; i < 3; i++) {
        const x = r() * 2;
        h.record(x);
        cc[x <= 0.1 ? 0 : x <= 0.5 ? 1 : x <= 1 ? 2 : 3]!++;
      }
      h.bounds = classic;
      h.classicCounts = cc;
      app.histogram(hc, w, h, last);
    }
    app.counter(ci, w, Math.floor(r() * 10), last);
    const inc = Math.floor(r() * 10);
    raw = r() < 0.002 ? inc : raw + inc;
    app.counter(cr, w, inc, last, raw);
    temp += Math.floor(r() * 11) - 5;
    app.gauge(g, w, temp, temp, temp, temp, 1, last);
  }
  await app.commit();
  await store.compact();
  return store;
}

const EXPRS = [
  'histogram_quantile(0.9, sum by (le, job) (increase(lat_seconds_bucket[RANGE])))',
  'increase(lat_seconds_bucket[RANGE])',
  'rate(lat_seconds_bucket{le=~"0.1|0.5|\\\\+Inf"}[RANGE])',
  'delta(lat_seconds_count[RANGE])',
  'increase(lat_seconds_sum[RANGE])',
  'resets(lat_seconds_sum[RANGE])',
  'sum by (le) (rate(rpc_seconds_bucket[RANGE]))',
  'increase(req_total[RANGE])',
  'rate(req_total[RANGE] offset 37m)',
  `increase(req_total[RANGE] @ ${(NOW - 3 * HOUR) / 1000})`,
  'resets(req_total[RANGE])',
  'delta(temp[RANGE])',
  'sum(rate(temp[RANGE]))',
];

t.test('increase, rate, delta and resets at one time read thinned series with the answers of a full read', async (t) => {
  const store = await load(t);
  let thinnedSeries = 0;
  for (const range of ['1h', '6h', '1d', '60h']) {
    for (const at of [NOW - 1, NOW - 5 * HOUR - 4321, NOW - 27 * HOUR]) {
      for (const e of EXPRS) {
        const expr = e.replace('RANGE', range);
        const q = store.querier();
        const full = fullReads(q, 'thin');
        const want = engine.instant(full, 'default', expr, at);
        const got = engine.instant(q, 'default', expr, at);
        t.ok(full.asked > 0, `${expr} asks for a thinned read`);
        const a = JSON.stringify(got), b = JSON.stringify(want);
        t.ok(a === b, `${expr} at now-${NOW - at} ms`, { differsAt: firstDifference(a, b) });
      }
    }
  }
  // The thinned reads did thin (or the comparison above proves nothing).
  const q = store.querier();
  for (const name of ['lat_seconds_bucket', 'lat_seconds_sum', 'rpc_seconds_bucket', 'req_total', 'temp']) {
    const ms = [new Matcher('=', '__name__', name)];
    const hints = { startMs: NOW - DAY + 1, endMs: NOW - 1, stepMs: 0, rangeMs: DAY };
    const whole = q.select('default', ms, hints);
    const thin = q.select('default', ms, { ...hints, thin: true });
    t.equal(thin.floats.length, whole.floats.length, `${name}: as many series`);
    const byKey = new Map(whole.floats.map((s) => [labelsKey(s.labels), s]));
    for (const s of thin.floats) {
      const f = byKey.get(labelsKey(s.labels))!;
      if (s.count !== undefined) thinnedSeries++;
      t.equal(s.count ?? s.timestamps.length, f.timestamps.length, `${name}: the count is the full series'`);
      t.ok(isThinning(s, f), `${name}: first, last and both samples around every drop kept`);
    }
  }
  t.ok(thinnedSeries > 20, `series were thinned (${thinnedSeries})`);
});

/** isThinning checks that `s` is `f` with only samples between two non-dropping ones left out. */
function isThinning(s: FloatSeries, f: FloatSeries): boolean {
  const n = f.timestamps.length, k = s.timestamps.length;
  if (n === 0) return k === 0;
  const keep: number[] = [0];
  for (let i = 1; i < n; i++) {
    if (f.values[i]! < f.values[i - 1]!) keep.push(i - 1, i);
  }
  keep.push(n - 1);
  let p = 0;
  for (let i = 0; i < n && p < k; i++) {
    if (f.timestamps[i] === s.timestamps[p] && Object.is(f.values[i], s.values[p])) p++;
    else if (keep.includes(i)) return false;
  }
  return p === k;
}

t.test('_bucket, _sum and _count read from bucket columns equal those read from the histograms', async (t) => {
  const store = await load(t);
  const q = store.querier();
  for (const [startMs, endMs, stepMs] of [[NOW - DAY + 1, NOW - 1, 0], [NOW - 3 * DAY, NOW - 1, HOUR], [NOW - 60 * HOUR + 7, NOW - 30 * HOUR, 300_000]] as const) {
    for (const [base, job] of [['lat_seconds', 'a'], ['lat_seconds', 'b'], ['rpc_seconds', 'c']] as const) {
      const hints = { startMs, endMs, stepMs };
      const job_ = new Matcher('=', 'job', job);
      // The bare name in the selection makes the querier read the windows' histograms.
      const both = q.select('default', [new Matcher('=~', '__name__', `${base}|${base}_bucket|${base}_sum|${base}_count`), job_], hints).floats;
      const cols = [
        ...q.select('default', [new Matcher('=', '__name__', `${base}_bucket`), job_], hints).floats,
        ...q.select('default', [new Matcher('=', '__name__', `${base}_sum`), job_], hints).floats,
        ...q.select('default', [new Matcher('=', '__name__', `${base}_count`), job_], hints).floats,
      ];
      const flat = (ss: FloatSeries[]) => ss.map((s) => ({ l: labelsKey(s.labels), t: Array.from(s.timestamps), v: Array.from(s.values) })).sort((a, b) => (a.l < b.l ? -1 : a.l > b.l ? 1 : 0));
      t.ok(cols.length > 3, `${base}{job=${job}} has classic views`);
      // Compared as text: a failing deep comparison of a few hundred thousand samples diffs for minutes.
      const a = JSON.stringify(flat(cols)), b = JSON.stringify(flat(both));
      t.ok(a === b, `${base}{job=${job}} over [${startMs}, ${endMs}] step ${stepMs}`, { differsAt: firstDifference(a, b) });
    }
  }
});

function firstDifference(a: string, b: string): string {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return i === a.length && i === b.length ? '' : `${i}: ${a.slice(Math.max(0, i - 80), i + 80)} / ${b.slice(Math.max(0, i - 80), i + 80)}`;
}

t.test('a read into bucket columns merges the same full base as a read of histograms', async (t) => {
  const store = (await load(t)) as LmdbStore;
  const dbs = (store as unknown as { dbs: StoreDbs }).dbs;
  const tier = store.tiers[0]!;
  const rec = store.querier().select('default', [new Matcher('=', '__name__', 'lat_seconds'), new Matcher('=', 'job', 'a')], { startMs: NOW - HOUR, endMs: NOW });
  t.equal(rec.histograms.length, 1);
  const id = 1; // lat_seconds{job="a"}, the first series created
  for (const startMs of [NOW - DAY - 17 * MIN, NOW - 5 * HOUR - 4321, NOW - 10 * MIN]) {
    const fromIdx = tier.index(startMs) - 1, toIdx = tier.index(NOW);
    const objects = readWindows(dbs, tier, id, MetricKind.Histogram, fromIdx, toIdx);
    const into = new PointBuf(MetricKind.Histogram, 4, new BucketColumns([...PROMETHEUS_DEFAULT_BUCKETS, Infinity], false, 4));
    const cols = readWindows(dbs, tier, id, MetricKind.Histogram, fromIdx, toIdx, null, into);
    t.ok(cols.pts.cols !== null && cols.pts.n === objects.pts.n && cols.pts.n > 0, 'the same windows');
    const a = objects.fullBase(), b = cols.fullBase();
    t.same({ count: b.count, sum: b.sum, indices: Array.from(b.indices.subarray(0, b.size)), counts: Array.from(b.counts.subarray(0, b.size)) },
      { count: a.count, sum: a.sum, indices: Array.from(a.indices.subarray(0, a.size)), counts: Array.from(a.counts.subarray(0, a.size)) }, `full base before ${startMs}`);
    t.ok(a.count > 0, 'windows before the range');
  }
});

t.test('a thinned _bucket read takes whole chunks inside the range from their headers, with the answers of a full read', async (t) => {
  const { store } = await openTemp(t, { now: () => NOW });
  const app = store.appender();
  // Whole counts, no gap: every chunk inside a range can be one row.
  const whole = app.seriesId('default', L({ __name__: 'call_seconds', kind: 'whole' }), MetricKind.Histogram);
  // Sampled observations (a StatsD rate of 0.3): counts that are not whole numbers.
  const sampled = app.seriesId('default', L({ __name__: 'call_seconds', kind: 'sampled' }), MetricKind.Histogram);
  // A gap of 40 minutes in the middle of the day.
  const gappy = app.seriesId('default', L({ __name__: 'call_seconds', kind: 'gap' }), MetricKind.Histogram, { bounds: [0.1, 0.5, 1] });
  const r = rng(21);
  for (let w = NOW - 2 * DAY; w < NOW; w += 10_000) {
    const last = w + Math.floor(r() * 9_000);
    for (const id of [whole, sampled, gappy]) {
      if (id === gappy && w >= NOW - 14 * HOUR && w < NOW - 14 * HOUR + 40 * MIN) continue;
      const h = new SparseHistogram();
      for (let i = 1 + Math.floor(r() * 4); i > 0; i--) h.record(Math.exp(r() * 4 - 3), id === sampled ? 1 / 0.3 : 1);
      app.histogram(id, w, h, last);
    }
  }
  await app.commit();
  const dbs = (store as unknown as { dbs: StoreDbs }).dbs;
  const tier = (store as LmdbStore).tiers[0]!;
  const les = [...PROMETHEUS_DEFAULT_BUCKETS, Infinity];
  const fromIdx = tier.index(NOW - DAY) - 1, toIdx = tier.index(NOW - 1);
  const rows = (id: number, bounds: number[] | null) => {
    const w = readWindows(dbs, tier, id, MetricKind.Histogram, fromIdx, toIdx, bounds, new PointBuf(MetricKind.Histogram, 4, new BucketColumns(bounds === null ? les : [...bounds, Infinity], bounds !== null, 4)), true);
    return { n: w.pts.n, summaries: w.summarized.length / 2 };
  };
  const w1 = rows(whole, null);
  t.ok(w1.summaries > 10 && w1.n < 2000, `whole counts: ${w1.summaries} chunks read as one row each, ${w1.n} rows for 8,640 windows`);
  t.equal(rows(sampled, null).summaries, 0, 'counts that are not whole numbers: every chunk decoded');
  const w3 = rows(gappy, [0.1, 0.5, 1]);
  t.ok(w3.summaries > 5, `a gap: the chunks away from it are still rows (${w3.summaries})`);
  const q = store.querier();
  for (const range of ['1d', '14h10m', '6h', '50m']) {
    for (const at of [NOW - 1, NOW - 13 * HOUR - 777, NOW - 20 * HOUR]) {
      for (const e of ['increase(call_seconds_bucket[RANGE])', 'histogram_quantile(0.5, sum by (le, kind) (rate(call_seconds_bucket[RANGE])))', 'increase(call_seconds_bucket{le="+Inf"}[RANGE] offset 9m)']) {
        const expr = e.replace('RANGE', range);
        const a = JSON.stringify(engine.instant(q, 'default', expr, at)), b = JSON.stringify(engine.instant(fullReads(q, 'thin'), 'default', expr, at));
        t.ok(a === b, `${expr} at now-${NOW - at} ms`, { differsAt: firstDifference(a, b) });
      }
    }
  }
});
