import t from 'tap';
import { SparseHistogram } from '../../src/model/hdr.js';
import { Matcher } from '../../src/model/matcher.js';
import { MetricKind } from '../../src/model/metric-kind.js';
import type { Querier, SelectResult } from '../../src/store/interface.js';
import { CLOCK_T0, L, openTemp } from './helpers.js';
import { createEngine } from '../../src/query/promql/engine.js';

const HOUR = 3_600_000, DAY = 86_400_000;
const NOW = Math.floor(CLOCK_T0 / HOUR) * HOUR;

function flat(r: SelectResult): unknown {
  return {
    floats: r.floats.map((f) => ({ labels: f.labels, t: Array.from(f.timestamps), v: Array.from(f.values) })),
    histograms: r.histograms.map((h) => ({ labels: h.labels, t: Array.from(h.timestamps), counts: h.deltas.map((d) => d.count), base: h.base().count })),
  };
}

t.test('selectEach hands over, series by series, what select returns across tiers', async (t) => {
  const { store } = await openTemp(t, { now: () => NOW });
  const app = store.appender();
  const c1 = app.seriesId('default', L({ __name__: 'req_total', job: 'a' }), MetricKind.Counter);
  const c2 = app.seriesId('default', L({ __name__: 'req_total', job: 'b' }), MetricKind.Counter);
  const g = app.seriesId('default', L({ __name__: 'temp', job: 'a' }), MetricKind.Gauge);
  const h = app.seriesId('default', L({ __name__: 'lat_seconds', job: 'a' }), MetricKind.Histogram);
  // Five days, every 20 minutes, with a gap: days 3 and 4 in the raw tier, older ones rolled up.
  for (let w = NOW - 5 * DAY; w < NOW; w += 20 * 60_000) {
    if (w >= NOW - 3.5 * DAY && w < NOW - 3 * DAY) continue;
    app.counter(c1, w, 3, w + 1234);
    if (w % HOUR === 0) app.counter(c2, w, 1.5);
    app.gauge(g, w, w / 1e9, 0, 9, 1, 1, w + 7);
    const x = new SparseHistogram();
    x.record(0.25, 2);
    app.histogram(h, w, x, w + 99);
  }
  await app.commit();
  await store.compact();
  const q = store.querier();
  const each = q.selectEach!.bind(q);
  for (const [startMs, endMs, stepMs] of [[NOW - 5 * DAY, NOW - 1, HOUR], [NOW - 4 * DAY + 17, NOW - DAY, 300_000], [NOW - DAY, NOW - 1, 0]] as const) {
    for (const name of ['req_total', 'temp', 'lat_seconds', 'lat_seconds_count']) {
      const ms = [new Matcher('=', '__name__', name)];
      const whole = q.select('default', ms, { startMs, endMs, stepMs });
      const parts: SelectResult[] = [];
      each('default', ms, { startMs, endMs, stepMs }, (r) => parts.push(r));
      const joined: SelectResult = { floats: parts.flatMap((p) => p.floats), histograms: parts.flatMap((p) => p.histograms) };
      t.ok(whole.floats.length + whole.histograms.length > 0, `${name} has data in [${startMs}, ${endMs}]`);
      t.same(flat(joined), flat(whole), `${name} over [${startMs}, ${endMs}] step ${stepMs}`);
    }
  }
});

