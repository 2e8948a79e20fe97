import t from 'tap';
import { request } from 'node:http';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { OTLPMetricExporter as HttpJsonExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as HttpProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { startDaemon } from './daemon.js';

const TEN_MIB = 10 * 1024 * 1024;

/** post sends `size` bytes with Node's own http client, in 64 KiB writes, as real senders do. */
function post(port: number, path: string, size: number, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { ...headers, 'content-length': String(size) } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        const n = Math.min(chunk.length, size - sent);
        sent += n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

class CollectOnly extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

t.test('a 10 MiB body gets its 413 answer, not a reset', async (t) => {
  const d = await startDaemon();
  t.teardown(() => d.stop());

  const otlp = await post(d.ports.otlpHttp, '/v1/metrics', TEN_MIB, { 'content-type': 'application/x-protobuf' });
  t.equal(otlp.status, 413, 'OTLP/HTTP protobuf: Node http client sees 413');
  const otlpJson = await post(d.ports.otlpHttp, '/v1/metrics', TEN_MIB, { 'content-type': 'application/json' });
  t.equal(otlpJson.status, 413, 'OTLP/HTTP JSON: 413');
  const rw = await post(d.ports.http, '/api/v1/write', TEN_MIB, { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' });
  t.equal(rw.status, 413, 'remote write: 413');
  t.match(rw.body, /exceeds the limit of 4194304 bytes/, 'remote write: the answer names the limit');

  // Each refusal is counted by reason.
  const self = await (await fetch(`${d.url}/metrics`)).text();
  t.match(self, /^tallyd_otlp_requests_refused_total\{transport="http",reason="too_large"\} 2$/m, 'OTLP: counted too_large');
  t.match(self, /^tallyd_remote_write_requests_refused_total\{reason="too_large"\} 1$/m, 'remote write: counted too_large');

  // The connection-level answer must not break the daemon: a normal request still works.
  const ok = await fetch(`${d.url}/health/live`);
  t.equal(ok.status, 200);

  // The real OpenTelemetry exporters: one export of ~10 MiB of data points.
  const reader = new CollectOnly();
  const mp = new MeterProvider({ readers: [reader] });
  const counter = mp.getMeter('big').createCounter('big_payload');
  const filler = 'x'.repeat(4096);
  for (let i = 0; i < 2600; i++) counter.add(1, { i: String(i), filler });
  const { resourceMetrics } = await reader.collect();
  for (const [name, Exporter] of [['exporter-metrics-otlp-http (JSON)', HttpJsonExporter], ['exporter-metrics-otlp-proto', HttpProtoExporter]] as const) {
    const exporter = new Exporter({ url: `http://127.0.0.1:${d.ports.otlpHttp}/v1/metrics`, timeoutMillis: 20_000 });
    const result = await new Promise<{ code: number; error?: Error & { code?: number } }>((resolve) => exporter.export(resourceMetrics, resolve));
    t.not(result.code, 0, `${name}: the export fails`);
    t.equal(result.error?.code, 413, `${name}: with the server's 413 (${result.error?.message})`);
    await exporter.shutdown();
  }
  await mp.shutdown();
});
