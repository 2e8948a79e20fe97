import t, { type Test } from 'tap';
import { Matcher } from '../../src/model/matcher.js';
import { MetricKind } from '../../src/model/metric-kind.js';
import { isStaleNaN } from '../../src/model/stale.js';
import { Pipeline } from '../../src/pipeline/router.js';
import { Logger } from '../../src/self/log.js';
import type { FloatSeries, Store } from '../../src/store/interface.js';
import { openStore } from '../../src/store/open.js';
import { L, ManualClock, RES, T0, tempDir } from './helpers.js';

/**
 * The Prometheus time model end to end through the workers and the LMDB store (SPEC section 4):
 * samples at their own times, the sender's counter values with their resets, stale markers,
 * creation zeros for counters that arrive as increments, and late points.
 */

async function withPipeline(t: Test, fn: (p: Pipeline, clock: ManualClock) => Promise<void>): Promise<Store> {
  const dir = tempDir(t);
  const clock = new ManualClock(T0 + 10 * RES);
  const p = new Pipeline({ store: { dataDir: dir, rawResolutionMs: RES }, workers: 2, flushIntervalMs: 0, now: clock.now, logger: new Logger('error', {}, () => undefined) });
  t.teardown(() => p.close().catch(() => undefined));
  await p.start();
  await fn(p, clock);
  await p.close();
  const store = await openStore({ dataDir: dir, rawResolutionMs: RES, now: clock.now });
  t.teardown(() => store.close());
  return store;
}

function read(store: Store, name: string): FloatSeries {
  const f = store.querier().select('default', [new Matcher('=', '__name__', name)], { startMs: T0 - 10 * RES, endMs: T0 + 20 * RES }).floats;
  if (f.length !== 1) throw new Error(`expected one ${name} series, got ${f.length}`);
  return f[0]!;
}

t.test('a counter sent cumulative reads back as the sender sent it: same times, same values, resets included', async (t) => {
  const sent: Array<[number, number]> = [[T0 + 1234, 7917], [T0 + RES + 1234, 7920], [T0 + 2 * RES + 1234, 5], [T0 + 3 * RES + 1234, 12]];
  const store = await withPipeline(t, async (p) => {
    const c = p.series('default', L('rw_requests_total'), MetricKind.Counter);
    for (const [ts, v] of sent) p.counterCumulative(c, v, 0, ts);
    await p.flushNow();
  });
  const s = read(store, 'rw_requests_total');
  t.same(Array.from(s.timestamps), sent.map(([ts]) => ts), 'each sample at its own millisecond, no creation zero');
  t.same(Array.from(s.values), sent.map(([, v]) => v), "the sender's values, the reset to 5 included");
});

t.test('a stale marker ends a gauge at its time, and the series returns with its next sample', async (t) => {
  const store = await withPipeline(t, async (p) => {
    const g = p.series('default', L('intermittent'), MetricKind.Gauge);
    p.gaugeSet(g, 1, T0 + 2300);
    p.stale(g, T0 + RES + 2300);
    p.gaugeSet(g, 1, T0 + 3 * RES + 2300);
    await p.flushNow();
  });
  const s = read(store, 'intermittent');
  t.same(Array.from(s.timestamps), [T0 + 2300, T0 + RES + 2300, T0 + 3 * RES + 2300]);
  t.equal(s.values[0], 1);
  t.ok(isStaleNaN(s.values[1]!), 'the marker reads back as a stale marker');
  t.equal(s.values[2], 1);
});

t.test('a stale marker ends a cumulative counter; its values continue as sent when it returns', async (t) => {
  const store = await withPipeline(t, async (p) => {
    const c = p.series('default', L('gone_total'), MetricKind.Counter);
    p.counterCumulative(c, 40, 0, T0 + 1000);
    p.stale(c, T0 + RES + 1000);
    p.counterCumulative(c, 45, 0, T0 + 2 * RES + 1000);
    await p.flushNow();
  });
  const s = read(store, 'gone_total');
  t.same(Array.from(s.timestamps), [T0 + 1000, T0 + RES + 1000, T0 + 2 * RES + 1000]);
  t.equal(s.values[0], 40);
  t.ok(isStaleNaN(s.values[1]!));
  t.equal(s.values[2], 45);
});

t.test('a counter sent as increments reads cumulative since creation with a zero no later than its first point', async (t) => {
  const store = await withPipeline(t, async (p) => {
    const c = p.series('default', L('statsd_hits_total'), MetricKind.Counter);
    p.counter(c, 2, T0 + 3000);
    p.counter(c, 3, T0 + RES + 500);
    p.counter(c, 1, T0 + RES + 700);
    // A gap of two windows, then more.
    p.counter(c, 4, T0 + 4 * RES + 9000);
    await p.flushNow();
  });
  const s = read(store, 'statsd_hits_total');
  t.same(Array.from(s.timestamps), [T0, T0 + 3000, T0 + RES + 700, T0 + 4 * RES, T0 + 4 * RES + 9000], 'zero at creation, each window at its last point, the gap sample at the window start');
  t.same(Array.from(s.values), [0, 2, 6, 6, 10]);
});

t.test('a late point merges into its closed window, which keeps the time of its latest point', async (t) => {
  const store = await withPipeline(t, async (p, clock) => {
    const c = p.series('default', L('late_total'), MetricKind.Counter);
    const g = p.series('default', L('late_gauge'), MetricKind.Gauge);
    p.counter(c, 2, T0 + 3000);
    p.gaugeSet(g, 7, T0 + 3000);
    p.counter(c, 1, T0 + RES + 3000);
    p.gaugeSet(g, 8, T0 + RES + 3000);
    await p.flushNow();
    clock.t += RES;
    // Late: into the first window, one before and one after its last point.
    p.counter(c, 5, T0 + 1000);
    p.gaugeSet(g, 99, T0 + 1000);
    p.gaugeSet(g, 6, T0 + 4000);
    await p.flushNow();
  });
  const c = read(store, 'late_total');
  t.same(Array.from(c.timestamps), [T0, T0 + 3000, T0 + RES + 3000], 'the first window still reads at its latest point');
  t.same(Array.from(c.values), [0, 7, 8], 'the late increment counts once');
  const g = read(store, 'late_gauge');
  t.same(Array.from(g.timestamps), [T0 + 4000, T0 + RES + 3000], 'the gauge window moved to its newest point');
  t.same(Array.from(g.values), [6, 8], 'and holds that point\'s value, not the older late one');
});
