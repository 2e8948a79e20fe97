import t from 'tap';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import Fastify from 'fastify';
import { InlineRunner } from '../../src/query/pool/inline.js';
import { remoteReadRoutes } from '../../src/query/remote-read/routes.js';
import { XorChunkWriter } from '../../src/query/remote-read/xor-chunk.js';
import { MemoryQuerier } from '../query/remote-read/memory-querier.js';
import { decodeFrames, loadPrompb, readRequestBody } from '../query/remote-read/prompb-client.js';
import { decodeXorChunk, sameFloat } from '../query/remote-read/xor-decode.js';
import { PROMETHEUS, startPrometheus, type PrometheusServer } from './fixtures/prometheus-server.js';

/**
 * Remote read against a real Prometheus (Debian's `prometheus` package):
 * 1. Prometheus with `remote_read` pointed at tallyd's route answers PromQL over tallyd's data.
 * 2. Prometheus' own STREAMED_XOR_CHUNKS answer is the reference for our XOR chunk bytes.
 */

const missing = existsSync(PROMETHEUS) ? false : `${PROMETHEUS} not installed (apt-get install prometheus); Prometheus interop skipped`;
const snappy = createRequire(import.meta.url)('snappyjs') as { compress(b: Uint8Array): Uint8Array };
const root = loadPrompb();

function startRemoteReadPrometheus(remoteReadUrl: string): Promise<PrometheusServer> {
  return startPrometheus(`global:\n  scrape_interval: 1h\nremote_read:\n  - url: ${remoteReadUrl}\n    read_recent: true\n`);
}

async function promQuery(base: string, path: string, params: Record<string, string>): Promise<{ status: string; data: { resultType: string; result: Array<{ metric: Record<string, string>; value?: [number, string]; values?: Array<[number, string]> }> } }> {
  const r = await fetch(`${base}${path}?${new URLSearchParams(params)}`);
  return (await r.json()) as Awaited<ReturnType<typeof promQuery>>;
}

