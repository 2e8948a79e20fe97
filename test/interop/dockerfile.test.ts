import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort } from '../integration/daemon.js';

const ROOT = new URL('../../../', import.meta.url).pathname;

interface Stage {
  name: string;
  dir: string;
  env: Record<string, string>;
  user: string;
  volumes: string[];
  healthcheck: string[] | null;
  entrypoint: string[];
  cmd: string[];
}

/** lines joins the Dockerfile's backslash continuations and drops comments. */
function lines(text: string): string[] {
  return text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
}

/**
 * runDockerfile executes a Dockerfile's instructions without docker: each stage's WORKDIR is a
 * temporary directory, COPY copies from the build context or an earlier stage (absolute
 * destinations land under the stage's `rootfs/`), RUN runs under sh with the stage's ENV.
 * It understands exactly what tallyd's Dockerfile uses and fails on anything else, so the
 * Dockerfile cannot drift away from what this test runs.
 */
function runDockerfile(check: (ok: boolean, msg: string) => void, base: string): Stage[] {
  const stages: Stage[] = [];
  let cur: Stage | null = null;
  const resolve = (s: Stage, p: string) => (p.startsWith('/app/') ? join(s.dir, p.slice(5)) : p.startsWith('/') ? join(s.dir, 'rootfs', p) : join(s.dir, p));
  for (const line of lines(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))) {
    const [op, ...rest] = line.split(/\s+/);
    const arg = line.slice(op!.length).trim();
    switch (op) {
      case 'FROM': {
        const name = /\bAS\s+(\S+)/i.exec(arg)?.[1] ?? `stage${stages.length}`;
        cur = { name, dir: join(base, name), env: {}, user: 'root', volumes: [], healthcheck: null, entrypoint: [], cmd: [] };
        mkdirSync(cur.dir, { recursive: true });
        stages.push(cur);
        break;
      }
      case 'WORKDIR':
        if (arg !== '/app') throw new Error(`WORKDIR ${arg}: this test maps only /app`);
        break;
      case 'ENV':
        for (const m of arg.matchAll(/(\w+)=(\S+)/g)) cur!.env[m[1]!] = m[2]!;
        break;
      case 'COPY': {
        const opts = rest.filter((r) => r.startsWith('--'));
        const paths = rest.filter((r) => !r.startsWith('--'));
        const from = opts.find((o) => o.startsWith('--from='))?.slice(7);
        const dest = paths.pop()!;
        const src = from ? stages.find((s) => s.name === from)! : null;
        for (const p of paths) {
          const source = src ? resolve(src, p) : join(ROOT, p);
          const target = dest.endsWith('/') ? join(resolve(cur!, dest), p.split('/').pop()!) : resolve(cur!, dest);
          mkdirSync(dirname(target), { recursive: true });
          cpSync(source, target, { recursive: true, filter: (f) => !f.includes('/.') || f === source });
        }
        break;
      }
      case 'RUN': {
        const r = spawnSync('sh', ['-c', arg], { cwd: cur!.dir, encoding: 'utf8', env: { ...process.env, ...cur!.env }, timeout: 600_000 });
        check(r.status === 0, `RUN ${arg} (stage ${cur!.name}) ${r.status === 0 ? 'succeeds' : `failed: ${r.stderr.slice(-2000)}`}`);
        if (r.status !== 0) throw new Error(`RUN failed: ${arg}`);
        break;
      }
      case 'USER':
        cur!.user = arg;
        break;
      case 'VOLUME':
        cur!.volumes.push(...(JSON.parse(arg) as string[]));
        break;
      case 'HEALTHCHECK':
        cur!.healthcheck = JSON.parse(arg.slice(arg.indexOf('CMD') + 3).trim()) as string[];
        break;
      case 'ENTRYPOINT':
        cur!.entrypoint = JSON.parse(arg) as string[];
        break;
      case 'CMD':
        cur!.cmd = JSON.parse(arg) as string[];
        break;
      case 'EXPOSE':
        break;
      default:
        throw new Error(`Dockerfile instruction ${op} is not understood by this test`);
    }
  }
  return stages;
}

function du(dir: string): number {
  const r = spawnSync('du', ['-sb', dir], { encoding: 'utf8' });
  return Number(r.stdout.split(/\s/)[0]);
}

const info = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8', timeout: 15_000 });
const noEngine = info.status === 0 ? false : `no docker engine answers here (${(info.error?.message ?? info.stderr ?? '').trim().split('\n').at(-1)}); the Dockerfile's steps are run without docker in the next test`;

