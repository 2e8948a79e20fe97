import t, { type Test } from 'tap';
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { QueryError, type QueryEngine, type QueryOptions } from '../../../src/query/promql/api.js';
import { createEngine } from '../../../src/query/promql/engine.js';
import { Logger } from '../../../src/self/log.js';
import { startGrpcApi, type GrpcApiOptions } from '../../../src/api/grpc/server.js';
import { InlineRunner } from '../../../src/query/pool/inline.js';
import type { JobOptions, QueryRunner } from '../../../src/query/pool/runner.js';
import { MemoryQuerier } from '../../query/remote-read/memory-querier.js';
import { repoFile } from '../../query/remote-read/prompb-client.js';

const T0 = 1_700_000_000_000;

function fixture(): MemoryQuerier {
  const q = new MemoryQuerier();
  const pts = (f: (i: number) => number) => Array.from({ length: 60 }, (_, i) => [T0 + i * 10_000, f(i)] as [number, number]);
  q.addFloat('default', { __name__: 'llm_tokens_total', agent: 'planner', type: 'prompt' }, pts((i) => i * 10));
  q.addFloat('default', { __name__: 'llm_tokens_total', agent: 'coder', type: 'prompt' }, pts((i) => i * 4));
  q.addFloat('default', { __name__: 'up', job: 'api' }, pts(() => 1));
  q.addFloat('acme', { __name__: 'llm_tokens_total', agent: 'acme-bot', type: 'prompt' }, pts((i) => i));
  return q;
}

// The client is generated from proto/ the way any grpc-js user would do it.
const clientDef = protoLoader.loadSync(repoFile('proto/tallyd/v1/query.proto'), { keepCase: true, longs: String, defaults: true });
const clientPkg = grpc.loadPackageDefinition(clientDef) as unknown as { tallyd: { v1: { QueryService: grpc.ServiceClientConstructor } } };

type Client = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

async function serve(t: Test, extra: Partial<GrpcApiOptions> = {}, querier = fixture()): Promise<{ client: Client; port: number; close: () => Promise<void> }> {
  const api = await startGrpcApi({
    address: '127.0.0.1:0',
    queries: new InlineRunner(() => querier),
    log: new Logger('error', {}, () => undefined),
    ...extra,
  });
  const client = new clientPkg.tallyd.v1.QueryService(`127.0.0.1:${api.port}`, grpc.credentials.createInsecure()) as unknown as Client;
  t.teardown(async () => {
    client.close();
    await api.close();
  });
  return { client, port: api.port, close: () => api.close() };
}

function call<R = Record<string, unknown>>(client: Client, method: string, req: object, md = new grpc.Metadata(), opts: grpc.CallOptions = {}): Promise<R> {
  return new Promise((resolve, reject) => {
    client[method]!(req, md, opts, (err: grpc.ServiceError | null, res: R) => (err ? reject(err) : resolve(res)));
  });
}

