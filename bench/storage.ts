/**
 * Storage benchmark: loads N days of 10 s windows for ~1k series (counters with random integer
 * increments, random-walk integer gauges, histograms of ~5 latency observations per window)
 * through the Appender, one commit per hour of data, each kind into its own directory so the
 * chunk table's used pages are that kind's bytes. Reports bytes per stored point (LMDB used
 * pages: branch + leaf + overflow, not file size), load time, the cost of a steady-state commit
 * of one window for every series (what the pipeline does each flush), and select() latency.
 *
 *   node dist/bench/storage.js [--days 1] [--series 1000]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SparseHistogram } from '../src/model/hdr.js';
import { labelsFromRecord } from '../src/model/labels.js';
import { Matcher } from '../src/model/matcher.js';
import { MetricKind } from '../src/model/metric-kind.js';
import type { LmdbStore } from '../src/store/lmdb-store.js';
import { openStore } from '../src/store/open.js';

const args = process.argv.slice(2);
const arg = (name: string, dflt: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const days = arg('--days', 1);
const totalSeries = arg('--series', 1000);
const RES = 10_000;
const windows = Math.round((days * 86_400_000) / RES);
const perKind = Math.round(totalSeries / 3);
const T0 = Math.floor(Date.now() / 86_400_000) * 86_400_000 - days * 86_400_000;

let seed = 12345;
function rnd(): number {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  return seed / 4294967296;
}
function normal(): number {
  return Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

interface KindResult {
  kind: string;
  series: number;
  points: number;
  chunkBytes: number;
  bytesPerPoint: number;
  indexBytes: number;
  loadSeconds: number;
  commitMsPerWindow: number;
  select: Record<string, { p50Ms: number; p99Ms: number }>;
}

async function runKind(kind: MetricKind): Promise<KindResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tallyd-bench-storage-'));
  const store = (await openStore({ dataDir: dir, rawResolutionMs: RES })) as LmdbStore;
  const name = kind === MetricKind.Counter ? 'bench_requests_total' : kind === MetricKind.Gauge ? 'bench_queue_depth' : 'bench_latency_seconds';
  const ids: number[] = [];
  {
    const app = store.appender();
    for (let s = 0; s < perKind; s++) ids.push(app.seriesId('default', labelsFromRecord({ __name__: name, instance: `host-${s % 50}`, series: String(s) }), kind));
    await app.commit();
  }
  const gauges = new Float64Array(perKind).fill(1000);
  const writeWindow = (app: ReturnType<typeof store.appender>, w: number): void => {
    const ts = T0 + w * RES;
    for (let s = 0; s < perKind; s++) {
      if (kind === MetricKind.Counter) app.counter(ids[s]!, ts, Math.floor(rnd() * 100));
      else if (kind === MetricKind.Gauge) {
        const v = (gauges[s] = gauges[s]! + Math.floor(rnd() * 21) - 10);
        app.gauge(ids[s]!, ts, v, v, v, v, 1);
      } else {
        const h = new SparseHistogram(8);
        const n = 3 + Math.floor(rnd() * 5);
        for (let i = 0; i < n; i++) h.record(Math.round(Math.exp(-3 + 0.8 * normal()) * 1e6) / 1e6);
        app.histogram(ids[s]!, ts, h);
      }
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
  const stats = store.stats();
  const tb = store.tableBytes();
  const points = stats.tiers[0]!.points;
  // Steady state: one window for every series per commit, as the pipeline flushes.
  const commits = 10;
  const c0 = performance.now();
  for (let i = 0; i < commits; i++) {
    const app = store.appender();
    writeWindow(app, windows + i);
    await app.commit();
  }
  const commitMsPerWindow = (performance.now() - c0) / commits;
  const q = store.querier();
  const select: KindResult['select'] = {};
  const end = T0 + windows * RES;
  for (const [label, rangeMs] of [['1h', 3_600_000], ['1d', 86_400_000]] as const) {
    const lat: number[] = [];
    for (let i = 0; i < 60; i++) {
      const s = Math.floor(rnd() * perKind);
      const m = [new Matcher('=', '__name__', name), new Matcher('=', 'series', String(s))];
      const a = performance.now();
      const r = q.select('default', m, { startMs: end - rangeMs, endMs: end });
      lat.push(performance.now() - a);
      if (r.floats.length + r.histograms.length === 0) throw new Error('select found nothing');
    }
    lat.sort((x, y) => x - y);
    select[label] = { p50Ms: pct(lat, 0.5), p99Ms: pct(lat, 0.99) };
  }
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    kind: kind === MetricKind.Counter ? 'counter' : kind === MetricKind.Gauge ? 'gauge' : 'histogram',
    series: perKind,
    points,
    chunkBytes: tb.chunks!,
    bytesPerPoint: tb.chunks! / points,
    indexBytes: tb.series! + tb.records! + tb.postings!,
    loadSeconds,
    commitMsPerWindow,
    select,
  };
}

const results: KindResult[] = [];
for (const kind of [MetricKind.Counter, MetricKind.Gauge, MetricKind.Histogram]) results.push(await runKind(kind));
console.log(`storage: ${days} day(s) of ${RES / 1000} s windows, ${perKind} series per kind, commit per hour of data`);
console.log('kind       points      bytes/pt  chunk MB  index KB  load s  commit ms/window  select 1h p50/p99 ms  select 1d p50/p99 ms');
for (const r of results) {
  console.log(
    `${r.kind.padEnd(10)} ${String(r.points).padStart(10)}  ${r.bytesPerPoint.toFixed(3).padStart(8)}  ${(r.chunkBytes / 1e6).toFixed(2).padStart(8)}  ${(r.indexBytes / 1e3).toFixed(0).padStart(8)}  ${r.loadSeconds.toFixed(1).padStart(6)}  ${r.commitMsPerWindow.toFixed(1).padStart(16)}  ${r.select['1h']!.p50Ms.toFixed(2)}/${r.select['1h']!.p99Ms.toFixed(2)}`.padEnd(110) +
      `  ${r.select['1d']!.p50Ms.toFixed(2)}/${r.select['1d']!.p99Ms.toFixed(2)}`,
  );
}
const outDir = new URL('./results/', import.meta.url).pathname.replace('/dist/bench/', '/bench/').replace(/\/dist-[^/]+\/bench\//, '/bench/');
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'storage.json'), JSON.stringify({ scenario: 'storage', days, resolutionMs: RES, seriesPerKind: perKind, goals: { counterGaugeBytesPerPoint: 1.0, histogramBytesPerWindow: 32 }, results }, null, 2));
