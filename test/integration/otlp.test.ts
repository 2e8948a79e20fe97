import t from 'tap';
import { MeterProvider, PeriodicExportingMetricReader, AggregationTemporality } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPMetricExporter as GrpcExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as HttpJsonExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as HttpProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { adminFlush, promQuery, startDaemon, type Daemon } from './daemon.js';

type Make = (d: Daemon, temporality: AggregationTemporality) => ConstructorParameters<typeof PeriodicExportingMetricReader>[0]['exporter'];

const exporters: Array<[string, Make]> = [
  ['gRPC', (d, temporalityPreference) => new GrpcExporter({ url: `http://127.0.0.1:${d.ports.otlpGrpc}`, temporalityPreference })],
  ['HTTP JSON', (d, temporalityPreference) => new HttpJsonExporter({ url: `http://127.0.0.1:${d.ports.otlpHttp}/v1/metrics`, temporalityPreference })],
  ['HTTP protobuf', (d, temporalityPreference) => new HttpProtoExporter({ url: `http://127.0.0.1:${d.ports.otlpHttp}/v1/metrics`, temporalityPreference })],
];

t.test('the real OpenTelemetry SDK exporters round-trip exact totals', async (t) => {
  const d = await startDaemon();
  t.teardown(() => d.stop());
  for (const [name, make] of exporters) {
    for (const temporality of [AggregationTemporality.CUMULATIVE, AggregationTemporality.DELTA]) {
      const tname = temporality === AggregationTemporality.CUMULATIVE ? 'cumulative' : 'delta';
      const job = `agent-${name.replace(/\W/g, '').toLowerCase()}-${tname}`;
      const reader = new PeriodicExportingMetricReader({ exporter: make(d, temporality), exportIntervalMillis: 3_600_000 });
      const provider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': job, 'service.instance.id': 'i-1' }), readers: [reader] });
      const meter = provider.getMeter('it');
      const tokens = meter.createCounter('llm_provider_tokens', { description: 'tokens' });
      const duration = meter.createHistogram('gen_ai.client.operation.duration', { unit: 's' });
      // Three exports with growing totals: a cumulative exporter re-sends the running total each time.
      let expected = 0;
      for (let round = 1; round <= 3; round++) {
        for (let i = 0; i < round * 10; i++) {
          tokens.add(7, { provider: 'openai', model: 'gpt-4o', type: 'prompt' });
          expected += 7;
          duration.record(0.25 * round, { 'gen_ai.request.model': 'gpt-4o' });
        }
        await reader.forceFlush();
      }
      await provider.shutdown();
      await adminFlush(d);
      const total = await promQuery(d, `llm_provider_tokens_total{job="${job}"}`);
      t.equal(Number(total[0]?.value[1]), expected, `${name} ${tname}: counter total is exact`);
      t.equal(total[0]?.metric['instance'], 'i-1', `${name} ${tname}: service.instance.id becomes instance`);
      const count = await promQuery(d, `gen_ai_client_operation_duration_seconds_count{job="${job}"}`);
      t.equal(Number(count[0]?.value[1]), 60, `${name} ${tname}: histogram count is exact`);
      const sum = await promQuery(d, `gen_ai_client_operation_duration_seconds_sum{job="${job}"}`);
      t.ok(Math.abs(Number(sum[0]?.value[1]) - (10 * 0.25 + 20 * 0.5 + 30 * 0.75)) < 1e-9, `${name} ${tname}: histogram sum is exact`);
    }
  }
});