async function callError(client: Client, method: string, req: object, md?: grpc.Metadata, opts?: grpc.CallOptions): Promise<grpc.ServiceError> {
  try {
    await call(client, method, req, md, opts);
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error(`${method} succeeded; an error was expected`);
}

interface WireSeries {
  labels: Record<string, string>;
  samples: Array<{ timestamp_ms: string; value: number }>;
}

t.test('Query evaluates PromQL at an instant and returns labelled samples', async (t) => {
  const { client } = await serve(t);
  const res = await call<{ result_type: string; series: WireSeries[] }>(client, 'Query', { expr: 'sum by (agent) (llm_tokens_total)', time_ms: T0 + 100_000 });
  t.equal(res.result_type, 'vector');
  const byAgent = Object.fromEntries(res.series.map((s) => [s.labels.agent, s.samples[0]!.value]));
  t.same(byAgent, { planner: 100, coder: 40 });
  t.ok(res.series.every((s) => Number(s.samples[0]!.timestamp_ms) === T0 + 100_000), 'stamped at the evaluation time');

  const scalar = await call<{ result_type: string; series: WireSeries[] }>(client, 'Query', { expr: '2 * 21', time_ms: T0 });
  t.equal(scalar.result_type, 'scalar');
  t.same(scalar.series.map((s) => [s.labels, s.samples.map((x) => x.value)]), [[{}, [42]]]);
});

t.test('QueryRange returns a matrix with a sample at every step', async (t) => {
  const { client } = await serve(t);
  const res = await call<{ result_type: string; series: WireSeries[] }>(client, 'QueryRange', {
    expr: 'llm_tokens_total{agent="coder"}', start_ms: T0, end_ms: T0 + 300_000, step_ms: 60_000,
  });
  t.equal(res.result_type, 'matrix');
  t.equal(res.series.length, 1);
  t.same(res.series[0]!.labels, { __name__: 'llm_tokens_total', agent: 'coder', type: 'prompt' });
  t.same(res.series[0]!.samples.map((s) => [Number(s.timestamp_ms), s.value]), [0, 1, 2, 3, 4, 5].map((i) => [T0 + i * 60_000, i * 24]));
  const bad = await callError(client, 'QueryRange', { expr: 'up', start_ms: T0, end_ms: T0 + 1000, step_ms: 0 });
  t.equal(bad.code, grpc.status.INVALID_ARGUMENT, 'a zero step is the caller\'s mistake');
});

t.test('bad PromQL is INVALID_ARGUMENT with the parser\'s message', async (t) => {
  const { client } = await serve(t);
  const err = await callError(client, 'Query', { expr: 'sum(', time_ms: T0 });
  t.equal(err.code, grpc.status.INVALID_ARGUMENT);
  t.match(err.details, /parse error/);
  const empty = await callError(client, 'Query', { expr: '', time_ms: T0 });
  t.equal(empty.code, grpc.status.INVALID_ARGUMENT);
});

t.test('Series lists the union of every selector\'s series, sorted', async (t) => {
  const { client } = await serve(t);
  const res = await call<{ series: WireSeries[] }>(client, 'Series', { match: ['llm_tokens_total{agent=~"p.*"}', 'up', 'llm_tokens_total'], start_ms: 0, end_ms: 0 });
  t.same(res.series.map((s) => s.labels), [
    { __name__: 'llm_tokens_total', agent: 'coder', type: 'prompt' },
    { __name__: 'llm_tokens_total', agent: 'planner', type: 'prompt' },
    { __name__: 'up', job: 'api' },
  ]);
  t.ok(res.series.every((s) => s.samples.length === 0), 'label sets only');
  const later = await call<{ series: WireSeries[] }>(client, 'Series', { match: ['up'], start_ms: T0 + 10_000_000, end_ms: T0 + 20_000_000 });
  t.same(later.series, [], 'the time range applies');
  t.equal((await callError(client, 'Series', { match: [] })).code, grpc.status.INVALID_ARGUMENT, 'a selector is required');
  t.equal((await callError(client, 'Series', { match: ['up{'] })).code, grpc.status.INVALID_ARGUMENT, 'a broken selector is refused');
  t.equal((await callError(client, 'Series', { match: ['{job=""}'] })).code, grpc.status.INVALID_ARGUMENT, 'a selector matching everything is refused');
});

t.test('LabelValues lists distinct values, optionally restricted by selectors', async (t) => {
  const { client } = await serve(t);
  t.same((await call<{ values: string[] }>(client, 'LabelValues', { name: '__name__' })).values, ['llm_tokens_total', 'up']);
  t.same((await call<{ values: string[] }>(client, 'LabelValues', { name: 'agent', match: ['llm_tokens_total{agent!="coder"}'] })).values, ['planner']);
  t.equal((await callError(client, 'LabelValues', { name: 'bad-name' })).code, grpc.status.INVALID_ARGUMENT);
});

t.test('Costs answers UNIMPLEMENTED without analytics, and the analytics figures with them', async (t) => {
  const plain = await serve(t);
  t.equal((await callError(plain.client, 'Costs', { period: '30d' })).code, grpc.status.UNIMPLEMENTED);
  const seen: unknown[] = [];
  const { client } = await serve(t, {
    costs: async (req, tenant) => {
      seen.push({ ...req, tenant });
      if (req.period === 'bogus') throw new QueryError('bad_data', 'invalid period "bogus"');
      return {
        currency: 'USD',
        total_cost_usd: 12.5,
        groups: [{ labels: { agent: 'planner' }, cost_usd: 12.5, input_tokens: 1000, output_tokens: 200, calls: 7, trend: [{ timestamp_ms: T0, value: 12.5 }], cache_read_tokens: 300, unpriced_tokens: 40, forecast_cost_usd: 31 }],
      };
    },
  });
  const res = await call<{ currency: string; total_cost_usd: number; groups: Array<Record<string, unknown>> }>(client, 'Costs', { from_ms: T0, to_ms: T0 + 86_400_000, group_by: ['agent'], step_ms: 86_400_000 });
  t.equal(res.currency, 'USD');
  t.equal(res.total_cost_usd, 12.5);
  t.same(res.groups[0], {
    labels: { agent: 'planner' }, cost_usd: 12.5, input_tokens: 1000, output_tokens: 200, calls: 7, trend: [{ timestamp_ms: String(T0), value: 12.5 }],
    cache_read_tokens: 300, cache_write_tokens: 0, reasoning_tokens: 0, unpriced_tokens: 40, reported_cost_usd: 0, forecast_cost_usd: 31,
  }, 'every figure of the analytics group, unpriced tokens and forecast included');
  t.same(seen[0], { period: '', from_ms: T0, to_ms: T0 + 86_400_000, group_by: ['agent'], step_ms: 86_400_000, tenant: 'default' }, 'the request arrives with numeric times');
  t.equal((await callError(client, 'Costs', { period: 'bogus' })).code, grpc.status.INVALID_ARGUMENT);
});

t.test('auth: no token is UNAUTHENTICATED, a token without the query scope PERMISSION_DENIED, a tenant token reads its tenant', async (t) => {
  const tokens: Record<string, { tenant?: string; scopes: string[] }> = {
    'q-token': { scopes: ['query'] },
    'ingest-token': { scopes: ['ingest'] },
    'acme-token': { tenant: 'acme', scopes: ['query'] },
  };
  const { client } = await serve(t, {
    auth: (md) => {
      const h = String(md.get('authorization')[0] ?? '');
      const who = tokens[h.replace(/^Bearer /, '')];
      return who ?? new Error('missing or invalid bearer token');
    },
  });
  const md = (tok: string) => {
    const m = new grpc.Metadata();
    m.set('authorization', `Bearer ${tok}`);
    return m;
  };
  const req = { expr: 'llm_tokens_total', time_ms: T0 + 50_000 };
  t.equal((await callError(client, 'Query', req)).code, grpc.status.UNAUTHENTICATED);
  t.equal((await callError(client, 'Query', req, md('wrong'))).code, grpc.status.UNAUTHENTICATED);
  t.equal((await callError(client, 'Query', req, md('ingest-token'))).code, grpc.status.PERMISSION_DENIED);
  const mine = await call<{ series: WireSeries[] }>(client, 'Query', req, md('q-token'));
  t.same(mine.series.map((s) => s.labels.agent).sort(), ['coder', 'planner']);
  const acme = await call<{ series: WireSeries[] }>(client, 'Query', req, md('acme-token'));
  t.same(acme.series.map((s) => s.labels.agent), ['acme-bot'], 'a tenant token sees only its tenant');
  const acmeValues = await call<{ values: string[] }>(client, 'LabelValues', { name: 'agent' }, md('acme-token'));
  t.same(acmeValues.values, ['acme-bot']);
  const watch = (client.WatchAlerts as (req: object, md: grpc.Metadata) => grpc.ClientReadableStream<unknown>)({}, new grpc.Metadata());
  watch.on('error', () => undefined);
  const st = await new Promise<grpc.StatusObject>((resolve) => watch.once('status', resolve));
  t.equal(st.code, grpc.status.UNAUTHENTICATED, 'an alert watch needs a token too');
});

t.test('the client deadline bounds the query and a passed timeout is DEADLINE_EXCEEDED', async (t) => {
  const engine = createEngine();
  const deadlines: number[] = [];
  // A pass-through that records what the real engine was asked to honour.
  const recording: QueryEngine = {
    parseCheck: (e) => engine.parseCheck(e),
    instant: (q, tenant, e, ts, o?: QueryOptions) => {
      deadlines.push(o?.deadlineMs ?? Infinity);
      return engine.instant(q, tenant, e, ts, o);
    },
    range: (q, tenant, e, s, en, st, o?: QueryOptions) => {
      deadlines.push(o?.deadlineMs ?? Infinity);
      return engine.range(q, tenant, e, s, en, st, o);
    },
  };
  const { client } = await serve(t, { queries: new InlineRunner(() => fixture(), { engine: recording }), queryTimeoutMs: 60_000 });
  const clientDeadline = Date.now() + 5_000;
  await call(client, 'Query', { expr: 'up', time_ms: T0 }, new grpc.Metadata(), { deadline: clientDeadline });
  t.ok(deadlines[0]! <= clientDeadline + 5 && deadlines[0]! > Date.now(), `engine deadline ${deadlines[0]! - Date.now()} ms ahead is the client's 5 s, not the 60 s timeout`);

  // A querier slower than the server's query timeout: the engine gives up with a timeout.
  const slow = fixture();
  const select = slow.select.bind(slow);
  slow.select = (...a) => {
    const until = Date.now() + 80;
    while (Date.now() < until);
    return select(...a);
  };
  const timed = await serve(t, { queryTimeoutMs: 20 }, slow);
  const err = await callError(timed.client, 'QueryRange', { expr: 'sum(llm_tokens_total) + sum(up) + sum(llm_tokens_total)', start_ms: T0, end_ms: T0 + 600_000, step_ms: 1_000 });
  t.equal(err.code, grpc.status.DEADLINE_EXCEEDED, err.details);
});

/** reflectionAsk opens a reflection client on `port`; each ask is one request on its own stream. */
function reflectionAsk(t: Test, port: number): (req: object, md?: grpc.Metadata) => Promise<Record<string, any>> {
  const reflProto = join(dirname(createRequire(import.meta.url).resolve('@grpc/reflection')), '../proto/grpc/reflection/v1/reflection.proto');
  const def = protoLoader.loadSync(reflProto, { keepCase: true, defaults: true, oneofs: true });
  const Refl = (grpc.loadPackageDefinition(def) as unknown as { grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } } }).grpc.reflection.v1.ServerReflection;
  const rc = new Refl(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & { ServerReflectionInfo: (md?: grpc.Metadata) => grpc.ClientDuplexStream<object, Record<string, any>> };
  t.teardown(() => rc.close());
  return (req, md = new grpc.Metadata()) =>
    new Promise<Record<string, any>>((resolve, reject) => {
      const s = rc.ServerReflectionInfo(md);
      s.once('data', (d) => {
        resolve(d);
        s.end();
      });
      s.once('error', reject);
      s.write(req);
    });
}

