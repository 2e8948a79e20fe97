import t from 'tap';
import { Matcher } from '../../src/model/matcher.js';
import { MetricKind } from '../../src/model/metric-kind.js';
import { STALE_NAN } from '../../src/model/stale.js';
import { createEngine } from '../../src/query/promql/engine.js';
import { labelsKey } from '../../src/model/labels.js';
import { CLOCK_T0, L, fullReads, openTemp, rng } from './helpers.js';

// max_over_time and min_over_time at one time read a gauge chunk inside their range from its
// header (SelectHints.extremes): these tests hold that to the answers of a full read.

const MIN = 60_000, HOUR = 3_600_000, DAY = 86_400_000;
const NOW = Math.floor(CLOCK_T0 / HOUR) * HOUR;
const engine = createEngine();

/**
 * Two days of 10 s windows of three gauges, written an hour a commit: a random walk; one with a
 * stale marker 20 hours back and a NaN value 8 hours back; one with a 40-minute gap.
 */
async function load(t: { teardown: (fn: () => unknown) => void }) {
  const { store } = await openTemp(t, { now: () => NOW });
  const r = rng(5);
  let app = store.appender();
  const walk = app.seriesId('default', L({ __name__: 'depth', kind: 'walk' }), MetricKind.Gauge);
  const marked = app.seriesId('default', L({ __name__: 'depth', kind: 'marked' }), MetricKind.Gauge);
  const gappy = app.seriesId('default', L({ __name__: 'depth', kind: 'gap' }), MetricKind.Gauge);
  let a = 50, b = 0;
  for (let w = NOW - 2 * DAY; w < NOW; w += 10_000) {
    const last = w + Math.floor(r() * 9_000);
    a += Math.floor(r() * 11) - 5;
    b = Math.floor(r() * 1000) - 500;
    app.gauge(walk, w, a, a, a, a, 1, last);
    const v = w === NOW - 20 * HOUR ? STALE_NAN : w === NOW - 8 * HOUR ? NaN : b;
    app.gauge(marked, w, v, v, v, v, 1, last);
    if (!(w >= NOW - 14 * HOUR && w < NOW - 14 * HOUR + 40 * MIN)) app.gauge(gappy, w, -a, -a, -a, -a, 1, last);
    if ((w + 10_000) % HOUR === 0) {
      await app.commit();
      app = store.appender();
    }
  }
  await app.commit();
  return store;
}

t.test('max_over_time and min_over_time at one time give the answers of a full read', async (t) => {
  const store = await load(t);
  for (const range of ['2d', '1d', '21h', '6h', '50m', '30s']) {
    for (const at of [NOW - 1, NOW - 7 * HOUR - 4321, NOW - 19 * HOUR]) {
      for (const e of ['max_over_time(depth[RANGE])', 'min_over_time(depth[RANGE])', 'max by (kind) (min_over_time(depth[RANGE] offset 9m))', `max_over_time(depth[RANGE] @ ${(NOW - 3 * HOUR) / 1000})`, 'count_over_time(depth[RANGE])']) {
        const expr = e.replace('RANGE', range);
        const q = store.querier();
        const full = fullReads(q, 'extremes');
        const want = JSON.stringify(engine.instant(full, 'default', expr, at));
        const got = JSON.stringify(engine.instant(q, 'default', expr, at));
        if (!e.startsWith('count')) t.ok(full.asked > 0, `${expr} asks for extremes`);
        t.ok(got === want, `${expr} at now-${NOW - at} ms`, { got: got.slice(0, 300), want: want.slice(0, 300) });
      }
    }
  }
  // A range query evaluates at many times: it reads every sample.
  const q = store.querier();
  const full = fullReads(q, 'extremes');
  engine.range(full, 'default', 'max_over_time(depth[1d])', NOW - 6 * HOUR, NOW, HOUR);
  t.equal(full.asked, 0, 'a range query does not ask for extremes');
});

t.test('a gauge read for its extremes takes chunks inside the range from their headers', async (t) => {
  const store = await load(t);
  const q = store.querier();
  const ms = [new Matcher('=', '__name__', 'depth')];
  const hints = { startMs: NOW - 2 * DAY + 1, endMs: NOW - 1, stepMs: 0, rangeMs: 2 * DAY };
  const whole = new Map(q.select('default', ms, hints).floats.map((s) => [labelsKey(s.labels), s]));
  for (const extremes of ['max', 'min'] as const) {
    const got = q.select('default', ms, { ...hints, extremes });
    t.equal(got.floats.length, whole.size, `${extremes}: as many series`);
    for (const s of got.floats) {
      const f = whole.get(labelsKey(s.labels))!;
      const kind = s.labels.find((l) => l.name === 'kind')!.value;
      let want = extremes === 'max' ? -Infinity : Infinity;
      for (const v of f.values) if (v === v) want = extremes === 'max' ? Math.max(want, v) : Math.min(want, v);
      let have = extremes === 'max' ? -Infinity : Infinity;
      for (const v of s.values) if (v === v) have = extremes === 'max' ? Math.max(have, v) : Math.min(have, v);
      t.equal(have, want, `${kind} ${extremes}: the extreme of every sample`);
      if (kind === 'marked') {
        t.equal(s.count, undefined, 'a series with a stale marker among the windows decoded is read whole');
        continue;
      }
      t.equal(s.count, f.timestamps.length, `${kind} ${extremes}: the count is the full series'`);
      t.ok(s.timestamps.length < f.timestamps.length / 2, `${kind} ${extremes}: ${s.timestamps.length} samples for ${f.timestamps.length}`);
      for (let i = 1; i < s.timestamps.length; i++) if (!(s.timestamps[i]! > s.timestamps[i - 1]!)) t.fail(`${kind}: samples in time order`);
    }
  }
});
