/**
 * Storage benchmark (issue 5): loads N days of 10 s windows (counters with random integer
 * increments, random-walk integer gauges, histograms of 3 to 7 latency observations per window;
 * see lib/storage-workload.ts) through the Appender with the store's clock at "now", so windows older
 * than the raw tier's 2 days take the backfill path into the rollup tiers, one commit per hour of
 * data, each kind in its own directory. Then runs compaction and reports per tier the stored
 * points and bytes per point (chunk values in whole pages, from Store.stats()), load and
 * compaction time, the cost of a steady-state commit of one window for every series, and
 * select() latency of dashboard-like reads (every series of the metric at ~250 steps).
 *
 * Peers: when /usr/bin/prometheus and /usr/bin/victoria-metrics exist, the same samples go to
 * each by Prometheus remote write (counters as running totals, gauges as values, histograms as
 * classic `_bucket{le}`/`_sum`/`_count` series at Prometheus' default bounds), time-ordered in
 * batches of about 10k samples. Their bytes per sample and the latency of the same dashboard
 * queries (instant and range, over 1, 7 and 30 days as far as the data reaches) through
 * /api/v1/query(_range) are reported beside a tallyd daemon's serving the loaded store.
 *
 * With --jitter, every sample lies 0 to 8 ms past the 10 s grid (a scraper's drift), different
 * per series and window: tallyd stores each window's last point time, the peers the timestamps,
 * so bytes per point include what irregular timestamps cost.
 *
 *   node dist/bench/storage.js [--quick] [--days 30] [--series 1000] [--runs 7] [--no-peers] [--jitter] [--kinds counter,gauge,histogram]
 *   (--quick: 3 days, 100 series; default: 30 days, 1000 series)
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labelsFromRecord } from '../src/model/labels.js';
import { Matcher } from '../src/model/matcher.js';
import { MetricKind } from '../src/model/metric-kind.js';
import type { TierStats } from '../src/store/interface.js';
import type { LmdbStore } from '../src/store/lmdb-store.js';
import { openStore } from '../src/store/open.js';
import { PROMETHEUS, RemoteWriteBatch, VICTORIA, dirBytes, prometheusSettle, prometheusSnapshotBytes, remoteWrite, startPrometheus, startTallyd, startVictoria, timeQuery, victoriaDataBytes, victoriaFlush, type QueryTiming, type Server } from './lib/storage-peers.js';
import { LES, RES, Workload, jitterMs, kindName, metricName, seriesLabels } from './lib/storage-workload.js';
import { pct } from './lib/stats.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const arg = (name: string, dflt: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const days = arg('--days', quick ? 3 : 30);
const totalSeries = arg('--series', quick ? 100 : 1000);
const runs = arg('--runs', quick ? 5 : 7);
const withPeers = !args.includes('--no-peers');
const jitter = args.includes('--jitter');
const kindsArg = args.indexOf('--kinds') >= 0 ? args[args.indexOf('--kinds') + 1]!.split(',') : ['counter', 'gauge', 'histogram'];
const DAY = 86_400_000;
const windows = Math.round((days * DAY) / RES);
const perKind = Math.max(1, Math.round(totalSeries / 3));
const NOW = Math.floor(Date.now() / RES) * RES;
const T0 = NOW - days * DAY;
/** Samples per remote-write request. */
const BATCH_SAMPLES = 10_000;

interface PeerBytes {
  /** Samples each peer received (histograms: 14 series per histogram). */
  samples: number;
  /** dirBytes: the data directory (blocks, WAL, head chunks) after a clean stop. */
  prometheus?: { dirBytes: number; snapshotBytes: number | null; loadSeconds: number };
  victoria?: { dirBytes: number; dataSizeBytes: number; loadSeconds: number };
  tallyd: { usedBytes: number; fileBytes: number };
}

interface QueryRow {
  kind: string;
  query: string;
  range: string;
  type: 'instant' | 'range';
  stepS: number;
  engines: Record<string, QueryTiming>;
}