t.test('server reflection lists tallyd.v1.QueryService and serves its descriptor', async (t) => {
  const { port } = await serve(t);
  const ask = reflectionAsk(t, port);
  const list = await ask({ list_services: '' });
  t.ok(list.list_services_response.service.some((s: { name: string }) => s.name === 'tallyd.v1.QueryService'), 'listed');
  const file = await ask({ file_containing_symbol: 'tallyd.v1.QueryService' });
  t.ok(file.file_descriptor_response.file_descriptor_proto.length > 0, 'descriptor served');
});

t.test('with auth, server reflection asks for a query token like the query API', async (t) => {
  const tokens: Record<string, { scopes: string[] }> = { 'q-token': { scopes: ['query'] }, 'ingest-token': { scopes: ['ingest'] } };
  const { port } = await serve(t, {
    auth: (md) => tokens[String(md.get('authorization')[0] ?? '').replace(/^Bearer /, '')] ?? new Error('missing or invalid bearer token'),
  });
  const ask = reflectionAsk(t, port);
  const md = (tok: string) => {
    const m = new grpc.Metadata();
    m.set('authorization', `Bearer ${tok}`);
    return m;
  };
  const code = (p: Promise<unknown>) => p.then(() => 'answered', (e: grpc.ServiceError) => e.code);
  t.equal(await code(ask({ list_services: '' })), grpc.status.UNAUTHENTICATED, 'no token');
  t.equal(await code(ask({ list_services: '' }, md('wrong'))), grpc.status.UNAUTHENTICATED, 'wrong token');
  t.equal(await code(ask({ list_services: '' }, md('ingest-token'))), grpc.status.PERMISSION_DENIED, 'no query scope');
  const list = await ask({ list_services: '' }, md('q-token'));
  t.ok(list.list_services_response.service.some((s: { name: string }) => s.name === 'tallyd.v1.QueryService'), 'a query token lists the services');
});