t.test('a Prometheus with remote_read pointed at tallyd answers PromQL over tallyd data', { skip: missing }, async (t) => {
  const T0 = 1_700_000_000_000;
  const q = new MemoryQuerier();
  for (let m = 0; m < 3; m++) {
    q.addFloat('default', { __name__: 'llm_requests_total', job: 'agent', model: `m${m}` },
      Array.from({ length: 360 }, (_, i) => [T0 + i * 10_000, i * (m + 1) + 0.25] as [number, number]));
  }
  const app = Fastify();
  await app.register(remoteReadRoutes, { queries: new InlineRunner(() => q), tenantOf: () => 'default' });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/api/v1/read`;
  const prom = await startRemoteReadPrometheus(url);
  t.teardown(prom.stop);

  const at = (T0 + 1_000_000) / 1000;
  const inst = await promQuery(prom.url, '/api/v1/query', { query: 'llm_requests_total', time: String(at) });
  t.equal(inst.status, 'success');
  const byModel = Object.fromEntries(inst.data.result.map((r) => [r.metric.model, Number(r.value![1])]));
  t.same(byModel, { m0: 100.25, m1: 200.25, m2: 300.25 }, 'instant query sees the sample at its time');

  const sum = await promQuery(prom.url, '/api/v1/query', { query: 'sum(rate(llm_requests_total[5m]))', time: String(at) });
  t.ok(Math.abs(Number(sum.data.result[0]!.value![1]) - 0.6) < 1e-9, `rate over remote data is 0.1+0.2+0.3 per second (${sum.data.result[0]?.value?.[1]})`);

  const range = await promQuery(prom.url, '/api/v1/query_range', {
    query: 'llm_requests_total{model="m2"}',
    start: String(T0 / 1000),
    end: String((T0 + 3_590_000) / 1000),
    step: '60',
  });
  const vals = range.data.result[0]!.values!;
  t.equal(vals.length, 60);
  t.ok(vals.every(([ts, v]) => Number(v) === ((ts * 1000 - T0) / 10_000) * 3 + 0.25), 'range query matches every step');
});

t.test('our XOR chunks are byte-identical to the chunks Prometheus itself streams', { skip: missing }, async (t) => {
  const app = Fastify();
  await app.register(remoteReadRoutes, { queries: new InlineRunner(() => new MemoryQuerier()), tenantOf: () => 'default' });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  const prom = await startRemoteReadPrometheus(`http://127.0.0.1:${(app.server.address() as { port: number }).port}/api/v1/read`);
  t.teardown(prom.stop);

  // Samples that exercise every timestamp bucket and value case, written via remote write.
  // All three series stay within Prometheus' head window (it refuses samples over an hour
  // older than the newest one), while steps hit every delta-of-delta bucket.
  const now = Date.now() - 50 * 60_000;
  const step = (i: number) =>
    i === 150 ? 700_000 : i % 100 === 50 ? 140_000 : i % 25 === 0 ? 12_000 : i % 10 === 3 ? 5001 : i % 10 === 7 ? 4990 : 5000;
  let seed = 11;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const series = ['counter', 'gauge', 'sparse'].map((kind) => {
    const samples: Array<{ value: number; timestamp: number }> = [];
    let ts = now, v = 0;
    for (let i = 0; i < 300; i++) {
      if (kind === 'counter') v += Math.floor(rnd() * 10);
      else if (kind === 'gauge') v = rnd() * 10 ** Math.floor(rnd() * 12 - 6);
      else v = i % 7 === 0 ? -v + 1.5 : v;
      samples.push({ value: v, timestamp: ts });
      ts += step(i);
    }
    return { labels: [{ name: '__name__', value: `xor_ref_${kind}` }], samples };
  });
  const W = root.lookupType('prometheus.WriteRequest');
  const wr = await fetch(`${prom.url}/api/v1/write`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy', 'X-Prometheus-Remote-Write-Version': '0.1.0' },
    body: new Uint8Array(snappy.compress(W.encode(W.create({ timeseries: series })).finish())),
  });
  t.equal(wr.status, 204, `remote write accepted (${wr.status})`);

  const res = await fetch(`${prom.url}/api/v1/read`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy', 'X-Prometheus-Remote-Read-Version': '0.1.0' },
    body: readRequestBody(root, [{ startTimestampMs: now - 1, endTimestampMs: Date.now(), matchers: [{ type: 2, name: '__name__', value: 'xor_ref_.*' }] }], [1]),
  });
  t.equal(res.headers.get('content-type'), 'application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse');
  const frames = decodeFrames(root, new Uint8Array(await res.arrayBuffer()));
  const chunks = frames.flatMap((f) => f.chunkedSeries.flatMap((s) => s.chunks));
  // Prometheus cuts a head chunk near 120 samples, stretched towards its 2 h block boundary, so the
  // count depends on the wall clock: at least one chunk per series.
  t.ok(chunks.length >= 3, `Prometheus streamed ${chunks.length} chunks for 3 x 300 samples`);
  let compared = 0;
  for (const c of chunks) {
    const d = decodeXorChunk(c.data);
    const w = new XorChunkWriter();
    for (let i = 0; i < d.timestamps.length; i++) w.append(d.timestamps[i]!, d.values[i]!);
    if (Buffer.compare(Buffer.from(w.bytes()), Buffer.from(c.data)) !== 0) {
      t.fail(`chunk ${compared} differs: ours ${Buffer.from(w.bytes()).toString('hex')} theirs ${Buffer.from(c.data).toString('hex')}`);
      return;
    }
    compared++;
  }
  t.equal(compared, chunks.length, 'every chunk re-encodes to the same bytes');
  const all = chunks.map((c) => decodeXorChunk(c.data));
  const got = all.flatMap((d) => d.values);
  const want = series.flatMap((s) => s.samples.map((x) => x.value));
  t.equal(got.length, want.length, 'the decoded samples are the written ones');
  t.ok(got.every((v, i) => sameFloat(v, want[i]!)), 'values identical');
});
