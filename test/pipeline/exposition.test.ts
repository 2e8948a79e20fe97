import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import t from 'tap';
import { MetricKind } from '../../src/model/metric-kind.js';
import { L, ManualClock, RES, T0, startPipeline, tempDir } from './helpers.js';

const PROMTOOL = '/usr/bin/promtool';

t.test('/metrics text: cumulative counters, current gauges, classic histograms, one HELP and TYPE per name', async (t) => {
  const clock = new ManualClock(T0 + RES);
  const p = await startPipeline(t, tempDir(t), clock, { workers: 3, buckets: { tokens: [100, 1000] } });
  const refs: number[] = [];
  for (let i = 0; i < 20; i++) refs.push(p.series('default', L('requests_total', { route: `/r${i}` }), MetricKind.Counter, { help: 'Requests served.' }));
  for (let i = 0; i < 20; i++) p.counter(refs[i]!, i, T0);
  await p.flushClosed();
  for (let i = 0; i < 20; i++) p.counter(refs[i]!, 1, T0 + RES); // not flushed yet
  const g = p.series('default', L('queue_depth', { q: 'a "quoted"\\ \nvalue' }), MetricKind.Gauge);
  p.gaugeSet(g, 4, T0 + RES);
  p.gaugeAdd(g, -1.5, T0 + RES);
  const h = p.series('default', L('lat_seconds'), MetricKind.Histogram);
  p.observe(h, 0.004, 2, T0 + RES);
  p.observe(h, 0.3, 1, T0 + RES);
  p.observe(h, 60, 1, T0 + RES);
  const tok = p.series('default', L('tokens'), MetricKind.Histogram);
  p.observe(tok, 100, 1, T0 + RES);
  p.observe(tok, 5000, 1, T0 + RES);
  const own = p.series('default', L('sizes'), MetricKind.Histogram, { bounds: [1, 2] });
  p.observe(own, 1.5, 3, T0 + RES);
  const text = await p.exposition();
  const lines = text.split('\n');
  t.equal(lines.filter((l) => l === '# TYPE requests_total counter').length, 1, 'TYPE once although the series live on several workers');
  t.equal(lines.filter((l) => l === '# HELP requests_total Requests served.').length, 1);
  for (let i = 0; i < 20; i++) t.ok(lines.includes(`requests_total{route="/r${i}"} ${i + 1}`), `counter /r${i} includes the unflushed increment`);
  t.ok(lines.includes('queue_depth{q="a \\"quoted\\"\\\\ \\nvalue"} 2.5'), 'gauge value with escaped label');
  t.ok(lines.includes('# TYPE lat_seconds histogram'));
  t.ok(lines.includes('lat_seconds_bucket{le="0.005"} 2'));
  t.ok(lines.includes('lat_seconds_bucket{le="0.25"} 2'));
  t.ok(lines.includes('lat_seconds_bucket{le="0.5"} 3'));
  t.ok(lines.includes('lat_seconds_bucket{le="10"} 3'));
  t.ok(lines.includes('lat_seconds_bucket{le="+Inf"} 4'));
  t.ok(lines.includes('lat_seconds_count 4'));
  t.ok(lines.includes(`lat_seconds_sum ${0.008 + 0.3 + 60}`));
  t.ok(lines.includes('tokens_bucket{le="100"} 1'), 'configured per-metric bounds, le is inclusive');
  t.ok(lines.includes('tokens_bucket{le="1000"} 1'));
  t.ok(lines.includes('tokens_bucket{le="+Inf"} 2'));
  t.ok(lines.includes('sizes_bucket{le="2"} 3'), "the series' own bounds");
  t.notOk(text.includes('sizes_bucket{le="0.005"}'));

  t.test('promtool check metrics passes on the page', { skip: existsSync(PROMTOOL) ? false : 'promtool is not installed' }, async (t) => {
    const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    t.equal(r.status, 0, `promtool check metrics: ${r.stdout}${r.stderr}`);
  });
});

t.test('series idle longer than the TTL leave the page; tenants see only their own series', async (t) => {
  const clock = new ManualClock(T0);
  const p = await startPipeline(t, tempDir(t), clock, { seriesTtlMs: 60_000 });
  const a = p.series('default', L('a_total'), MetricKind.Counter);
  const b = p.series('default', L('b_total'), MetricKind.Counter);
  const x = p.series('acme', L('secret_total'), MetricKind.Counter);
  p.counter(a, 1, T0);
  p.counter(b, 1, T0);
  p.counter(x, 1, T0);
  p.flush();
  await new Promise((r) => setTimeout(r, 60)); // flush posts within postDelayMs (20 ms)
  clock.t = T0 + 50_000;
  p.counter(b, 1, clock.t);
  p.counter(x, 1, clock.t);
  p.flush();
  await new Promise((r) => setTimeout(r, 60));
  clock.t = T0 + 70_000;
  const text = await p.exposition();
  t.notOk(text.includes('a_total'), 'idle 70 s > TTL 60 s');
  t.ok(text.includes('b_total 2'));
  t.notOk(text.includes('secret_total'), "another tenant's series");
  t.ok((await p.exposition('acme')).includes('secret_total 2'));
});

t.test('after a restart a counter and a histogram continue from their stored totals', async (t) => {
  const dir = tempDir(t);
  const clock = new ManualClock(T0 + RES);
  const p1 = await startPipeline(t, dir, clock);
  const c1 = p1.series('default', L('jobs_total'), MetricKind.Counter);
  const h1 = p1.series('default', L('lat_seconds'), MetricKind.Histogram);
  p1.counter(c1, 7, T0);
  p1.observe(h1, 0.02, 3, T0);
  await p1.close();
  const p2 = await startPipeline(t, dir, clock);
  const c2 = p2.series('default', L('jobs_total'), MetricKind.Counter);
  const h2 = p2.series('default', L('lat_seconds'), MetricKind.Histogram);
  p2.counter(c2, 1, T0 + RES);
  p2.observe(h2, 0.02, 1, T0 + RES);
  const lines = (await p2.exposition()).split('\n');
  t.ok(lines.includes('jobs_total 8'), 'counter 7 stored + 1 new');
  t.ok(lines.includes('lat_seconds_bucket{le="0.025"} 4'), 'histogram 3 stored + 1 new');
  t.ok(lines.includes('lat_seconds_count 4'));
});
