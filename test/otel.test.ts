import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MeterProvider, PeriodicExportingMetricReader, AggregationType } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { open } from '../src/index.js';
import { TallydMetricExporter } from '../src/otel.js';

t.test('the OpenTelemetry SDK exports into an embedded tallyd with no network', async (t) => {
  const db = await open({ dataDir: mkdtempSync(join(tmpdir(), 'tallyd-otel-')), flushInterval: '1s' });
  t.teardown(() => db.close());
  for (const temporality of ['cumulative', 'delta'] as const) {
    const reader = new PeriodicExportingMetricReader({ exporter: new TallydMetricExporter(db, { temporality }), exportIntervalMillis: 3_600_000 });
    const provider = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': `agent-${temporality}` }),
      readers: [reader],
      views: [{ instrumentName: 'gen_ai.client.operation.duration', aggregation: { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries: [0.1, 0.5, 1, 5] } } }],
    });
    const meter = provider.getMeter('llm');
    const tokens = meter.createCounter('gen_ai.client.token.usage.total', { unit: '{token}' });
    const latency = meter.createHistogram('gen_ai.client.operation.duration', { unit: 's' });
    tokens.add(100, { 'gen_ai.token.type': 'input' });
    tokens.add(25, { 'gen_ai.token.type': 'output' });
    latency.record(0.3);
    latency.record(2);
    await reader.forceFlush();
    // A second collection: cumulative sends the running total, delta only the increment.
    tokens.add(50, { 'gen_ai.token.type': 'input' });
    latency.record(0.05);
    await reader.forceFlush();
    await provider.shutdown();
  }
  await db.flush();
  const v = await db.query('sum by (job, gen_ai_token_type) ({__name__=~"gen_ai_client_token_usage.*"})');
  t.equal(v.type, 'vector');
  const got = v.type === 'vector' ? Object.fromEntries(v.samples.map((s) => [`${s.labels['job']}/${s.labels['gen_ai_token_type']}`, s.value])) : {};
  t.same(got, { 'agent-cumulative/input': 150, 'agent-cumulative/output': 25, 'agent-delta/input': 150, 'agent-delta/output': 25 }, 'counters arrive exactly once per temporality');
  const count = await db.query('sum by (job) ({__name__=~"gen_ai_client_operation_duration.*_count"})');
  t.same(count.type === 'vector' ? Object.fromEntries(count.samples.map((s) => [s.labels['job'], s.value])) : {}, { 'agent-cumulative': 3, 'agent-delta': 3 }, 'histogram observations counted');
});
