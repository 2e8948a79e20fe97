import t, { type Test } from 'tap';
import Fastify, { type FastifyInstance } from 'fastify';
import { SparseHistogram } from '../../../src/model/hdr.js';
import { InlineRunner } from '../../../src/query/pool/inline.js';
import { remoteReadRoutes, type RemoteReadOptions } from '../../../src/query/remote-read/routes.js';
import { MemoryQuerier } from './memory-querier.js';
import { decodeFrames, decodeReadResponse, loadPrompb, readRequestBody, type QuerySpec } from './prompb-client.js';
import { decodeXorChunk, sameFloat } from './xor-decode.js';

const EQ = 0, NEQ = 1, RE = 2, NRE = 3;
const SAMPLES = 0, STREAMED = 1;
const root = loadPrompb();
const T0 = 1_700_000_000_000;

function points(n: number, step: number, f: (i: number) => number): Array<[number, number]> {
  return Array.from({ length: n }, (_, i) => [T0 + i * step, f(i)] as [number, number]);
}

function fixture(): MemoryQuerier {
  const q = new MemoryQuerier();
  q.addFloat('default', { __name__: 'llm_requests_total', job: 'agent', model: 'gpt-4o' }, points(300, 10_000, (i) => i * 3));
  q.addFloat('default', { __name__: 'llm_requests_total', job: 'agent', model: 'claude' }, points(300, 10_000, (i) => i * 2 + 0.5));
  q.addFloat('default', { __name__: 'queue_depth', job: 'worker' }, points(50, 15_000, (i) => Math.sin(i)));
  q.addFloat('acme', { __name__: 'llm_requests_total', job: 'agent', model: 'secret' }, points(10, 10_000, (i) => 1000 + i));
  const h = new SparseHistogram();
  h.record(0.25);
  q.addHistogram('default', { __name__: 'llm_latency_seconds', job: 'agent' }, [T0 + 10_000], [h]);
  q.addFloat('default', { __name__: 'llm_latency_seconds_count', job: 'agent' }, [[T0 + 10_000, 1]]);
  return q;
}

async function serve(t: Test, querier: MemoryQuerier, extra: Partial<RemoteReadOptions> = {}): Promise<string> {
  const app: FastifyInstance = Fastify();
  await app.register(remoteReadRoutes, {
    queries: new InlineRunner(() => querier),
    tenantOf: (req) => {
      const org = req.headers['x-scope-orgid'];
      if (org === 'forbidden') throw Object.assign(new Error('token may not read this tenant'), { statusCode: 403 });
      return typeof org === 'string' ? org : 'default';
    },
    ...extra,
  });
  // Another route on the same server keeps its JSON body parsing: the plugin is encapsulated.
  app.post('/echo', async (req) => req.body);
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  const addr = app.server.address() as { port: number };
  return `http://127.0.0.1:${addr.port}`;
}


