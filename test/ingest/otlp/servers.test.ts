import t from 'tap';
import { gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { startOtlpGrpc } from '../../../src/ingest/otlp/grpc.js';
import { startOtlpHttp } from '../../../src/ingest/otlp/http.js';
import { RecordingSink } from './recording-sink.js';
import { attrs, metricsRequest, MetricsResponse, nanos } from './build.js';
import { otlpGrpcClient } from '../../support/otlp-grpc-client.js';

const NOW = Date.now();
const good = () => metricsRequest([{ name: 'g', gauge: { dataPoints: [
  { attributes: attrs({ a: '1' }), timeUnixNano: nanos(NOW), asDouble: 1 },
  { attributes: attrs({ a: '1' }), timeUnixNano: nanos(NOW), asDouble: NaN },
] } }]);

function grpcExport(address: string, body: Uint8Array): Promise<{ code: number; details: string; response: Buffer | null }> {
  const client = otlpGrpcClient(address, { 'grpc.max_send_message_length': 64 * 1024 * 1024 });
  return new Promise((resolve) => {
    client.Export(Buffer.from(body), (err, r) => {
      client.close();
      resolve(err ? { code: err.code, details: err.details, response: null } : { code: 0, details: '', response: r ?? null });
    });
  });
}

t.test('OTLP/gRPC answers OK with partial_success, INVALID_ARGUMENT, RESOURCE_EXHAUSTED and UNAVAILABLE', async (t) => {
  const sink = new RecordingSink();
  const srv = await startOtlpGrpc({ address: '127.0.0.1:0', ephemeral: true, sink, maxBytes: 64 * 1024 });
  t.teardown(() => srv.close());
  t.ok(srv.port > 0, 'an ephemeral port is bound and exposed');
  const ok = await grpcExport(srv.address!, good());
  t.equal(ok.code, grpc.status.OK);
  const resp = MetricsResponse.toObject(MetricsResponse.decode(ok.response!), { longs: Number }) as { partialSuccess?: { rejectedDataPoints: number; errorMessage: string } };
  t.equal(resp.partialSuccess?.rejectedDataPoints, 1, 'rejected_data_points counts the NaN point');
  t.match(resp.partialSuccess?.errorMessage, /bad_value/);
  const bad = await grpcExport(srv.address!, Buffer.from([0x0a, 0x7f, 0x01]));
  t.equal(bad.code, grpc.status.INVALID_ARGUMENT, 'malformed body');
  const big = await grpcExport(srv.address!, new Uint8Array(100 * 1024));
  t.equal(big.code, grpc.status.RESOURCE_EXHAUSTED, 'over the size limit');
  sink.accept = false;
  const busy = await grpcExport(srv.address!, good());
  t.equal(busy.code, grpc.status.UNAVAILABLE, 'overloaded');
  t.equal(sink.samples.length, 1, 'only the accepted point was written');
});

t.test('a port of 0 without ephemeral disables the listener', async (t) => {
  const sink = new RecordingSink();
  const g = await startOtlpGrpc({ address: '127.0.0.1:0', sink });
  const h = await startOtlpHttp({ address: '127.0.0.1:0', sink });
  t.equal(g.address, null);
  t.equal(h.address, null);
  await g.close();
  await h.close();
});

t.test('OTLP/HTTP answers 200, 400, 413, 415 and 503 with Retry-After', async (t) => {
  const sink = new RecordingSink();
  const srv = await startOtlpHttp({ address: '127.0.0.1:0', ephemeral: true, sink, maxBytes: 64 * 1024 });
  t.teardown(() => srv.close());
  const url = `http://${srv.address}/v1/metrics`;
  const post = (body: Uint8Array | string, headers: Record<string, string>) => fetch(url, { method: "POST", body: typeof body === "string" ? body : Buffer.from(body), headers });

  const ok = await post(good(), { 'content-type': 'application/x-protobuf' });
  t.equal(ok.status, 200);
  t.equal(ok.headers.get('content-type'), 'application/x-protobuf');
  const resp = MetricsResponse.toObject(MetricsResponse.decode(new Uint8Array(await ok.arrayBuffer())), { longs: Number }) as { partialSuccess?: { rejectedDataPoints: number } };
  t.equal(resp.partialSuccess?.rejectedDataPoints, 1, 'protobuf partial_success');

  const gz = await post(gzipSync(good()), { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' });
  t.equal(gz.status, 200, 'gzip accepted');

  const json = await post(JSON.stringify({ resourceMetrics: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'j' } }] }, scopeMetrics: [{ metrics: [{ name: 'jc', sum: { isMonotonic: true, aggregationTemporality: 2, dataPoints: [
    { attributes: [{ key: 'a', value: { intValue: '7' } }], startTimeUnixNano: nanos(NOW - 1000), timeUnixNano: nanos(NOW), asInt: '9007199254740993' },
    { timeUnixNano: nanos(NOW), asDouble: 'NaN' },
  ] } }] }] }] }), { 'content-type': 'application/json' });
  t.equal(json.status, 200);
  const jbody = (await json.json()) as { partialSuccess?: { rejectedDataPoints: string; errorMessage: string } };
  t.equal(jbody.partialSuccess?.rejectedDataPoints, '1', 'JSON partial_success with int64 as a string');
  const [jc] = sink.byName('jc_total');
  t.same(jc?.labels, { __name__: 'jc_total', job: 'j', a: '7' }, 'JSON int64 attribute values as strings');
  const js = sink.samplesOf(jc!.ref)[0]!;
  t.same([js.method, js.startMs, js.tsMs], ['counterCumulative', NOW - 1000, NOW], 'JSON nanosecond strings become ms');
  t.ok(Math.abs(js.value - 9007199254740993) <= 2, 'JSON int64 value');

  const garbage = await post(Buffer.from([0x0a, 0x7f]), { 'content-type': 'application/x-protobuf' });
  t.equal(garbage.status, 400, 'malformed protobuf');
  const badJson = await post('{"resourceMetrics": [', { 'content-type': 'application/json' });
  t.equal(badJson.status, 400, 'malformed JSON');
  t.match(await badJson.json(), { code: 3 }, 'error body is a google.rpc.Status');
  const big = await post(new Uint8Array(100 * 1024), { 'content-type': 'application/x-protobuf' });
  t.equal(big.status, 413, 'over the limit');
  const bomb = await post(gzipSync(new Uint8Array(1024 * 1024)), { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' });
  t.equal(bomb.status, 413, 'over the limit once decompressed');
  const text = await post('hello', { 'content-type': 'text/plain' });
  t.equal(text.status, 415, 'unsupported media type');
  sink.accept = false;
  const busy = await post(good(), { 'content-type': 'application/x-protobuf' });
  t.equal(busy.status, 503);
  t.equal(busy.headers.get('retry-after'), '1');
});
