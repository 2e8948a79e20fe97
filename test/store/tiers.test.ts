import t from 'tap';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SparseHistogram } from '../../src/model/hdr.js';
import { Matcher } from '../../src/model/matcher.js';
import { MetricKind } from '../../src/model/metric-kind.js';
import type { FloatSeries, SelectHints, Store } from '../../src/store/interface.js';
import type { LmdbStore } from '../../src/store/lmdb-store.js';
import { openStore } from '../../src/store/open.js';
import { L, openTemp, tempDir } from './helpers.js';

function relErr(got: number, want: number): number {
  return Math.abs(got - want) / Math.abs(want);
}

const S = 10_000;
const MIN5 = 300_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const eq = (n: string, v: string): Matcher => new Matcher('=', n, v);

/** lastValue is the final sample of the one float series a selector returns. */
function lastValue(store: Store, name: string, hints: SelectHints): number {
  const f = store.querier().select('default', [eq('__name__', name)], hints).floats;
  if (f.length !== 1) throw new Error(`expected one series for ${name}, got ${f.length}`);
  return f[0]!.values[f[0]!.values.length - 1]!;
}

/** valueAt is the sample stamped at `ts` (undefined when there is none). */
function valueAt(s: FloatSeries | undefined, ts: number): number | undefined {
  if (s === undefined) return undefined;
  for (let i = 0; i < s.timestamps.length; i++) if (s.timestamps[i] === ts) return s.values[i];
  return undefined;
}

function spacing(s: FloatSeries): Set<number> {
  const out = new Set<number>();
  for (let i = 1; i < s.timestamps.length; i++) out.add(s.timestamps[i]! - s.timestamps[i - 1]!);
  return out;
}

/** windowSpacing is spacing without the creation sample a series' first window is preceded by. */
function windowSpacing(s: FloatSeries): Set<number> {
  return spacing({ ...s, timestamps: s.timestamps.slice(1), values: s.values.slice(1) });
}

/** lastBefore is the value of the last sample stamped before `ts`. */
function lastBefore(s: FloatSeries, ts: number): number | undefined {
  let v: number | undefined;
  for (let i = 0; i < s.timestamps.length; i++) if (s.timestamps[i]! < ts) v = s.values[i];
  return v;
}

