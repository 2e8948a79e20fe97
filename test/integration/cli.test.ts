import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './daemon.js';

const BIN = new URL('../../../bin/tallyd.js', import.meta.url).pathname;
const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 20_000 });

t.test('tallyd version prints the package version', async (t) => {
  const r = run(['version']);
  t.equal(r.status, 0);
  t.match(r.stdout, /^tallyd \d+\.\d+\.\d+/);
});

t.test('check-config accepts a good file and names the bad key of a bad one', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tallyd-cli-'));
  const good = join(dir, 'good.yaml');
  writeFileSync(good, 'flush_interval: 5s\nstatsd: 127.0.0.1:0\nnotifiers:\n  - type: webhook\n    url: http://127.0.0.1:9/hook\n');
  const ok = run(['check-config', '--config', good]);
  t.equal(ok.status, 0, ok.stderr);
  t.match(ok.stdout, /flush-interval 5000ms/);
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'flush_interval: often\n');
  const r = run(['check-config', '--config', bad]);
  t.not(r.status, 0);
  t.match(r.stderr, /flush_interval.*"often".*duration/);
  const env = run(['check-config'], { TALLYD_STATSD: 'not-an-address' });
  t.not(env.status, 0);
  t.match(env.stderr, /TALLYD_STATSD.*"not-an-address"/);
});

t.test('bad configuration exits non-zero before binding any port', async (t) => {
  const port = await freePort();
  const r = run(['--http', `127.0.0.1:${port}`, '--flush-interval', '-1s', '--data-dir', mkdtempSync(join(tmpdir(), 'tallyd-cli-'))]);
  t.not(r.status, 0);
  t.match(r.stderr, /--flush-interval.*"-1s"/);
  const probe = await fetch(`http://127.0.0.1:${port}/health/live`).then(() => 'bound', () => 'free');
  t.equal(probe, 'free', 'the HTTP port was never bound');
});
