import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseArgs } from '../../src/config/load.js';
import { parseDuration } from '../../src/config/duration.js';

const dir = mkdtempSync(join(tmpdir(), 'tallyd-config-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

t.test('defaults match the contract', async (t) => {
  const c = loadConfig(parseArgs([]), {});
  t.equal(c.dataDir, './data');
  t.same(c.http, { host: '127.0.0.1', port: 9477 });
  t.same(c.grpc, { host: '127.0.0.1', port: 9478 });
  t.same(c.otlpGrpc, { host: '127.0.0.1', port: 4317 });
  t.same(c.otlpHttp, { host: '127.0.0.1', port: 4318 });
  t.same(c.statsd, { host: '127.0.0.1', port: 8125 });
  t.equal(c.flushIntervalMs, 10_000);
  t.equal(c.logLevel, 'info');
  t.same(c.tiers.map((x) => x.name), ['raw', '5m', '1h', 'monthly']);
});

t.test('flag beats environment beats file beats default', async (t) => {
  const cfg = file('prec.yaml', 'flush_interval: 30s\nhttp: 127.0.0.1:1000\nstatsd: 127.0.0.1:0\nlog_level: warn\n');
  const env = { TALLYD_HTTP: '127.0.0.1:2000', TALLYD_LOG_LEVEL: 'error' };
  const c = loadConfig(parseArgs(['--config', cfg, '--log-level=debug']), env);
  t.equal(c.flushIntervalMs, 30_000, 'file over default');
  t.same(c.http.port, 2000, 'env over file');
  t.equal(c.logLevel, 'debug', 'flag over env');
  t.equal(c.statsd.port, 0, 'port 0 disables');
});

t.test('repeatable --rules and env lists', async (t) => {
  t.same(loadConfig(parseArgs(['--rules', 'a.yml', '--rules', 'b.yml']), {}).rules, ['a.yml', 'b.yml']);
  t.same(loadConfig(parseArgs([]), { TALLYD_RULES: 'x.yml,y.yml' }).rules, ['x.yml', 'y.yml']);
});

t.test('bad values name the key, the value and what is allowed', async (t) => {
  t.throws(() => loadConfig(parseArgs(['--flush-interval', 'soon']), {}), { name: 'ConfigError', message: /--flush-interval.*"soon".*duration/ });
  t.throws(() => loadConfig(parseArgs([]), { TALLYD_HTTP: 'nowhere' }), { message: /TALLYD_HTTP.*"nowhere".*host:port/ });
  t.throws(() => loadConfig(parseArgs(['--log-level', 'loud']), {}), { message: /"loud".*debug, info, warn, error/ });
  t.throws(() => loadConfig(parseArgs(['--bogus', '1']), {}), { message: /unknown flag --bogus/ });
  const bad = file('bad.yaml', 'flush_intervall: 10s\n');
  t.throws(() => loadConfig(parseArgs(['--config', bad]), {}), { message: /flush_intervall.*unknown key/ });
  const badNotifier = file('n.yaml', 'notifiers:\n  - type: pager\n    url: http://x\n');
  t.throws(() => loadConfig(parseArgs(['--config', badNotifier]), {}), { message: /notifiers\[0\]\.type.*"pager"/ });
  const badTier = file('t.yaml', 'tiers:\n  - {resolution: 10s, retention: 2d}\n  - {resolution: 15s, retention: 90d}\n');
  t.throws(() => loadConfig(parseArgs(['--config', badTier]), {}), { message: /tiers\[1\]\.resolution.*multiple/ });
  t.throws(() => loadConfig(parseArgs(['--config', join(dir, 'missing.yaml')]), {}), ConfigError);
});

t.test('statsd section takes an address, allow list and tenant', async (t) => {
  const cfg = file('statsd.yaml', 'statsd:\n  address: 127.0.0.1:9125\n  allow: [10.0.0.0/8]\n  tenant: edge\n');
  const c = loadConfig(parseArgs(['--config', cfg]), {});
  t.equal(c.statsd.port, 9125);
  t.same(c.statsdAllow, ['10.0.0.0/8']);
  t.equal(c.statsdTenant, 'edge');
});

t.test('durations use Prometheus syntax', async (t) => {
  t.equal(parseDuration('500ms'), 500);
  t.equal(parseDuration('1h30m'), 5_400_000);
  t.equal(parseDuration('90d'), 90 * 86_400_000);
  t.equal(parseDuration('10'), null);
  t.equal(parseDuration('5m1h'), null);
});

t.test('query workers and the query queue are configurable and validated', async (t) => {
  const d = loadConfig(parseArgs([]), {});
  t.ok(d.queryWorkers >= 1 && d.queryWorkers <= 2, 'default min(2, cores)');
  t.equal(d.limits.queryQueue, 64);
  t.equal(d.limits.queryMaxSeries, 1_000_000);
  const c = loadConfig(parseArgs(['--config', file('q.yaml', 'query_workers: 3\nlimits:\n  query_queue: 5\n  query_max_series: 1000\n  query_timeout: 2s\n')]), {});
  t.equal(c.queryWorkers, 3);
  t.equal(c.limits.queryQueue, 5);
  t.equal(c.limits.queryMaxSeries, 1000);
  t.equal(c.limits.queryTimeoutMs, 2000);
  t.throws(() => loadConfig(parseArgs(['--config', file('q0.yaml', 'query_workers: 0\n')]), {}), { message: /query_workers.*0.*positive integer/ });
  t.throws(() => loadConfig(parseArgs(['--config', file('q99.yaml', 'query_workers: 99\n')]), {}), { message: /query_workers.*99.*1 to 64/ });
  t.throws(() => loadConfig(parseArgs(['--config', file('qq.yaml', 'limits:\n  query_queue: many\n')]), {}), { message: /limits\.query_queue.*"many"/ });
});

t.test('keys that tallyd does not implement are refused, named', async (t) => {
  const load = (text: string) => () => loadConfig(parseArgs(['--config', file(`k${Math.random()}.yaml`, text)]), {});
  t.throws(load('tls:\n  cert_file: /nonexistent.crt\n  key_file: /nonexistent.key\n'), /tls\.cert_file: cannot read/);
  t.throws(load('tls:\n  cert_file: x\n  client_ca: y\n'), /tls\.client_ca: unknown key/);
  t.throws(load('auth:\n  tokens: []\n  mode: strict\n'), /auth\.mode: unknown key/);
  t.throws(load('auth:\n  tokens:\n    - {token: a, scopes: [query], expires: 1d}\n'), /auth\.tokens\[0\]\.expires: unknown key/);
  t.throws(load('auth:\n  tokens:\n    - {token: a, scopes: []}\n'), /auth\.tokens\[0\]\.scopes/);
  t.throws(load('auth:\n  tokens:\n    - {token: a, scopes: [query], tenant: "a b"}\n'), /auth\.tokens\[0\]\.tenant/);
  t.throws(load('statsd:\n  tenant: "../etc passwd"\n'), /statsd\.tenant.*1 to 128 characters/, 'statsd.tenant follows the tenant rule of tokens and X-Scope-OrgID');
  t.throws(load('statsd:\n  tenant: ""\n'), /statsd\.tenant/);
  t.throws(load('statsd:\n  allow: ["10.0.0.0/99"]\n'), /statsd\.allow/);
  t.throws(load('statsd:\n  prefix: x\n'), /statsd\.prefix: unknown key/);
  t.throws(load('otlp:\n  compression: gzip\n'), /otlp\.compression: unknown key/);
  t.throws(load('scrape:\n  interval: 10s\n'), /scrape\.interval: unknown key/);
  t.throws(load('rule_evaluation:\n  concurrency: 2\n'), /rule_evaluation\.concurrency: unknown key/);
  t.throws(load('notifiers:\n  - {type: webhook, url: "http://x", timeout: 5s}\n'), /notifiers\[0\]\.timeout: unknown key/);
  t.throws(load('tiers:\n  - {resolution: 10s, retention: 2d, compression: zstd}\n'), /tiers\[0\]\.compression: unknown key/);
  const c = loadConfig(parseArgs(['--config', file('allow.yaml', 'statsd:\n  allow: ["10.0.0.0/8"]\n')]), {});
  t.equal(c.statsdAllowExplicit, true, 'an explicit statsd.allow applies even without auth');
});

t.test('remote_write entries: parsed, and unknown keys refused by name', async (t) => {
  const good = file('rw-good.yaml', 'remote_write:\n  - url: http://central:9477/api/v1/write\n    headers: {X-Scope-OrgID: a}\n    basic_auth: {username: u, password: p}\n    queue: {max_bytes: 1000, max_age: 1h}\n');
  const c = loadConfig(parseArgs(['--config', good]), {});
  t.same(c.remoteWrite, [{ url: 'http://central:9477/api/v1/write', headers: { 'X-Scope-OrgID': 'a' }, basicAuth: { username: 'u', password: 'p' }, queue: { maxBytes: 1000, maxAgeMs: 3_600_000 } }]);
  const typo = file('rw-typo.yaml', 'remote_write:\n  - url: http://central:9477/api/v1/write\n    queue_config: {max_bytes: 1}\n');
  t.throws(() => loadConfig(parseArgs(['--config', typo]), {}), /remote_write\[0\]\.queue_config/);
  const qtypo = file('rw-qtypo.yaml', 'remote_write:\n  - url: http://central:9477/api/v1/write\n    queue: {capacity: 1}\n');
  t.throws(() => loadConfig(parseArgs(['--config', qtypo]), {}), /remote_write\[0\]\.queue\.capacity/);
});
