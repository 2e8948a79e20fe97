// The aggregation worker's apply, alone: the OTLP bench payload (bench/lib/otlp-payload.ts, half
// cumulative sums and half cumulative explicit-bucket histograms over 10k series) goes through
// this build's receiver and router once, the batches the router posts are recorded, and then
// Aggregator.apply runs over them on the main thread, so its cost per record and its garbage are
// measured without gRPC, decode or thread hops. The first cycle defines the series (warm-up);
// the timed cycles repeat the same cumulative values at the same time (the bench's steady state)
// or, with --mode=grow, move counts, add buckets and advance time within the window.
// --against=<dir> times another build's Aggregator (e.g. a worktree of main) on the same batches,
// interleaved with this one, and checks that both end with bit-identical windows and baselines.
// Run: node dist/bench/worker-apply.js [--rounds=N] [--warmup=N] [--mode=static|grow] [--against=/path/to/build]
import type { Worker } from 'node:worker_threads';
import { Aggregator } from '../src/pipeline/aggregator.js';
import type { BatchMessage, ToWorker } from '../src/pipeline/protocol.js';
import { OtlpReceiver } from '../src/ingest/otlp/receiver.js';
import { otlpType } from '../src/ingest/otlp/proto.js';
import { Pipeline } from '../src/pipeline/router.js';
import { Logger } from '../src/self/log.js';
import type { SparseHistogram } from '../src/model/hdr.js';
import { openStore } from './lib/pipeline-discard-store.js';
import { buildRequests, POINTS_PER_REQUEST, SERIES } from './lib/otlp-payload.js';
import { median } from './lib/stats.js';

const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const ROUNDS = Number(opt('rounds') ?? 9);
const MODE = opt('mode') ?? 'static';
const AGAINST = opt('against');
const WARMUP = Number(opt('warmup') ?? 3);
const CYCLES = MODE === 'grow' ? ROUNDS + 1 : 2;

type Applier = { apply(m: BatchMessage): void; slots: Aggregator['slots'] };
type AggregatorClass = new (...args: ConstructorParameters<typeof Aggregator>) => Applier;

/** requestsFor returns the payload's requests for `cycles` passes over every series. */
function requestsFor(now: number): Buffer[][] {
  const base = buildRequests((2 * SERIES) / POINTS_PER_REQUEST, now);
  if (MODE !== 'grow') return Array.from({ length: CYCLES }, () => base);
  const Req = otlpType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest');
  const out: Buffer[][] = [];
  for (let c = 0; c < CYCLES; c++) {
    out.push(base.map((r) => {
      const o = Req.toObject(Req.decode(r), { longs: String }) as { resourceMetrics: Array<{ scopeMetrics: Array<{ metrics: Array<Record<string, { dataPoints: Array<Record<string, unknown>> }>> }> }> };
      for (const rm of o.resourceMetrics) for (const sm of rm.scopeMetrics) for (const m of sm.metrics) {
        const sum = m['sum'], hist = m['histogram'];
        for (const p of (sum ?? hist)!.dataPoints) {
          p['timeUnixNano'] = String(BigInt(now + c) * 1_000_000n);
          if (sum) p['asInt'] = String(Number(p['asInt']) + c * 7);
          else {
            // Counts grow; a bucket that was empty fills in some cycles (its layout changes).
            const counts = (p['bucketCounts'] as string[]).map((x, i) => Number(x) * (c + 1) + ((c * i) % 3));
            p['bucketCounts'] = counts.map(String);
            p['count'] = String(counts.reduce((a, b) => a + b, 0));
            p['sum'] = 12.5 * (c + 1);
          }
        }
      }
      return Buffer.from(Req.encode(Req.fromObject(o)).finish());
    }));
  }
  return out;
}

/** record feeds the payload through a router and returns the batches it posted, cycle by cycle. */
async function record(): Promise<BatchMessage[][]> {
  const pipeline = new Pipeline({
    store: { dataDir: '/nonexistent', rawResolutionMs: 10_000 },
    storeModule: new URL('./lib/pipeline-discard-store.js', import.meta.url).href,
    workers: 1, flushIntervalMs: 0, postDelayMs: 0, logger: new Logger('error', {}, () => undefined),
  });
  await pipeline.start();
  let cycle: BatchMessage[] = [];
  const worker = (pipeline as unknown as { workers: Worker[] }).workers[0]!;
  const post = worker.postMessage.bind(worker);
  worker.postMessage = (msg: ToWorker, transfer?: readonly ArrayBuffer[]) => {
    // Copies: the originals are transferred to the (idle) worker.
    if (msg.t === 'batch') cycle.push({ ...msg, defs: structuredClone(msg.defs), buf: msg.buf.slice(0), side: msg.side ? msg.side.slice(0) : null });
    post(msg, transfer as ArrayBuffer[]);
  };
  const rx = new OtlpReceiver({ sink: pipeline });
  const cycles: BatchMessage[][] = [];
  for (const requests of requestsFor(Date.now())) {
    for (const r of requests) rx.exportMetrics(r, 'grpc');
    (pipeline as unknown as { postAll(): void }).postAll();
    cycles.push(cycle);
    cycle = [];
  }
  await pipeline.close();
  return cycles;
}

