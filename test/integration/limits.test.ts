import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WriteRequest } from '../support/prompb.js';
import { adminFlush, sendStatsdTcp, startDaemon, statsdLinesReceived, type Daemon } from './daemon.js';
import { nanos } from '../ingest/otlp/build.js';

const snappy = createRequire(import.meta.url)('snappyjs') as { compress(b: Uint8Array): Uint8Array };


type Series = Record<string, string>;
function writeBody(series: Series[], value = 1): Uint8Array {
  const ts = Date.now();
  const msg = WriteRequest.fromObject({
    timeseries: series.map((s) => ({ labels: Object.entries(s).map(([name, v]) => ({ name, value: v })), samples: [{ value, timestamp: ts }] })),
  });
  return snappy.compress(WriteRequest.encode(msg).finish());
}

async function write(d: Daemon, series: Series[], value = 1): Promise<{ status: number; text: string }> {
  const r = await fetch(`${d.url}/api/v1/write`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' },
    body: writeBody(series, value) as unknown as BodyInit,
  });
  return { status: r.status, text: await r.text() };
}

async function selfMetric(d: Daemon, name: string, reason: string): Promise<number> {
  const text = await (await fetch(`${d.url}/metrics`)).text();
  const m = new RegExp(`^${name}\\{reason="${reason}"\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

async function query(d: Daemon, params: Record<string, string>, path = '/api/v1/query'): Promise<{ status: number; body: any }> {
  const r = await fetch(`${d.url}${path}?${new URLSearchParams(params)}`);
  return { status: r.status, body: await r.json() };
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

function config(extra: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tallyd-limits-'));
  const file = join(dir, 'tallyd.yml');
  writeFileSync(file, extra);
  return file;
}

t.test('each limit of SPEC section 9 refuses, says which, counts, and leaves stored data alone', async (t) => {
  const file = config(`limits:
  series_per_tenant: 60
  series_per_metric: 20
  labels_per_series: 5
  label_name_length: 16
  label_value_length: 32
  query_max_samples: 10
`);
  const d = await startDaemon({ args: ['--config', file] });
  t.teardown(() => d.stop());

  t.equal((await write(d, [{ __name__: 'base_metric', i: '0' }], 42)).status, 204, 'a series within every limit is stored');
  // A label value that makes backtracking regexes explode; 31 bytes, within the value limit.
  t.equal((await write(d, [{ __name__: 'evil_metric', v: 'a'.repeat(30) + '!' }])).status, 204);

  const labels = await write(d, [{ __name__: 'wide', a: '1', b: '2', c: '3', d: '4', e: '5' }]);
  t.equal(labels.status, 400, 'labels per series');
  t.match(labels.text, /1 labels_per_series/, `the answer names the limit: ${labels.text}`);
  const name = await write(d, [{ __name__: 'long_name', ['n'.repeat(17)]: 'x' }]);
  t.match(name.text, /1 label_name_length/, `label name length: ${name.text}`);
  const value = await write(d, [{ __name__: 'long_value', v: 'v'.repeat(33) }]);
  t.match(value.text, /1 label_value_length/, `label value length: ${value.text}`);

  // StatsD speaks the same vocabulary: a refused series (twice, the second time from the parser's
  // cache) and a point older than every tier.
  const statsdLines = ['wide_statsd:1|c|#a:1,b:2,c:3,d:4,e:5', 'wide_statsd:2|c|#a:1,b:2,c:3,d:4,e:5', 'old_statsd:1|c|T1'];
  await sendStatsdTcp(d, statsdLines);
  const until = Date.now() + 10_000;
  while ((await statsdLinesReceived(d)) < statsdLines.length && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  t.equal(await selfMetric(d, 'tallyd_statsd_bad_lines_total', 'labels_per_series'), 2, 'StatsD: lines refused by labels_per_series');
  t.equal(await selfMetric(d, 'tallyd_statsd_bad_lines_total', 'too_old'), 1, 'StatsD: a point older than every tier');

  // OTLP says the same in partial_success.
  const otlp = await fetch(`http://127.0.0.1:${d.ports.otlpHttp}/v1/metrics`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ resourceMetrics: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 's' } }] }, scopeMetrics: [{ metrics: [
      { name: 'otlp_wide', gauge: { dataPoints: [{ asDouble: 1, timeUnixNano: nanos(Date.now()), attributes: ['a', 'b', 'c', 'd', 'e'].map((k) => ({ key: k, value: { stringValue: k } })) }] } },
      { name: 'otlp_ok', gauge: { dataPoints: [{ asDouble: 7, timeUnixNano: nanos(Date.now()) }] } },
    ] }] }] }),
  });
  const ob = (await otlp.json()) as { partialSuccess?: { rejectedDataPoints?: string | number; errorMessage?: string } };
  t.equal(otlp.status, 200);
  t.equal(Number(ob.partialSuccess?.rejectedDataPoints), 1, 'OTLP: one point refused');
  t.match(ob.partialSuccess?.errorMessage ?? '', /labels_per_series/, `OTLP message names the limit: ${ob.partialSuccess?.errorMessage}`);

  const perMetric = await write(d, Array.from({ length: 25 }, (_, i) => ({ __name__: 'many', i: String(i) })));
  t.equal(perMetric.status, 400);
  t.match(perMetric.text, /20 of 25 samples accepted.*5 series_per_metric/, `series per metric: ${perMetric.text}`);
  // Stored so far: base, evil, old_statsd (its point refused), otlp_ok, 20 x many = 24; the tenant allows 60.
  const perTenant = await write(d, Array.from({ length: 50 }, (_, i) => ({ __name__: `m${i}` })));
  t.match(perTenant.text, /36 of 50 samples accepted.*14 series_per_tenant/, `series per tenant: ${perTenant.text}`);

  t.equal(await selfMetric(d, 'tallyd_series_refused_total', 'labels_per_series'), 3, 'counted: labels_per_series (remote write, StatsD, OTLP)');
  t.equal(await selfMetric(d, 'tallyd_series_refused_total', 'label_name_length'), 1);
  t.equal(await selfMetric(d, 'tallyd_series_refused_total', 'label_value_length'), 1);
  t.equal(await selfMetric(d, 'tallyd_series_refused_total', 'series_per_metric'), 5);
  t.equal(await selfMetric(d, 'tallyd_series_refused_total', 'series_per_tenant'), 14);
  t.equal(await selfMetric(d, 'tallyd_remote_write_samples_refused_total', 'series_per_tenant'), 14);
  t.equal(await selfMetric(d, 'tallyd_otlp_data_points_refused_total', 'labels_per_series'), 1);

  await adminFlush(d);
  const base = await query(d, { query: 'base_metric' });
  t.same(base.body.data.result.map((r: any) => r.value[1]), ['42'], 'data stored before the refusals is exact');
  const many = await query(d, { 'match[]': 'many' }, '/api/v1/series');
  t.equal(many.body.data.length, 20, 'the admitted series of a metric are all there');
  t.equal((await query(d, { query: 'otlp_ok' })).body.data.result[0].value[1], '7', 'the accepted OTLP point is there');

  // Samples per query: 20 series are over 10.
  const big = await query(d, { query: 'many' });
  t.equal(big.status, 422, `samples per query: ${JSON.stringify(big.body).slice(0, 300)}`);
  t.match(big.body.error, /too many samples/);

  // A pathological regex answers at once (linear-time fallback) instead of stalling the daemon.
  const t0 = Date.now();
  const evil = await query(d, { query: 'evil_metric{v=~"(a+)+$"}' });
  t.equal(evil.status, 200);
  t.same(evil.body.data.result, [], 'the regex does not match');
  t.ok(Date.now() - t0 < 5_000, `answered in ${Date.now() - t0} ms`);
  // Nested counted repetitions have no linear fallback as written: this one held a query
  // worker for the whole query timeout (30 s, then the worker was replaced).
  const t1 = Date.now();
  const nested = await query(d, { query: 'evil_metric{v=~"((a|a){1,16}){1,16}b"}' });
  t.equal(nested.status, 200, JSON.stringify(nested.body).slice(0, 200));
  t.same(nested.body.data.result, [], 'the nested counted repetition does not match');
  t.comment(`answered in ${Date.now() - t1} ms (before: 503 timeout after the 30 s query timeout)`);
  const tooLongRes = await fetch(`${d.url}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ query: `evil_metric{v=~"${'a'.repeat(17_000)}"}` }) });
  const tooLong = { status: tooLongRes.status, body: (await tooLongRes.json()) as any };
  t.equal(tooLong.status, 400, `an over-long regex is refused: ${JSON.stringify(tooLong.body).slice(0, 300)}`);
  t.match(tooLong.body.error, /exceeds the limit/);
});

t.test('the query timeout answers Prometheus\' timeout error', async (t) => {
  const d = await startDaemon({ args: ['--config', config('limits:\n  query_timeout: 1ms\n')] });
  t.teardown(() => d.stop());
  const r = await query(d, { query: 'count_over_time(vector(1)[30d:1s])' });
  t.equal(r.status, 503, JSON.stringify(r.body).slice(0, 300));
  t.equal(r.body.errorType, 'timeout');
});

t.test('a cardinality attack leaves RSS bounded and existing series exact', async (t) => {
  const total = Number(process.env.TALLYD_ATTACK_SERIES ?? 100_000);
  const d = await startDaemon({ args: ['--config', config('limits:\n  series_per_tenant: 5000\n')] });
  t.teardown(() => d.stop());
  t.equal((await write(d, [{ __name__: 'precious', k: 'v' }], 1234.5)).status, 204);
  await adminFlush(d);
  const before = rssBytes(d.proc.pid!);
  const batch = 5_000;
  let refused = 0;
  let half = 0;
  for (let off = 0; off < total; off += batch) {
    const r = await write(d, Array.from({ length: batch }, (_, i) => ({ __name__: 'attack', id: String(off + i), pad: 'x'.repeat(16) })));
    const m = /refused: (\d+) series_per_tenant/.exec(r.text);
    refused += m ? Number(m[1]) : 0;
    if (off + batch === total / 2) half = rssBytes(d.proc.pid!);
  }
  const after = rssBytes(d.proc.pid!);
  const mib = (b: number) => Math.round(b / 1048576);
  t.equal(refused, total - 4_999, 'everything over the tenant limit was refused');
  t.comment(`${total} new series: RSS ${mib(before)} MiB -> ${mib(half)} MiB at half -> ${mib(after)} MiB`);
  // Bounded: the heap grows to a working size under the flood, then stays there; what a refused
  // series leaves behind would show as growth between the half and the end.
  t.ok(after - before < 400 * 1048576, `RSS grew by ${mib(after - before)} MiB (< 400 MiB)`);
  t.ok(after - half < 100 * 1048576, `RSS grew by ${mib(after - half)} MiB over the second half (< 100 MiB)`);
  await adminFlush(d);
  const p = await query(d, { query: 'precious' });
  t.same(p.body.data.result.map((r: any) => r.value[1]), ['1234.5'], 'the existing series is exact');
  t.equal((await query(d, { query: 'count(attack)' })).body.data.result[0].value[1], '4999');
});
