import t from 'tap';
import { adminFlush, promQuery, startDaemon, type Daemon } from './daemon.js';
import { metricsRequest, nanos } from '../ingest/otlp/build.js';
import { jsonToProtobuf } from '../../src/ingest/otlp/proto.js';

async function selfMetric(d: Daemon, series: string): Promise<number> {
  const text = await (await fetch(`${d.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

const TOO_DEEP = 'tallyd_otlp_requests_refused_total{transport="http",reason="too_deep"}';

t.test('hostile OTLP bodies are answered at once, refused and counted, and the daemon keeps serving', async (t) => {
  const d = await startDaemon();
  t.teardown(() => d.stop());
  const post = (body: string | Uint8Array, type: string) =>
    fetch(`http://127.0.0.1:${d.ports.otlpHttp}/v1/metrics`, { method: 'POST', body: typeof body === 'string' ? body : Buffer.from(body), headers: { 'content-type': type } });
  const now = Date.now();

  // 100,000 nested arrays in a 200 kB JSON body.
  const n = 100_000;
  const deep = await post(`{"resourceMetrics":${'['.repeat(n)}${']'.repeat(n)}}`, 'application/json');
  t.equal(deep.status, 400, 'a JSON body nested 100,000 deep is a 400');
  t.match(((await deep.json()) as { message: string }).message, /nested deeper than 256 levels/, 'and says why');
  t.equal(await selfMetric(d, TOO_DEEP), 1, 'counted as too_deep');

  // A 300-byte body whose attribute is 24 nested kvlistValues.
  let v: Record<string, unknown> = { stringValue: 'x' };
  for (let i = 1; i < 24; i++) v = { kvlistValue: { values: [{ key: 'k', value: v }] } };
  const small = jsonToProtobuf('metrics', { resourceMetrics: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'hostile' } }] }, scopeMetrics: [{ metrics: [
    { name: 'hostile_nested', gauge: { dataPoints: [{ attributes: [{ key: 'a', value: v }], timeUnixNano: nanos(now), asDouble: 1 }] } },
  ] }] }] });
  t.ok(small.length < 400, `the hostile body is ${small.length} bytes`);
  const t0 = performance.now();
  const r = await post(small, 'application/x-protobuf');
  const ms = performance.now() - t0;
  t.equal(r.status, 200, 'the small hostile body is answered');
  t.ok(ms < 1_000, `in ${ms.toFixed(0)} ms`);

  // A negative as_int gauge (sfixed64 on the wire) through OTLP protobuf.
  const neg = await post(metricsRequest([{ name: 'temperature_delta', gauge: { dataPoints: [{ timeUnixNano: nanos(now), asInt: -5 }] } }], { 'service.name': 'neg' }), 'application/x-protobuf');
  t.equal(neg.status, 200);

  await adminFlush(d);
  const kept = await promQuery(d, 'hostile_nested');
  t.equal(kept.length, 1, 'the hostile point is kept');
  const a = kept[0]?.metric['a'] ?? '';
  t.ok(a.length > 0 && Buffer.byteLength(a) <= 2048, `its label value (${a.length} bytes) is within limits.label_value_length`);
  t.equal(a, '{"k":'.repeat(23) + '"x"' + '}'.repeat(23));
  const got = await promQuery(d, 'temperature_delta{job="neg"}');
  t.equal(got[0]?.value[1], '-5', 'PromQL reads the negative as_int as -5');
  t.equal((await fetch(`${d.url}/health/ready`)).status, 200, 'the daemon is still ready');
});