t.test('backfilled windows land in the finest tier that still covers them, and totals agree in every tier', async (t) => {
  const N = Date.UTC(2024, 5, 15, 12);
  const { store } = await openTemp(t, { now: () => N });
  const app = store.appender();
  const c = app.seriesId('default', L({ __name__: 'tokens_total' }), MetricKind.Counter);
  const g = app.seriesId('default', L({ __name__: 'queue' }), MetricKind.Gauge);
  const h = app.seriesId('default', L({ __name__: 'lat_seconds' }), MetricKind.Histogram);
  const ages = [120 * DAY, 60 * DAY, 3 * DAY, HOUR];
  const merged = new SparseHistogram();
  let total = 0;
  ages.forEach((age, i) => {
    const w = N - age - ((N - age) % S);
    app.counter(c, w, 10 ** i);
    total += 10 ** i;
    app.gauge(g, w, i + 1, i + 1, i + 1, i + 1, 1);
    const hh = new SparseHistogram();
    for (let k = 1; k <= 20; k++) hh.record(k * (i + 1) * 0.0137);
    merged.add(hh);
    app.histogram(h, w, hh);
  });
  app.counter(c, N - 6 * 365 * DAY, 1e6); // older than every tier
  await app.commit();
  t.equal((store as LmdbStore).rejectedWindows, 1, 'the window older than every tier is refused and counted');

  const st = store.stats().tiers;
  t.same(st.map((x) => x.name), ['raw', '5m', '1h', 'monthly']);
  t.equal(st[0]!.points, 3, 'raw holds only the point of an hour ago (one per series)');
  t.equal(st[1]!.minTimeMs, N - 60 * DAY - ((N - 60 * DAY) % MIN5), 'the 60-day-old point went into 5m');
  t.equal(st[3]!.minTimeMs, Date.UTC(2024, 1, 1), 'the 120-day-old point went into the monthly tier (Feb 2024)');
  t.equal(st[2]!.minTimeMs, N - 60 * DAY - ((N - 60 * DAY) % HOUR), '1h was fed from 5m');

  // Cumulative totals read from each tier agree (raw counts the backfill as retired).
  t.equal(lastValue(store, 'tokens_total', { startMs: N - DAY, endMs: N, stepMs: S }), total, 'raw');
  t.equal(lastValue(store, 'tokens_total', { startMs: N - 80 * DAY, endMs: N - HOUR, stepMs: MIN5 }), total, '5m');
  t.equal(lastValue(store, 'tokens_total', { startMs: N - 80 * DAY, endMs: N - HOUR, stepMs: HOUR }), total, '1h');
  t.equal(lastValue(store, 'tokens_total', { startMs: N - 365 * DAY, endMs: N, stepMs: 30 * DAY }), total, 'monthly');
  t.equal(lastValue(store, 'lat_seconds_count', { startMs: N - DAY, endMs: N, stepMs: S }), merged.count, 'histogram counts read from raw');
  // A 5m range query at the backfilled time sees the gauge stamped at its window.
  const gauge = store.querier().select('default', [eq('__name__', 'queue')], { startMs: N - 61 * DAY, endMs: N - 59 * DAY, stepMs: MIN5 }).floats[0];
  t.equal(valueAt(gauge, N - 60 * DAY - ((N - 60 * DAY) % MIN5)), 2);
  // The year's histogram read from the monthly tier has the raw quantiles within rollup precision
  // (folded buckets, histogram-codec.ts: well under 1 %) and the exact count.
  const year = store.querier().select('default', [eq('__name__', 'lat_seconds')], { startMs: N - 365 * DAY, endMs: N, stepMs: 30 * DAY }).histograms[0]!;
  const sum = year.base().clone();
  for (const d of year.deltas) sum.add(d);
  t.equal(sum.count, merged.count, 'count from the monthly tier');
  for (const q of [0.5, 0.9, 0.99]) t.ok(relErr(sum.quantile(q), merged.quantile(q)) < 0.01, `q${q} from the monthly tier`);
});

/** Live writes every minute over 3 days with compaction every 6 hours; returns what was written. */
async function writeLive(store: Store, clock: { now: number }, start: number, days: number): Promise<{ total: number; hist: SparseHistogram; windows: number[]; gaugeLast: Map<number, number> }> {
  const app0 = store.appender();
  const c = app0.seriesId('default', L({ __name__: 'calls_total' }), MetricKind.Counter);
  const g = app0.seriesId('default', L({ __name__: 'inflight' }), MetricKind.Gauge);
  const h = app0.seriesId('default', L({ __name__: 'dur_seconds' }), MetricKind.Histogram);
  app0.rollback();
  const hist = new SparseHistogram();
  const windows: number[] = [];
  const gaugeLast = new Map<number, number>();
  let total = 0;
  const end = start + days * DAY;
  for (let hour = start; hour < end; hour += HOUR) {
    const app = store.appender();
    for (let w = hour; w < hour + HOUR; w += 60_000) {
      const i = (w - start) / 60_000;
      app.counter(c, w, i % 13);
      total += i % 13;
      app.gauge(g, w, i % 17, i % 17, i % 17, i % 17, 1);
      gaugeLast.set(w - (w % HOUR), i % 17);
      const hh = new SparseHistogram();
      hh.record(((i % 101) + 1) * 0.0031);
      hh.record(((i % 7) + 1) * 1.7);
      hist.add(hh);
      app.histogram(h, w, hh);
      windows.push(w);
    }
    clock.now = hour + HOUR + S;
    await app.commit();
    if ((hour - start) % (6 * HOUR) === 0) await store.compact();
  }
  return { total, hist, windows, gaugeLast };
}

