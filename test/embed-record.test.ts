import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from '../src/index.js';
import { labelsFromRecord } from '../src/model/labels.js';
import { MetricKind } from '../src/model/metric-kind.js';

const ROUTES = 40;
const VALUES = [0.003, 0.02, 0.07, 0.2, 0.7, 2, 4, 7, 30, 0.123456, 1.5e-4, 0.333];

/** value is the i-th observation of a route: spread over every default bucket and the +Inf one. */
const value = (route: number, i: number): number => VALUES[(route * 7 + i) % VALUES.length]! * (1 + (i % 5) / 1000);

t.test('recorded counters and histograms query back exactly as the per-sample daemon path stores them', { timeout: 120_000 }, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tallyd-embed-record-'));
  let db = await open({ dataDir, flushInterval: '1s' });
  const sink = db.daemon.costs;
  const refs = new Map<string, number>();
  // The reference: the same observations sent one sample at a time, as a network parser would.
  const reference = (route: number, v: number): void => {
    const key = `r${route}`;
    let ref = refs.get(key);
    if (ref === undefined) refs.set(key, (ref = sink.series('default', labelsFromRecord({ __name__: 'ref_seconds', route: key }), MetricKind.Histogram)));
    sink.observe(ref, v, 1, Date.now());
    sink.flush();
  };
  const expected = new Map<string, number>();
  const counts = new Map<string, number[]>();
  let refused = 0;
  // Concurrent recorders: four async tasks interleave their records between awaits and flushes.
  const task = async (id: number): Promise<void> => {
    for (let i = 0; i < 120; i++) {
      const route = (id * 13 + i) % ROUTES;
      const key = `r${route}`;
      const inc = (i % 7) + 0.25;
      if (!db.record('calls_total', inc, { route: key, task: String(id % 2) })) refused++;
      expected.set(`${key}/${id % 2}`, (expected.get(`${key}/${id % 2}`) ?? 0) + inc);
      const v = value(route, i + id);
      db.record('lat_seconds', v, { route: key }, 'histogram');
      reference(route, v);
      const c = counts.get(key) ?? [];
      c.push(v);
      counts.set(key, c);
      if (i % 10 === 9) await new Promise((r) => setImmediate(r));
      if (id === 0 && i % 40 === 39) await db.flush();
    }
  };
  await Promise.all([0, 1, 2, 3].map(task));
  await db.flush();
  t.equal(refused, 0, 'no record refused');

  const vec = async (expr: string): Promise<Record<string, number>> => {
    const v = await db.query(expr);
    if (v.type !== 'vector') throw new Error(`${expr}: ${v.type}`);
    return Object.fromEntries(v.samples.map((s) => [Object.entries(s.labels).filter(([k]) => k !== '__name__').map(([k, x]) => `${k}=${x}`).sort().join(','), s.value]));
  };
  const got = await vec('sum by (route, task) (calls_total)');
  t.equal(Object.keys(got).length, expected.size, 'one series per label set');
  for (const [k, want] of expected) {
    const [route, task] = k.split('/');
    t.equal(got[`route=${route},task=${task}`], want, `counter ${k} sums every increment`);
  }
  const countQ = await vec('sum by (route) (lat_seconds_count)');
  for (const [route, vs] of counts) t.equal(countQ[`route=${route}`], vs.length, `${route}: every observation counted`);
  const le = await vec('sum by (route, le) (lat_seconds_bucket)');
  for (const [route, vs] of counts) {
    for (const b of [0.005, 0.025, 0.1, 0.5, 1, 5, 10]) t.equal(le[`le=${b},route=${route}`], vs.filter((v) => v <= b).length, `${route} le=${b}`);
  }
  // Against the per-sample path: the same HDR buckets, so every derived figure is equal.
  for (const [rec, ref] of [
    ['sum by (route, le) (lat_seconds_bucket)', 'sum by (route, le) (ref_seconds_bucket)'],
    ['histogram_quantile(0.9, sum by (route, le) (lat_seconds_bucket))', 'histogram_quantile(0.9, sum by (route, le) (ref_seconds_bucket))'],
    ['histogram_quantile(0.5, sum by (le) (lat_seconds_bucket))', 'histogram_quantile(0.5, sum by (le) (ref_seconds_bucket))'],
    ['sum by (route) (lat_seconds_count)', 'sum by (route) (ref_seconds_count)'],
  ] as const) t.same(await vec(rec), await vec(ref), rec);
  const sums = await vec('sum by (route) (lat_seconds_sum)');
  const refSums = await vec('sum by (route) (ref_seconds_sum)');
  for (const k of Object.keys(refSums)) t.ok(Math.abs(sums[k]! - refSums[k]!) <= 1e-9 * Math.abs(refSums[k]!), `${k} _sum`);

  // Recorded before close, with no flush of its own: close hands it over, and a reopen reads it.
  db.record('late_total', 3, { route: 'r0' });
  db.record('late_seconds', 0.2, { route: 'r0' }, 'histogram');
  await db.close();
  db = await open({ dataDir, flushInterval: '1s' });
  t.teardown(() => db.close());
  t.same(await vec('late_total'), { 'route=r0': 3 }, 'a counter recorded before close survives it');
  t.same(await vec('late_seconds_count'), { 'route=r0': 1 }, 'a histogram recorded before close survives it');
});
