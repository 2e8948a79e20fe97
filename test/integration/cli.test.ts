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

t.test('--help lists every flag with its default and exits 0, for tallyd and each subcommand', async (t) => {
  const flags = ['data-dir', 'http', 'grpc', 'otlp-grpc', 'otlp-http', 'statsd', 'flush-interval', 'rules', 'pricing', 'config', 'log-level'];
  for (const args of [['--help'], ['-h'], ['help'], ['serve', '--help'], ['check-config', '--help'], ['--http', '127.0.0.1:1', '--help']]) {
    const r = run(args);
    t.equal(r.status, 0, `${args.join(' ')} exits 0`);
    t.equal(r.stderr, '', `${args.join(' ')} writes nothing to stderr`);
    for (const f of flags) t.match(r.stdout, new RegExp(`--${f} [A-Z]+ `), `${args.join(' ')} lists --${f}`);
    t.match(r.stdout, /--data-dir DIR .*\n.*default \.\/data; env TALLYD_DATA_DIR; YAML key data_dir/);
    t.match(r.stdout, /--flush-interval DUR .*\n.*default 10s/);
    t.match(r.stdout, /--pricing FILE .*\n.*default built-in table/);
    t.match(r.stdout, /--http ADDR .*\n.*default 127\.0\.0\.1:9477/);
  }
  const rules = run(['check-rules', '--help']);
  t.equal(rules.status, 0);
  t.match(rules.stdout, /usage: tallyd check-rules FILE\.\.\./);
  t.match(rules.stdout, /--help/);
  const version = run(['version', '--help']);
  t.equal(version.status, 0);
  t.match(version.stdout, /usage: tallyd version/);
  t.notMatch(version.stdout, /^tallyd \d/, 'version --help prints help, not the version');
});

t.test('npm start -- --help prints the help', async (t) => {
  const root = new URL('../../../', import.meta.url).pathname;
  const r = spawnSync('npm', ['start', '--silent', '--', '--help'], { cwd: root, encoding: 'utf8', timeout: 30_000 });
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /usage: tallyd/);
  t.match(r.stdout, /--log-level LEVEL/);
});

t.test('an unknown flag or command suggests the nearest known one', async (t) => {
  const typo = run(['--data-dri', '/tmp/x']);
  t.equal(typo.status, 2);
  t.match(typo.stderr, /unknown flag --data-dri; did you mean --data-dir\?/);
  const prefix = run(['check-config', '--flush', '5s']);
  t.equal(prefix.status, 2);
  t.match(prefix.stderr, /unknown flag --flush; did you mean --flush-interval\?/);
  const far = run(['--zzzzzzzzzzzz', '1']);
  t.equal(far.status, 2);
  t.notMatch(far.stderr, /did you mean/, 'no suggestion when nothing is close');
  const cmd = run(['chek-config']);
  t.equal(cmd.status, 2);
  t.match(cmd.stderr, /unknown command "chek-config"; did you mean check-config\?/);
});