t.test('compaction rolls raw windows up exactly, retention deletes exactly what is due, totals never drop', async (t) => {
  const start = Date.UTC(2023, 10, 29);
  const clock = { now: start };
  const { store } = await openTemp(t, { now: () => clock.now });
  const { total, hist, windows, gaugeLast } = await writeLive(store, clock, start, 3);
  const end = start + 3 * DAY;
  clock.now = end + HOUR;
  await store.compact();

  const cutoff = clock.now - 2 * DAY;
  const kept = windows.filter((w) => w + S > cutoff).length;
  const st = store.stats().tiers;
  t.equal(st[0]!.points, 3 * kept, 'raw keeps exactly the windows that ended after now - 2 days');
  t.equal(st[0]!.minTimeMs, windows.find((w) => w + S > cutoff), 'and reports the oldest one');
  t.equal(st[1]!.points, 3 * (3 * DAY / MIN5), '5m has one window per 5 minutes per series');
  t.equal(st[2]!.points, 3 * 72, '1h has one window per hour per series');
  // Rollups hold whole windows only: December is still open, so the monthly tier holds November
  // (reads take the open month from the finer tiers; December is rolled up once it has closed).
  t.equal(st[3]!.points, 3 * 1, 'monthly has November; December, still open, is not rolled up yet');
  t.equal(st[1]!.series, 3);
  t.ok(st.every((x) => x.bytes > 0 && x.maxTimeMs !== null));

  // Counter totals from every tier, including what retention moved into the retired aggregate.
  t.equal(lastValue(store, 'calls_total', { startMs: end - DAY, endMs: end, stepMs: S }), total, 'raw total after retention');
  t.equal(lastValue(store, 'calls_total', { startMs: start, endMs: end, stepMs: MIN5 }), total, '5m total');
  t.equal(lastValue(store, 'calls_total', { startMs: start, endMs: end, stepMs: HOUR }), total, '1h total');
  t.equal(lastValue(store, 'dur_seconds_count', { startMs: end - DAY, endMs: end, stepMs: S }), hist.count, 'histogram count survives retention');
  const hourly = store.querier().select('default', [eq('__name__', 'calls_total')], { startMs: start, endMs: end - 1, stepMs: HOUR }).floats[0]!;
  t.same([...windowSpacing(hourly)], [HOUR], 'a range query at a 1 h step reads the 1 h tier');
  // November's total from the monthly tier equals the 5m tier's cumulative at Nov 30 23:55.
  const dec1 = Date.UTC(2023, 11, 1);
  const monthly = store.querier().select('default', [eq('__name__', 'calls_total')], { startMs: Date.UTC(2023, 0, 1), endMs: dec1 - 1, stepMs: 30 * DAY }).floats[0]!;
  const fine = store.querier().select('default', [eq('__name__', 'calls_total')], { startMs: dec1 - HOUR, endMs: dec1 - 1, stepMs: MIN5 }).floats[0]!;
  // Each rollup window's sample sits at its last point: November's last minute.
  t.equal(valueAt(monthly, dec1 - 60_000), valueAt(fine, dec1 - 60_000), 'monthly and 5m agree on November');
  t.equal(valueAt(monthly, dec1 - 60_000), lastBefore(fine, dec1), 'at the time of its last point');
  // Gauges keep the newest window's last value in a rollup.
  const g1h = store.querier().select('default', [eq('__name__', 'inflight')], { startMs: start, endMs: end - 1, stepMs: HOUR }).floats[0]!;
  t.equal(valueAt(g1h, start + 31 * HOUR - 60_000), gaugeLast.get(start + 30 * HOUR));
  // November's quantiles from the monthly tier: those over every raw window of November, within
  // rollup precision.
  const nov = new SparseHistogram();
  for (const w of windows) {
    if (w >= dec1) continue;
    const i = (w - start) / 60_000;
    nov.record(((i % 101) + 1) * 0.0031);
    nov.record(((i % 7) + 1) * 1.7);
  }
  const mh = store.querier().select('default', [eq('__name__', 'dur_seconds')], { startMs: Date.UTC(2023, 10, 1), endMs: dec1 - 1, stepMs: 30 * DAY }).histograms[0]!;
  // The creation sample at Nov 1 (empty), then November's histogram at its last minute.
  t.same(Array.from(mh.timestamps), [Date.UTC(2023, 10, 1), dec1 - 60_000]);
  t.equal(mh.deltas[1]!.count, nov.count, 'November count from the monthly tier');
  for (const q of [0.5, 0.95, 0.999]) t.ok(relErr(mh.deltas[1]!.quantile(q), nov.quantile(q)) < 0.01, `q${q} over November from the monthly tier`);

  // A second compaction at the same time changes nothing.
  const before = JSON.stringify(store.stats().tiers);
  await store.compact();
  t.equal(JSON.stringify(store.stats().tiers), before, 'compaction is idempotent');
});