async function read(base: string, queries: QuerySpec[], accepted: number[] = [], headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}/api/v1/read`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy', 'X-Prometheus-Remote-Read-Version': '0.1.0', ...headers },
    body: readRequestBody(root, queries, accepted),
  });
}

const llm = (start: number, end: number, extra: QuerySpec['matchers'] = []): QuerySpec => ({
  startTimestampMs: start,
  endTimestampMs: end,
  matchers: [{ type: EQ, name: '__name__', value: 'llm_requests_total' }, ...extra],
});

t.test('SAMPLES answers every query with the stored samples inside its inclusive range', async (t) => {
  const base = await serve(t, fixture());
  const res = await read(base, [
    llm(T0 + 100_000, T0 + 200_000),
    { startTimestampMs: T0, endTimestampMs: T0 + 1e7, matchers: [{ type: RE, name: '__name__', value: 'queue_.*' }] },
  ]);
  t.equal(res.status, 200);
  t.equal(res.headers.get('content-type'), 'application/x-protobuf');
  t.equal(res.headers.get('content-encoding'), 'snappy');
  const body = decodeReadResponse(root, new Uint8Array(await res.arrayBuffer()));
  t.equal(body.results.length, 2, 'one result per query, in order');
  const [first, second] = body.results;
  t.same(first!.timeseries.map((s) => s.labels.find((l) => l.name === 'model')!.value), ['claude', 'gpt-4o'], 'series sorted by labels');
  const gpt = first!.timeseries[1]!;
  t.same(gpt.labels, [
    { name: '__name__', value: 'llm_requests_total' },
    { name: 'job', value: 'agent' },
    { name: 'model', value: 'gpt-4o' },
  ]);
  t.same(gpt.samples.map((s) => s.timestamp), Array.from({ length: 11 }, (_, i) => T0 + 100_000 + i * 10_000), 'both range ends included');
  t.same(gpt.samples.map((s) => s.value), Array.from({ length: 11 }, (_, i) => (10 + i) * 3));
  t.equal(second!.timeseries.length, 1);
  t.equal(second!.timeseries[0]!.samples.length, 50);
  t.ok(second!.timeseries[0]!.samples.every((s, i) => sameFloat(s.value, Math.sin(i))), 'float values exact');
});

t.test('all four matcher types select the way PromQL selectors do', async (t) => {
  const base = await serve(t, fixture());
  const cases: Array<[QuerySpec['matchers'], string[]]> = [
    [[{ type: NEQ, name: 'model', value: 'claude' }], ['gpt-4o']],
    [[{ type: RE, name: 'model', value: 'gpt.*|nope' }], ['gpt-4o']],
    [[{ type: NRE, name: 'model', value: 'g.*' }], ['claude']],
    [[{ type: EQ, name: 'model', value: '' }], []],
  ];
  for (const [m, want] of cases) {
    const res = await read(base, [llm(T0, T0 + 1e7, m)]);
    const body = decodeReadResponse(root, new Uint8Array(await res.arrayBuffer()));
    t.same(body.results[0]!.timeseries.map((s) => s.labels.find((l) => l.name === 'model')!.value), want, JSON.stringify(m));
  }
});

t.test('STREAMED_XOR_CHUNKS sends CRC-checked frames of XOR chunks holding every sample', async (t) => {
  const q = fixture();
  const base = await serve(t, q);
  const res = await read(base, [llm(T0, T0 + 1e7), { startTimestampMs: T0, endTimestampMs: T0 + 1e7, matchers: [{ type: EQ, name: '__name__', value: 'queue_depth' }] }], [STREAMED, SAMPLES]);
  t.equal(res.status, 200);
  t.equal(res.headers.get('content-type'), 'application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse');
  t.notOk(res.headers.get('content-encoding'), 'no content encoding on the stream');
  const frames = decodeFrames(root, new Uint8Array(await res.arrayBuffer()));
  t.same(frames.map((f) => f.queryIndex), [0, 0, 1], 'one frame per series here, tagged with its query index');
  for (const f of frames) t.equal(f.chunkedSeries.length, 1, 'a frame carries one series');
  const want = q.select('default', [], { startMs: T0, endMs: T0 + 1e7 }).floats;
  for (const f of frames) {
    const s = f.chunkedSeries[0]!;
    const key = JSON.stringify(s.labels);
    const src = want.find((w) => JSON.stringify(w.labels) === key)!;
    t.ok(src, `frame series ${key} exists`);
    const ts: number[] = [], vs: number[] = [];
    for (const c of s.chunks) {
      t.equal(c.type, 1, 'chunk encoding is XOR');
      const d = decodeXorChunk(c.data);
      t.ok(d.timestamps.length <= 120 && d.timestamps.length > 0, `chunk holds 1..120 samples (${d.timestamps.length})`);
      t.equal(c.minTimeMs, d.timestamps[0]);
      t.equal(c.maxTimeMs, d.timestamps[d.timestamps.length - 1]);
      ts.push(...d.timestamps);
      vs.push(...d.values);
    }
    t.same(ts, [...src.timestamps], `${key}: timestamps`);
    t.ok(vs.every((v, i) => sameFloat(v, src.values[i]!)), `${key}: values bit-exact`);
  }
  t.same(frames[0]!.chunkedSeries[0]!.chunks.map((c) => decodeXorChunk(c.data).timestamps.length), [120, 120, 60], '300 samples cut 120/120/60');
});

t.test('a series larger than the frame budget is split over frames that each repeat its labels', async (t) => {
  const q = new MemoryQuerier();
  q.addFloat('default', { __name__: 'noisy', job: 'x' }, points(5000, 1000, (i) => Math.random() * i));
  const base = await serve(t, q, { maxBytesInFrame: 4096 });
  const res = await read(base, [{ startTimestampMs: T0, endTimestampMs: T0 + 1e8, matchers: [{ type: EQ, name: 'job', value: 'x' }] }], [STREAMED]);
  const frames = decodeFrames(root, new Uint8Array(await res.arrayBuffer()));
  t.ok(frames.length > 3, `split into ${frames.length} frames`);
  const maxChunk = Math.max(...frames.flatMap((f) => f.chunkedSeries[0]!.chunks.map((c) => c.data.length + 40)));
  t.ok(frames.every((f) => f.size <= 4096 + maxChunk), 'no frame passes the budget by more than one chunk');
  t.ok(frames.every((f) => f.chunkedSeries[0]!.labels.length === 2), 'labels in every frame');
  const total = frames.reduce((n, f) => n + f.chunkedSeries[0]!.chunks.reduce((m, c) => m + decodeXorChunk(c.data).timestamps.length, 0), 0);
  t.equal(total, 5000, 'every sample arrives once');
  const starts = frames.flatMap((f) => f.chunkedSeries[0]!.chunks.map((c) => c.minTimeMs));
  t.same(starts, [...starts].sort((a, b) => a - b), 'chunks in time order');
});

t.test('histogram-valued series are left out; their classic float series are served', async (t) => {
  const base = await serve(t, fixture());
  const res = await read(base, [{ startTimestampMs: T0, endTimestampMs: T0 + 1e7, matchers: [{ type: RE, name: '__name__', value: 'llm_latency_seconds.*' }] }]);
  const body = decodeReadResponse(root, new Uint8Array(await res.arrayBuffer()));
  t.same(body.results[0]!.timeseries.map((s) => s.labels[0]!.value), ['llm_latency_seconds_count']);
});

t.test('a tenant reads only its own series', async (t) => {
  const base = await serve(t, fixture());
  const res = await read(base, [llm(T0, T0 + 1e7)], [], { 'X-Scope-OrgID': 'acme' });
  const body = decodeReadResponse(root, new Uint8Array(await res.arrayBuffer()));
  t.same(body.results[0]!.timeseries.map((s) => s.labels.find((l) => l.name === 'model')!.value), ['secret']);
  const denied = await read(base, [llm(T0, T0 + 1e7)], [], { 'X-Scope-OrgID': 'forbidden' });
  t.equal(denied.status, 403, 'tenantOf refusing answers its status');
});

t.test('read hints reach the querier as select hints', async (t) => {
  const q = fixture();
  const base = await serve(t, q);
  await read(base, [{ ...llm(T0, T0 + 600_000), hints: { stepMs: 60_000, rangeMs: 300_000, startMs: T0, endMs: T0 + 600_000, func: 'rate' } }]);
  t.same(q.selects.at(-1), { tenant: 'default', hints: { startMs: T0, endMs: T0 + 600_000, stepMs: 60_000, rangeMs: 300_000 } });
});

t.test('bad requests get 400 with a reason, as Prometheus answers them', async (t) => {
  const base = await serve(t, fixture());
  const notSnappy = await fetch(`${base}/api/v1/read`, { method: 'POST', headers: { 'Content-Type': 'application/x-protobuf' }, body: Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]) });
  t.equal(notSnappy.status, 400);
  t.match(await notSnappy.text(), /snappy/);
  const badRegex = await read(base, [llm(T0, T0 + 1, [{ type: RE, name: 'model', value: '(' }])]);
  t.equal(badRegex.status, 400);
  t.match(await badRegex.text(), /invalid regular expression/);
  const unknownType = await read(base, [llm(T0, T0 + 1)], [7]);
  t.equal(unknownType.status, 400);
  t.match(await unknownType.text(), /does not support any of the requested response types/);
  const echo = await fetch(`${base}/echo`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"a":1}' });
  t.same(await echo.json(), { a: 1 }, 'routes outside the plugin still parse JSON');
});

t.test('a query that matches nothing answers an empty result, not an error', async (t) => {
  const base = await serve(t, fixture());
  const res = await read(base, [{ startTimestampMs: T0, endTimestampMs: T0 + 1e7, matchers: [{ type: EQ, name: '__name__', value: 'absent' }] }]);
  t.equal(res.status, 200);
  t.same(decodeReadResponse(root, new Uint8Array(await res.arrayBuffer())).results, [{ timeseries: [] }]);
  const streamed = await read(base, [{ startTimestampMs: T0, endTimestampMs: T0 + 1e7, matchers: [{ type: EQ, name: '__name__', value: 'absent' }] }], [STREAMED]);
  t.equal(streamed.status, 200);
  t.equal((await streamed.arrayBuffer()).byteLength, 0);
});
