import t from 'tap';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { WriteRequest, ReadRequest } from '../support/prompb.js';
import { otlpGrpcClient } from '../support/otlp-grpc-client.js';
import { sendStatsdTcp, startDaemon, type Daemon } from './daemon.js';
import { TraceRequest, metricsRequest, nanos } from '../ingest/otlp/build.js';

const snappy = createRequire(import.meta.url)('snappyjs') as { compress(b: Uint8Array): Uint8Array; uncompress(b: Uint8Array): Uint8Array };
const PROTO = new URL('../../../proto/tallyd/v1/query.proto', import.meta.url).pathname;
const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(PROTO, { keepCase: true, longs: Number, defaults: true })) as unknown as {
  tallyd: { v1: { QueryService: grpc.ServiceClientConstructor } };
};
type Client = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

// Tenant a's data is named alpha*, tenant b's bravo*: any answer that mentions "alpha" shows tenant a's data.
const TOKENS = {
  ingestA: 'tok-ingest-a', queryA: 'tok-query-a', ingestB: 'tok-ingest-b', queryB: 'tok-query-b',
  queryDefault: 'tok-query-default', admin: 'tok-admin',
};
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const CONFIG = `
auth:
  tokens:
    - {token: ${TOKENS.ingestA}, scopes: [ingest], tenant: a}
    - {token: ${TOKENS.queryA}, scopes: [query], tenant: a}
    - {token: ${TOKENS.ingestB}, scopes: [ingest], tenant: b}
    - {token_sha256: ${sha(TOKENS.queryB)}, scopes: [query], tenant: b}
    - {token: ${TOKENS.queryDefault}, scopes: [query]}
    - {token_sha256: ${sha(TOKENS.admin)}, scopes: [admin]}
`;
const RULES = `groups:
  - name: defaultgroup
    interval: 1s
    rules:
      - alert: AlwaysOn
        expr: vector(1)
`;



function writeBody(name: string, label: string, value: string): Buffer {
  const msg = WriteRequest.fromObject({ timeseries: [{ labels: [{ name: '__name__', value: name }, { name: label, value }], samples: [{ value: 1, timestamp: Date.now() }] }] });
  return Buffer.from(snappy.compress(WriteRequest.encode(msg).finish()));
}

function readBody(): Buffer {
  const now = Date.now();
  const msg = ReadRequest.fromObject({ queries: [{ startTimestampMs: now - 3_600_000, endTimestampMs: now + 60_000, matchers: [{ type: 2, name: '__name__', value: '.+_metric|.+_otlp.*' }] }] });
  return Buffer.from(snappy.compress(ReadRequest.encode(msg).finish()));
}

function otlpJson(name: string): string {
  return JSON.stringify({
    resourceMetrics: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
      scopeMetrics: [{ metrics: [{ name, gauge: { dataPoints: [{ asDouble: 3, timeUnixNano: nanos(Date.now()) }] } }] }],
    }],
  });
}

interface Answer { status: number; text: string; headers?: Headers }

async function http(d: Daemon, method: string, path: string, token: string | null, extra: { body?: BodyInit | Buffer; headers?: Record<string, string>; base?: string } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...extra.headers };
  if (token !== null) headers['authorization'] = `Bearer ${token}`;
  const r = await fetch(`${extra.base ?? d.url}${path}`, { method, headers, body: extra.body as BodyInit | undefined });
  const buf = Buffer.from(await r.arrayBuffer());
  let text = buf.toString('utf8');
  if (path === '/api/v1/read' && r.status === 200) text = Buffer.from(snappy.uncompress(buf)).toString('latin1');
  return { status: r.status, text, headers: r.headers };
}