t.test('WatchAlerts streams each state change of the caller\'s tenant and ends cleanly on cancel', async (t) => {
  const alerts = new EventEmitter();
  const { client } = await serve(t, { alertEvents: alerts });
  const stream = (client.WatchAlerts as (req: object) => grpc.ClientReadableStream<Record<string, unknown>>)({});
  await new Promise<void>((resolve) => stream.once('metadata', () => resolve()));
  t.equal(alerts.listenerCount('alert'), 1, 'the watch is subscribed');
  const got: Array<Record<string, unknown>> = [];
  const two = new Promise<void>((resolve) => stream.on('data', (d) => { got.push(d); if (got.length === 2) resolve(); }));
  const base = { alertname: 'HighCost', annotations: { summary: 'cost is high' }, value: 12.5, activeAtMs: T0 };
  alerts.emit('alert', { ...base, state: 'pending', labels: [{ name: 'agent', value: 'planner' }], eventMs: T0 });
  alerts.emit('alert', { ...base, state: 'firing', labels: { agent: 'x' }, eventMs: T0 + 1, tenant: 'acme' });
  alerts.emit('alert', { ...base, state: 'firing', labels: { agent: 'planner' }, eventMs: T0 + 60_000 });
  await two;
  t.same(got.map((e) => [e.state, e.event_ms, e.labels]), [['pending', String(T0), { agent: 'planner' }], ['firing', String(T0 + 60_000), { agent: 'planner' }]], 'other tenants\' events are not shown');
  t.same(got[0], { alertname: 'HighCost', state: 'pending', labels: { agent: 'planner' }, annotations: { summary: 'cost is high' }, value: 12.5, active_at_ms: String(T0), event_ms: String(T0) });
  const ended = new Promise<grpc.StatusObject>((resolve) => stream.once('status', resolve));
  stream.on('error', () => undefined);
  stream.cancel();
  t.equal((await ended).code, grpc.status.CANCELLED);
  for (let i = 0; i < 50 && alerts.listenerCount('alert') > 0; i++) await new Promise((r) => setTimeout(r, 10));
  t.equal(alerts.listenerCount('alert'), 0, 'the server unsubscribed');
});

