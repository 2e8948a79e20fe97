import t from 'tap';
import { SparseHistogram } from '../../src/model/hdr.js';
import { labelsKey, type Labels } from '../../src/model/labels.js';
import { MetricKind } from '../../src/model/metric-kind.js';
import type { LmdbDigests } from '../../src/store/digests.js';
import { WRITE_LOG_KEEP, WRITE_LOG_MAX_IDS, WRITE_LOG_RETAIN_HOURS } from '../../src/store/write-log.js';
import { CLOCK_T0, L, openTemp } from './helpers.js';

/**
 * The store tells which series the commits since an hour stamp wrote into that hour
 * (src/store/write-log.ts), so that a reader that kept a read of the hour reads only those again.
 */

const MIN = 60_000, HOUR = 3_600_000, DAY = 86_400_000;
const NOW = Math.floor(CLOCK_T0 / DAY) * DAY + 10 * HOUR;
const keys = (ls: Labels[] | null): string[] | null => (ls === null ? null : ls.map(labelsKey).sort());

t.test('the series written into an hour since a stamp, per tenant, and only into that hour', async (t) => {
  const { store } = await openTemp(t, { now: () => NOW });
  const ds = store.digests as LmdbDigests;
  const h1 = NOW - 3 * HOUR, h2 = h1 + HOUR;
  const x = L({ __name__: 'x_total', a: '1' }), y = L({ __name__: 'y_total', a: '1' }), z = L({ __name__: 'z', a: '2' });
  let app = store.appender();
  const ix = app.seriesId('default', x, MetricKind.Counter), iy = app.seriesId('default', y, MetricKind.Counter);
  const iz = app.seriesId('default', z, MetricKind.Histogram);
  const other = app.seriesId('other', x, MetricKind.Counter);
  app.counter(ix, h1 + 5 * MIN, 1);
  app.counter(iy, h1 + 50 * MIN, 1);
  app.counter(ix, h2 + MIN, 1);
  app.counter(other, h1 + MIN, 1);
  await app.commit();
  app = store.appender();
  app.counter(iy, h1 + 51 * MIN, 2);
  await app.commit();
  app = store.appender();
  const h = new SparseHistogram();
  h.record(0.5);
  app.histogram(iz, h1 + 52 * MIN, h);
  await app.commit();
  t.same([ds.hourStamp(h1), ds.hourStamp(h2)], [3, 1]);
  t.same(keys(ds.writtenSeries('default', h1, 0, 3, 100)), keys([x, y, z]), 'since stamp 0: every series written there');
  t.same(keys(ds.writtenSeries('default', h1, 1, 3, 100)), keys([y, z]), 'since stamp 1: the two later commits');
  t.same(keys(ds.writtenSeries('default', h1, 2, 3, 100)), keys([z]), 'since stamp 2: the last commit');
  t.same(keys(ds.writtenSeries('default', h1, 3, 3, 100)), [], 'since now: none');
  t.same(keys(ds.writtenSeries('other', h1, 0, 3, 100)), keys([x]), 'another tenant\'s series apart');
  t.same(keys(ds.writtenSeries('default', h2, 0, 1, 100)), keys([x]), 'the next hour: its own writes');
  t.equal(ds.writtenSeries('default', h1, 0, 3, 2), null, 'more than the limit asked: cannot tell');
  t.equal(ds.writtenSeries('default', h1, 3, 2, 100), null, 'a stamp from the future: cannot tell');
});

t.test('it cannot tell past the commits it keeps, after a commit writing many series, or after pruning', async (t) => {
  const { store } = await openTemp(t, { now: () => NOW });
  const ds = store.digests as LmdbDigests;
  const hour = NOW - HOUR;
  let app = store.appender();
  const id = app.seriesId('default', L({ __name__: 'x_total' }), MetricKind.Counter);
  await app.commit();
  for (let i = 0; i < WRITE_LOG_KEEP + 2; i++) {
    app = store.appender();
    app.counter(id, hour + i * 10_000, 1);
    await app.commit();
  }
  const s = ds.hourStamp(hour);
  t.equal(s, WRITE_LOG_KEEP + 2);
  t.same(keys(ds.writtenSeries('default', hour, s - WRITE_LOG_KEEP, s, 100)), keys([L({ __name__: 'x_total' })]), 'the last commits kept');
  t.equal(ds.writtenSeries('default', hour, s - WRITE_LOG_KEEP - 1, s, 100), null, 'one more: its row is gone');
  t.equal(ds.writtenSeries('default', hour, 0, s, 100), null, 'since the start: gone');
  app = store.appender();
  for (let i = 0; i <= WRITE_LOG_MAX_IDS; i++) app.counter(app.seriesId('default', L({ __name__: 'many_total', i: String(i) }), MetricKind.Counter), hour + 30 * MIN, 1);
  await app.commit();
  t.equal(ds.writtenSeries('default', hour, s, s + 1, 1e6), null, 'a commit of more series than a row holds: cannot tell');
  app = store.appender();
  app.counter(id, hour + 40 * MIN, 1);
  await app.commit();
  t.same(keys(ds.writtenSeries('default', hour, s + 1, s + 2, 100)), keys([L({ __name__: 'x_total' })]), 'the commit after it: known again');
  await ds.pruneStamps(Math.floor(NOW / DAY) * DAY + DAY);
  t.equal(ds.hourStamp(hour), 0, 'stamps pruned');
  t.equal(ds.writtenSeries('default', hour, s + 1, s + 2, 100), null, 'their rows with them');
  app = store.appender();
  app.counter(id, hour + 41 * MIN, 1);
  await app.commit();
  t.same(keys(ds.writtenSeries('default', hour, 0, 1, 100)), keys([L({ __name__: 'x_total' })]), 'after pruning, the stamps restart with rows of their own');
});

t.test('an hour\'s rows go once a writer writes hours later, the last hours\' stay', async (t) => {
  const { store } = await openTemp(t, { now: () => NOW });
  const ds = store.digests as LmdbDigests;
  const x = L({ __name__: 'x_total' });
  const h0 = NOW - 6 * HOUR;
  let app = store.appender();
  const id = app.seriesId('default', x, MetricKind.Counter);
  for (let h = 0; h < 3; h++) app.counter(id, h0 + h * HOUR, 1);
  await app.commit();
  t.same([0, 1, 2].map((h) => keys(ds.writtenSeries('default', h0 + h * HOUR, 0, 1, 100))), [[labelsKey(x)], [labelsKey(x)], [labelsKey(x)]], 'rows of the hours written');
  app = store.appender();
  app.counter(id, h0 + 4 * HOUR, 1);
  await app.commit();
  t.same([0, 1, 2, 4].map((h) => keys(ds.writtenSeries('default', h0 + h * HOUR, 0, 1, 100))), [null, [labelsKey(x)], [labelsKey(x)], [labelsKey(x)]],
    `a write ${WRITE_LOG_RETAIN_HOURS + 1} hours later: the first hour's row gone, the ${WRITE_LOG_RETAIN_HOURS} hours before it kept`);
  // A late write into an old hour keeps a row until the next hour is written.
  app = store.appender();
  app.counter(id, h0 + 5, 1);
  await app.commit();
  t.same(keys(ds.writtenSeries('default', h0, 1, 2, 100)), [labelsKey(x)], 'a late write: a row of its own');
  app = store.appender();
  app.counter(id, h0 + 5 * HOUR, 1);
  await app.commit();
  t.equal(ds.writtenSeries('default', h0, 1, 2, 100), null, 'gone once a later hour is written');
});
