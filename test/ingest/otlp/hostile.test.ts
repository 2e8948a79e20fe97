import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import { startOtlpGrpc } from '../../../src/ingest/otlp/grpc.js';
import { startOtlpHttp } from '../../../src/ingest/otlp/http.js';
import { OtlpReceiver } from '../../../src/ingest/otlp/receiver.js';
import { jsonToProtobuf } from '../../../src/ingest/otlp/proto.js';
import { MAX_ANY_VALUE_DEPTH } from '../../../src/ingest/otlp/attributes.js';
import { otlpRequestsRefused } from '../../../src/ingest/otlp/metrics.js';
import { DecodeError } from '../../../src/wire/proto-reader.js';
import { RecordingSink } from './recording-sink.js';
import { nanos } from './build.js';

const NOW = Date.now();
/** The default limits.label_value_length (SPEC section 9). */
const LABEL_VALUE_LIMIT = 2048;

type AnyValue = Record<string, unknown>;

/** nested returns an AnyValue `levels` deep (the string at the bottom is the last level). */
function nested(levels: number, via: 'kvlist' | 'array'): AnyValue {
  let v: AnyValue = { stringValue: 'x"\\' };
  for (let i = 1; i < levels; i++) v = via === 'kvlist' ? { kvlistValue: { values: [{ key: 'k', value: v }] } } : { arrayValue: { values: [v] } };
  return v;
}

/** request is one gauge point whose attribute `a` holds `value`, as an OTLP/JSON object. */
function request(name: string, value: AnyValue): Record<string, unknown> {
  return { resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name, gauge: { dataPoints: [{ attributes: [{ key: 'a', value }], timeUnixNano: nanos(NOW), asDouble: 1 }] } }] }] }] };
}

/** protobuf encodes a request object (protobufjs; deeper than its own default limit of 100 messages). */
const protobuf = (o: Record<string, unknown>): Uint8Array => jsonToProtobuf('metrics', o);

async function refusedCount(transport: string, reason: string): Promise<number> {
  const m = await otlpRequestsRefused.get();
  return m.values.find((v) => v.labels['transport'] === transport && v.labels['reason'] === reason)?.value ?? 0;
}

t.test('a 300-byte body of 24 nested kvlistValues costs ~0 ms and a label value of linear size', async (t) => {
  const sink = new RecordingSink();
  const rx = new OtlpReceiver({ sink });
  const body = protobuf(request('hostile', nested(24, 'kvlist')));
  t.ok(body.length < 320, `the body is small (${body.length} bytes)`);
  const t0 = performance.now();
  const res = rx.exportMetrics(body, 'grpc');
  const ms = performance.now() - t0;
  // Rendering each level to a string and quoting it into its parent took ~1 s and ~190 MiB here.
  t.ok(ms < 250, `answered in ${ms.toFixed(1)} ms`);
  t.same(res, { accepted: 1, rejected: 0, message: '' });
  const a = sink.byName('hostile')[0]!.labels['a']!;
  t.ok(a.length <= LABEL_VALUE_LIMIT, `the label value (${a.length} chars) is within the label value limit`);
  t.equal(a, '{"k":'.repeat(23) + '"x\\"\\\\"' + '}'.repeat(23), 'nested maps render as nested JSON, quoted once');
});

t.test('AnyValues nested 64 deep are kept, 65 deep are a malformed request (protobuf walker)', async (t) => {
  for (const via of ['kvlist', 'array'] as const) {
    const sink = new RecordingSink();
    const rx = new OtlpReceiver({ sink });
    t.same(rx.exportMetrics(protobuf(request(`ok_${via}`, nested(MAX_ANY_VALUE_DEPTH, via))), 'grpc').accepted, 1, `${via}: 64 levels accepted`);
    t.equal(sink.byName(`ok_${via}`).length, 1);
    t.throws(() => rx.exportMetrics(protobuf(request(`deep_${via}`, nested(MAX_ANY_VALUE_DEPTH + 1, via))), 'grpc'),
      new DecodeError('attribute value nested deeper than 64 levels', 'too_deep'), `${via}: 65 levels refused`);
    t.equal(sink.byName(`deep_${via}`).length, 0, `${via}: no series for the refused point`);
  }
  // Resource attributes go through the same renderer.
  const rx = new OtlpReceiver({ sink: new RecordingSink() });
  const req = request('r', { stringValue: 'v' }) as { resourceMetrics: Array<Record<string, unknown>> };
  req.resourceMetrics[0]!['resource'] = { attributes: [{ key: 'deep', value: nested(100, 'array') }] };
  t.throws(() => rx.exportMetrics(protobuf(req), 'grpc'), new DecodeError('attribute value nested deeper than 64 levels', 'too_deep'), 'a too deep resource attribute is refused');
});