t.test('closing the server ends open alert streams with OK', async (t) => {
  const alerts = new EventEmitter();
  const srv = await serve(t, { alertEvents: alerts });
  const stream = (srv.client.WatchAlerts as (req: object) => grpc.ClientReadableStream<unknown>)({});
  await new Promise<void>((resolve) => stream.once('metadata', () => resolve()));
  const status = new Promise<grpc.StatusObject>((resolve) => stream.once('status', resolve));
  stream.on('data', () => undefined);
  await srv.close();
  t.equal((await status).code, grpc.status.OK);
  t.equal(alerts.listenerCount('alert'), 0);
});

t.test('queries go through the query runner: a full queue is RESOURCE_EXHAUSTED, a cancelled call aborts its job', async (t) => {
  const signals: AbortSignal[] = [];
  let mode: 'full' | 'hang' = 'full';
  const runner: QueryRunner = {
    run: ((_kind: string, _params: unknown, opts: JobOptions) => {
      if (mode === 'full') return Promise.reject(new QueryError('unavailable', 'too many queries waiting (limits.query_queue is 1); try again later'));
      signals.push(opts.signal!);
      return new Promise((_resolve, reject) => opts.signal!.addEventListener('abort', () => reject(new QueryError('canceled', 'gone'))));
    }) as QueryRunner['run'],
    runKind: () => Promise.reject(new Error('unused')),
  };
  const { client } = await serve(t, { queries: runner });
  const full = await callError(client, 'Query', { expr: 'up', time_ms: T0 });
  t.equal(full.code, grpc.status.RESOURCE_EXHAUSTED, full.details);

  mode = 'hang';
  const pending = (client.Query as (req: object, md: grpc.Metadata, cb: (err: grpc.ServiceError | null) => void) => grpc.ClientUnaryCall)(
    { expr: 'up', time_ms: T0 }, new grpc.Metadata(), () => undefined);
  for (let i = 0; i < 50 && signals.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  t.equal(signals.length, 1, 'the job started');
  t.notOk(signals[0]!.aborted);
  pending.cancel();
  for (let i = 0; i < 50 && !signals[0]!.aborted; i++) await new Promise((r) => setTimeout(r, 20));
  t.ok(signals[0]!.aborted, 'cancelling the call aborts the job');
});
