/**
 * Peers for the storage benchmark: a real Prometheus (remote-write receiver) and a real
 * VictoriaMetrics, each the Debian package when installed, plus a real tallyd daemon serving the
 * store the benchmark loaded, so every query goes through the same HTTP API
 * (`/api/v1/query` and `/api/v1/query_range`). Everything binds 127.0.0.1 and is stopped by the
 * benchmark. Remote write bodies are encoded here by hand (WriteRequest of prompb/remote.proto:
 * timeseries{labels, samples{value, timestamp}}), because the benchmark sends millions of
 * samples and building protobufjs objects per sample would dominate the load time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { snappyCompress } from '../../src/wire/snappy.js';
import { freePort } from '../../test/support/free-port.js';

/**
 * dirBytes is the size of every file under `dir`: the smaller of the file's length and its
 * allocated blocks, so neither sparse files (LMDB's map) nor preallocated ones (Prometheus' WAL
 * and head chunk segments) count space that holds no data.
 */
export function dirBytes(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += dirBytes(p);
    else if (e.isFile()) {
      const st = statSync(p);
      total += Math.min(st.size, st.blocks * 512);
    }
  }
  return total;
}

/** Server is a started peer process. */
export interface Server {
  readonly name: string;
  readonly url: string;
  readonly dataDir: string;
  /** Extra query-string parameters for every query (VictoriaMetrics: no result cache). */
  readonly queryParams: string;
  /** stop sends SIGTERM and waits for the exit. */
  stop(): Promise<void>;
}

async function waitReady(name: string, child: ChildProcess, url: string, out: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}: ${out()}`);
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} not ready after 60 s: ${out()}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

function startProcess(name: string, cmd: string, args: string[], dataDir: string, url: string, readyPath: string, queryParams = ''): Promise<Server> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer): void => {
    out = (out + d.toString()).slice(-4000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    await exited;
    clearTimeout(timer);
  };
  return waitReady(name, child, url + readyPath, () => out).then(() => ({ name, url, dataDir, queryParams, stop }));
}

export const PROMETHEUS = '/usr/bin/prometheus';
export const VICTORIA = '/usr/bin/victoria-metrics';

/**
 * startPrometheus runs Prometheus with a remote-write receiver, no scrape targets, retention long
 * enough to keep every backfilled sample, and the admin API (for a snapshot of the head).
 */
export async function startPrometheus(dir: string): Promise<Server> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  writeFileSync(join(dir, 'prometheus.yml'), 'global:\n  scrape_interval: 1h\n');
  return startProcess('prometheus', PROMETHEUS, [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    '--storage.tsdb.retention.time=100y',
    `--web.listen-address=127.0.0.1:${port}`,
    '--web.enable-remote-write-receiver',
    '--web.enable-admin-api',
    '--log.level=warn',
  ], join(dir, 'data'), `http://127.0.0.1:${port}`, '/-/ready');
}

/** startVictoria runs single-node VictoriaMetrics keeping 100 years. */
export async function startVictoria(dir: string): Promise<Server> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  return startProcess('victoria-metrics', VICTORIA, [
    `-storageDataPath=${join(dir, 'data')}`,
    `-httpListenAddr=127.0.0.1:${port}`,
    '-retentionPeriod=100y',
    '-loggerLevel=ERROR',
  ], join(dir, 'data'), `http://127.0.0.1:${port}`, '/health', '&nocache=1');
}

/** startTallyd runs the tallyd daemon built beside this benchmark on an existing data directory. */
export async function startTallyd(dataDir: string, cliUrl: URL): Promise<Server> {
  const ports = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  const script = `import(${JSON.stringify(cliUrl.href)}).then((m) => m.main(process.argv.slice(1))).then((c) => { if (typeof c === 'number') process.exitCode = c; });`;
  return startProcess('tallyd', process.execPath, [
    '-e', script, 'serve', '--data-dir', dataDir,
    '--http', `127.0.0.1:${ports[0]}`, '--grpc', `127.0.0.1:${ports[1]}`,
    '--otlp-grpc', `127.0.0.1:${ports[2]}`, '--otlp-http', `127.0.0.1:${ports[3]}`,
    '--statsd', `127.0.0.1:${ports[4]}`, '--log-level', 'warn',
  ], dataDir, `http://127.0.0.1:${ports[0]}`, '/health/ready');
}

/** prometheusSnapshotBytes snapshots the TSDB including its head (as a block) and sizes it. */
export async function prometheusSnapshotBytes(p: Server): Promise<number | null> {
  const r = await fetch(`${p.url}/api/v1/admin/tsdb/snapshot?skip_head=false`, { method: 'POST' });
  if (r.status !== 200) return null;
  const body = (await r.json()) as { data?: { name?: string } };
  const dir = join(p.dataDir, 'snapshots', body.data?.name ?? '');
  return existsSync(dir) ? dirBytes(dir) : null;
}

/**
 * prometheusSettle waits (up to two minutes) until no block compaction ran for five seconds,
 * so the blocks a backfill produced are merged before bytes and query latency are measured.
 */
export async function prometheusSettle(p: Server): Promise<void> {
  const compactions = async (): Promise<string> => {
    const text = await (await fetch(`${p.url}/metrics`)).text();
    return text.split('\n').filter((l) => l.startsWith('prometheus_tsdb_compactions_total') || l.startsWith('prometheus_tsdb_compactions_triggered_total')).join();
  };
  const deadline = Date.now() + 120_000;
  let last = await compactions();
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 5000));
    const now = await compactions();
    if (now === last) return;
    last = now;
  }
}