interface KindResult {
  kind: string;
  series: number;
  tiers: Array<{ name: string; points: number; bytes: number; bytesPerPoint: number }>;
  loadSeconds: number;
  compactSeconds: number;
  commitMsPerWindow: number;
  select: Record<string, { stepMs: number; p50Ms: number; p99Ms: number }>;
  peers?: { bytes: PeerBytes; queries: QueryRow[] };
}

const RANGES: Array<[string, number]> = [['1d', DAY], ['7d', 7 * DAY], ['30d', 30 * DAY]];

/** stepFor is a Grafana-like step: about 250 points per panel, whole multiples of the window. */
function stepFor(rangeMs: number): number {
  return Math.max(RES, Math.floor(rangeMs / 250 / RES) * RES);
}

async function loadTallyd(kind: MetricKind, dir: string): Promise<Omit<KindResult, 'peers'>> {
  let clock = NOW;
  const store = (await openStore({ dataDir: dir, rawResolutionMs: RES, now: () => clock })) as LmdbStore;
  const name = metricName(kind);
  const ids: number[] = [];
  {
    const app = store.appender();
    for (let s = 0; s < perKind; s++) ids.push(app.seriesId('default', labelsFromRecord({ __name__: name, ...seriesLabels(s) }), kind));
    await app.commit();
  }
  const wl = new Workload(kind, perKind);
  const writeWindow = (app: ReturnType<typeof store.appender>, w: number): void => {
    const ts = T0 + w * RES;
    for (let s = 0; s < perKind; s++) {
      const last = jitter ? ts + jitterMs(s, w) : ts;
      if (kind === MetricKind.Counter) app.counter(ids[s]!, ts, wl.counter(), last);
      else if (kind === MetricKind.Gauge) {
        const v = wl.gauge(s);
        app.gauge(ids[s]!, ts, v, v, v, v, 1, last);
      } else app.histogram(ids[s]!, ts, wl.histogram(), last);
    }
  };
  const t0 = performance.now();
  const perCommit = 360;
  for (let w0 = 0; w0 < windows; w0 += perCommit) {
    const app = store.appender();
    for (let w = w0; w < Math.min(windows, w0 + perCommit); w++) writeWindow(app, w);
    await app.commit();
  }
  const loadSeconds = (performance.now() - t0) / 1000;
  const c0 = performance.now();
  await store.compact();
  const compactSeconds = (performance.now() - c0) / 1000;
  const tiers = store.stats().tiers.map((t: TierStats) => ({ name: t.name, points: t.points, bytes: t.bytes, bytesPerPoint: t.points > 0 ? t.bytes / t.points : 0 }));
  // Steady state: one window for every series per commit, as the pipeline flushes. (The peers
  // get only the loaded windows; these 10 more per series change nothing measurable.)
  const commits = 10;
  const s0 = performance.now();
  for (let i = 0; i < commits; i++) {
    clock = NOW + (i + 1) * RES;
    const app = store.appender();
    writeWindow(app, windows + i);
    await app.commit();
  }
  const commitMsPerWindow = (performance.now() - s0) / commits;
  const q = store.querier();
  const select: KindResult['select'] = {};
  const end = clock;
  const m = [new Matcher('=', '__name__', name)];
  for (const [label, rangeMs] of RANGES) {
    if (rangeMs > days * DAY) continue;
    const stepMs = stepFor(rangeMs);
    const lat: number[] = [];
    for (let i = 0; i < 20; i++) {
      const a = performance.now();
      const r = q.select('default', m, { startMs: end - rangeMs, endMs: end, stepMs });
      lat.push(performance.now() - a);
      if (r.floats.length + r.histograms.length === 0) throw new Error('select found nothing');
    }
    lat.sort((x, y) => x - y);
    select[label] = { stepMs, p50Ms: pct(lat, 0.5), p99Ms: pct(lat, 0.99) };
  }
  await store.close();
  return { kind: kindName(kind), series: perKind, tiers, loadSeconds, compactSeconds, commitMsPerWindow, select };
}

