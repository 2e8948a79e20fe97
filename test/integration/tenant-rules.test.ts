import t from 'tap';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { createRequire } from 'node:module';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { WriteRequest } from '../support/prompb.js';
import { startDaemon, type Daemon } from './daemon.js';

// Rule files per tenant (`tenant_rules`): each tenant's rules query its own series, write into it,
// keep their alert state across restarts, and are shown only to that tenant's callers.

const BIN = new URL('../../../bin/tallyd.js', import.meta.url).pathname;
const snappy = createRequire(import.meta.url)('snappyjs') as { compress(b: Uint8Array): Uint8Array };
const PROTO = new URL('../../../proto/tallyd/v1/query.proto', import.meta.url).pathname;
const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(PROTO, { keepCase: true, longs: Number, defaults: true })) as unknown as {
  tallyd: { v1: { QueryService: grpc.ServiceClientConstructor } };
};
const TOKENS = { ingestA: 'ti-a', queryA: 'tq-a', ingestB: 'ti-b', queryB: 'tq-b', queryDefault: 'tq-default', admin: 'tadmin' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Same recording rule name in both tenants: each must see only its own usage_total.
const rulesFor = (tenant: string, alert: string) => `groups:
  - name: group_${tenant}
    interval: 1s
    rules:
      - record: tenant:usage:sum
        expr: sum(usage_total)
${alert}`;
const RULES_A = rulesFor('a', `      - alert: UsageHighA
        expr: tenant:usage:sum > 5
        for: 10m
        labels: {who: a}
`);
const RULES_B = rulesFor('b', `      - alert: UsageSeenB
        expr: tenant:usage:sum > 0
        labels: {who: b}
`);
const RULES_DEFAULT = `groups:
  - name: group_default
    interval: 1s
    rules:
      - alert: DefaultAlways
        expr: vector(1)
`;

function writeBody(value: number): Buffer {
  const msg = WriteRequest.fromObject({ timeseries: [{ labels: [{ name: '__name__', value: 'usage_total' }, { name: 'svc', value: 'x' }], samples: [{ value, timestamp: Date.now() }] }] });
  return Buffer.from(snappy.compress(WriteRequest.encode(msg).finish()));
}

async function get(d: Daemon, path: string, token: string, org?: string): Promise<any> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (org !== undefined) headers['x-scope-orgid'] = org;
  const r = await fetch(`${d.url}${path}`, { headers });
  if (r.status !== 200) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return r.json();
}

const query = async (d: Daemon, expr: string, token: string) =>
  (await get(d, `/api/v1/query?query=${encodeURIComponent(expr)}`, token)).data.result as Array<{ metric: Record<string, string>; value: [number, string] }>;
const groupNames = async (d: Daemon, token: string, org?: string) =>
  ((await get(d, '/api/v1/rules', token, org)).data.groups as Array<{ name: string }>).map((g) => g.name);
const alertsOf = async (d: Daemon, token: string, org?: string) =>
  (await get(d, '/api/v1/alerts', token, org)).data.alerts as Array<{ labels: Record<string, string>; state: string; activeAt: string }>;

async function until<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  let v = await fn();
  while (!ok(v)) {
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(v)} after ${ms} ms`);
    await sleep(200);
    v = await fn();
  }
  return v;
}

t.test('tenant_rules: each tenant\'s rules run on its data, write into it, are shown to it only and keep pending state across a restart', async (t) => {
  const hooks: Array<{ headers: IncomingHttpHeaders; body: { alerts: Array<{ labels: Record<string, string> }> } }> = [];
  const hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      hooks.push({ headers: req.headers, body: JSON.parse(body) });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => hook.close());

  const dir = mkdtempSync(join(tmpdir(), 'tallyd-tenant-rules-'));
  const fA = join(dir, 'a.rules.yml'), fB = join(dir, 'b.rules.yml'), fD = join(dir, 'default.rules.yml');
  writeFileSync(fA, RULES_A);
  writeFileSync(fB, RULES_B);
  writeFileSync(fD, RULES_DEFAULT);
  const cfg = join(dir, 'tallyd.yml');
  writeFileSync(cfg, `
auth:
  tokens:
    - {token: ${TOKENS.ingestA}, scopes: [ingest], tenant: a}
    - {token: ${TOKENS.queryA}, scopes: [query], tenant: a}
    - {token: ${TOKENS.ingestB}, scopes: [ingest], tenant: b}
    - {token: ${TOKENS.queryB}, scopes: [query], tenant: b}
    - {token: ${TOKENS.queryDefault}, scopes: [query]}
    - {token: ${TOKENS.admin}, scopes: [admin]}
tenant_rules:
  a: [${fA}]
  b: ${join(dir, 'b.*.yml')}
notifiers:
  - type: webhook
    url: http://127.0.0.1:${(hook.address() as { port: number }).port}/hook
