import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../support/free-port.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';

const BIN = new URL('../../../bin/tallyd.js', import.meta.url).pathname;

export { freePort };

/** Daemon is a real tallyd process started for a black-box test. */
export interface Daemon {
  readonly proc: ChildProcess;
  readonly dataDir: string;
  readonly ports: { http: number; grpc: number; otlpGrpc: number; otlpHttp: number; statsd: number };
  readonly url: string;
  readonly output: () => string;
  /** stop sends SIGTERM and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartOptions {
  dataDir?: string;
  args?: string[];
  env?: Record<string, string>;
  ports?: Partial<Daemon['ports']>;
  /** 'https' when the daemon serves TLS: readiness is then polled over HTTPS (certificate not verified). */
  readyUrl?: 'http' | 'https';
}

function readyOverHttps(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path: '/health/ready', rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * startDaemon runs bin/tallyd.js on free loopback ports and waits for /health/ready. A port that
 * freePort found free can be taken before tallyd binds it (by another test file's outgoing
 * connections, tap runs two at a time): when tallyd exits with EADDRINUSE on ports this helper
 * chose, it starts again on fresh ones, up to three times.
 */
export async function startDaemon(opts: StartOptions = {}): Promise<Daemon> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'tallyd-it-'));
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(opts, dataDir);
    } catch (err) {
      if (opts.ports !== undefined || attempt >= 3 || !/EADDRINUSE/.test(String(err))) throw err;
    }
  }
}

async function launch(opts: StartOptions, dataDir: string): Promise<Daemon> {
  const ports = {
    http: opts.ports?.http ?? (await freePort()),
    grpc: opts.ports?.grpc ?? (await freePort()),
    otlpGrpc: opts.ports?.otlpGrpc ?? (await freePort()),
    otlpHttp: opts.ports?.otlpHttp ?? (await freePort()),
    statsd: opts.ports?.statsd ?? (await freePort()),
  };
  const args = [
    BIN, 'serve', '--data-dir', dataDir,
    '--http', `127.0.0.1:${ports.http}`, '--grpc', `127.0.0.1:${ports.grpc}`,
    '--otlp-grpc', `127.0.0.1:${ports.otlpGrpc}`, '--otlp-http', `127.0.0.1:${ports.otlpHttp}`,
    '--statsd', `127.0.0.1:${ports.statsd}`, '--log-level', 'warn', ...(opts.args ?? []),
  ];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${ports.http}`;
  // Generous: on a loaded shared CI machine a cold start (JIT, workers, LMDB) takes tens of seconds.
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`tallyd exited with ${proc.exitCode}: ${out}`);
    try {
      const status = opts.readyUrl === 'https' ? await readyOverHttps(ports.http) : (await fetch(`${url}/health/ready`)).status;
      if (status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`tallyd not ready after 60 s: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    proc, dataDir, ports, url,
    output: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

/** promQuery runs an instant query and returns the `data.result` array. */
export async function promQuery(d: Daemon, expr: string, timeSec?: number): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const u = new URL(`${d.url}/api/v1/query`);
  u.searchParams.set('query', expr);
  if (timeSec !== undefined) u.searchParams.set('time', String(timeSec));
  const r = await fetch(u);
  const body = (await r.json()) as { status: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> }; error?: string };
  if (body.status !== 'success') throw new Error(`query ${expr} failed: ${body.error}`);
  return body.data.result;
}

/** adminFlush persists every open window. */
export async function adminFlush(d: Daemon): Promise<void> {
  const r = await fetch(`${d.url}/api/v1/admin/flush`, { method: 'POST' });
  if (r.status !== 200) throw new Error(`flush failed: ${r.status} ${await r.text()}`);
}

/** sendStatsdTcp sends StatsD lines over one TCP connection and resolves once it is closed. */
export async function sendStatsdTcp(d: Daemon, lines: string[]): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const s = connect(d.ports.statsd, '127.0.0.1', () => s.end(lines.join('\n') + '\n'));
    s.on('close', () => resolve());
    s.on('error', reject);
  });
}

/** statsdLinesReceived reads tallyd_statsd_lines_received_total from /metrics (0 before any line). */
export async function statsdLinesReceived(d: Daemon): Promise<number> {
  const text = await (await fetch(`${d.url}/metrics`)).text();
  const l = text.split('\n').find((x) => x.startsWith('tallyd_statsd_lines_received_total'));
  return l ? Number(l.slice(l.lastIndexOf(' ') + 1)) : 0;
}