/** peerRows are the time series a peer receives for one kind, in the order values are laid out. */
function peerRows(kind: MetricKind): Array<Record<string, string>> {
  const name = metricName(kind);
  const rows: Array<Record<string, string>> = [];
  for (let s = 0; s < perKind; s++) {
    const l = seriesLabels(s);
    if (kind !== MetricKind.Histogram) rows.push({ __name__: name, ...l });
    else {
      for (const le of LES) rows.push({ __name__: `${name}_bucket`, le: String(le), ...l });
      rows.push({ __name__: `${name}_bucket`, le: '+Inf', ...l });
      rows.push({ __name__: `${name}_sum`, ...l });
      rows.push({ __name__: `${name}_count`, ...l });
    }
  }
  return rows;
}

/**
 * loadPeers replays the kind's windows to every peer, one request at a time per peer (Prometheus
 * refuses a series' samples older than its newest), encoding the next batch while the previous
 * one is being ingested. Returns the seconds until every peer acknowledged the last batch.
 */
async function loadPeers(kind: MetricKind, peers: Server[]): Promise<{ seconds: number; samples: number }> {
  const rows = peerRows(kind);
  const batch = new RemoteWriteBatch(rows);
  const per = rows.length / perKind;
  const k = Math.max(1, Math.floor(BATCH_SAMPLES / rows.length));
  const values = new Float64Array(rows.length * k);
  const cum = new Float64Array(rows.length);
  const ts = new Float64Array(k);
  const wl = new Workload(kind, perKind);
  const t0 = performance.now();
  let pending: Promise<unknown> = Promise.resolve();
  let samples = 0;
  for (let w0 = 0; w0 < windows; w0 += k) {
    const kk = Math.min(k, windows - w0);
    for (let i = 0; i < kk; i++) {
      ts[i] = T0 + (w0 + i) * RES;
      for (let s = 0; s < perKind; s++) {
        if (kind === MetricKind.Counter) values[s * kk + i] = cum[s] = cum[s]! + wl.counter();
        else if (kind === MetricKind.Gauge) values[s * kk + i] = wl.gauge(s);
        else {
          const h = wl.histogram();
          const r0 = s * per;
          for (let b = 0; b < LES.length; b++) values[(r0 + b) * kk + i] = cum[r0 + b] = cum[r0 + b]! + h.countLE(LES[b]!);
          values[(r0 + LES.length) * kk + i] = cum[r0 + LES.length] = cum[r0 + LES.length]! + h.count;
          values[(r0 + LES.length + 1) * kk + i] = cum[r0 + LES.length + 1] = cum[r0 + LES.length + 1]! + h.sum;
          values[(r0 + LES.length + 2) * kk + i] = cum[r0 + LES.length + 2] = cum[r0 + LES.length + 2]! + h.count;
        }
      }
    }
    const body = batch.encode(ts, kk, values, jitter ? (row, i) => jitterMs(Math.floor(row / per), w0 + i) : undefined);
    samples += rows.length * kk;
    await pending;
    pending = Promise.all(peers.map((p) => remoteWrite(`${p.url}/api/v1/write`, body)));
  }
  await pending;
  return { seconds: (performance.now() - t0) / 1000, samples };
}

/** dashboardQueries are the kind's panels: a range query at `stepS` and an instant one over `rangeS`. */
function dashboardQueries(kind: MetricKind, rangeS: number, stepS: number): Array<{ type: 'instant' | 'range'; expr: string }> {
  const name = metricName(kind);
  const win = `${Math.max(300, 2 * stepS)}s`;
  if (kind === MetricKind.Counter) {
    return [
      { type: 'range', expr: `sum by (instance) (rate(${name}[${win}]))` },
      { type: 'instant', expr: `sum by (instance) (increase(${name}[${rangeS}s]))` },
    ];
  }
  if (kind === MetricKind.Gauge) {
    return [
      { type: 'range', expr: `avg by (instance) (${name})` },
      { type: 'instant', expr: `max by (instance) (max_over_time(${name}[${rangeS}s]))` },
    ];
  }
  return [
    { type: 'range', expr: `histogram_quantile(0.95, sum by (le, instance) (rate(${name}_bucket[${win}])))` },
    { type: 'instant', expr: `histogram_quantile(0.95, sum by (le, instance) (increase(${name}_bucket[${rangeS}s])))` },
  ];
}

