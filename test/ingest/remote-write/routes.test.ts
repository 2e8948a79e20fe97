import t from 'tap';
import Fastify from 'fastify';
import { WriteRequest } from '../../support/prompb.js';
import { remoteWriteRoutes } from '../../../src/ingest/remote-write/routes.js';
import { snappyCompress } from '../../../src/wire/snappy.js';
import { MetricKind } from '../../../src/model/metric-kind.js';
import { RecordingSink } from '../otlp/recording-sink.js';
import { ACCEPTED, Refusal } from '../../../src/ingest/sink.js';

type Series = { labels: Record<string, string>; samples: Array<[number, number]> };
function body(series: Series[], metadata: Array<{ type: number; metricFamilyName: string }> = []): Buffer {
  const msg = WriteRequest.fromObject({
    timeseries: series.map((s) => ({
      labels: Object.entries(s.labels).map(([name, value]) => ({ name, value })),
      samples: s.samples.map(([value, timestamp]) => ({ value, timestamp })),
    })),
    metadata,
  });
  return Buffer.from(snappyCompress(WriteRequest.encode(msg).finish()));
}

async function server(sink: RecordingSink, maxBytes?: number) {
  const app = Fastify();
  await app.register(remoteWriteRoutes, { sink, maxBytes });
  return app;
}

