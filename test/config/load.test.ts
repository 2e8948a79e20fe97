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

t.test('remote_write entries: parsed, and unknown keys refused by name', async (t) => {
  const good = file('rw-good.yaml', 'remote_write:\n  - url: http://central:9477/api/v1/write\n    headers: {X-Scope-OrgID: a}\n    basic_auth: {username: u, password: p}\n    queue: {max_bytes: 1000, max_age: 1h}\n');
  const c = loadConfig(parseArgs(['--config', good]), {});
  t.same(c.remoteWrite, [{ url: 'http://central:9477/api/v1/write', headers: { 'X-Scope-OrgID': 'a' }, basicAuth: { username: 'u', password: 'p' }, queue: { maxBytes: 1000, maxAgeMs: 3_600_000 } }]);
  const typo = file('rw-typo.yaml', 'remote_write:\n  - url: http://central:9477/api/v1/write\n    queue_config: {max_bytes: 1}\n');
  t.throws(() => loadConfig(parseArgs(['--config', typo]), {}), /remote_write\[0\]\.queue_config/);
  const qtypo = file('rw-qtypo.yaml', 'remote_write:\n  - url: http://central:9477/api/v1/write\n    queue: {capacity: 1}\n');
  t.throws(() => loadConfig(parseArgs(['--config', qtypo]), {}), /remote_write\[0\]\.queue\.capacity/);
});
