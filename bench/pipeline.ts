// Aggregation pipeline throughput and memory: records/s through router → workers → window
// aggregation (with a store that discards), for counters and histograms over 10k series, and
// RSS per active series at 100k series and per further series from 300k to 500k. Each RSS figure
// is measured in a fresh child process.
// Run: node dist/bench/pipeline.js [--records=N] [--workers=N]
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { labelsFromRecord } from '../src/model/labels.js';
import { MetricKind } from '../src/model/metric-kind.js';
import { Pipeline } from '../src/pipeline/router.js';
import type { PipelineOptions } from '../src/pipeline/options.js';
import { Logger } from '../src/self/log.js';

const arg = (name: string, dflt: number): number => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.slice(name.length + 3)) : dflt;
};
const RECORDS = arg('records', 2_000_000);
const WORKERS = arg('workers', Math.max(1, Math.min(4, availableParallelism() - 1)));
const STORE = new URL('./lib/pipeline-discard-store.js', import.meta.url).href;

function open(limits?: PipelineOptions['limits']): Pipeline {
  return new Pipeline({
    limits,
    store: { dataDir: '/nonexistent', rawResolutionMs: 10_000 },
    storeModule: STORE,
    workers: WORKERS,
    flushIntervalMs: 0,
    logger: new Logger('error', {}, () => undefined),
  });
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

async function drain(p: Pipeline): Promise<void> {
  p.flush();
  for (;;) {
    let n = 0;
    for (let w = 0; w < WORKERS; w++) n += p.inFlightBatches(w);
    if (n === 0) return;
    await new Promise((r) => setTimeout(r, 1));
  }
}

function makeSeries(p: Pipeline, n: number, kind: MetricKind, from = 0): number[] {
  const refs: number[] = [];
  const name = kind === MetricKind.Counter ? 'bench_requests_total' : 'bench_latency_seconds';
  for (let i = from; i < from + n; i++) {
    refs.push(p.series('default', labelsFromRecord({ __name__: name, route: `/api/v1/r${i % 100}`, instance: `host-${Math.floor(i / 100)}` }), kind));
  }
  return refs;
}

async function throughput(kind: MetricKind): Promise<{ recordsPerSec: number; seconds: number; cpuUserMs: number }> {
  const p = open();
  await p.start();
  const refs = makeSeries(p, 10_000, kind);
  const ts = Date.now();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let i = 0;
  while (i < RECORDS) {
    // A producer that honours backpressure, as the listeners do: 1000 records per "packet".
    if (!p.accepting()) {
      await tick();
      continue;
    }
    const end = Math.min(RECORDS, i + 1000);
    if (kind === MetricKind.Counter) for (; i < end; i++) p.counter(refs[i % 10_000]!, 1, ts);
    else for (; i < end; i++) p.observe(refs[i % 10_000]!, 0.001 * ((i * 7919) % 5000), 1, ts);
    p.flush();
  }
  await drain(p);
  await p.flushNow();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await p.close();
  return { recordsPerSec: RECORDS / seconds, seconds, cpuUserMs: cpu.user / 1000 };
}

/**
 * rssChild measures RSS for active series of one kind (run in a fresh process): the growth from
 * a warm 1k-series pipeline to 100k series (per series), the growth from an idle pipeline to 100k
 * series, and the marginal cost per series from 300k to 500k. The second includes what V8
 * grows once whatever the series count (the main isolate's young generation, up to ~34 MB
 * committed, and pages left by the burst of definitions); the third is what each further series
 * costs once those are paid. The pipeline is opened with its defaults, as the daemon opens it,
 * so the aggregation workers run with the young-generation cap the daemon's run with
 * (PipelineOptions.workerYoungGenerationMb).
 */
async function rssChild(kindName: string): Promise<void> {
  const kind = kindName === 'counter' ? MetricKind.Counter : MetricKind.Histogram;
  // Limits raised: 500k series of one metric is past the default per-metric limit.
  const p = open({ maxSeriesPerMetric: 10_000_000, maxSeriesPerTenant: 10_000_000 });
  await p.start();
  // The main thread's heap (used and committed) is sampled with RSS, so the main thread's share
  // of the growth (router, series map, its young generation) can be told from the worker's.
  const heap: Array<{ used: number; total: number }> = [];
  const settle = async (ms: number): Promise<number> => {
    globalThis.gc?.();
    await new Promise((r) => setTimeout(r, ms));
    globalThis.gc?.();
    const m = process.memoryUsage();
    heap.push({ used: m.heapUsed, total: m.heapTotal });
    return m.rss;
  };
  const before = await settle(100);
  const refs: number[] = [];
  const ts = Date.now();
  const grow = async (n: number, rounds = 10): Promise<number> => {
    for (const r of makeSeries(p, n - refs.length, kind, refs.length)) refs.push(r);
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < refs.length; i++) {
        if (kind === MetricKind.Counter) p.counter(refs[i]!, 1, ts);
        else p.observe(refs[i]!, 0.001 * (((i + round) * 7919) % 5000), 1, ts);
        if ((i & 1023) === 0) {
          p.flush();
          while (!p.accepting()) await new Promise((r) => setTimeout(r, 1));
        }
      }
    }
    await drain(p);
    return settle(500);
  };
  // A warm baseline: 1k series fed the same 1M records the 100k step gets, so each isolate's
  // young generation has grown to its working size under that ingest rate (what a daemon with
  // few series and the same traffic holds too); growth from it to 100k is what the series cost.
  const warm1k = await grow(1_000, 1_000);
  const at100k = await grow(100_000);
  const at300k = await grow(300_000);
  const at500k = await grow(500_000);
  await p.close();
  process.stdout.write(JSON.stringify({
    kind: kindName, series: 100_000, rssBytes: at100k - before, bytesPerSeries: (at100k - before) / 100_000,
    warmBaselineBytes: warm1k - before, bytesPerSeriesFromWarm: (at100k - warm1k) / 99_000,
    marginalBytesPerSeries: (at500k - at300k) / 200_000, rssAt300k: at300k - before, rssAt500k: at500k - before,
    // heap[1] is the warm baseline, heap[2] 100k series.
    mainHeapUsedPerSeriesFromWarm: (heap[2]!.used - heap[1]!.used) / 99_000, mainHeapTotalPerSeriesFromWarm: (heap[2]!.total - heap[1]!.total) / 99_000,
  }) + '\n');
}