t.test('the Dockerfile builds with docker, where a docker engine answers', { skip: noEngine, timeout: 900_000 }, async (t) => {
  const tag = `tallyd-test:${process.pid}`;
  const b = spawnSync('docker', ['build', '-t', tag, ROOT], { encoding: 'utf8', timeout: 900_000 });
  t.equal(b.status, 0, b.stderr.slice(-3000));
  const size = spawnSync('docker', ['image', 'inspect', tag, '--format', '{{.Size}}'], { encoding: 'utf8' });
  t.comment(`image size: ${(Number(size.stdout) / 1e6).toFixed(1)} MB`);
  spawnSync('docker', ['image', 'rm', tag]);
});

t.test('the Dockerfile steps, run without docker, give a production tree that starts and passes the healthcheck', { timeout: 900_000 }, async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'tallyd-docker-'));
  const stages = runDockerfile((ok, msg) => t.ok(ok, msg), base);
  t.equal(stages.length, 2, 'multi-stage: build and runtime');
  const run = stages.at(-1)!;
  t.not(run.user, 'root', 'runs as a non-root user');
  t.same(run.volumes, ['/data'], 'the data directory is a volume');
  t.equal(run.env['TALLYD_DATA_DIR'], '/data');
  t.ok(existsSync(join(run.dir, 'rootfs/data')) && statSync(join(run.dir, 'rootfs/data')).isDirectory(), 'the image has the data directory');
  for (const flag of ['HTTP', 'GRPC', 'OTLP_GRPC', 'OTLP_HTTP', 'STATSD']) t.match(run.env[`TALLYD_${flag}`], /^0\.0\.0\.0:\d+$/, `TALLYD_${flag} binds every interface in the container`);
  t.notOk(existsSync(join(run.dir, 'node_modules/typescript')), 'no dev dependencies (typescript) in the runtime tree');
  t.notOk(existsSync(join(run.dir, 'node_modules/tap')), 'no dev dependencies (tap) in the runtime tree');
  t.ok(existsSync(join(run.dir, 'node_modules/lmdb')), 'production dependencies are there');
  const bytes = du(run.dir);
  t.comment(`runtime tree (app + production node_modules, without the node:20-bookworm-slim base): ${(bytes / 1e6).toFixed(1)} MB`);
  writeFileSync(join(base, 'runtime-tree-bytes'), String(bytes));

  // Start the runtime tree as the image would (ENTRYPOINT + CMD, its ENV), on loopback test ports.
  const ports = { http: await freePort(), grpc: await freePort(), otlpGrpc: await freePort(), otlpHttp: await freePort(), statsd: await freePort() };
  const env: Record<string, string> = {
    ...run.env,
    TALLYD_DATA_DIR: join(run.dir, 'rootfs/data'),
    TALLYD_HTTP: `127.0.0.1:${ports.http}`, TALLYD_GRPC: `127.0.0.1:${ports.grpc}`,
    TALLYD_OTLP_GRPC: `127.0.0.1:${ports.otlpGrpc}`, TALLYD_OTLP_HTTP: `127.0.0.1:${ports.otlpHttp}`, TALLYD_STATSD: `127.0.0.1:${ports.statsd}`,
  };
  const [cmd, ...args] = [...run.entrypoint, ...run.cmd];
  t.equal(cmd, 'node');
  const proc = spawn(process.execPath, args, { cwd: run.dir, env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
  t.teardown(async () => {
    if (proc.exitCode === null) proc.kill('SIGTERM');
    await exited;
  });
  const [hc, ...hcArgs] = run.healthcheck!;
  t.equal(hc, 'node', 'the healthcheck needs only node');
  const check = () => spawnSync(process.execPath, hcArgs, { cwd: run.dir, env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: 10_000 }).status;
  const deadline = Date.now() + 30_000;
  let status = check();
  while (status !== 0 && Date.now() < deadline && proc.exitCode === null) {
    await new Promise((r) => setTimeout(r, 300));
    status = check();
  }
  t.equal(status, 0, `the HEALTHCHECK passes once tallyd is ready: ${out}`);
  proc.kill('SIGTERM');
  t.equal(await exited, 0, 'stops cleanly on SIGTERM (docker stop)');
  const down = check();
  t.equal(down, 1, 'the HEALTHCHECK fails when tallyd is down');
});
