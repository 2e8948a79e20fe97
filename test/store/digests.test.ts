import t from 'tap';
import { MetricKind } from '../../src/model/metric-kind.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDbs } from '../../src/store/dbs.js';
import { DAY_STAMPS_SINCE_KEY, HOUR_STAMPS_SINCE_KEY } from '../../src/store/format.js';
import { openStore } from '../../src/store/open.js';
import { CLOCK_T0, L, openTemp } from './helpers.js';

const MIN = 60_000, HOUR = 3_600_000, DAY = 86_400_000;
const NOW = Math.floor(CLOCK_T0 / DAY) * DAY + 10 * HOUR;

t.test('a commit changes the stamp of every UTC day it writes into, and only those', async (t) => {
  const { store } = await openTemp(t, { now: () => NOW });
  const ds = store.digests!;
  const d1 = NOW - 5 * DAY - 10 * HOUR, d2 = d1 + DAY, d3 = d2 + DAY;
  t.same([ds.dayStamp(d1), ds.dayStamp(d2), ds.dayStamp(d3)], [0, 0, 0], 'no stamps before any write');
  const app = store.appender();
  const id = app.seriesId('default', L({ __name__: 'x_total' }), MetricKind.Counter);
  app.counter(id, d1 + HOUR, 1);
  app.counter(id, d1 + 20 * HOUR, 1);
  app.counter(id, d3 + 5 * MIN, 1);
  await app.commit();
  t.same([ds.dayStamp(d1), ds.dayStamp(d2), ds.dayStamp(d3)], [1, 0, 1], 'one change per commit per day written');
  const again = store.appender();
  again.counter(id, d3 + 7 * MIN, 1);
  await again.commit();
  t.same([ds.dayStamp(d1), ds.dayStamp(d2), ds.dayStamp(d3)], [1, 0, 2]);
  const none = store.appender();
  none.seriesId('default', L({ __name__: 'y_total' }), MetricKind.Counter);
  await none.commit();
  t.same([ds.dayStamp(d1), ds.dayStamp(d2), ds.dayStamp(d3)], [1, 0, 2], 'a commit of new series alone changes no day');
});

t.test('digests are kept per tenant with the stamp they were built at', async (t) => {
  const { store } = await openTemp(t, { now: () => NOW });
  const ds = store.digests!;
  await ds.put('t1', 7, [['k/1', Uint8Array.from([1, 2, 3])], ['k/2', Uint8Array.from([4])]]);
  await ds.put('t2', 9, [['k/1', Uint8Array.from([5, 6])]]);
  const got = ds.get('t1', 'k/1')!;
  t.same([got.stamp, [...got.bytes]], [7, [1, 2, 3]]);
  t.equal(ds.get('t1', 'k/2')!.stamp, 7, 'one stamp for every digest of one put');
  t.same([...ds.get('t2', 'k/1')!.bytes], [5, 6], 'tenants apart');
  t.equal(ds.get('t3', 'k/1'), undefined);
  t.same(ds.keys('t1', 'k/'), ['k/1', 'k/2']);
  await ds.remove('t1', 'k/1');
  t.same(ds.keys('t1', ''), ['k/2']);
});

t.test('tenants lists every tenant with series, long names included', async (t) => {
  const { store } = await openTemp(t, { now: () => NOW });
  const long = 'tenant-' + 'x'.repeat(1200);
  const app = store.appender();
  for (const tenant of ['default', 'acme', long, 'b\u0001c']) app.counter(app.seriesId(tenant, L({ __name__: 'x_total' }), MetricKind.Counter), NOW - HOUR, 1);
  await app.commit();
  t.same(store.digests!.tenants().sort(), ['acme', 'b\u0001c', 'default', long].sort());
});

t.test('settled days are the whole days the 1 h tier holds rolled up', async (t) => {
  const { store } = await openTemp(t, { now: () => NOW });
  const app = store.appender();
  const id = app.seriesId('default', L({ __name__: 'x_total' }), MetricKind.Counter);
  for (let w = NOW - 10 * DAY; w < NOW; w += HOUR) app.counter(id, w, 1);
  await app.commit();
  await store.compact();
  const s = store.digests!.settledDays();
  t.equal(s.keptFromMs, NOW - 90 * DAY, 'the 1 h tier keeps 90 days');
  t.equal(s.fromMs, Math.ceil((NOW - 90 * DAY) / DAY) * DAY, 'from the first whole day it keeps');
  t.equal(s.toMs, Math.floor(NOW / DAY) * DAY, 'up to today, which is still open');
});

t.test('a day is known empty until a point is written into it, unless the store predates day stamps', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tallyd-day-empty-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = await openStore({ dataDir: dir, rawResolutionMs: 10_000, now: () => NOW });
  const ds = store.digests!;
  const d1 = NOW - 5 * DAY - 10 * HOUR, d2 = d1 + DAY;
  t.same([ds.dayEmpty(d1), ds.dayEmpty(d2)], [true, true], 'a new store: every day empty');
  const app = store.appender();
  const id = app.seriesId('default', L({ __name__: 'x_total' }), MetricKind.Counter);
  app.counter(id, d1 + HOUR, 1);
  await app.commit();
  t.same([ds.dayEmpty(d1), ds.dayEmpty(d2)], [false, true], 'a written day is not');
  await store.close();
  // A directory from before day stamps (no marker): its old days may hold unstamped points.
  const raw = openDbs(join(dir, 'store.mdb'));
  await raw.meta.remove(DAY_STAMPS_SINCE_KEY);
  await raw.env.close();
  const again = await openStore({ dataDir: dir, rawResolutionMs: 10_000, now: () => NOW });
  t.same([again.digests!.dayEmpty(d1), again.digests!.dayEmpty(d2)], [false, false], 'days before the upgrade are never known empty');
  t.equal(again.digests!.dayEmpty(Math.floor(Date.now() / DAY) * DAY + 2 * DAY), true, 'days after it are');
  await again.close();
});