/** victoriaFlush makes VictoriaMetrics write its in-memory parts to disk. */
export async function victoriaFlush(v: Server): Promise<void> {
  await fetch(`${v.url}/internal/force_flush`);
}

/** victoriaDataBytes sums `vm_data_size_bytes` over every part type from `/metrics`. */
export async function victoriaDataBytes(v: Server): Promise<number> {
  const text = await (await fetch(`${v.url}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) if (line.startsWith('vm_data_size_bytes{')) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  return total;
}

const enc = new TextEncoder();

function varintLen(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/**
 * RemoteWriteBatch encodes WriteRequests for rows (one row per time series, labels fixed) that
 * share each batch's timestamps.
 */
export class RemoteWriteBatch {
  /** Encoded `Label` fields of each row's TimeSeries (sorted by name). */
  private readonly labelBytes: Uint8Array[];
  private buf: Uint8Array;
  private view: DataView;
  private pos: number;

  constructor(rows: ReadonlyArray<Record<string, string>>) {
    this.labelBytes = rows.map((labels) => {
      const parts: number[] = [];
      for (const name of Object.keys(labels).sort()) {
        const n = enc.encode(name), v = enc.encode(labels[name]!);
        const body = [0x0a, ...varintBytes(n.length), ...n, 0x12, ...varintBytes(v.length), ...v];
        parts.push(0x0a, ...varintBytes(body.length), ...body);
      }
      return Uint8Array.from(parts);
    });
    this.buf = new Uint8Array(1 << 20);
    this.view = new DataView(this.buf.buffer);
    this.pos = 0;
  }

  get rows(): number {
    return this.labelBytes.length;
  }

  private varint(v: number): void {
    while (v >= 128) {
      this.buf[this.pos++] = (v % 128) | 128;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }

  /**
   * encode returns the snappy-compressed WriteRequest of `values[row * k + i]` at `ts[i]`
   * (i < k) for every row, each timestamp moved by `jitter(row, i)` ms when given.
   */
  encode(ts: Float64Array, k: number, values: Float64Array, jitter?: (row: number, i: number) => number): Uint8Array {
    const at = (r: number, i: number): number => (jitter === undefined ? ts[i]! : ts[i]! + jitter(r, i));
    let need = 0;
    for (let r = 0; r < this.labelBytes.length; r++) {
      need += 16 + this.labelBytes[r]!.length;
      for (let i = 0; i < k; i++) need += 12 + varintLen(at(r, i));
    }
    if (need > this.buf.length) {
      this.buf = new Uint8Array(need * 2);
      this.view = new DataView(this.buf.buffer);
    }
    this.pos = 0;
    for (let r = 0; r < this.labelBytes.length; r++) {
      const lb = this.labelBytes[r]!;
      let sampleBytes = 0;
      for (let i = 0; i < k; i++) sampleBytes += 12 + varintLen(at(r, i));
      this.buf[this.pos++] = 0x0a;
      this.varint(lb.length + sampleBytes);
      this.buf.set(lb, this.pos);
      this.pos += lb.length;
      for (let i = 0; i < k; i++) {
        const t = at(r, i);
        this.buf[this.pos++] = 0x12;
        this.buf[this.pos++] = 10 + varintLen(t);
        this.buf[this.pos++] = 0x09;
        this.view.setFloat64(this.pos, values[r * k + i]!, true);
        this.pos += 8;
        this.buf[this.pos++] = 0x10;
        this.varint(t);
      }
    }
    return snappyCompress(this.buf.subarray(0, this.pos));
  }
}

function varintBytes(v: number): number[] {
  const out: number[] = [];
  while (v >= 128) {
    out.push((v % 128) | 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/** remoteWrite posts one snappy-compressed WriteRequest and throws unless it was accepted. */
export async function remoteWrite(url: string, body: Uint8Array): Promise<void> {
  const r = await fetch(url, {
    method: 'POST',
    body: new Uint8Array(body),
    headers: { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy', 'X-Prometheus-Remote-Write-Version': '0.1.0' },
  });
  if (r.status >= 300) throw new Error(`remote write to ${url}: HTTP ${r.status} ${(await r.text()).slice(0, 300)}`);
  await r.arrayBuffer();
}

/** QueryTiming is one engine's latency for one query. */
export interface QueryTiming {
  p50Ms: number;
  p99Ms: number;
  runs: number;
  /** Result series in the answer (to see that engines agree on its shape). */
  series: number;
}

/**
 * timeQuery runs a PromQL query (instant when `stepS` is 0) once to warm up, then `runs` times,
 * and reports latency percentiles of the whole HTTP round trip, JSON answer included.
 */
export async function timeQuery(s: Server, expr: string, startS: number, endS: number, stepS: number, runs: number): Promise<QueryTiming> {
  const q = stepS > 0
    ? `${s.url}/api/v1/query_range?query=${encodeURIComponent(expr)}&start=${startS}&end=${endS}&step=${stepS}${s.queryParams}`
    : `${s.url}/api/v1/query?query=${encodeURIComponent(expr)}&time=${endS}${s.queryParams}`;
  const lat: number[] = [];
  let series = 0;
  for (let i = 0; i <= runs; i++) {
    const t0 = performance.now();
    const r = await fetch(q);
    const text = await r.text();
    const ms = performance.now() - t0;
    if (r.status !== 200) throw new Error(`${s.name}: ${expr}: HTTP ${r.status} ${text.slice(0, 300)}`);
    if (i === 0) series = (JSON.parse(text) as { data: { result: unknown[] } }).data.result.length;
    else lat.push(ms);
  }
  lat.sort((a, b) => a - b);
  return { p50Ms: lat[Math.floor(lat.length / 2)]!, p99Ms: lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.99))]!, runs, series };
}