t.test('a late window below the compaction watermark is merged into its window in every tier', async (t) => {
  const start = Date.UTC(2024, 2, 10);
  const clock = { now: start };
  const { store } = await openTemp(t, { now: () => clock.now });
  const app = store.appender();
  const c = app.seriesId('default', L({ __name__: 'late_total' }), MetricKind.Counter);
  for (let w = start; w < start + 2 * HOUR; w += S) app.counter(c, w, 1);
  clock.now = start + 2 * HOUR;
  await app.commit();
  await store.compact();
  const late = store.appender();
  late.counter(c, start + 17 * MIN5 + 2 * S, 100);
  await late.commit();
  const n = 2 * HOUR / S + 100;
  t.equal(lastValue(store, 'late_total', { startMs: start, endMs: start + 2 * HOUR, stepMs: S }), n, 'raw');
  const m5 = store.querier().select('default', [eq('__name__', 'late_total')], { startMs: start, endMs: start + 2 * HOUR - 1, stepMs: MIN5 }).floats[0]!;
  t.equal(valueAt(m5, start + 18 * MIN5 - S), 18 * 30 + 100, 'the 5m window holds the late increment, stamped at its last point');
  t.equal(lastValue(store, 'late_total', { startMs: start, endMs: start + 2 * HOUR - 1, stepMs: HOUR }), n, '1h');
  await store.compact();
  t.equal(lastValue(store, 'late_total', { startMs: start, endMs: start + 2 * HOUR - 1, stepMs: HOUR }), n, 'and a later compaction does not count it again');
});

t.test('a compaction killed with SIGKILL mid-pass resumes without losing or double counting', async (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const start = Date.UTC(2024, 3, 1);
  const clock = { now: start };
  const series = 400;
  let store = await openStore({ dataDir: dir, rawResolutionMs: S, now: () => clock.now });
  const app = store.appender();
  for (let s = 0; s < series; s++) {
    const id = app.seriesId('default', L({ __name__: 'jobs_total', s: String(s) }), MetricKind.Counter);
    for (let w = start; w < start + 3 * HOUR; w += 60_000) app.counter(id, w, s + 1);
  }
  await app.commit();
  await store.close();
  const now = start + 3 * HOUR + S;
  const child = spawnSync(process.execPath, [fileURLToPath(new URL('./compact-child.js', import.meta.url)), dir, String(now)], { encoding: 'utf8' });
  t.equal(child.signal, 'SIGKILL', `the child died mid-compaction (status ${child.status}, ${child.stderr})`);
  clock.now = now;
  store = await openStore({ dataDir: dir, rawResolutionMs: S, now: () => clock.now });
  t.teardown(() => store.close());
  const mid = store.stats().tiers[1]!;
  t.ok(mid.series > 0 && mid.series < series, `the pass was interrupted after ${mid.series} of ${series} series`);
  await store.compact();
  const per = 3 * 60;
  const expected = (series * (series + 1) / 2) * per;
  const sum = (hints: SelectHints): number => store.querier().select('default', [eq('__name__', 'jobs_total')], hints).floats.reduce((a, f) => a + f.values[f.values.length - 1]!, 0);
  t.equal(sum({ startMs: start, endMs: start + 3 * HOUR - 1, stepMs: MIN5 }), expected, '5m totals are exact after the resumed pass');
  t.equal(sum({ startMs: start, endMs: start + 3 * HOUR - 1, stepMs: HOUR }), expected, '1h totals too');
  t.equal(store.stats().tiers[1]!.points, series * 36, 'every series has each 5m window once');
});