`);
  t.equal(spawnSync(process.execPath, [BIN, 'check-rules', fA, fB, fD], { encoding: 'utf8' }).status, 0, 'check-rules accepts the tenants\' files');

  const args = ['--config', cfg, '--rules', fD, '--flush-interval', '1s'];
  let d = await startDaemon({ args });
  t.teardown(() => d.stop());

  // Data: usage_total 7 in tenant a, 3 in tenant b, nothing in default.
  const write = async (token: string, v: number) => {
    const r = await fetch(`${d.url}/api/v1/write`, { method: 'POST', body: new Uint8Array(writeBody(v)), headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' } });
    t.equal(r.status, 204, `remote write: ${await r.text()}`);
  };
  await write(TOKENS.ingestA, 7);
  await write(TOKENS.ingestB, 3);

  // Recording rules: a's sees only a's data and writes into a; b likewise (the control).
  const recA = await until('a\'s recording rule', () => query(d, 'tenant:usage:sum', TOKENS.queryA), (r) => r.length > 0);
  t.equal(Number(recA[0]!.value[1]), 7, 'tenant a\'s recording rule summed a\'s series only (not 7 + 3)');
  const recB = await until('b\'s recording rule', () => query(d, 'tenant:usage:sum', TOKENS.queryB), (r) => r.length > 0);
  t.equal(Number(recB[0]!.value[1]), 3, 'tenant b\'s recording rule summed b\'s series only');
  t.same(await query(d, 'tenant:usage:sum', TOKENS.queryDefault), [], 'no recording output in the default tenant (no tenant rule wrote there)');

  // /api/v1/rules and /api/v1/alerts: a caller sees its own tenant's rules only.
  t.same(await groupNames(d, TOKENS.queryA), ['group_a'], 'a sees its rules');
  t.same(await groupNames(d, TOKENS.queryB), ['group_b'], 'b sees its rules, not a\'s');
  t.same(await groupNames(d, TOKENS.queryDefault), ['group_default'], 'default sees --rules');
  t.same(await groupNames(d, TOKENS.admin, 'a'), ['group_a'], 'admin picks a with X-Scope-OrgID');
  const pendingA = await until('a\'s pending alert', () => alertsOf(d, TOKENS.queryA), (a) => a.some((x) => x.labels['alertname'] === 'UsageHighA'));
  t.same(pendingA.map((a) => [a.labels['alertname'], a.state]), [['UsageHighA', 'pending']], 'a sees its pending alert only');
  const alertsB = await until('b\'s firing alert', () => alertsOf(d, TOKENS.queryB), (a) => a.some((x) => x.state === 'firing'));
  t.same(alertsB.map((a) => [a.labels['alertname'], a.state]), [['UsageSeenB', 'firing']], 'b sees its firing alert, not a\'s');
  t.notOk((await alertsOf(d, TOKENS.queryDefault)).some((a) => a.labels['who'] !== undefined), 'default sees no tenant alert');

  // ALERTS series land in the rule's tenant.
  const alertsSeriesB = await until('b\'s ALERTS', () => query(d, 'ALERTS', TOKENS.queryB), (r) => r.length > 0);
  t.same(alertsSeriesB.map((s) => s.metric['alertname']).sort(), ['UsageSeenB'], 'b\'s ALERTS hold only b\'s alert');
  const alertsSeriesA = await until('a\'s ALERTS', () => query(d, 'ALERTS', TOKENS.queryA), (r) => r.length > 0);
  t.same(alertsSeriesA.map((s) => s.metric['alertname']), ['UsageHighA'], 'a\'s ALERTS hold only a\'s alert');

  // Notifications: b's carry X-Scope-OrgID: b; the default tenant's carry none.
  await until('webhooks', async () => hooks.length, () => hooks.some((h) => h.body.alerts.some((a) => a.labels['alertname'] === 'UsageSeenB')) && hooks.some((h) => h.body.alerts.some((a) => a.labels['alertname'] === 'DefaultAlways')));
  for (const h of hooks) {
    const names = h.body.alerts.map((a) => a.labels['alertname']);
    if (names.includes('UsageSeenB')) t.equal(h.headers['x-scope-orgid'], 'b', 'b\'s notification names tenant b');
    if (names.includes('DefaultAlways')) t.equal(h.headers['x-scope-orgid'], undefined, 'the default tenant\'s notification has no tenant header');
    t.notOk(names.includes('DefaultAlways') && names.includes('UsageSeenB'), 'one tenant per notification');
  }

  // gRPC WatchAlerts: b's stream carries b's events only.
  const q = new pkg.tallyd.v1.QueryService(`127.0.0.1:${d.ports.grpc}`, grpc.credentials.createInsecure());
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${TOKENS.queryB}`);
  const call = (q as unknown as { WatchAlerts(req: unknown, md: grpc.Metadata): grpc.ClientReadableStream<{ alertname: string }> }).WatchAlerts({}, md);
  const seen: string[] = [];
  call.on('data', (ev: { alertname: string }) => seen.push(ev.alertname));
  call.on('error', () => undefined);
  // The server sends headers once it listens for events: only then can nothing be missed.
  await new Promise<void>((resolve) => call.once('metadata', () => resolve()));
  // A resolution in b, a new pending alert in a: b's stream must show only b's change.
  writeFileSync(fA, RULES_A + `      - alert: NewInA
        expr: vector(1)
        for: 10m
`);
  writeFileSync(fB, RULES_B.replace('tenant:usage:sum > 0', 'tenant:usage:sum > 100'));
  const reload = await fetch(`${d.url}/-/reload`, { method: 'POST', headers: { authorization: `Bearer ${TOKENS.admin}` } });
  t.equal(reload.status, 200, 'both tenants reloaded');
  await until('b\'s resolved event', async () => seen, (s) => s.includes('UsageSeenB'));
  await until('a\'s new alert', () => alertsOf(d, TOKENS.queryA), (a) => a.some((x) => x.labels['alertname'] === 'NewInA'));
  await sleep(1500);
  call.cancel();
  q.close();
  t.ok(seen.length > 0 && seen.every((n) => n === 'UsageSeenB'), `WatchAlerts for b saw b's events only: ${JSON.stringify(seen)}`);

  // A bad file in a: a keeps its last good rules, b takes its new ones.
  writeFileSync(fA, 'groups:\n  - name: broken\n    rules:\n      - record: x\n        expr: sum(\n');
  writeFileSync(fB, RULES_B.replace('group_b', 'group_b2'));
  const bad = await fetch(`${d.url}/-/reload`, { method: 'POST', headers: { authorization: `Bearer ${TOKENS.admin}` } });
  t.equal(bad.status, 500, 'reload answers 500 when a tenant\'s file is bad');
  t.match(((await bad.json()) as { errors: string[] }).errors.join('\n'), /^tenant a: .*a\.rules\.yml:5/m, 'the error names the tenant and the file line');
  t.same(await groupNames(d, TOKENS.queryA), ['group_a'], 'a keeps its last good rules');
  t.equal((await get(d, '/api/v1/rules', TOKENS.queryA)).data.lastReload?.success, false, 'a\'s /api/v1/rules says its reload failed');
  t.same(await groupNames(d, TOKENS.queryB), ['group_b2'], 'b took its new file');

  // SIGHUP reloads every tenant: a's fixed file is taken (NewInA gone, UsageHighA kept).
  writeFileSync(fA, RULES_A);
  d.proc.kill('SIGHUP');
  const ruleNames = async (token: string) => ((await get(d, '/api/v1/rules', token)).data.groups as Array<{ rules: Array<{ name: string }> }>).flatMap((g) => g.rules.map((r) => r.name));
  t.same(await until('SIGHUP reload of a', () => ruleNames(TOKENS.queryA), (n) => !n.includes('NewInA')), ['tenant:usage:sum', 'UsageHighA'], 'SIGHUP took a\'s fixed file');
  t.equal((await get(d, '/api/v1/rules', TOKENS.queryA)).data.lastReload?.success, true);

  // Restart: a's pending alert keeps its start time (state kept per tenant).
  const activeBefore = (await alertsOf(d, TOKENS.queryA)).find((a) => a.labels['alertname'] === 'UsageHighA')!.activeAt;
  t.equal(await d.stop(), 0, 'clean stop');
  d = await startDaemon({ args, dataDir: d.dataDir });
  const after = await until('a\'s alert after restart', () => alertsOf(d, TOKENS.queryA), (a) => a.some((x) => x.labels['alertname'] === 'UsageHighA'));
  const restored = after.find((a) => a.labels['alertname'] === 'UsageHighA')!;
  t.equal(restored.state, 'pending', 'still pending after the restart');
  t.equal(restored.activeAt, activeBefore, 'the pending `for` clock kept its start across the restart');
  t.notOk((await alertsOf(d, TOKENS.queryB)).some((a) => a.labels['alertname'] === 'UsageHighA'), 'a\'s restored alert is not b\'s');
});