async function main(): Promise<void> {
  const rssArg = process.argv.find((x) => x.startsWith('--rss='));
  if (rssArg) return rssChild(rssArg.slice(6));
  const results: Record<string, unknown> = { workers: WORKERS, records: RECORDS, series: 10_000 };
  const rows: string[][] = [];
  for (const [label, kind] of [['counter', MetricKind.Counter], ['histogram', MetricKind.Histogram]] as const) {
    const r = await throughput(kind);
    results[`${label}_throughput`] = r;
    rows.push([`${label} records/s (10k series)`, Math.round(r.recordsPerSec).toLocaleString('en'), `${r.seconds.toFixed(2)} s, process CPU (all threads) ${Math.round(r.cpuUserMs)} ms`]);
  }
  for (const kind of ['counter', 'histogram']) {
    const child = spawnSync(process.execPath, ['--expose-gc', new URL(import.meta.url).pathname, `--rss=${kind}`, `--workers=${WORKERS}`], { encoding: 'utf8' });
    const line = child.stdout.trim().split('\n').pop() ?? '{}';
    const r = JSON.parse(line) as { bytesPerSeries?: number; bytesPerSeriesFromWarm?: number; warmBaselineBytes?: number; marginalBytesPerSeries?: number; mainHeapUsedPerSeriesFromWarm?: number; mainHeapTotalPerSeriesFromWarm?: number };
    results[`${kind}_rss`] = r;
    rows.push([`${kind} RSS per active series (100k)`, `${Math.round(r.bytesPerSeriesFromWarm ?? NaN)} B`, `growth from 1k to 100k series, both under the same 1M-record load (the 1k warm-up itself grew RSS ${((r.warmBaselineBytes ?? NaN) / 1e6).toFixed(1)} MB)`]);
    rows.push([`${kind} main-thread heap per series (1k to 100k), used / committed`, `${Math.round(r.mainHeapUsedPerSeriesFromWarm ?? NaN)} / ${Math.round(r.mainHeapTotalPerSeriesFromWarm ?? NaN)} B`, 'part of the RSS figure above; committed beyond used is mostly the main isolate\'s young generation growing during the burst of definitions']);
    rows.push([`${kind} RSS growth from an idle pipeline to 100k series, per series`, `${Math.round(r.bytesPerSeries ?? NaN)} B`, 'includes the fixed growth of a busy pipeline']);
    rows.push([`${kind} RSS per further series (300k to 500k)`, `${Math.round(r.marginalBytesPerSeries ?? NaN)} B`, 'once V8\'s fixed growth is paid']);
  }
  console.log('| scenario | value | note |\n|---|---|---|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  // Compiled to <outDir>/bench/pipeline.js; results go to the source tree's bench/results/.
  const dir = new URL('../../bench/results/', import.meta.url).pathname;
  mkdirSync(dir, { recursive: true });
  writeFileSync(dir + 'pipeline.json', JSON.stringify({ at: new Date().toISOString(), ...results }, null, 2));
}

await main();