async function runKind(kind: MetricKind): Promise<KindResult> {
  const root = mkdtempSync(join(tmpdir(), 'tallyd-bench-storage-'));
  const storeDir = join(root, 'tallyd');
  try {
    const res: KindResult = await loadTallyd(kind, storeDir);
    const peers: Server[] = [];
    const servers: Server[] = [];
    try {
      if (!withPeers) return res;
      if (existsSync(PROMETHEUS)) peers.push(await startPrometheus(join(root, 'prometheus')));
      if (existsSync(VICTORIA)) peers.push(await startVictoria(join(root, 'victoria')));
      servers.push(...peers);
      const bytes: PeerBytes = { samples: 0, tallyd: { usedBytes: res.tiers.reduce((a, t) => a + t.bytes, 0), fileBytes: dirBytes(storeDir) } };
      {
        const reopened = (await openStore({ dataDir: storeDir, rawResolutionMs: RES, now: () => NOW })) as LmdbStore;
        bytes.tallyd.usedBytes = reopened.stats().bytes;
        await reopened.close();
      }
      if (peers.length > 0) {
        const load = await loadPeers(kind, peers);
        bytes.samples = load.samples;
        for (const p of peers) {
          if (p.name === 'prometheus') {
            await prometheusSettle(p);
            const snapshotBytes = await prometheusSnapshotBytes(p);
            rmSync(join(p.dataDir, 'snapshots'), { recursive: true, force: true });
            bytes.prometheus = { dirBytes: 0, snapshotBytes, loadSeconds: load.seconds };
          } else {
            await victoriaFlush(p);
            await new Promise((r) => setTimeout(r, 2000));
            bytes.victoria = { dirBytes: dirBytes(p.dataDir), dataSizeBytes: await victoriaDataBytes(p), loadSeconds: load.seconds };
          }
        }
      }
      servers.unshift(await startTallyd(storeDir, new URL('../src/cli.js', import.meta.url)));
      const queries: QueryRow[] = [];
      const endS = NOW / 1000;
      for (const [label, rangeMs] of RANGES) {
        if (rangeMs > days * DAY) continue;
        const stepS = stepFor(rangeMs) / 1000;
        const rangeS = rangeMs / 1000;
        for (const q of dashboardQueries(kind, rangeS, stepS)) {
          const row: QueryRow = { kind: kindName(kind), query: q.expr, range: label, type: q.type, stepS: q.type === 'range' ? stepS : 0, engines: {} };
          for (const s of servers) row.engines[s.name] = await timeQuery(s, q.expr, endS - rangeS, endS, row.stepS, runs);
          queries.push(row);
        }
      }
      res.peers = { bytes, queries };
      return res;
    } finally {
      for (const s of servers) await s.stop();
      if (res.peers?.bytes.prometheus) res.peers.bytes.prometheus.dirBytes = dirBytes(join(root, 'prometheus', 'data'));
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const results: KindResult[] = [];
for (const kind of [MetricKind.Counter, MetricKind.Gauge, MetricKind.Histogram]) if (kindsArg.includes(kindName(kind))) results.push(await runKind(kind));
console.log(`storage${jitter ? ' (jittered timestamps, 0-8 ms off the grid)' : ''}: ${days} day(s) of ${RES / 1000} s windows loaded at "now" (older than 2 d backfilled), ${perKind} series per kind, commit per hour of data`);
console.log('kind       tier      points      bytes/pt   MB');
for (const r of results) {
  for (const t of r.tiers) console.log(`${r.kind.padEnd(10)} ${t.name.padEnd(8)} ${String(t.points).padStart(10)}  ${t.bytesPerPoint.toFixed(3).padStart(10)}  ${(t.bytes / 1e6).toFixed(2).padStart(6)}`);
}
console.log('kind       load s  compact s  commit ms/window  select (all series, ~250 steps) p50/p99 ms');
for (const r of results) {
  const sel = Object.entries(r.select).map(([k, v]) => `${k}@${v.stepMs / 1000}s ${v.p50Ms.toFixed(2)}/${v.p99Ms.toFixed(2)}`).join('  ');
  console.log(`${r.kind.padEnd(10)} ${r.loadSeconds.toFixed(1).padStart(6)}  ${r.compactSeconds.toFixed(2).padStart(9)}  ${r.commitMsPerWindow.toFixed(1).padStart(16)}  ${sel}`);
}
const withPeerData = results.filter((r) => r.peers !== undefined);
if (withPeerData.length > 0) {
  const mb = (b: number | null | undefined): string => (b === null || b === undefined ? '-' : (b / 1e6).toFixed(2));
  const per = (b: number | null | undefined, n: number): string => (b === null || b === undefined || n === 0 ? '-' : (b / n).toFixed(3));
  console.log('\nbytes for the same samples (peers: raw samples only; tallyd: every tier, 30 d of raw windows kept 2 d)');
  console.log('prom dir: data directory after SIGTERM (blocks, WAL, head chunks); prom snapshot: /api/v1/admin/tsdb/snapshot incl. head (everything as blocks); vm: vm_data_size_bytes');
  console.log('kind       windows     peer samples  tallyd MB  B/window  prom dir MB  B/sample  prom snapshot B/sample  vm dir MB  vm B/sample');
  for (const r of withPeerData) {
    const b = r.peers!.bytes;
    const win = windows * r.series;
    console.log(`${r.kind.padEnd(10)} ${String(win).padStart(10)}  ${String(b.samples).padStart(12)}  ${mb(b.tallyd.usedBytes).padStart(9)}  ${per(b.tallyd.usedBytes, win).padStart(8)}  ${mb(b.prometheus?.dirBytes).padStart(11)}  ${per(b.prometheus?.dirBytes, b.samples).padStart(8)}  ${per(b.prometheus?.snapshotBytes, b.samples).padStart(22)}  ${mb(b.victoria?.dirBytes).padStart(9)}  ${per(b.victoria?.dataSizeBytes, b.samples).padStart(11)}`);
  }
  console.log('peer load (remote write, both peers fed together): ' + withPeerData.map((r) => `${r.kind} ${r.peers!.bytes.samples} samples in ${(r.peers!.bytes.prometheus?.loadSeconds ?? r.peers!.bytes.victoria?.loadSeconds ?? 0).toFixed(1)} s`).join(', '));
  console.log(`\nHTTP query latency, p50/p99 ms over ${runs} runs after one warm-up (VictoriaMetrics with nocache=1); ratio = tallyd / peer p50`);
  console.log('kind       range type     step s  tallyd            prometheus        victoria          t/prom  t/vm   series t/p/v');
  const f = (x: QueryTiming | undefined): string => (x === undefined ? '-'.padEnd(16) : `${x.p50Ms.toFixed(1)}/${x.p99Ms.toFixed(1)}`.padEnd(16));
  const ratio = (a: QueryTiming | undefined, b: QueryTiming | undefined): string => (a === undefined || b === undefined ? '-' : (a.p50Ms / b.p50Ms).toFixed(3));
  for (const r of withPeerData) {
    for (const q of r.peers!.queries) {
      const t = q.engines['tallyd'], p = q.engines['prometheus'], v = q.engines['victoria-metrics'];
      console.log(`${r.kind.padEnd(10)} ${q.range.padEnd(5)} ${q.type.padEnd(8)} ${String(q.stepS).padStart(6)}  ${f(t)}  ${f(p)}  ${f(v)}  ${ratio(t, p).padStart(6)}  ${ratio(t, v).padStart(6)}  ${[t, p, v].map((x) => x?.series ?? '-').join('/')}`);
    }
  }
  for (const r of withPeerData) for (const q of r.peers!.queries) if (q.type === 'range') console.log(`  ${r.kind} ${q.range}: ${q.query}`);
}
const outDir = new URL('./results/', import.meta.url).pathname.replace('/dist/bench/', '/bench/').replace(/\/dist-[^/]+\/bench\//, '/bench/');
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, jitter ? 'storage-jitter.json' : 'storage.json'), JSON.stringify({ scenario: 'storage', jitter, days, resolutionMs: RES, seriesPerKind: perKind, queryRuns: runs, goals: { counterGaugeBytesPerPoint: 1.0, histogramBytesPerWindow: 32, queries30dFasterThanPrometheus: 10 }, results }, null, 2));