t.test('a commit changes the stamp of every UTC hour it writes into, and only those', async (t) => {
  const { store } = await openTemp(t, { now: () => NOW });
  const ds = store.digests!;
  const h1 = NOW - 3 * HOUR, h2 = h1 + HOUR, h3 = h2 + HOUR;
  t.same([ds.hourStamp(h1), ds.hourStamp(h2), ds.hourStamp(h3)], [0, 0, 0], 'no stamps before any write');
  t.same([ds.hourEmpty(h1), ds.hourEmpty(h2)], [true, true], 'a new store: every hour empty');
  const app = store.appender();
  const id = app.seriesId('default', L({ __name__: 'x_total' }), MetricKind.Counter);
  app.counter(id, h1 + 5 * MIN, 1);
  app.counter(id, h1 + 50 * MIN, 1);
  app.counter(id, h3, 1);
  await app.commit();
  t.same([ds.hourStamp(h1), ds.hourStamp(h2), ds.hourStamp(h3)], [1, 0, 1], 'one change per commit per hour written');
  t.same([ds.hourEmpty(h1), ds.hourEmpty(h2)], [false, true]);
  const again = store.appender();
  again.counter(id, h3 + 59 * MIN + 50_000, 1);
  await again.commit();
  t.same([ds.hourStamp(h1), ds.hourStamp(h2), ds.hourStamp(h3)], [1, 0, 2]);
});

t.test('pruneStamps removes the day and hour stamps of whole days before a time, and only those', async (t) => {
  const { store } = await openTemp(t, { now: () => NOW });
  const ds = store.digests!;
  const day = Math.floor(NOW / DAY) * DAY;
  const app = store.appender();
  const id = app.seriesId('default', L({ __name__: 'x_total' }), MetricKind.Counter);
  // Two hours of a day five days back, one of three days back, one of yesterday.
  for (const at of [day - 5 * DAY + HOUR, day - 5 * DAY + 23 * HOUR, day - 3 * DAY + 2 * HOUR, day - DAY + 5 * HOUR]) app.counter(id, at, 1);
  await app.commit();
  t.same([ds.dayStamp(day - 5 * DAY), ds.hourStamp(day - 5 * DAY + HOUR), ds.hourStamp(day - 5 * DAY + 23 * HOUR)], [1, 1, 1]);
  t.equal(await ds.pruneStamps(day - 3 * DAY + 5 * HOUR), 3, 'the day five days back and its two hours');
  t.same([ds.dayStamp(day - 5 * DAY), ds.hourStamp(day - 5 * DAY + HOUR), ds.hourStamp(day - 5 * DAY + 23 * HOUR)], [0, 0, 0], 'gone');
  t.same([ds.dayStamp(day - 3 * DAY), ds.hourStamp(day - 3 * DAY + 2 * HOUR), ds.dayStamp(day - DAY), ds.hourStamp(day - DAY + 5 * HOUR)], [1, 1, 1, 1],
    'the day the time falls in, and later ones, keep theirs');
  t.equal(await ds.pruneStamps(day - 3 * DAY + 5 * HOUR), 0, 'nothing more to remove');
  t.equal(store.digests!.dayStamp(day - 3 * DAY), 1);
});

t.test('settled hours are the whole hours the 1 h tier holds rolled up', async (t) => {
  let clock = NOW;
  const { store } = await openTemp(t, { now: () => clock });
  const app = store.appender();
  const id = app.seriesId('default', L({ __name__: 'x_total' }), MetricKind.Counter);
  for (let w = NOW - 2 * DAY; w < NOW; w += 5 * MIN) app.counter(id, w, 1);
  await app.commit();
  await store.compact();
  const s = store.digests!.settledHours();
  t.equal(s.fromMs, NOW - 90 * DAY, 'from the first whole hour the 1 h tier keeps');
  t.equal(s.toMs, NOW, 'up to the open hour');
  clock = NOW + 50 * MIN;
  await store.compact();
  t.equal(store.digests!.settledHours().toMs, NOW, 'an hour settles only once it is over');
  clock = NOW + 61 * MIN;
  await store.compact();
  t.equal(store.digests!.settledHours().toMs, NOW + HOUR);
});

t.test('an hour of a store written before hour stamps is never known empty', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tallyd-hour-empty-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = await openStore({ dataDir: dir, rawResolutionMs: 10_000, now: () => NOW });
  const app = store.appender();
  app.counter(app.seriesId('default', L({ __name__: 'x_total' }), MetricKind.Counter), NOW - HOUR, 1);
  await app.commit();
  await store.close();
  const raw = openDbs(join(dir, 'store.mdb'));
  await raw.meta.remove(HOUR_STAMPS_SINCE_KEY);
  await raw.meta.remove(`hour:${NOW - HOUR}`);
  await raw.env.close();
  const again = await openStore({ dataDir: dir, rawResolutionMs: 10_000, now: () => NOW });
  t.same([again.digests!.hourStamp(NOW - HOUR), again.digests!.hourEmpty(NOW - HOUR), again.digests!.hourEmpty(NOW - 2 * HOUR)], [0, false, false], 'hours before the upgrade: stamp 0, not known empty');
  t.equal(again.digests!.hourEmpty(Math.floor(Date.now() / HOUR) * HOUR + 2 * HOUR), true, 'hours after it are');
  await again.close();
});