t.test('tenant_rules is validated at start, naming the key', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tallyd-tenant-rules-cfg-'));
  const check = (yaml: string) => {
    const f = join(dir, `c${Math.random().toString(36).slice(2)}.yml`);
    writeFileSync(f, yaml);
    return spawnSync(process.execPath, [BIN, 'check-config', '--config', f], { encoding: 'utf8' });
  };
  const ok = check('tenant_rules:\n  team-a: [rules/a.yml]\n  team.b: rules/b/*.yml\n');
  t.equal(ok.status, 0, `two tenants, a list and a glob: ${ok.stderr}`);
  for (const [yaml, want] of [
    ['tenant_rules:\n  "../etc": [a.yml]\n', /config key tenant_rules\.\.\.\/etc/],
    ['tenant_rules:\n  default: [a.yml]\n', /config key tenant_rules\.default: .*rules/],
    ['tenant_rules:\n  a: []\n', /config key tenant_rules\.a: .*non-empty list/],
    ['tenant_rules:\n  a: 3\n', /config key tenant_rules\.a/],
    ['tenant_rules: [a.yml]\n', /config key tenant_rules: .*mapping/],
  ] as const) {
    const r = check(yaml);
    t.equal(r.status, 2, `refused: ${yaml.trim()}`);
    t.match(r.stderr, want);
  }
});
