import t from 'tap';
import { OtlpReceiver } from '../../../src/ingest/otlp/receiver.js';
import { RecordingSink } from './recording-sink.js';
import { attrs, nanos, TraceRequest } from './build.js';

const NOW = Date.now();
const TRACE = Buffer.alloc(16, 7);
const id = (n: number) => Buffer.alloc(8, n);

function span(spanId: number, parent: number | null, name: string, a: Record<string, string | number>) {
  return {
    traceId: TRACE, spanId: id(spanId), ...(parent === null ? {} : { parentSpanId: id(parent) }), name, kind: 3,
    startTimeUnixNano: nanos(NOW - 100), endTimeUnixNano: nanos(NOW), attributes: attrs(a), status: { code: 1 },
  };
}

const AGENT = span(1, null, 'invoke_agent planner', { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.id': 'planner' });
const TOOL = span(2, 1, 'execute_tool search', { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'search' });
const HTTP = span(3, 2, 'GET /index', {});
const CALL = span(4, 3, 'chat gpt-4o', {
  'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.provider.name': 'openai',
  'gen_ai.usage.input_tokens': 1200, 'gen_ai.usage.output_tokens': 300, 'gen_ai.usage.cache_read.input_tokens': 1000,
  'gen_ai.usage.cache_creation.input_tokens': 100, 'gen_ai.usage.reasoning.output_tokens': 50,
});

function body(spans: unknown[]): Uint8Array {
  return TraceRequest.encode(TraceRequest.fromObject({ resourceSpans: [{ resource: { attributes: attrs({ 'service.name': 'agents' }) }, scopeSpans: [{ spans }] }] })).finish();
}

function tokenSeries(sink: RecordingSink) {
  return sink.byName('gen_ai_client_token_usage').map((s) => ({ labels: s.labels, values: sink.samplesOf(s.ref).map((x) => x.value), origin: s.opts?.origin }));
}

t.test('a call span inherits agent and tool from ancestors that arrived before it', async (t) => {
  const sink = new RecordingSink();
  const rx = new OtlpReceiver({ sink, traceAttributionWaitMs: 10_000 });
  t.teardown(() => rx.close());
  rx.exportTraces(body([AGENT, TOOL, HTTP]), 'grpc');
  rx.exportTraces(body([CALL]), 'grpc');
  const s = tokenSeries(sink);
  t.same(s.map((x) => x.labels['gen_ai_token_type']).sort(), ['cache_read', 'cache_write', 'input', 'output', 'reasoning'], 'every kind the span reports, cache_creation as cache_write');
  for (const x of s) {
    t.equal(x.labels['gen_ai_agent_id'], 'planner');
    t.equal(x.labels['gen_ai_tool_name'], 'search', 'through an intermediate non-GenAI span');
    t.equal(x.origin, 'span');
  }
  t.same(s.find((x) => x.labels['gen_ai_token_type'] === 'input')!.values, [1200]);
});

t.test('a call span waits for ancestors that arrive after it, then is attributed', async (t) => {
  const sink = new RecordingSink();
  const rx = new OtlpReceiver({ sink, traceAttributionWaitMs: 10_000 });
  t.teardown(() => rx.close());
  rx.exportTraces(body([CALL, HTTP]), 'grpc');
  t.equal(tokenSeries(sink).length, 0, 'held while its chain is incomplete');
  rx.exportTraces(body([TOOL]), 'grpc');
  t.equal(tokenSeries(sink).length, 0, 'still held: the agent span may yet come');
  rx.exportTraces(body([AGENT]), 'grpc');
  const s = tokenSeries(sink);
  t.equal(s.length, 5);
  t.ok(s.every((x) => x.labels['gen_ai_agent_id'] === 'planner' && x.labels['gen_ai_tool_name'] === 'search'));
});

t.test('what cannot be attributed in time is released unattributed, never lost', async (t) => {
  const sink = new RecordingSink();
  const rx = new OtlpReceiver({ sink, traceAttributionWaitMs: 150 });
  t.teardown(() => rx.close());
  rx.exportTraces(body([CALL, HTTP, TOOL]), 'grpc');
  t.equal(tokenSeries(sink).length, 0);
  await new Promise((r) => setTimeout(r, 600));
  const s = tokenSeries(sink);
  t.equal(s.length, 5, 'released after the wait');
  t.ok(s.every((x) => x.labels['gen_ai_tool_name'] === 'search' && x.labels['gen_ai_agent_id'] === undefined), 'the part of the chain that arrived still attributes');
  t.ok(sink.flushes > 0, 'the release is flushed into the pipeline');
});

t.test('stopping releases call spans still waiting', async (t) => {
  const sink = new RecordingSink();
  const rx = new OtlpReceiver({ sink, traceAttributionWaitMs: 60_000 });
  rx.exportTraces(body([CALL]), 'grpc');
  t.equal(tokenSeries(sink).length, 0);
  rx.close();
  t.equal(tokenSeries(sink).length, 5);
});