t.test('query_range picks the tier by step and a tier that covers the range start', async (t) => {
  const N = Date.UTC(2024, 8, 20);
  const { store } = await openTemp(t, { now: () => N });
  const app = store.appender();
  const c = app.seriesId('default', L({ __name__: 'pick_total' }), MetricKind.Counter);
  for (let w = N - 200 * DAY; w < N; w += 10 * 60_000) app.counter(c, w, 1);
  await app.commit();
  const q = store.querier();
  const read = (hints: SelectHints): FloatSeries => q.select('default', [eq('__name__', 'pick_total')], hints).floats[0]!;
  t.same([...spacing(read({ startMs: N - 30 * DAY, endMs: N - DAY, stepMs: HOUR }))], [HOUR], '30 days at 1 h reads the 1 h tier');
  const year = read({ startMs: N - 365 * DAY, endMs: N - 30 * DAY, stepMs: 30 * DAY });
  // Monthly windows are stamped at their last point, the month's last 10 minutes.
  // The series' first window is preceded by its creation sample at the month's start.
  const monthEnd = (ts: number): boolean => new Date(ts + 10 * 60_000).getUTCDate() === 1 && (ts + 10 * 60_000) % DAY === 0;
  const monthStart = (ts: number): boolean => new Date(ts).getUTCDate() === 1 && ts % DAY === 0;
  t.ok(year.timestamps.length > 2 && monthStart(year.timestamps[0]!) && year.timestamps.slice(1).every((ts) => monthEnd(ts)), 'a year at 30 d reads the monthly tier');
  t.same([...spacing(read({ startMs: N - 20 * DAY, endMs: N - 19 * DAY, stepMs: 60_000 }))], [MIN5], 'a 1 m step 20 days back reads 5m (raw no longer covers it)');
  const inst = read({ startMs: N - 130 * DAY, endMs: N - 90 * DAY, rangeMs: 40 * DAY });
  t.ok(inst.timestamps.length > 0 && inst.timestamps.every((ts) => monthEnd(ts) || monthStart(ts)), 'an instant query 130 days back reads the only tier covering it');
  t.equal(lastValue(store, 'pick_total', { startMs: N - HOUR, endMs: N }), 200 * 144, 'an instant query at now reads raw with every window counted');
});

t.test('a rollup window is written once, when it has closed; until then reads take it from the finer tier', async (t) => {
  const start = Date.UTC(2024, 2, 4, 10); // a 5 m and hour boundary
  const clock = { now: start };
  const { store } = await openTemp(t, { now: () => clock.now });
  const app0 = store.appender();
  const c = app0.seriesId('default', L({ __name__: 'calls_total' }), MetricKind.Counter);
  await app0.commit();
  // 7 minutes of 10 s windows, one increment each: 5m window 10:00 is whole, 10:05 is open.
  for (let w = start; w < start + 7 * 60_000; w += S) {
    const app = store.appender();
    app.counter(c, w, 1, w + S - 1);
    clock.now = w + S;
    await app.commit();
  }
  await store.compact();
  const st = store.stats().tiers;
  t.equal(st[1]!.points, 1, 'the 5m tier holds the closed 10:00 window only, not the open 10:05 one');
  t.equal(st[2]!.points, 0, 'the hour tier holds nothing while 10:00-11:00 is open');
  // A 5 m step reads the 5m tier where it is whole and raw after it: the total is exact.
  t.equal(lastValue(store, 'calls_total', { startMs: start, endMs: clock.now, stepMs: MIN5 }), 42, 'all 42 increments read at a 5 m step');
  t.equal(lastValue(store, 'calls_total', { startMs: start, endMs: clock.now, stepMs: HOUR }), 42, 'and at an hour step');
  // Once the hour has closed, both windows of it are rolled up, each once.
  clock.now = start + HOUR + S;
  await store.compact();
  const st2 = store.stats().tiers;
  t.equal(st2[1]!.points, 2, 'the 10:05 window is rolled up once it has closed');
  t.equal(st2[2]!.points, 1, 'and the hour window once the hour has closed');
  t.equal(lastValue(store, 'calls_total', { startMs: start, endMs: clock.now, stepMs: HOUR }), 42, 'hour tier total');
  await store.compact();
  t.equal(lastValue(store, 'calls_total', { startMs: start, endMs: clock.now, stepMs: MIN5 }), 42, 'a second compaction counts nothing twice');
});
