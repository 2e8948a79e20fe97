import t from 'tap';
import { createSocket } from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { adminFlush, startDaemon, type Daemon } from './daemon.js';

const PROTO = new URL('../../../proto/tallyd/v1/query.proto', import.meta.url).pathname;
const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(PROTO, { keepCase: true, longs: Number, defaults: true })) as unknown as {
  tallyd: { v1: { QueryService: grpc.ServiceClientConstructor } };
};
type Client = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

async function statsd(d: Daemon, lines: string): Promise<void> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.send(lines, d.ports.statsd, '127.0.0.1', () => r()));
  s.close();
  await new Promise((r) => setTimeout(r, 300));
}

async function api(d: Daemon, path: string, form?: Record<string, string>): Promise<{ status: number; body: any }> {
  const r = form
    ? await fetch(`${d.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) })
    : await fetch(`${d.url}${path}`);
  return { status: r.status, body: await r.json() };
}

t.test('the Prometheus HTTP API answers with Prometheus shapes, GET and POST', async (t) => {
  const d = await startDaemon();
  t.teardown(() => d.stop());
  await statsd(d, 'tool.calls:3|c|#tool_name:search,agent_id:a1\ntool.calls:2|c|#tool_name:fetch,agent_id:a1\nqueue.depth:4|g');
  await adminFlush(d);

  const post = await api(d, '/api/v1/query', { query: 'sum by (tool_name) (tool_calls_total)' });
  t.equal(post.status, 200);
  t.equal(post.body.data.resultType, 'vector');
  t.same(post.body.data.result.map((r: any) => [r.metric.tool_name, r.value[1]]).sort(), [['fetch', '2'], ['search', '3']]);

  const now = Math.floor(Date.now() / 1000);
  const range = await api(d, `/api/v1/query_range?query=queue_depth&start=${now - 60}&end=${now}&step=15`);
  t.equal(range.body.data.resultType, 'matrix');
  t.ok(range.body.data.result[0].values.length >= 1, 'matrix has points');
  t.equal(range.body.data.result[0].values.at(-1)[1], '4');

  const series = await api(d, '/api/v1/series?match[]=tool_calls_total');
  t.equal(series.body.data.length, 2);
  const labels = await api(d, '/api/v1/labels');
  t.ok(labels.body.data.includes('tool_name') && labels.body.data.includes('__name__'));
  const values = await api(d, '/api/v1/label/tool_name/values');
  t.same(values.body.data, ['fetch', 'search']);
  const meta = await api(d, '/api/v1/metadata');
  t.equal(meta.body.data.tool_calls_total?.[0]?.type, 'counter');
  const build = await api(d, '/api/v1/status/buildinfo');
  t.match(build.body.data.version, /^\d+\.\d+\.\d+/);

  const bad = await api(d, '/api/v1/query?query=sum(rate(x[5m])');
  t.equal(bad.status, 400);
  t.equal(bad.body.status, 'error');
  t.equal(bad.body.errorType, 'bad_data');
  const tooFine = await api(d, `/api/v1/query_range?query=up&start=0&end=${now}&step=1`);
  t.equal(tooFine.status, 400);
  t.match(tooFine.body.error, /exceeded maximum resolution of 11,000 points/);
});

t.test('the gRPC QueryService answers like the HTTP API and streams alert changes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tallyd-grpc-it-'));
  const rules = join(dir, 'rules.yml');
  writeFileSync(rules, 'groups:\n  - name: g\n    interval: 1s\n    rules:\n      - alert: ToolErrors\n        expr: sum(tool_errors_total) > 1\n');
  const d = await startDaemon({ args: ['--rules', rules] });
  t.teardown(() => d.stop());
  const client = new pkg.tallyd.v1.QueryService(`127.0.0.1:${d.ports.grpc}`, grpc.credentials.createInsecure()) as unknown as Client;
  t.teardown(() => client.close());

  const events: Array<{ alertname: string; state: string }> = [];
  const watch = client['WatchAlerts']!({}) as grpc.ClientReadableStream<{ alertname: string; state: string }>;
  watch.on('data', (e) => events.push(e));
  watch.on('error', () => undefined);
  t.teardown(() => watch.cancel());

  await statsd(d, 'tool.errors:5|c|#tool_name:search');
  await adminFlush(d);
  const res = await new Promise<any>((resolve, reject) =>
    client['Query']!({ expr: 'sum(tool_errors_total)', time_ms: 0 }, (err: Error | null, r: unknown) => (err ? reject(err) : resolve(r))),
  );
  t.equal(res.result_type, 'vector');
  t.equal(res.series[0].samples[0].value, 5);
  const http = await api(d, '/api/v1/query?query=sum(tool_errors_total)');
  t.equal(String(res.series[0].samples[0].value), http.body.data.result[0].value[1], 'gRPC and HTTP agree');

  const bad = await new Promise<grpc.ServiceError>((resolve) => client['Query']!({ expr: 'sum(' }, (err: grpc.ServiceError) => resolve(err)));
  t.equal(bad.code, grpc.status.INVALID_ARGUMENT);

  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && !events.some((e) => e.state === 'firing')) await new Promise((r) => setTimeout(r, 200));
  t.ok(events.some((e) => e.alertname === 'ToolErrors' && e.state === 'firing'), 'WatchAlerts streamed the firing alert');
});