const HEADERS = { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy', 'x-prometheus-remote-write-version': '0.1.0' };

t.test('remote write samples become counters by _total/_bucket/_count/_sum and gauges otherwise', async (t) => {
  const sink = new RecordingSink();
  const app = await server(sink);
  t.teardown(() => app.close());
  const now = Date.now();
  const res = await app.inject({
    method: 'POST', url: '/api/v1/write', headers: HEADERS,
    payload: body([
      { labels: { __name__: 'http_requests_total', job: 'api', code: '200' }, samples: [[10, now - 2000], [15, now - 1000]] },
      { labels: { __name__: 'queue_depth', job: 'api' }, samples: [[3, now]] },
      { labels: { __name__: 'rpc_seconds_bucket', le: '0.5', job: 'api' }, samples: [[7, now]] },
      { labels: { __name__: 'rpc_seconds_count', job: 'api' }, samples: [[9, now]] },
      { labels: { __name__: 'rpc_seconds_sum', job: 'api' }, samples: [[4.5, now]] },
    ]),
  });
  t.equal(res.statusCode, 204, 'success is 204 No Content');
  const kinds = Object.fromEntries(sink.series_.map((s) => [s.labels['__name__'] + (s.labels['le'] ? `{le=${s.labels['le']}}` : ''), s.kind]));
  t.same(kinds, {
    http_requests_total: MetricKind.Counter, queue_depth: MetricKind.Gauge,
    'rpc_seconds_bucket{le=0.5}': MetricKind.Counter, rpc_seconds_count: MetricKind.Counter, rpc_seconds_sum: MetricKind.Counter,
  });
  const [c] = sink.byName('http_requests_total');
  t.same(c?.labels, { __name__: 'http_requests_total', job: 'api', code: '200' }, 'labels kept as sent');
  t.same(sink.samplesOf(c!.ref).map((s) => [s.method, s.value, s.startMs, s.tsMs]), [['counterCumulative', 10, 0, now - 2000], ['counterCumulative', 15, 0, now - 1000]], 'cumulative totals with unknown start and their own timestamps');
  const [g] = sink.byName('queue_depth');
  t.same(sink.samplesOf(g!.ref).map((s) => [s.method, s.value]), [['gaugeSet', 3]]);
  t.equal(sink.flushes, 1, 'the sink is flushed once per request');
});

t.test('remote write metadata decides the type when the name does not', async (t) => {
  const sink = new RecordingSink();
  const app = await server(sink);
  t.teardown(() => app.close());
  // Prometheus sends metadata in requests of their own; the type is remembered.
  const meta = await app.inject({ method: 'POST', url: '/api/v1/write', headers: HEADERS, payload: body([], [{ type: 1, metricFamilyName: 'legacy_requests' }, { type: 2, metricFamilyName: 'pending_total' }]) });
  t.equal(meta.statusCode, 204);
  await app.inject({ method: 'POST', url: '/api/v1/write', headers: HEADERS, payload: body([
    { labels: { __name__: 'legacy_requests' }, samples: [[1, Date.now()]] },
    { labels: { __name__: 'pending_total' }, samples: [[1, Date.now()]] },
  ]) });
  t.equal(sink.byName('legacy_requests')[0]?.kind, MetricKind.Counter, 'COUNTER metadata makes a counter');
  t.equal(sink.byName('pending_total')[0]?.kind, MetricKind.Gauge, 'GAUGE metadata makes a gauge despite _total');
});

t.test('remote write refuses bad values, hands stale markers on and reports refusals with 400', async (t) => {
  const sink = new RecordingSink();
  sink.refuseSample = (ts) => ts < 1000;
  const app = await server(sink);
  t.teardown(() => app.close());
  // JS canonicalises NaN payloads, so the stale marker's bits are patched into the encoding.
  const raw = Buffer.from(WriteRequest.encode(WriteRequest.fromObject({ timeseries: [
    { labels: [{ name: '__name__', value: 'up' }, { name: 'job', value: 'a' }], samples: [{ value: 1, timestamp: Date.now() }, { value: NaN, timestamp: Date.now() }, { value: NaN, timestamp: Date.now() }] },
    { labels: [{ name: '__name__', value: 'x_total' }, { name: 'job', value: 'a' }], samples: [{ value: -1, timestamp: Date.now() }, { value: 5, timestamp: 10 }] },
  ] })).finish());
  const nan = raw.indexOf(Buffer.from([0, 0, 0, 0, 0, 0, 0xf8, 0x7f]));
  Buffer.from([0x02, 0, 0, 0, 0, 0, 0xf0, 0x7f]).copy(raw, nan);
  const res = await app.inject({ method: 'POST', url: '/api/v1/write', headers: HEADERS, payload: Buffer.from(snappyCompress(raw)) });
  t.equal(res.statusCode, 400);
  // Only the first NaN is patched into a stale marker; the second stays an ordinary NaN.
  t.match(res.body, /2 of 5 samples accepted/, 'the stale marker is accepted, the plain NaN refused');
  const up = sink.samples.find((s) => s.method === 'gaugeSet')!;
  t.same(sink.stales.map((s) => s.ref), [up.ref], 'the stale marker ends its own series');
  t.match(res.body, /2 bad_value/);
  t.match(res.body, /1 pipeline/);
  t.equal(sink.samples.length, 1, 'the good sample is kept');
});

t.test('remote write names each refused sample by the sink\'s code: too_old and kind_mismatch in one request', async (t) => {
  const sink = new RecordingSink();
  sink.judge = (ref, ts) => (ts < 1000 ? Refusal.TooOld : sink.series_[ref]?.labels['job'] === 'mixed' ? Refusal.KindMismatch : ACCEPTED);
  const app = await server(sink);
  t.teardown(() => app.close());
  const now = Date.now();
  const raw = Buffer.from(WriteRequest.encode(WriteRequest.fromObject({ timeseries: [
    { labels: [{ name: '__name__', value: 'up' }, { name: 'job', value: 'a' }], samples: [{ value: 1, timestamp: now }, { value: 2, timestamp: 10 }] },
    { labels: [{ name: '__name__', value: 'up' }, { name: 'job', value: 'mixed' }], samples: [{ value: 3, timestamp: now }] },
  ] })).finish());
  const res = await app.inject({ method: 'POST', url: '/api/v1/write', headers: HEADERS, payload: Buffer.from(snappyCompress(raw)) });
  t.equal(res.statusCode, 400);
  t.match(res.body, /1 of 3 samples accepted/);
  t.match(res.body, /1 too_old/);
  t.match(res.body, /1 kind_mismatch/);
  t.notMatch(res.body, /pipeline/, 'no generic reason when the sink named one');
});

t.test('remote write answers 400 for garbage, 413 over the limit, 415 for 2.0, 503 when overloaded', async (t) => {
  const sink = new RecordingSink();
  const app = await server(sink, 2048);
  t.teardown(() => app.close());
  const garbage = await app.inject({ method: 'POST', url: '/api/v1/write', headers: HEADERS, payload: Buffer.from('not snappy at all') });
  t.equal(garbage.statusCode, 400, 'bad snappy → 400');
  const badProto = await app.inject({ method: 'POST', url: '/api/v1/write', headers: HEADERS, payload: Buffer.from(snappyCompress(Buffer.from([0x0a, 0x50, 0x01]))) });
  t.equal(badProto.statusCode, 400, 'truncated protobuf → 400');
  const big = await app.inject({ method: 'POST', url: '/api/v1/write', headers: HEADERS, payload: body([{ labels: { __name__: 'a', v: 'x'.repeat(4000) }, samples: [[1, Date.now()]] }]) });
  t.equal(big.statusCode, 413, 'uncompressed body over the limit → 413');
  const v2 = await app.inject({ method: 'POST', url: '/api/v1/write', headers: { ...HEADERS, 'content-type': 'application/x-protobuf;proto=io.prometheus.write.v2.Request' }, payload: body([]) });
  t.equal(v2.statusCode, 415);
  sink.accept = false;
  const busy = await app.inject({ method: 'POST', url: '/api/v1/write', headers: HEADERS, payload: body([{ labels: { __name__: 'a' }, samples: [[1, Date.now()]] }]) });
  t.equal(busy.statusCode, 503);
  t.equal(busy.headers['retry-after'], '1');
  t.equal(sink.samples.length, 0, 'nothing was written by refused requests');
});
