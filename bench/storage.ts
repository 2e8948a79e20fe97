/**
 * Storage benchmark: loads N days of 10 s windows for ~1k series (counters with random integer
 * increments, random-walk integer gauges, histograms of ~5 latency observations per window)
 * through the Appender with the store's clock at "now", so windows older than the raw tier's
 * 2 days take the backfill path into the rollup tiers, one commit per hour of data, each kind in
 * its own directory. Then runs compaction and reports per tier the stored points and bytes per
 * point (chunk values in whole pages, from Store.stats()), load and compaction time, the cost of a
 * steady-state commit of one window for every series, and select() latency of dashboard-like
 * reads (every series of the metric at ~250 steps) over 1, 7 and 30 days.
 *
 *   node dist/bench/storage.js [--days 30] [--series 1000] [--quick]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SparseHistogram } from '../src/model/hdr.js';
import { labelsFromRecord } from '../src/model/labels.js';
import { Matcher } from '../src/model/matcher.js';
import { MetricKind } from '../src/model/metric-kind.js';
import type { TierStats } from '../src/store/interface.js';
import type { LmdbStore } from '../src/store/lmdb-store.js';
import { openStore } from '../src/store/open.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const arg = (name: string, dflt: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const days = arg('--days', quick ? 4 : 30);
const totalSeries = arg('--series', quick ? 150 : 1000);
const RES = 10_000;
const DAY = 86_400_000;
const windows = Math.round((days * DAY) / RES);
const perKind = Math.round(totalSeries / 3);
const NOW = Math.floor(Date.now() / RES) * RES;
const T0 = NOW - days * DAY;

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
  tiers: Array<{ name: string; points: number; bytes: number; bytesPerPoint: number }>;
  loadSeconds: number;
  compactSeconds: number;
  commitMsPerWindow: number;
  select: Record<string, { stepMs: number; p50Ms: number; p99Ms: number }>;
}

async function runKind(kind: MetricKind): Promise<KindResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tallyd-bench-storage-'));
  let clock = NOW;
  const store = (await openStore({ dataDir: dir, rawResolutionMs: RES, now: () => clock })) as LmdbStore;
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
  const c0 = performance.now();
  await store.compact();
  const compactSeconds = (performance.now() - c0) / 1000;
  const tiers = store.stats().tiers.map((t: TierStats) => ({ name: t.name, points: t.points, bytes: t.bytes, bytesPerPoint: t.points > 0 ? t.bytes / t.points : 0 }));
  // Steady state: one window for every series per commit, as the pipeline flushes.
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
  for (const [label, rangeMs] of [['1d', DAY], ['7d', 7 * DAY], ['30d', 30 * DAY]] as const) {
    if (rangeMs > days * DAY) continue;
    // Grafana-like: about 250 points per panel.
    const stepMs = Math.max(RES, Math.floor(rangeMs / 250 / RES) * RES);
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
  rmSync(dir, { recursive: true, force: true });
  return {
    kind: kind === MetricKind.Counter ? 'counter' : kind === MetricKind.Gauge ? 'gauge' : 'histogram',
    series: perKind,
    tiers,
    loadSeconds,
    compactSeconds,
    commitMsPerWindow,
    select,
  };
}

const results: KindResult[] = [];
for (const kind of [MetricKind.Counter, MetricKind.Gauge, MetricKind.Histogram]) results.push(await runKind(kind));
console.log(`storage: ${days} day(s) of ${RES / 1000} s windows loaded at "now" (older than 2 d backfilled), ${perKind} series per kind, commit per hour of data`);
console.log('kind       tier      points      bytes/pt   MB');
for (const r of results) {
  for (const t of r.tiers) console.log(`${r.kind.padEnd(10)} ${t.name.padEnd(8)} ${String(t.points).padStart(10)}  ${t.bytesPerPoint.toFixed(3).padStart(10)}  ${(t.bytes / 1e6).toFixed(2).padStart(6)}`);
}
console.log('kind       load s  compact s  commit ms/window  select (all series, ~250 steps) p50/p99 ms');
for (const r of results) {
  const sel = Object.entries(r.select).map(([k, v]) => `${k}@${v.stepMs / 1000}s ${v.p50Ms.toFixed(2)}/${v.p99Ms.toFixed(2)}`).join('  ');
  console.log(`${r.kind.padEnd(10)} ${r.loadSeconds.toFixed(1).padStart(6)}  ${r.compactSeconds.toFixed(2).padStart(9)}  ${r.commitMsPerWindow.toFixed(1).padStart(16)}  ${sel}`);
}
const outDir = new URL('./results/', import.meta.url).pathname.replace('/dist/bench/', '/bench/').replace(/\/dist-[^/]+\/bench\//, '/bench/');
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'storage.json'), JSON.stringify({ scenario: 'storage', days, resolutionMs: RES, seriesPerKind: perKind, goals: { counterGaugeBytesPerPoint: 1.0, histogramBytesPerWindow: 32 }, results }, null, 2));
