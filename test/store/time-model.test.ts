import t from 'tap';
import { Matcher } from '../../src/model/matcher.js';
import { MetricKind } from '../../src/model/metric-kind.js';
import { SparseHistogram } from '../../src/model/hdr.js';
import { STALE_NAN, isStaleNaN } from '../../src/model/stale.js';
import { openDbs } from '../../src/store/dbs.js';
import { FORMAT_VERSION } from '../../src/store/format.js';
import { openStore } from '../../src/store/open.js';
import { join } from 'node:path';
import { L, openTemp, tempDir } from './helpers.js';

const S = 10_000;
const MIN5 = 300_000;
const HOUR = 3_600_000;

t.test('rollups keep the time of their last point in every tier, for every kind', async (t) => {
  const start = Date.UTC(2024, 4, 1);
  const clock = { now: start };
  const { store } = await openTemp(t, { now: () => clock.now });
  const app = store.appender();
  const c = app.seriesId('default', L({ __name__: 'jobs_total' }), MetricKind.Counter);
  const cr = app.seriesId('default', L({ __name__: 'rw_total' }), MetricKind.Counter);
  const g = app.seriesId('default', L({ __name__: 'temp' }), MetricKind.Gauge);
  const h = app.seriesId('default', L({ __name__: 'lat_seconds' }), MetricKind.Histogram);
  // Scrapes every 10 s, 2.3 s past the grid plus a few ms of jitter; the last one at 01:57:32.3xx.
  let last = 0;
  for (let w = start; w < start + 2 * HOUR - 2 * MIN5; w += S) {
    const ts = w + 2300 + ((w / S) % 7);
    last = ts;
    const i = (w - start) / S;
    app.counter(c, w, 1, ts);
    app.counter(cr, w, 1, ts, 1000 + i);
    app.gauge(g, w, i, i, i, i, 1, ts);
    const hh = new SparseHistogram();
    hh.record(0.01 * ((i % 5) + 1));
    app.histogram(h, w, hh, ts);
  }
  clock.now = start + 2 * HOUR + S;
  await app.commit();
  await store.compact();
  const q = store.querier();
  const sel = (name: string, stepMs: number) => q.select('default', [new Matcher('=', '__name__', name)], { startMs: start, endMs: start + 2 * HOUR, stepMs });
  for (const step of [MIN5, HOUR]) {
    for (const name of ['jobs_total', 'rw_total', 'temp', 'lat_seconds_count']) {
      const f = sel(name, step).floats[0]!;
      t.equal(f.timestamps[f.timestamps.length - 1], last, `${name} at a ${step / 1000} s step: the last rollup window is stamped at its last point`);
    }
    const hs = sel('lat_seconds', step).histograms[0]!;
    t.equal(hs.timestamps[hs.timestamps.length - 1], last, `the bare histogram at a ${step / 1000} s step too`);
    const f = sel('temp', step).floats[0]!;
    t.ok(f.timestamps.every((ts) => ts <= last && (ts - 2300) % S < 7), 'every rollup sample sits on one of the points it holds');
  }
  const rw = sel('rw_total', HOUR).floats[0]!;
  t.equal(rw.values[rw.values.length - 1], 1000 + (2 * HOUR - 2 * MIN5) / S - 1, "a cumulative counter's rollup keeps the sender's value at its last point");
  const total = sel('jobs_total', HOUR).floats[0]!;
  t.equal(total.values[total.values.length - 1], (2 * HOUR - 2 * MIN5) / S, 'increments still add up exactly in the rollup');
});

t.test('a stale marker survives the store, and a rollup whose last point is one ends the series too', async (t) => {
  const { store } = await openTemp(t);
  const app = store.appender();
  const g = app.seriesId('default', L({ __name__: 'up' }), MetricKind.Gauge);
  const t0 = 1_700_000_000_000 - HOUR;
  app.gauge(g, t0, 1, 1, 1, 1, 1, t0 + 1000);
  app.gauge(g, t0 + S, STALE_NAN, Infinity, -Infinity, 0, 0, t0 + S + 1000);
  await app.commit();
  const f = store.querier().select('default', [new Matcher('=', '__name__', 'up')], { startMs: t0, endMs: t0 + HOUR }).floats[0]!;
  t.same(Array.from(f.timestamps), [t0 + 1000, t0 + S + 1000]);
  t.ok(isStaleNaN(f.values[1]!), 'read back as the stale marker');
});

t.test('the data directory records its format; another format is refused with what to do', async (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const store = await openStore({ dataDir: dir, rawResolutionMs: S });
  const app = store.appender();
  app.counter(app.seriesId('default', L({ __name__: 'x_total' }), MetricKind.Counter), Date.now() - S, 1);
  await app.commit();
  await store.close();
  const dbs = openDbs(join(dir, 'store.mdb'));
  t.equal(dbs.meta.get('format'), FORMAT_VERSION, 'a new directory records the current format');
  // A directory written before formats were recorded holds data but no format entry.
  await dbs.meta.remove('format');
  await dbs.env.close();
  await t.rejects(openStore({ dataDir: dir, rawResolutionMs: S }), { name: 'FormatError', message: /storage format 1.*move it aside/ }, 'an older directory is refused, never misread');
  const again = openDbs(join(dir, 'store.mdb'));
  await again.meta.put('format', FORMAT_VERSION + 1);
  await again.env.close();
  await t.rejects(openStore({ dataDir: dir, rawResolutionMs: S }), { name: 'FormatError', message: /newer than this tallyd reads/ }, 'a newer one too');
  const back = openDbs(join(dir, 'store.mdb'));
  await back.meta.put('format', FORMAT_VERSION);
  await back.env.close();
  const ok = await openStore({ dataDir: dir, rawResolutionMs: S });
  t.equal(ok.querier().select('default', [new Matcher('=', '__name__', 'x_total')], { startMs: Date.now() - HOUR, endMs: Date.now() }).floats.length, 1, 'the current format opens');
  await ok.close();
  // Formats 2 to 5 differ only in how rollup windows are encoded, which format 6 reads as written.
  for (const older of [2, 3, 4, 5]) {
    const v = openDbs(join(dir, 'store.mdb'));
    await v.meta.put('format', older);
    await v.env.close();
    const up = await openStore({ dataDir: dir, rawResolutionMs: S });
    t.equal(up.querier().select('default', [new Matcher('=', '__name__', 'x_total')], { startMs: Date.now() - HOUR, endMs: Date.now() }).floats.length, 1, `a format-${older} directory opens`);
    await up.close();
    const after = openDbs(join(dir, 'store.mdb'));
    t.equal(after.meta.get('format'), FORMAT_VERSION, 'and is upgraded in place');
    await after.env.close();
  }
});
