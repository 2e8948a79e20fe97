import t from 'tap';
import { startOtlpHttp } from '../../../src/ingest/otlp/http.js';
import { OtlpReceiver } from '../../../src/ingest/otlp/receiver.js';
import { MetricKind } from '../../../src/model/metric-kind.js';
import { RecordingSink } from './recording-sink.js';
import { attrs, nanos, TraceRequest } from './build.js';

const NOW = Date.now();

function span(name: string, kind: number, status: number, durMs: number, extra: Record<string, string | number> = {}) {
  return {
    traceId: Buffer.alloc(16, 1), spanId: Buffer.alloc(8, 2), name, kind,
    startTimeUnixNano: nanos(NOW - durMs), endTimeUnixNano: nanos(NOW), attributes: attrs(extra), status: { code: status },
  };
}

t.test('spans become spanmetrics calls and duration series per service, span name, kind and status', async (t) => {
  const sink = new RecordingSink();
  const rx = new OtlpReceiver({ sink });
  const body = TraceRequest.encode(TraceRequest.fromObject({ resourceSpans: [{
    resource: { attributes: attrs({ 'service.name': 'agent', 'service.instance.id': 'i-1' }) },
    scopeSpans: [{ spans: [span('GET /x', 2, 1, 12.5), span('GET /x', 2, 1, 3), span('GET /x', 2, 2, 7)] }],
  }] })).finish();
  const res = rx.exportTraces(body, 'grpc');
  t.same(res, { accepted: 3, rejected: 0, message: '' });
  const calls = sink.byName('traces_span_metrics_calls_total');
  t.same(calls.map((s) => s.labels), [
    { __name__: 'traces_span_metrics_calls_total', job: 'agent', instance: 'i-1', service_name: 'agent', span_name: 'GET /x', span_kind: 'SPAN_KIND_SERVER', status_code: 'STATUS_CODE_OK' },
    { __name__: 'traces_span_metrics_calls_total', job: 'agent', instance: 'i-1', service_name: 'agent', span_name: 'GET /x', span_kind: 'SPAN_KIND_SERVER', status_code: 'STATUS_CODE_ERROR' },
  ]);
  t.same(sink.samplesOf(calls[0]!.ref).map((s) => [s.method, s.value, s.tsMs]), [['counter', 1, NOW], ['counter', 1, NOW]]);
  const dur = sink.byName('traces_span_metrics_duration_milliseconds');
  t.equal(dur[0]?.kind, MetricKind.Histogram);
  t.same(dur[0]?.opts?.bounds, [2, 4, 6, 8, 10, 50, 100, 200, 400, 800, 1000, 1400, 2000, 5000, 10_000, 15_000], 'the connector default buckets');
  t.same(sink.samplesOf(dur[0]!.ref).map((s) => s.value), [12.5, 3], 'durations in milliseconds, sub-millisecond exact');
});

t.test('GenAI spans feed gen_ai_client_token_usage by token type, model and provider', async (t) => {
  const sink = new RecordingSink();
  const srv = await startOtlpHttp({ address: '127.0.0.1:0', ephemeral: true, sink });
  t.teardown(() => srv.close());
  const json = { resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'bot' } }] }, scopeSpans: [{ spans: [{
    traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', name: 'chat gpt-4o', kind: 3,
    startTimeUnixNano: nanos(NOW - 800), endTimeUnixNano: nanos(NOW),
    attributes: [
      { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
      { key: 'gen_ai.request.model', value: { stringValue: 'gpt-4o' } },
      { key: 'gen_ai.provider.name', value: { stringValue: 'openai' } },
      { key: 'gen_ai.usage.input_tokens', value: { intValue: '120' } },
      { key: 'gen_ai.usage.output_tokens', value: { intValue: 45 } },
    ],
  }] }] }] };
  const r = await fetch(`http://${srv.address}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(json) });
  t.equal(r.status, 200, 'OTLP/JSON traces with hex ids are accepted');
  t.same(await r.json(), {});
  const tok = sink.byName('gen_ai_client_token_usage');
  t.same(tok.map((s) => [s.labels['gen_ai_token_type'], s.labels['gen_ai_request_model'], s.labels['gen_ai_provider_name'], s.labels['gen_ai_operation_name'], s.labels['job']]), [
    ['input', 'gpt-4o', 'openai', 'chat', 'bot'], ['output', 'gpt-4o', 'openai', 'chat', 'bot'],
  ]);
  t.same(tok.map((s) => sink.samplesOf(s.ref).map((x) => [x.method, x.value])), [[['observe', 120]], [['observe', 45]]]);
  t.equal(sink.byName('traces_span_metrics_calls_total')[0]?.labels['span_kind'], 'SPAN_KIND_CLIENT');
});