function grpcCall(client: Client, method: string, req: unknown, token: string | null, org?: string): Promise<{ code: number; text: string }> {
  const md = new grpc.Metadata();
  if (token !== null) md.set('authorization', `Bearer ${token}`);
  if (org !== undefined) md.set('x-scope-orgid', org);
  return new Promise((resolve) => {
    client[method]!(req, md, (err: grpc.ServiceError | null, res: unknown) => resolve(err ? { code: err.code, text: err.details } : { code: 0, text: JSON.stringify(res) }));
  });
}

const SELECTOR = '{__name__=~"alpha_metric|bravo_metric|default_metric"}';

t.test('every endpoint x {no token, wrong token, wrong scope, other tenant, right tenant}', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tallyd-auth-'));
  writeFileSync(join(dir, 'tallyd.yml'), CONFIG);
  writeFileSync(join(dir, 'rules.yml'), RULES);
  const d = await startDaemon({ args: ['--config', join(dir, 'tallyd.yml'), '--rules', join(dir, 'rules.yml')] });
  t.teardown(() => d.stop());
  const q = new pkg.tallyd.v1.QueryService(`127.0.0.1:${d.ports.grpc}`, grpc.credentials.createInsecure()) as unknown as Client;
  const otlpG = otlpGrpcClient(`127.0.0.1:${d.ports.otlpGrpc}`) as unknown as Client;
  t.teardown(() => { q.close(); otlpG.close(); });
  const otlpBase = `http://127.0.0.1:${d.ports.otlpHttp}`;

  // Ingest, each path with its rightful token: remote write and OTLP/HTTP into a, OTLP/gRPC into b.
  const rwA = await http(d, 'POST', '/api/v1/write', TOKENS.ingestA, { body: writeBody('alpha_metric', 'alpha_label', 'alpha-value'), headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' } });
  t.equal(rwA.status, 204, `remote write, right tenant: ${rwA.text}`);
  const rwB = await http(d, 'POST', '/api/v1/write', TOKENS.ingestB, { body: writeBody('bravo_metric', 'bravo_label', 'bravo-value'), headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' } });
  t.equal(rwB.status, 204);
  const otA = await http(d, 'POST', '/v1/metrics', TOKENS.ingestA, { base: otlpBase, body: otlpJson('alpha_otlp'), headers: { 'content-type': 'application/json' } });
  t.equal(otA.status, 200, `OTLP/HTTP, right tenant: ${otA.text}`);
  const otB = await grpcCall(otlpG, 'Export', Buffer.from(metricsRequest([{ name: 'bravo_otlp', gauge: { dataPoints: [{ asDouble: 1, timeUnixNano: nanos(Date.now()) }] } }])), TOKENS.ingestB);
  t.equal(otB.code, 0, `OTLP/gRPC, right tenant: ${otB.text}`);
  const rwDefault = await http(d, 'POST', '/api/v1/write', TOKENS.admin, { body: writeBody('default_metric', 'default_label', 'default-value'), headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' } });
  t.equal(rwDefault.status, 204, 'admin writes into its own (default) tenant');
  const flush = await http(d, 'POST', '/api/v1/admin/flush', TOKENS.admin);
  t.equal(flush.status, 200, 'admin flush');

  // Ingest refusals: none of these may land anywhere.
  for (const [what, token, headers, want] of [
    ['no token', null, {}, 401], ['wrong token', 'nope', {}, 401], ['wrong scope', TOKENS.queryA, {}, 403],
    ['other tenant via X-Scope-OrgID', TOKENS.ingestA, { 'x-scope-orgid': 'b' }, 403],
  ] as const) {
    const rw = await http(d, 'POST', '/api/v1/write', token, { body: writeBody('evil_metric', 'evil', 'x'), headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy', ...headers } });
    t.equal(rw.status, want, `remote write, ${what}`);
    if (want === 401) t.match(rw.headers!.get('www-authenticate') ?? '', /^Bearer/, 'WWW-Authenticate: Bearer');
    const ot = await http(d, 'POST', '/v1/metrics', token, { base: otlpBase, body: otlpJson('evil_otlp'), headers: { 'content-type': 'application/json', ...headers } });
    t.equal(ot.status, want, `OTLP/HTTP, ${what}`);
    const og = await grpcCall(otlpG, 'Export', Buffer.from(metricsRequest([{ name: 'evil_otlp', gauge: { dataPoints: [{ asDouble: 1, timeUnixNano: nanos(Date.now()) }] } }])), token, (headers as Record<string, string>)['x-scope-orgid']);
    t.equal(og.code, want === 401 ? grpc.status.UNAUTHENTICATED : grpc.status.PERMISSION_DENIED, `OTLP/gRPC, ${what}`);
  }

  // Query endpoints: each answer of tenant a mentions alpha and never bravo, and the reverse for b.
  const now = Math.floor(Date.now() / 1000);
  const sel = encodeURIComponent(SELECTOR);
  const queryEndpoints: Array<[string, (token: string | null, headers?: Record<string, string>) => Promise<Answer>]> = [
    ['GET /api/v1/query', (k, h) => http(d, 'GET', `/api/v1/query?query=${sel}`, k, { headers: h })],
    ['POST /api/v1/query_range', (k, h) => http(d, 'POST', '/api/v1/query_range', k, { headers: { 'content-type': 'application/x-www-form-urlencoded', ...h }, body: new URLSearchParams({ query: SELECTOR, start: String(now - 300), end: String(now + 60), step: '15' }).toString() })],
    ['GET /api/v1/series', (k, h) => http(d, 'GET', `/api/v1/series?match[]=${sel}`, k, { headers: h })],
    ['GET /api/v1/labels', (k, h) => http(d, 'GET', '/api/v1/labels', k, { headers: h })],
    ['GET /api/v1/label/__name__/values', (k, h) => http(d, 'GET', '/api/v1/label/__name__/values', k, { headers: h })],
    ['POST /api/v1/read', (k, h) => http(d, 'POST', '/api/v1/read', k, { body: readBody(), headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy', ...h } })],
    ['GET /metrics', (k, h) => http(d, 'GET', '/metrics', k, { headers: h })],
  ];
  for (const [name, call] of queryEndpoints) {
    const none = await call(null);
    t.equal(none.status, 401, `${name}: no token`);
    t.notMatch(none.text, /alpha|bravo/, `${name}: no data without a token`);
    t.equal((await call('wrong-token')).status, 401, `${name}: wrong token`);
    t.equal((await call(TOKENS.ingestA)).status, 403, `${name}: wrong scope`);
    t.equal((await call(TOKENS.queryA, { 'x-scope-orgid': 'b' })).status, 403, `${name}: a token naming another tenant`);
    const a = await call(TOKENS.queryA);
    t.equal(a.status, 200, `${name}: right tenant`);
    t.match(a.text, /alpha/, `${name}: control, tenant a sees its data`);
    t.notMatch(a.text, /bravo|default_metric/, `${name}: tenant a sees no other tenant's data`);
    const b = await call(TOKENS.queryB);
    t.equal(b.status, 200, `${name}: other tenant`);
    t.match(b.text, /bravo/, `${name}: control, tenant b sees its data`);
    t.notMatch(b.text, /alpha|default_metric/, `${name}: tenant b does not see tenant a`);
    const adminA = await call(TOKENS.admin, { 'x-scope-orgid': 'a' });
    t.equal(adminA.status, 200, `${name}: admin picks tenant a`);
    t.match(adminA.text, /alpha/, `${name}: admin with X-Scope-OrgID a sees a`);
    t.notMatch(adminA.text, /bravo/, `${name}: ... and not b`);
  }
  // Self metrics are process-wide: the default tenant and admins see them, other tenants do not.
  t.match((await http(d, 'GET', '/metrics', TOKENS.queryDefault)).text, /tallyd_/, '/metrics: default tenant sees tallyd_*');
  t.notMatch((await http(d, 'GET', '/metrics', TOKENS.queryA)).text, /tallyd_/, '/metrics: tenant a does not see tallyd_*');

  // Metadata carries metric names; OTLP wrote metadata into a (alpha_otlp) and b (bravo_otlp).
  const metaA = await http(d, 'GET', '/api/v1/metadata', TOKENS.queryA);
  t.equal(metaA.status, 200);
  t.match(metaA.text, /alpha_otlp/, 'metadata: control, a sees its metric');
  t.notMatch(metaA.text, /bravo/, 'metadata: a does not see b');
  t.equal((await http(d, 'GET', '/api/v1/metadata', null)).status, 401, 'metadata: no token');
  t.equal((await http(d, 'GET', '/api/v1/metadata', TOKENS.ingestB)).status, 403, 'metadata: wrong scope');
  const otlpA = await http(d, 'GET', `/api/v1/query?query=${encodeURIComponent('{__name__=~".+_otlp"}')}`, TOKENS.queryA);
  t.match(otlpA.text, /alpha_otlp/, 'OTLP/HTTP wrote into tenant a');
  t.notMatch(otlpA.text, /bravo_otlp|evil/, 'nothing refused was written');

  // Rules evaluate in the default tenant: only its callers see them.
  const deadline = Date.now() + 10_000;
  let alerts: Answer;
  do {
    alerts = await http(d, 'GET', '/api/v1/alerts', TOKENS.queryDefault);
    if (/AlwaysOn/.test(alerts.text)) break;
    await new Promise((r) => setTimeout(r, 200));
  } while (Date.now() < deadline);
  t.match(alerts.text, /AlwaysOn/, 'alerts: control, default tenant sees its alert');
  t.notMatch((await http(d, 'GET', '/api/v1/alerts', TOKENS.queryA)).text, /AlwaysOn/, 'alerts: tenant a does not');
  t.match((await http(d, 'GET', '/api/v1/rules', TOKENS.queryDefault)).text, /defaultgroup/, 'rules: control');
  t.notMatch((await http(d, 'GET', '/api/v1/rules', TOKENS.queryA)).text, /defaultgroup/, 'rules: tenant a sees none');
  for (const p of ['/api/v1/rules', '/api/v1/alerts']) {
    t.equal((await http(d, 'GET', p, null)).status, 401, `${p}: no token`);
    t.equal((await http(d, 'GET', p, 'bad')).status, 401, `${p}: wrong token`);
    t.equal((await http(d, 'GET', p, TOKENS.ingestA)).status, 403, `${p}: wrong scope`);
  }

  // Admin endpoints: only admin tokens.
  for (const [method, p] of [['POST', '/api/v1/admin/flush'], ['POST', '/api/v1/admin/compact'], ['GET', '/api/v1/status/tsdb'], ['POST', '/-/reload']] as const) {
    t.equal((await http(d, method, p, null)).status, 401, `${p}: no token`);
    t.equal((await http(d, method, p, 'bad')).status, 401, `${p}: wrong token`);
    t.equal((await http(d, method, p, TOKENS.queryA)).status, 403, `${p}: query token`);
    t.equal((await http(d, method, p, TOKENS.ingestA)).status, 403, `${p}: ingest token`);
    t.equal((await http(d, method, p, TOKENS.admin)).status, 200, `${p}: admin (control)`);
  }
  // Health stays open.
  t.equal((await http(d, 'GET', '/health/ready', null)).status, 200, '/health/ready needs no token');
  t.equal((await http(d, 'GET', '/health/live', null)).status, 200, '/health/live needs no token');

  // gRPC query API.
  for (const [method, req] of [
    ['Query', { expr: SELECTOR, time_ms: 0 }],
    ['QueryRange', { expr: SELECTOR, start_ms: (now - 300) * 1000, end_ms: (now + 60) * 1000, step_ms: 15_000 }],
    ['Series', { match: [SELECTOR] }],
    ['LabelValues', { name: '__name__', match: [] }],
  ] as const) {
    t.equal((await grpcCall(q, method, req, null)).code, grpc.status.UNAUTHENTICATED, `gRPC ${method}: no token`);
    t.equal((await grpcCall(q, method, req, 'bad')).code, grpc.status.UNAUTHENTICATED, `gRPC ${method}: wrong token`);
    t.equal((await grpcCall(q, method, req, TOKENS.ingestA)).code, grpc.status.PERMISSION_DENIED, `gRPC ${method}: wrong scope`);
    t.equal((await grpcCall(q, method, req, TOKENS.queryA, 'b')).code, grpc.status.PERMISSION_DENIED, `gRPC ${method}: naming another tenant`);
    const a = await grpcCall(q, method, req, TOKENS.queryA);
    t.equal(a.code, 0, `gRPC ${method}: right tenant`);
    t.match(a.text, /alpha/, `gRPC ${method}: control`);
    t.notMatch(a.text, /bravo|default_metric/, `gRPC ${method}: isolation`);
    const b = await grpcCall(q, method, req, TOKENS.queryB);
    t.match(b.text, /bravo/, `gRPC ${method}: b sees b`);
    t.notMatch(b.text, /alpha/, `gRPC ${method}: b does not see a`);
  }
});

/** tokenSum is OTLP/JSON for one delta token counter point of an agent (priced by the built-in table). */
function tokenSum(agent: string, tokens: number): Record<string, unknown> {
  return {
    name: 'llm_provider_tokens',
    sum: { aggregationTemporality: 1, isMonotonic: true, dataPoints: [{ asInt: String(tokens), startTimeUnixNano: nanos(Date.now() - 1000), timeUnixNano: nanos(Date.now()), attributes: [
      { key: 'provider', value: { stringValue: 'openai' } }, { key: 'model', value: { stringValue: 'gpt-4o' } },
      { key: 'type', value: { stringValue: 'prompt' } }, { key: 'agent_id', value: { stringValue: agent } },
    ] }] },
  };
}

function traceJson(service: string): string {
  const id = (n: number) => Buffer.alloc(n, 7).toString('hex');
  return JSON.stringify({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] }, scopeSpans: [{ spans: [
    { traceId: id(16), spanId: id(8), name: `${service}-op`, kind: 2, startTimeUnixNano: nanos(Date.now() - 50), endTimeUnixNano: nanos(Date.now()), status: {} },
  ] }] }] });
}

t.test('analytics, traces, gRPC Costs and WatchAlerts x {no token, wrong token, wrong scope, other tenant, right tenant}', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tallyd-auth-'));
  writeFileSync(join(dir, 'tallyd.yml'), CONFIG);
  const d = await startDaemon({ args: ['--config', join(dir, 'tallyd.yml')] });
  t.teardown(() => d.stop());
  const q = new pkg.tallyd.v1.QueryService(`127.0.0.1:${d.ports.grpc}`, grpc.credentials.createInsecure()) as unknown as Client;
  const otlpBase = `http://127.0.0.1:${d.ports.otlpHttp}`;
  const json = { 'content-type': 'application/json' };
  const metrics = (m: Record<string, unknown>) => JSON.stringify({ resourceMetrics: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] }, scopeMetrics: [{ metrics: [m] }] }] });

  // Token usage: alpha-agent in tenant a (2M tokens), bravo-agent in tenant b (1M tokens).
  t.equal((await http(d, 'POST', '/v1/metrics', TOKENS.ingestA, { base: otlpBase, body: metrics(tokenSum('alpha-agent', 2_000_000)), headers: json })).status, 200);
  t.equal((await http(d, 'POST', '/v1/metrics', TOKENS.ingestB, { base: otlpBase, body: metrics(tokenSum('bravo-agent', 1_000_000)), headers: json })).status, 200);

  // Traces: the span metrics of each tenant's service land in that tenant only.
  const otlpG = otlpGrpcClient(`127.0.0.1:${d.ports.otlpGrpc}`) as unknown as Client;
  t.teardown(() => { q.close(); otlpG.close(); });
  const traceRpc = (token: string | null, org?: string) => new Promise<{ code: number }>((resolve) => {
    const md = new grpc.Metadata();
    if (token !== null) md.set('authorization', `Bearer ${token}`);
    if (org !== undefined) md.set('x-scope-orgid', org);
    const body = Buffer.from(TraceRequest.encode(TraceRequest.fromObject(JSON.parse(traceJson('bravosvc')))).finish());
    otlpG.makeUnaryRequest('/opentelemetry.proto.collector.trace.v1.TraceService/Export', (x: Buffer) => x, (x: Buffer) => x, body, md, (err: grpc.ServiceError | null) => resolve({ code: err ? err.code : 0 }));
  });
  for (const [what, token, headers, want] of [
    ['no token', null, {}, 401], ['wrong token', 'nope', {}, 401], ['wrong scope', TOKENS.queryA, {}, 403], ['other tenant', TOKENS.ingestA, { 'x-scope-orgid': 'b' }, 403],
  ] as const) {
    t.equal((await http(d, 'POST', '/v1/traces', token, { base: otlpBase, body: traceJson('evilsvc'), headers: { ...json, ...headers } })).status, want, `POST /v1/traces, ${what}`);
    t.equal((await traceRpc(token, (headers as Record<string, string>)['x-scope-orgid'])).code, want === 401 ? grpc.status.UNAUTHENTICATED : grpc.status.PERMISSION_DENIED, `TraceService/Export, ${what}`);
  }
  t.equal((await http(d, 'POST', '/v1/traces', TOKENS.ingestA, { base: otlpBase, body: traceJson('alphasvc'), headers: json })).status, 200, 'POST /v1/traces, right tenant');
  t.equal((await traceRpc(TOKENS.ingestB)).code, 0, 'TraceService/Export, right tenant');
  t.equal((await http(d, 'POST', '/api/v1/admin/flush', TOKENS.admin)).status, 200);
  const spans = `/api/v1/query?query=${encodeURIComponent('sum by (job) (traces_span_metrics_calls_total)')}`;
  const spansA = await http(d, 'GET', spans, TOKENS.queryA);
  t.match(spansA.text, /alphasvc/, 'span metrics: control, a sees its service');
  t.notMatch(spansA.text, /bravosvc|evilsvc/, 'span metrics: a sees neither b nor refused spans');
  const spansB = await http(d, 'GET', spans, TOKENS.queryB);
  t.match(spansB.text, /bravosvc/, 'span metrics: control, b sees its service');
  t.notMatch(spansB.text, /alphasvc/, 'span metrics: b does not see a');

  // Analytics, per tenant.
  const now = Math.floor(Date.now() / 1000);
  const range = `from=${now - 3600}&to=${now + 60}&group_by=agent`;
  for (const path of [`/api/v1/analytics/costs?${range}`, `/api/v1/analytics/usage?${range}`]) {
    const name = path.split('?')[0]!;
    t.equal((await http(d, 'GET', path, null)).status, 401, `${name}: no token`);
    t.equal((await http(d, 'GET', path, 'wrong-token')).status, 401, `${name}: wrong token`);
    t.equal((await http(d, 'GET', path, TOKENS.ingestA)).status, 403, `${name}: wrong scope`);
    t.equal((await http(d, 'GET', path, TOKENS.queryA, { headers: { 'x-scope-orgid': 'b' } })).status, 403, `${name}: naming another tenant`);
    const a = await http(d, 'GET', path, TOKENS.queryA);
    t.equal(a.status, 200, `${name}: right tenant`);
    t.match(a.text, /alpha-agent/, `${name}: control, a sees its agent`);
    t.notMatch(a.text, /bravo-agent/, `${name}: a does not see b's agent`);
    const b = await http(d, 'GET', path, TOKENS.queryB);
    t.match(b.text, /bravo-agent/, `${name}: control, b sees its agent`);
    t.notMatch(b.text, /alpha-agent/, `${name}: b does not see a's agent`);
    const adminB = await http(d, 'GET', path, TOKENS.admin, { headers: { 'x-scope-orgid': 'b' } });
    t.match(adminB.text, /bravo-agent/, `${name}: admin picks tenant b`);
    t.notMatch(adminB.text, /alpha-agent/, `${name}: ... and sees only b`);
  }
  const costsA = JSON.parse((await http(d, 'GET', `/api/v1/analytics/costs?${range}`, TOKENS.queryA)).text);
  t.equal(costsA.data.total_cost_usd, 5, 'tenant a pays for its own 2M input tokens only ($2.5 per M)');
  for (const [method, p] of [['POST', `/api/v1/admin/reprice?from=${now - 3600}&to=${now + 60}&dry_run=1`], ['GET', '/api/v1/admin/reprices']] as const) {
    t.equal((await http(d, method, p, null)).status, 401, `${p.split('?')[0]}: no token`);
    t.equal((await http(d, method, p, 'bad')).status, 401, `${p.split('?')[0]}: wrong token`);
    t.equal((await http(d, method, p, TOKENS.queryA)).status, 403, `${p.split('?')[0]}: query token`);
    t.equal((await http(d, method, p, TOKENS.admin, { headers: { 'x-scope-orgid': 'a' } })).status, 200, `${p.split('?')[0]}: admin (control)`);
  }

  // gRPC Costs.
  const creq = { period: '', from_ms: (now - 3600) * 1000, to_ms: (now + 60) * 1000, group_by: ['agent'], step_ms: 0 };
  t.equal((await grpcCall(q, 'Costs', creq, null)).code, grpc.status.UNAUTHENTICATED, 'gRPC Costs: no token');
  t.equal((await grpcCall(q, 'Costs', creq, 'bad')).code, grpc.status.UNAUTHENTICATED, 'gRPC Costs: wrong token');
  t.equal((await grpcCall(q, 'Costs', creq, TOKENS.ingestA)).code, grpc.status.PERMISSION_DENIED, 'gRPC Costs: wrong scope');
  t.equal((await grpcCall(q, 'Costs', creq, TOKENS.queryA, 'b')).code, grpc.status.PERMISSION_DENIED, 'gRPC Costs: naming another tenant');
  const ca = await grpcCall(q, 'Costs', creq, TOKENS.queryA);
  t.equal(ca.code, 0, `gRPC Costs: right tenant ${ca.text}`);
  t.match(ca.text, /alpha-agent/, 'gRPC Costs: control');
  t.notMatch(ca.text, /bravo-agent/, 'gRPC Costs: isolation');
  const cb = await grpcCall(q, 'Costs', creq, TOKENS.queryB);
  t.match(cb.text, /bravo-agent/, 'gRPC Costs: b sees b');
  t.notMatch(cb.text, /alpha-agent/, 'gRPC Costs: b does not see a');

  // gRPC WatchAlerts: a server stream, refused with the same codes.
  const watch = (token: string | null, org?: string) => new Promise<number>((resolve) => {
    const md = new grpc.Metadata();
    if (token !== null) md.set('authorization', `Bearer ${token}`);
    if (org !== undefined) md.set('x-scope-orgid', org);
    const call = (q as unknown as { WatchAlerts(req: unknown, md: grpc.Metadata): grpc.ClientReadableStream<unknown> }).WatchAlerts({}, md);
    call.on('error', (err: grpc.ServiceError) => resolve(err.code));
    call.on('metadata', () => { call.cancel(); resolve(0); });
  });
  t.equal(await watch(null), grpc.status.UNAUTHENTICATED, 'gRPC WatchAlerts: no token');
  t.equal(await watch('bad'), grpc.status.UNAUTHENTICATED, 'gRPC WatchAlerts: wrong token');
  t.equal(await watch(TOKENS.ingestA), grpc.status.PERMISSION_DENIED, 'gRPC WatchAlerts: wrong scope');
  t.equal(await watch(TOKENS.queryA, 'b'), grpc.status.PERMISSION_DENIED, 'gRPC WatchAlerts: naming another tenant');
  t.equal(await watch(TOKENS.queryA), 0, 'gRPC WatchAlerts: right tenant opens the stream');
});

t.test('with tokens, StatsD takes only statsd.allow sources and writes into statsd.tenant', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tallyd-auth-'));
  writeFileSync(join(dir, 'open.yml'), `${CONFIG}statsd:\n  tenant: a\n`);
  writeFileSync(join(dir, 'closed.yml'), `${CONFIG}statsd:\n  tenant: a\n  allow: [10.0.0.0/8]\n`);
  const [open, closed] = await Promise.all([
    startDaemon({ args: ['--config', join(dir, 'open.yml')] }),
    startDaemon({ args: ['--config', join(dir, 'closed.yml')] }),
  ]);
  t.teardown(() => Promise.all([open.stop(), closed.stop()]));
  const lines = ['alpha_statsd:7|c', 'alpha_statsd_g:3|g'];
  await Promise.all([sendStatsdTcp(open, lines), sendStatsdTcp(closed, lines)]);
  const deadline = Date.now() + 10_000;
  const received = async (d: Daemon) => {
    const text = (await http(d, 'GET', '/metrics', TOKENS.queryDefault)).text;
    const m = /^tallyd_statsd_lines_received_total (\S+)$/m.exec(text);
    return m ? Number(m[1]) : 0;
  };
  while (((await received(open)) < 2 || (await received(closed)) < 2) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  for (const d of [open, closed]) t.equal((await http(d, 'POST', '/api/v1/admin/flush', TOKENS.admin)).status, 200);

  // Default allow (loopback): the lines land in tenant a, and only there.
  const sel = `/api/v1/query?query=${encodeURIComponent('{__name__=~"alpha_statsd.*"}')}`;
  const a = await http(open, 'GET', sel, TOKENS.queryA);
  t.match(a.text, /alpha_statsd_total/, 'statsd.tenant a: tenant a sees the counter');
  t.match(a.text, /alpha_statsd_g/, '... and the gauge');
  t.notMatch((await http(open, 'GET', sel, TOKENS.queryB)).text, /alpha_statsd/, 'tenant b does not');
  t.notMatch((await http(open, 'GET', sel, TOKENS.queryDefault)).text, /alpha_statsd/, 'nor the default tenant');

  // statsd.allow without loopback: the lines are counted as denied and stored nowhere.
  const metrics = (await http(closed, 'GET', '/metrics', TOKENS.queryDefault)).text;
  t.match(metrics, /^tallyd_statsd_bad_lines_total\{reason="denied"\} 2$/m, 'both lines denied and counted');
  t.notMatch((await http(closed, 'GET', sel, TOKENS.queryA)).text, /alpha_statsd/, 'nothing stored from a denied source');
});

t.test('without tokens everything is open and in the default tenant', async (t) => {
  const d = await startDaemon();
  t.teardown(() => d.stop());
  const rw = await http(d, 'POST', '/api/v1/write', null, { body: writeBody('open_metric', 'l', 'v'), headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' } });
  t.equal(rw.status, 204);
  t.equal((await http(d, 'POST', '/api/v1/admin/flush', null)).status, 200);
  const r = await http(d, 'GET', '/api/v1/query?query=open_metric', null);
  t.equal(r.status, 200);
  t.match(r.text, /open_metric/);
  t.match((await http(d, 'GET', '/metrics', null)).text, /tallyd_/);
});
