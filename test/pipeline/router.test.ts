import t from 'tap';
import { ACCEPTED, Refusal, refusedRef } from '../../src/ingest/sink.js';
import { MetricKind } from '../../src/model/metric-kind.js';
import { selfRegistry } from '../../src/self/registry.js';
import { L, ManualClock, T0, startPipeline, tempDir } from './helpers.js';

async function metricValue(name: string, labels: Record<string, string>): Promise<number> {
  const m = await selfRegistry.getSingleMetric(name)?.get();
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value ?? 0;
}

t.test('the same labels always route to the same worker and ref; different series get different refs', async (t) => {
  const p = await startPipeline(t, tempDir(t), new ManualClock(T0), { workers: 3 });
  const refs = new Map<string, number>();
  for (let i = 0; i < 300; i++) refs.set(`s${i}`, p.series('default', L('reqs_total', { id: `s${i}` }), MetricKind.Counter));
  for (let i = 0; i < 300; i++) t.equal(p.series('default', L('reqs_total', { id: `s${i}` }), MetricKind.Counter), refs.get(`s${i}`));
  t.equal(new Set(refs.values()).size, 300, 'refs are distinct');
  const perWorker = [0, 0, 0];
  for (const r of refs.values()) perWorker[r % 3]!++;
  t.ok(perWorker.every((n) => n > 50), `series spread over all workers: ${perWorker}`);
  const g = p.series('default', L('reqs_total', { id: 's1' }), MetricKind.Gauge);
  t.not(g, refs.get('s1'), 'the kind is part of the identity');
  const other = p.series('acme', L('reqs_total', { id: 's1' }), MetricKind.Counter);
  t.not(other, refs.get('s1'), 'the tenant is part of the identity');
});

t.test('series over a limit are refused and counted by reason', async (t) => {
  const p = await startPipeline(t, tempDir(t), new ManualClock(T0), {
    limits: { maxLabelsPerSeries: 3, maxLabelNameBytes: 8, maxLabelValueBytes: 16, maxSeriesPerMetric: 2, maxSeriesPerTenant: 3 },
  });
  const before = {
    labels: await metricValue('tallyd_series_refused_total', { reason: 'labels_per_series' }),
    name: await metricValue('tallyd_series_refused_total', { reason: 'label_name_length' }),
    value: await metricValue('tallyd_series_refused_total', { reason: 'label_value_length' }),
    metric: await metricValue('tallyd_series_refused_total', { reason: 'series_per_metric' }),
    tenant: await metricValue('tallyd_series_refused_total', { reason: 'series_per_tenant' }),
  };
  t.equal(p.series('default', L('m', { a: '1', b: '2', c: '3' }), MetricKind.Counter), refusedRef(Refusal.LabelsPerSeries), '4 labels with __name__ > 3');
  t.equal(p.series('default', L('m', { abcdefghi: '1' }), MetricKind.Counter), refusedRef(Refusal.LabelNameLength), 'name of 9 bytes');
  t.equal(p.series('default', L('m', { a: 'é'.repeat(9) }), MetricKind.Counter), refusedRef(Refusal.LabelValueLength), 'value of 18 UTF-8 bytes');
  t.ok(p.series('default', L('m', { a: 'x'.repeat(16) }), MetricKind.Counter) >= 0, 'value of exactly 16 bytes');
  t.ok(p.series('default', L('m', { a: '2' }), MetricKind.Counter) >= 0);
  t.equal(p.series('default', L('m', { a: '3' }), MetricKind.Counter), refusedRef(Refusal.SeriesPerMetric), 'third series of metric m');
  t.ok(p.series('default', L('n', { a: '1' }), MetricKind.Counter) >= 0);
  t.equal(p.series('default', L('o', { a: '1' }), MetricKind.Counter), refusedRef(Refusal.SeriesPerTenant), 'fourth series of the tenant');
  t.ok(p.series('other', L('o', { a: '1' }), MetricKind.Counter) >= 0, 'another tenant has its own budget');
  t.ok(p.series('default', L('m', { a: '2' }), MetricKind.Counter) >= 0, 'an admitted series is still known');
  t.equal(await metricValue('tallyd_series_refused_total', { reason: 'labels_per_series' }) - before.labels, 1);
  t.equal(await metricValue('tallyd_series_refused_total', { reason: 'label_name_length' }) - before.name, 1);
  t.equal(await metricValue('tallyd_series_refused_total', { reason: 'label_value_length' }) - before.value, 1);
  t.equal(await metricValue('tallyd_series_refused_total', { reason: 'series_per_metric' }) - before.metric, 1);
  t.equal(await metricValue('tallyd_series_refused_total', { reason: 'series_per_tenant' }) - before.tenant, 1);
});

t.test('points too far in the future or older than the maximum age are refused and counted', async (t) => {
  const clock = new ManualClock(T0);
  const p = await startPipeline(t, tempDir(t), clock, { maxAgeMs: 3_600_000 });
  const c = p.series('default', L('c_total'), MetricKind.Counter);
  const oldBefore = await metricValue('tallyd_samples_refused_total', { reason: 'too_old' });
  const newBefore = await metricValue('tallyd_samples_refused_total', { reason: 'too_new' });
  t.equal(p.counter(c, 1, T0 + 10 * 60_000), ACCEPTED, 'exactly 10 minutes ahead is accepted');
  t.equal(p.counter(c, 1, T0 + 10 * 60_000 + 1), Refusal.TooNew, 'more than 10 minutes ahead is refused');
  t.equal(p.counter(c, 1, T0 - 3_600_000), ACCEPTED, 'exactly the maximum age is accepted');
  t.equal(p.counter(c, 1, T0 - 3_600_001), Refusal.TooOld, 'older is refused');
  t.equal(p.counter(c, 1, NaN), Refusal.TooOld, 'no timestamp is refused');
  t.equal(await metricValue('tallyd_samples_refused_total', { reason: 'too_new' }) - newBefore, 1);
  t.equal(await metricValue('tallyd_samples_refused_total', { reason: 'too_old' }) - oldBefore, 2);
});

t.test('a sample for a ref of another kind or a refused ref is refused', async (t) => {
  const p = await startPipeline(t, tempDir(t), new ManualClock(T0));
  const g = p.series('default', L('g'), MetricKind.Gauge);
  t.equal(p.counter(g, 1, T0), Refusal.KindMismatch);
  t.equal(p.observe(g, 1, 1, T0), Refusal.KindMismatch);
  t.equal(p.gaugeSet(g, 1, T0), ACCEPTED);
  t.equal(p.setMember(g, 7, T0), ACCEPTED);
  t.equal(p.counter(refusedRef(Refusal.SeriesPerTenant), 1, T0), Refusal.KindMismatch);
  t.equal(p.counter(123456, 1, T0), Refusal.KindMismatch, 'a ref never handed out');
});

t.test('samples received are counted by kind on flush', async (t) => {
  const p = await startPipeline(t, tempDir(t), new ManualClock(T0));
  const before = await metricValue('tallyd_samples_received_total', { kind: 'histogram' });
  const h = p.series('default', L('lat_seconds'), MetricKind.Histogram);
  for (let i = 0; i < 5; i++) p.observe(h, 0.1, 1, T0);
  p.flush();
  await new Promise((r) => setTimeout(r, 60)); // flush posts within postDelayMs (20 ms)
  t.equal(await metricValue('tallyd_samples_received_total', { kind: 'histogram' }) - before, 5);
});