t.test('OTLP/HTTP refuses a JSON body nested deeper than 256 with 400, a message and a count, and keeps serving', async (t) => {
  const sink = new RecordingSink();
  const srv = await startOtlpHttp({ address: '127.0.0.1:0', ephemeral: true, sink });
  t.teardown(() => srv.close());
  const post = (kind: string, body: string | Uint8Array, type = 'application/json') =>
    fetch(`http://${srv.address}/v1/${kind}`, { method: 'POST', body: typeof body === 'string' ? body : Buffer.from(body), headers: { 'content-type': type } });
  const N = 100_000;
  const bodies: Array<[string, string, string]> = [
    ['metrics', 'arrays', `{"resourceMetrics":${'['.repeat(N)}${']'.repeat(N)}}`],
    ['metrics', 'objects', `{"resourceMetrics":[${'{"a":'.repeat(N)}1${'}'.repeat(N)}]}`],
    ['traces', 'arrays', `{"resourceSpans":${'['.repeat(N)}${']'.repeat(N)}}`],
    ['traces', 'objects', `{"resourceSpans":[${'{"a":'.repeat(N)}1${'}'.repeat(N)}]}`],
    ['metrics', 'unbalanced arrays', '['.repeat(N)],
  ];
  for (const [kind, shape, body] of bodies) {
    const before = await refusedCount('http', 'too_deep');
    const t0 = performance.now();
    const r = await post(kind, body);
    const ms = performance.now() - t0;
    t.equal(r.status, 400, `${kind}, ${N} nested ${shape}: 400`);
    t.same(await r.json(), { code: 3, message: `malformed ${kind} export request: JSON body nested deeper than 256 levels` }, `${kind} ${shape}: the message says why`);
    t.equal(await refusedCount('http', 'too_deep'), before + 1, `${kind} ${shape}: counted as too_deep`);
    t.ok(ms < 2_000, `${kind} ${shape}: answered in ${ms.toFixed(0)} ms`);
  }
  // Brackets inside strings do not count; 256 levels are fine.
  const inString = JSON.stringify(request('brackets', { stringValue: '['.repeat(1000) + '\\"{' }));
  t.equal((await post('metrics', inString)).status, 200, 'brackets inside strings are not nesting');
  t.equal(sink.byName('brackets')[0]?.labels['a'], '['.repeat(1000) + '\\"{');

  // AnyValue nesting in a JSON body: the same limit as protobuf.
  const before = await refusedCount('http', 'too_deep');
  const deep = await post('metrics', JSON.stringify(request('deep', nested(MAX_ANY_VALUE_DEPTH + 1, 'array'))));
  t.equal(deep.status, 400, 'JSON: an attribute nested 65 deep is refused');
  t.match(((await deep.json()) as { message: string }).message, /attribute value nested deeper than 64 levels/);
  t.equal(await refusedCount('http', 'too_deep'), before + 1, 'JSON: counted as too_deep');
  const ok = await post('metrics', JSON.stringify(request('deep_ok', nested(MAX_ANY_VALUE_DEPTH, 'array'))));
  t.equal(ok.status, 200, 'JSON: an attribute nested 64 deep is kept');
  const pb = await post('metrics', protobuf(request('deep_pb', nested(MAX_ANY_VALUE_DEPTH + 1, 'kvlist'))), 'application/x-protobuf');
  t.equal(pb.status, 400, 'protobuf over HTTP: an attribute nested 65 deep is refused');
  t.equal(await refusedCount('http', 'too_deep'), before + 2, 'protobuf over HTTP: counted as too_deep');

  const after = await post('metrics', JSON.stringify(request('after', { stringValue: 'v' })));
  t.equal(after.status, 200, 'the receiver keeps serving');
  t.equal(sink.byName('after').length, 1);
});

t.test('OTLP/gRPC refuses an attribute nested 65 deep with INVALID_ARGUMENT, counted as too_deep', async (t) => {
  const sink = new RecordingSink();
  const srv = await startOtlpGrpc({ address: '127.0.0.1:0', ephemeral: true, sink });
  t.teardown(() => srv.close());
  const Client = grpc.makeGenericClientConstructor({
    Export: {
      path: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export', requestStream: false, responseStream: false,
      requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b, responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b,
    },
  } as unknown as grpc.ServiceDefinition, 'MetricsService');
  const client = new Client(srv.address!, grpc.credentials.createInsecure());
  t.teardown(() => client.close());
  const send = (body: Uint8Array) => new Promise<grpc.ServiceError | null>((resolve) => {
    (client as unknown as { Export: (b: Buffer, cb: (err: grpc.ServiceError | null) => void) => void }).Export(Buffer.from(body), (err) => resolve(err));
  });
  const before = await refusedCount('grpc', 'too_deep');
  const err = await send(protobuf(request('deep', nested(MAX_ANY_VALUE_DEPTH + 1, 'kvlist'))));
  t.equal(err?.code, grpc.status.INVALID_ARGUMENT);
  t.match(err?.details, /attribute value nested deeper than 64 levels/);
  t.equal(await refusedCount('grpc', 'too_deep'), before + 1);
  t.equal(await send(protobuf(request('after', { stringValue: 'v' }))), null, 'the receiver keeps serving');
  t.equal(sink.byName('after').length, 1);
});