t.test('select and selectEach choose the tier after the look-back window', async (t) => {
  const { store } = await openTemp(t, { now: () => NOW + 60_000 });
  const app = store.appender();
  const c = app.seriesId('default', L({ __name__: 'calls_total' }), MetricKind.Counter);
  for (let w = NOW - 90 * DAY; w < NOW; w += HOUR) app.counter(c, w, 1);
  await app.commit();
  await store.compact();
  const q = store.querier();
  const ms = [new Matcher('=', '__name__', 'calls_total')];
  // The range starts 2 h before the hour tier's retention; only its look-back lies past it.
  const hints = { startMs: NOW - 90 * DAY - 2 * HOUR, endMs: NOW - 1, stepMs: HOUR };
  const parts: SelectResult[] = [];
  q.selectEach!('default', ms, { ...hints, rangeMs: 2 * HOUR }, (r) => parts.push(r));
  const s = parts[0]!.floats[0]!;
  const inRange = Array.from(s.timestamps).filter((ts) => ts >= NOW - 90 * DAY);
  t.equal(inRange.length, 90 * 24, 'one sample per hour of the 90 days, read from the hour tier');
  t.equal(s.values[s.values.length - 1], 90 * 24, 'the last sample holds every increment');
  // Told the look-back, select reads the hour tier too (it read the monthly tier: 337 samples).
  const viaSelect = q.select('default', ms, { ...hints, rangeMs: 2 * HOUR }).floats[0]!;
  t.equal(Array.from(viaSelect.timestamps).filter((ts) => ts >= NOW - 90 * DAY).length, 90 * 24, 'select: one sample per hour of the 90 days');
  // Without a look-back the range start itself decides, as before.
  const fromStart = q.select('default', ms, hints).floats[0]!;
  t.ok(fromStart.timestamps.length < 90 * 24, `select of a range starting past the retention reads a coarser tier (${fromStart.timestamps.length} samples)`);
  // What a "last 90 days" panel asks: every hourly step answers from the hour tier, although the
  // first step's 5 m look-back starts before its retention (all steps came from the monthly tier).
  const r = createEngine().range(q, 'default', 'calls_total', NOW - 90 * DAY + 120_000, NOW - 1, HOUR);
  if (r.type !== 'matrix') return t.fail('not a matrix');
  const vals = r.series[0]!.values;
  t.equal(vals.length, 90 * 24, 'a PromQL 90-day range has a point at every hourly step');
  t.equal(vals.filter((v, i) => v === i + 1).length, vals.length, 'each step holds the total of the hours up to it');
});

t.test('selectEach repeated over one selector hands over the series it matches now, in label order', async (t) => {
  const { store } = await openTemp(t, { now: () => NOW });
  const q = store.querier();
  const names = (): string[] => {
    const out: string[] = [];
    q.selectEach!('default', [new Matcher('=', '__name__', 'x_total')], { startMs: NOW - HOUR, endMs: NOW - 1, stepMs: 0 }, (r) => { for (const f of r.floats) out.push(f.labels.map((l) => l.value).join(',')); });
    return out;
  };
  const write = async (job: string): Promise<void> => {
    const app = store.appender();
    app.counter(app.seriesId('default', L({ __name__: 'x_total', job }), MetricKind.Counter), NOW - 10 * 60_000, 1);
    await app.commit();
  };
  await write('m');
  await write('c');
  t.same(names(), ['x_total,c', 'x_total,m'], 'label order, not creation order');
  t.same(names(), ['x_total,c', 'x_total,m'], 'the same again');
  // New series (ids after the others) sort between and before them.
  await write('a');
  await write('e');
  t.same(names(), ['x_total,a', 'x_total,c', 'x_total,e', 'x_total,m'], 'series created since are handed over, in label order');
});

/** LeadHints are the select hints the leadFrom tests read with. */
type LeadHints = { startMs: number; endMs: number; stepMs: number; rangeMs: number; leadFrom?: number };

/** samplesByJob reads `name`'s series through selectEach: each one's samples by its second label's value (job). */
function samplesByJob(q: Querier, name: string): (hints: LeadHints) => Map<string, Array<[number, number]>> {
  const ms = [new Matcher('=', '__name__', name)];
  return (hints) => {
    const out = new Map<string, Array<[number, number]>>();
    q.selectEach!('default', ms, hints, (r) => {
      for (const f of r.floats) out.set(f.labels[1]!.value, Array.from(f.timestamps, (ts, i) => [ts, f.values[i]!] as [number, number]));
    });
    return out;
  };
}

