import { spawn } from 'node:child_process';
import { labelsFromRecord } from '../../src/model/labels.js';
import { MetricKind } from '../../src/model/metric-kind.js';
import { openStore } from '../../src/store/open.js';

/** SeedShape says how much counter data seedCounters writes. */
export interface SeedShape {
  readonly series: number;
  readonly hours: number;
  /** Window length; must be the daemon's flush interval. */
  readonly resolutionMs: number;
}

/**
 * seedCounters writes `http_requests_total{job, instance}` counters (10 jobs) ending now into a
 * data directory before a daemon opens it: the history heavy queries read. Returns the end time.
 */
export async function seedCounters(dataDir: string, shape: SeedShape): Promise<number> {
  const store = await openStore({ dataDir, rawResolutionMs: shape.resolutionMs });
  const end = Math.floor(Date.now() / shape.resolutionMs) * shape.resolutionMs;
  const windows = Math.floor((shape.hours * 3_600_000) / shape.resolutionMs);
  const start = end - windows * shape.resolutionMs;
  try {
    const labels = Array.from({ length: shape.series }, (_, s) =>
      labelsFromRecord({ __name__: 'http_requests_total', job: `job-${s % 10}`, instance: `host-${s}:9100` }));
    // One commit (one appender) per hour of data, as a catching-up pipeline writes.
    const perCommit = Math.max(1, Math.floor(3_600_000 / shape.resolutionMs));
    for (let w0 = 0; w0 < windows; w0 += perCommit) {
      const app = store.appender();
      const ids = labels.map((l) => app.seriesId('default', l, MetricKind.Counter));
      for (let w = w0; w < Math.min(windows, w0 + perCommit); w++) {
        const ts = start + w * shape.resolutionMs;
        for (let s = 0; s < ids.length; s++) app.counter(ids[s]!, ts, 1 + ((s * 7 + w) % 13));
      }
      await app.commit();
    }
  } finally {
    await store.close();
  }
  return end;
}

/** HEAVY_QUERIES are the slow dashboard queries over the seeded counters. */
export function heavyQueries(): string[] {
  return [
    'sum by (job) (rate(http_requests_total[5m]))',
    'topk(5, increase(http_requests_total[1h]))',
    'count(http_requests_total{instance=~"host-.*1.*:9100"})',
  ];
}

/** QueryLoadResult is what query clients did. */
export interface QueryLoadResult {
  readonly ok: number;
  readonly failed: number;
  readonly statuses: Record<string, number>;
  readonly latenciesMs: number[];
}

/**
 * queryClients runs `clients` loops of range queries (a window of `hours` ending at `endMs`,
 * `stepS` step) back to back against a daemon until `untilMs`.
 */
export async function queryClients(url: string, clients: number, endMs: number, hours: number, stepS: number, untilMs: number): Promise<QueryLoadResult> {
  const exprs = heavyQueries();
  const statuses: Record<string, number> = {};
  const latenciesMs: number[] = [];
  let ok = 0, failed = 0;
  const loop = async (c: number) => {
    for (let i = c; Date.now() < untilMs; i++) {
      const u = new URL(`${url}/api/v1/query_range`);
      u.searchParams.set('query', exprs[i % exprs.length]!);
      u.searchParams.set('start', String((endMs - hours * 3_600_000) / 1000));
      u.searchParams.set('end', String(endMs / 1000));
      u.searchParams.set('step', String(stepS));
      const t0 = performance.now();
      try {
        const r = await fetch(u, { signal: AbortSignal.timeout(Math.max(1, untilMs - Date.now() + 30_000)) });
        await r.arrayBuffer();
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
        if (r.status === 200) {
          ok++;
          latenciesMs.push(performance.now() - t0);
        } else failed++;
      } catch {
        failed++;
        statuses['error'] = (statuses['error'] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, c) => loop(c)));
  return { ok, failed, statuses, latenciesMs };
}

/**
 * probeHealthApart runs bench/lib/health-prober in its own process (so the measuring side's event
 * loop, busy with query clients and senders, does not add to the latencies) and resolves with
 * each probe's latency in ms (-1 for a failed probe).
 */
export function probeHealthApart(url: string, everyMs: number, seconds: number): Promise<number[]> {
  const prober = new URL('../../bench/lib/health-prober.js', import.meta.url).pathname;
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [prober, '--url', url, '--every', String(everyMs), '--seconds', String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout!.on('data', (d) => (out += d));
    p.once('exit', (code) => (code === 0 ? resolve((JSON.parse(out) as { latenciesMs: number[] }).latenciesMs) : reject(new Error(`health prober exited ${code}`))));
  });
}

/** probeHealth polls `/health/ready` every `everyMs` until `untilMs` and returns each latency (ms). */
export async function probeHealth(url: string, everyMs: number, untilMs: number): Promise<number[]> {
  const out: number[] = [];
  while (Date.now() < untilMs) {
    const t0 = performance.now();
    const r = await fetch(`${url}/health/ready`);
    await r.arrayBuffer();
    out.push(r.status === 200 ? performance.now() - t0 : Infinity);
    await new Promise((res) => setTimeout(res, everyMs));
  }
  return out;
}

/** percentile returns the p-th percentile (0..100) of values (nearest rank). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** statsdLinesReceived reads tallyd_statsd_lines_received_total from /metrics. */
export async function statsdLinesReceived(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = /^tallyd_statsd_lines_received_total (\S+)$/m.exec(text);
  return m ? Number(m[1]) : 0;
}