async function make(cls: AggregatorClass, warm: BatchMessage[]): Promise<Applier> {
  const agg = new cls(await openStore({ dataDir: '/nonexistent', rawResolutionMs: 10_000 }), { seriesTtlMs: 3_600_000, restoreLookbackMs: 3_600_000 });
  for (const m of warm) agg.apply(m);
  return agg;
}

function records(batches: BatchMessage[]): number {
  let n = 0;
  for (const m of batches) n += m.n;
  return n;
}

function bits(x: number): string {
  return new BigUint64Array(new Float64Array([x]).buffer)[0]!.toString(16);
}

function histText(h: SparseHistogram | null | undefined): string {
  if (!h) return '-';
  return [h.size, h.count, h.sum, h.min, h.max].map(bits).join(',') + '|' + Array.from(h.indices.subarray(0, h.size)).join(',') + '|' +
    Array.from(h.counts.subarray(0, h.size), bits).join(',') + '|' + (h.bounds ? Array.from(h.bounds, bits).join(',') : '-') + '|' + (h.classicCounts ? Array.from(h.classicCounts, bits).join(',') : '-');
}

/** state spells every slot's windows, baseline and live values bit for bit. */
function state(agg: Applier): string[] {
  return agg.slots.map((s) => s === undefined ? '' : [
    s.windows.map((w) => [w.start, bits(w.t), bits(w.raw), bits(w.sum), histText(w.h)].join('/')).join(';'),
    s.classic ? Array.from(s.classic, bits).join(',') : '-', s.stream ? bits(s.stream.value) + '/' + histText(s.stream.h) : '-', bits(s.total),
  ].join('#'));
}

async function main(): Promise<void> {
  const cycles = await record();
  const warm = cycles[0]!;
  const timed = cycles.slice(1);
  const builds: Array<[string, AggregatorClass]> = [['this build', Aggregator as AggregatorClass]];
  if (AGAINST) builds.unshift(['against', ((await import(new URL(`file://${AGAINST}/dist/src/pipeline/aggregator.js`).href)) as { Aggregator: AggregatorClass }).Aggregator]);
  // A throwaway instance each first: the first aggregator made in a process runs slower (its
  // objects are spread among the recording's garbage), which would favour whichever comes second.
  for (const [, cls] of builds) await make(cls, warm);
  const aggs: Applier[] = [];
  for (const [, cls] of builds) aggs.push(await make(cls, warm));
  // Static mode repeats one cycle, so it can also be applied untimed until the code is optimised.
  if (MODE !== 'grow') for (let r = 0; r < WARMUP; r++) for (const agg of aggs) for (const m of timed[0]!) agg.apply(m);
  const ns: number[][] = builds.map(() => []);
  const bytes: number[][] = builds.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    const batches = MODE === 'grow' ? timed[r]! : timed[0]!;
    const n = records(batches);
    const order = r % 2 === 0 ? builds.map((_, i) => i) : builds.map((_, i) => i).reverse();
    for (const b of order) {
      const h0 = process.memoryUsage().heapUsed;
      const t0 = process.hrtime.bigint();
      for (const m of batches) aggs[b]!.apply(m);
      ns[b]!.push(Number(process.hrtime.bigint() - t0) / n);
      bytes[b]!.push((process.memoryUsage().heapUsed - h0) / n);
    }
  }
  console.log(`worker apply, ${MODE} mode: ${records(timed[0]!)} records a round (half histograms), ${ROUNDS} rounds`);
  builds.forEach(([name], b) => {
    console.log(`${name.padEnd(10)} ns/record median ${median(ns[b]!).toFixed(1)} [${ns[b]!.map((x) => x.toFixed(0)).join(' ')}]; heap growth bytes/record median ${median(bytes[b]!).toFixed(1)}`);
  });
  if (AGAINST) {
    console.log(`ratio this build / against: ${(median(ns[1]!) / median(ns[0]!)).toFixed(3)}`);
    const a = state(aggs[0]!), b = state(aggs[1]!);
    let differ = 0;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) differ++;
    console.log(`exactness: ${differ} of ${a.length} series differ between the builds`);
    if (differ > 0) process.exitCode = 1;
  }
}

await main();
process.exit();