t.test('selectEach with leadFrom hands over, before it, only the last sample the whole read has there', async (t) => {
  const { store } = await openTemp(t, { now: () => NOW + 60_000 });
  const app = store.appender();
  const TEN = 10_000;
  const inc = app.seriesId('default', L({ __name__: 'r_total', job: 'inc' }), MetricKind.Counter);
  const raw = app.seriesId('default', L({ __name__: 'r_total', job: 'raw' }), MetricKind.Counter);
  const paused = app.seriesId('default', L({ __name__: 'r_total', job: 'paused' }), MetricKind.Counter);
  const late = app.seriesId('default', L({ __name__: 'r_total', job: 'late' }), MetricKind.Counter);
  const sparse = app.seriesId('default', L({ __name__: 'r_total', job: 'sparse' }), MetricKind.Counter);
  let total = 0;
  // Six hours of 10 s windows (several raw chunks per series).
  for (let w = NOW - 6 * HOUR; w < NOW; w += TEN) {
    const k = (w / TEN) % 7;
    app.counter(inc, w, k, w + 3_000);
    total += k + 1;
    app.counter(raw, w, k + 1, w + 4_000, w === NOW - 2 * HOUR ? 3 : total);
    // Quiet for 25 minutes before the hour: its last window before leadFrom is far back.
    if (w < NOW - HOUR - 25 * 60_000 || w >= NOW - HOUR + 5 * 60_000) app.counter(paused, w, 2, w + 5_000);
    if (w >= NOW - HOUR + 7 * 60_000) app.counter(late, w, 1, w + 6_000);
    if (w % (40 * 60_000) === 0) app.counter(sparse, w, 5, w + 7_000);
  }
  await app.commit();
  const read = samplesByJob(store.querier(), 'r_total');
  for (const leadFrom of [NOW - HOUR, NOW - HOUR + 3 * 60_000 + 1_234, NOW - 50 * 60_000 + 9_999]) {
    const hints = { startMs: leadFrom - 2 * HOUR, endMs: NOW - 1, stepMs: 1, rangeMs: 2 * HOUR };
    const whole = read(hints);
    const led = read({ ...hints, leadFrom });
    t.same([...led.keys()].sort(), [...whole.keys()].sort(), `the same series (leadFrom ${leadFrom - NOW})`);
    for (const [job, samples] of whole) {
      const before = samples.filter(([ts]) => ts < leadFrom);
      const want = [...before.slice(-1), ...samples.filter(([ts]) => ts >= leadFrom)];
      t.same(led.get(job), want, `${job}: the last sample before leadFrom ${leadFrom - NOW}, then every one from it`);
    }
  }
});

t.test('selectEach with leadFrom in a rolled-up tier (blocks stepped over) hands over what the whole read has from the last sample before it', async (t) => {
  const { store } = await openTemp(t, { now: () => NOW + 60_000 });
  const app = store.appender();
  const a = app.seriesId('default', L({ __name__: 'o_total', job: 'a' }), MetricKind.Counter);
  const b = app.seriesId('default', L({ __name__: 'o_total', job: 'b' }), MetricKind.Counter);
  let total = 0;
  for (let w = NOW - 6 * DAY; w < NOW - 3 * DAY; w += 60_000) {
    app.counter(a, w, 1 + (w / 60_000) % 3, w + 1_000);
    total += 2;
    // b goes quiet now and then, for an hour.
    if ((w / HOUR) % 5 !== 2) app.counter(b, w, 2, w + 2_000, total);
  }
  await app.commit();
  await store.compact();
  const read = samplesByJob(store.querier(), 'o_total');
  // Starts in every 5-minute window of a day: some follow the first window of a block (128 windows).
  for (let leadFrom = NOW - 5 * DAY + 7_000; leadFrom < NOW - 4 * DAY; leadFrom += 5 * 60_000) {
    const hints = { startMs: leadFrom - 2 * HOUR, endMs: leadFrom + 40 * 60_000, stepMs: 1, rangeMs: 2 * HOUR };
    const whole = read(hints);
    const led = read({ ...hints, leadFrom });
    t.same([...led.keys()].sort(), [...whole.keys()].sort(), `the same series (leadFrom ${leadFrom - NOW})`);
    for (const [job, samples] of whole) {
      const want = [...samples.filter(([ts]) => ts < leadFrom).slice(-1), ...samples.filter(([ts]) => ts >= leadFrom)];
      t.same(led.get(job), want, `${job}: the last sample before leadFrom ${leadFrom - NOW}, then every one from it`);
    }
  }
});
