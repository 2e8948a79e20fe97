import t from 'tap';
import { MeterProvider, PeriodicExportingMetricReader, AggregationTemporality } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPMetricExporter as GrpcExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as HttpJsonExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as HttpProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { startOtlpGrpc } from '../../../src/ingest/otlp/grpc.js';
import { startOtlpHttp } from '../../../src/ingest/otlp/http.js';
import { MetricKind } from '../../../src/model/metric-kind.js';
import { RecordingSink } from './recording-sink.js';

const SDK_DEFAULT_BOUNDS = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

type Exporter = ConstructorParameters<typeof PeriodicExportingMetricReader>[0]['exporter'];

t.test('the real OpenTelemetry SDK exporters deliver exact values, start times, bounds, names and labels', async (t) => {
  const sink = new RecordingSink();
  const grpc = await startOtlpGrpc({ address: '127.0.0.1:0', ephemeral: true, sink });
  const http = await startOtlpHttp({ address: '127.0.0.1:0', ephemeral: true, sink });
  t.teardown(async () => {
    await grpc.close();
    await http.close();
  });
  const exporters: Array<[string, (temporalityPreference: AggregationTemporality) => Exporter]> = [
    ['grpc', (temporalityPreference) => new GrpcExporter({ url: `http://${grpc.address}`, temporalityPreference })],
    ['http-json', (temporalityPreference) => new HttpJsonExporter({ url: `http://${http.address}/v1/metrics`, temporalityPreference })],
    ['http-proto', (temporalityPreference) => new HttpProtoExporter({ url: `http://${http.address}/v1/metrics`, temporalityPreference })],
  ];
  for (const [name, make] of exporters) {
    for (const temporality of [AggregationTemporality.CUMULATIVE, AggregationTemporality.DELTA]) {
      const cumulative = temporality === AggregationTemporality.CUMULATIVE;
      const svc = `svc-${name}-${cumulative ? 'cumulative' : 'delta'}`;
      const reader = new PeriodicExportingMetricReader({ exporter: make(temporality), exportIntervalMillis: 3_600_000 });
      const provider = new MeterProvider({
        resource: resourceFromAttributes({
          'service.name': svc, 'service.namespace': 'agents', 'service.instance.id': 'i-1',
          'tenant.id': 'acme', 'deployment.environment': 'prod', 'host.name': 'box',
        }),
        readers: [reader],
      });
      const meter = provider.getMeter('test');
      const calls = meter.createCounter('llm.requests');
      const duration = meter.createHistogram('gen_ai.client.operation.duration', { unit: 's' });
      const tokens = meter.createHistogram('gen_ai.client.token.usage', { unit: '{token}', advice: { explicitBucketBoundaries: [1, 4, 16, 64, 256] } });
      const depth = meter.createUpDownCounter('queue.depth', { unit: '{item}' });
      const cpu = meter.createGauge('process.cpu.utilization', { unit: '1' });
      const bigInt = meter.createCounter('net.sent', { unit: 'By', valueType: 1 /* INT */ });
      const before = Date.now();
      for (let round = 1; round <= 3; round++) {
        calls.add(3, { 'gen_ai.request.model': 'gpt-4o', 'http.route': '/chat' });
        bigInt.add(2 ** 40);
        for (let i = 0; i < round * 10; i++) duration.record(0.25 * round, { model: 'gpt-4o' });
        tokens.record(100, { 'gen_ai.token.type': 'input' });
        depth.add(round === 2 ? -1 : 2);
        cpu.record(0.5 * round);
        await reader.forceFlush();
      }
      // Assert before shutdown: shutting down exports once more.
      t.teardown(() => provider.shutdown());
      const where = `${name} ${cumulative ? 'cumulative' : 'delta'}`;
      const job = `agents/${svc}`;
      const find = (metric: string) => sink.series_.filter((s) => s.labels['__name__'] === metric && s.labels['job'] === job);

      const [c] = find('llm_requests_total');
      t.ok(c, `${where}: monotonic sum named llm_requests_total`);
      if (!c) continue;
      t.same(c.labels, {
        __name__: 'llm_requests_total', job, instance: 'i-1', tenant_id: 'acme', deployment_environment: 'prod',
        gen_ai_request_model: 'gpt-4o', http_route: '/chat',
      }, `${where}: attributes, job, instance and promoted resource attributes become labels`);
      t.equal(c.kind, MetricKind.Counter);
      const cs = sink.samplesOf(c.ref);
      t.same(cs.map((s) => s.method), cumulative ? ['counterCumulative', 'counterCumulative', 'counterCumulative'] : ['counter', 'counter', 'counter'], `${where}: counter route`);
      t.same(cs.map((s) => s.value), cumulative ? [3, 6, 9] : [3, 3, 3], `${where}: exact counter values`);
      if (cumulative) {
        t.ok(cs[0]!.startMs >= before - 1000 && cs[0]!.startMs <= cs[0]!.tsMs, `${where}: start time is the stream start`);
        t.ok(cs.every((s) => s.startMs === cs[0]!.startMs), `${where}: start time stays the same across exports`);
      }
      t.ok(cs.every((s) => s.tsMs >= before - 1000 && s.tsMs <= Date.now()), `${where}: timestamps are the points' own`);

      const [b] = find('net_sent_bytes_total');
      t.same(sink.samplesOf(b?.ref ?? -2).map((s) => s.value), cumulative ? [2 ** 40, 2 ** 41, 3 * 2 ** 40] : [2 ** 40, 2 ** 40, 2 ** 40], `${where}: int sums keep large values exactly`);

      const [d] = find('gen_ai_client_operation_duration_seconds');
      t.ok(d, `${where}: histogram named gen_ai_client_operation_duration_seconds`);
      if (!d) continue;
      t.equal(d.kind, MetricKind.Histogram);
      t.same(d.opts?.bounds, SDK_DEFAULT_BOUNDS, `${where}: the sender's bounds are declared for _bucket`);
      const ds = sink.samplesOf(d.ref);
      t.same(ds.map((s) => s.method), Array(3).fill(cumulative ? 'histogramCumulative' : 'histogram'));
      t.same(ds.map((s) => s.h!.count), cumulative ? [10, 30, 60] : [10, 20, 30], `${where}: histogram counts`);
      const sums = cumulative ? [2.5, 2.5 + 10, 2.5 + 10 + 22.5] : [2.5, 10, 22.5];
      t.same(ds.map((s) => s.h!.sum), sums, `${where}: histogram sums are exact`);
      const last = ds[2]!.h!;
      t.same(Array.from(last.bounds ?? []), SDK_DEFAULT_BOUNDS, `${where}: SparseHistogram carries the bounds`);
      t.equal(last.classicCounts?.[1], cumulative ? 60 : 30, `${where}: classic counts land in the (0, 5] bucket`);
      t.equal(last.min, cumulative ? 0.25 : 0.75, `${where}: min from the point`);
      t.equal(last.max, 0.75, `${where}: max from the point`);

      const [tk] = find('gen_ai_client_token_usage');
      t.ok(tk, `${where}: {token} annotation dropped: gen_ai_client_token_usage`);
      t.same(tk?.opts?.bounds, [1, 4, 16, 64, 256], `${where}: advised bounds kept`);
      t.equal(tk?.labels['gen_ai_token_type'], 'input');

      const [q] = find('queue_depth');
      t.ok(q, `${where}: up-down counter is a gauge without _total`);
      t.equal(q?.kind, MetricKind.Gauge);
      const qs = sink.samplesOf(q?.ref ?? -2);
      // The SDK keeps up-down counters cumulative even under a delta preference.
      t.same(qs.map((s) => s.method), ['gaugeSet', 'gaugeSet', 'gaugeSet']);
      t.same(qs.map((s) => s.value), [2, 1, 3], `${where}: up-down values`);

      const [g] = find('process_cpu_utilization_ratio');
      t.ok(g, `${where}: gauge of unit 1 gets _ratio`);
      t.same(sink.samplesOf(g?.ref ?? -2).map((s) => s.value), [0.5, 1, 1.5]);
    }
  }
  t.ok(sink.flushes > 0, 'the sink is flushed per request');
});
