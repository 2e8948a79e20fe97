// OTLP/gRPC ingest throughput: pre-encoded export requests (1,000 points, 5 attributes each, sums
// and histograms, 10k series) sent by a child process over 4 concurrent gRPC channels to an
// in-process receiver pushing into the real pipeline (discarding store) or, with --sink=count,
// a sink that interns and counts. Reports acknowledged points/s, server CPU µs per point and RSS,
// and in the same run the decode-only rate of the hand-written walker vs plain protobufjs.
// Run: node dist/bench/otlp.js [--quick] [--seconds=N] [--streams=N] [--sink=pipeline|count] [--decode-seconds=N]
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { ACCEPTED, type IngestSink, type Verdict } from '../src/ingest/sink.js';
import { labelsKey, type Labels } from '../src/model/labels.js';
import { startOtlpGrpc } from '../src/ingest/otlp/grpc.js';
import { OtlpReceiver } from '../src/ingest/otlp/receiver.js';
import { otlpType } from '../src/ingest/otlp/proto.js';
import { Pipeline } from '../src/pipeline/router.js';
import { Logger } from '../src/self/log.js';
import { buildRequests, POINTS_PER_REQUEST, SERIES } from './lib/otlp-payload.js';

const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const QUICK = argv.includes('--quick');
const SECONDS = Number(opt('seconds') ?? (QUICK ? 3 : 15));
const STREAMS = Number(opt('streams') ?? 4);
const SINK = opt('sink') ?? 'pipeline';

/** CountingSink interns series by labels and counts samples per ref: the minimum real work. */
class CountingSink implements IngestSink {
  private readonly refs = new Map<string, number>();
  counts = new Float64Array(1 << 16);
  samples = 0;
  series(tenant: string, labels: Labels): number {
    const k = tenant + labelsKey(labels);
    let r = this.refs.get(k);
    if (r === undefined) this.refs.set(k, (r = this.refs.size));
    return r;
  }
  private add(ref: number): Verdict { this.counts[ref & 0xffff]! += 1; this.samples++; return ACCEPTED; }
  counter(ref: number): Verdict { return this.add(ref); }
  counterCumulative(ref: number): Verdict { return this.add(ref); }
  gaugeSet(ref: number): Verdict { return this.add(ref); }
  gaugeAdd(ref: number): Verdict { return this.add(ref); }
  observe(ref: number): Verdict { return this.add(ref); }
  setMember(ref: number): Verdict { return this.add(ref); }
  histogram(ref: number): Verdict { return this.add(ref); }
  histogramCumulative(ref: number): Verdict { return this.add(ref); }
  flush(): void {}
  accepting(): boolean { return true; }
}

/**
 * threadTicks reads each thread's user+system CPU (clock ticks of 10 ms) from /proc, so the
 * report can say whether the main thread (decode, route) or the aggregation workers bound the run.
 */
function threadTicks(): Map<string, { name: string; ticks: number }> {
  const out = new Map<string, { name: string; ticks: number }>();
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const name = stat.slice(stat.indexOf('(') + 1, close);
      const f = stat.slice(close + 2).split(' ');
      out.set(tid, { name, ticks: Number(f[11]) + Number(f[12]) });
    }
  } catch {
    // Not Linux: the per-thread split is left out.
  }
  return out;
}

/**
 * cpuSplit is CPU µs per point of the main thread (decode, route) and of every other thread: the
 * aggregation workers, plus V8's GC and compiler helpers, which share the name "node".
 */
function cpuSplit(before: Map<string, { name: string; ticks: number }>, points: number): { main: number; busiestOther: number; otherThreads: number } {
  const main = String(process.pid);
  let m = 0, others = 0, busiest = 0;
  for (const [tid, t] of threadTicks()) {
    const d = (t.ticks - (before.get(tid)?.ticks ?? 0)) * 10_000;
    if (tid === main) m += d;
    else {
      others += d;
      busiest = Math.max(busiest, d);
    }
  }
  const per = (us: number): number => Number((us / Math.max(1, points)).toFixed(3));
  return { main: per(m), busiestOther: per(busiest), otherThreads: per(others) };
}

function decodeRate(label: string, requests: Buffer[], seconds: number, fn: (b: Buffer) => void): number {
  for (let i = 0; i < 20; i++) fn(requests[i % requests.length]!);
  const t0 = process.hrtime.bigint();
  let points = 0;
  for (let i = 0; ; i++) {
    fn(requests[i % requests.length]!);
    points += POINTS_PER_REQUEST;
    if ((i & 15) === 15 && Number(process.hrtime.bigint() - t0) / 1e9 >= seconds) break;
  }
  const rate = points / (Number(process.hrtime.bigint() - t0) / 1e9);
  console.log(`${label.padEnd(44)} ${Math.round(rate).toLocaleString('en-US').padStart(12)} points/s`);
  return rate;
}

async function main(): Promise<void> {
  const now = Date.now();
  const requests = buildRequests((2 * SERIES) / POINTS_PER_REQUEST, now);
  console.log(`payload: ${requests.length} requests of ${POINTS_PER_REQUEST} points, ${Math.round(requests[0]!.length / 1024)} KiB each, ${SERIES} series`);

  // Decode-only comparison, single core, same payload.
  const Req = otlpType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest');
  // --decode-seconds=0 skips it (e.g. to profile only the gRPC run); ratios are then NaN.
  const decodeSeconds = Number(opt('decode-seconds') ?? (QUICK ? 1 : 3));
  let pbjs = NaN, walker = NaN;
  if (decodeSeconds > 0) {
    pbjs = decodeRate('protobufjs decode (plain objects)', requests, decodeSeconds, (b) => void Req.decode(b));
    const rx = new OtlpReceiver({ sink: new CountingSink() });
    walker = decodeRate('tallyd walker → interning counting sink', requests, decodeSeconds, (b) => void rx.exportMetrics(b, 'grpc'));
  }

  let pipeline: Pipeline | null = null;
  let sink: IngestSink = new CountingSink();
  if (SINK === 'pipeline') {
    pipeline = new Pipeline({
      store: { dataDir: '/nonexistent', rawResolutionMs: 10_000 },
      storeModule: new URL('./lib/pipeline-discard-store.js', import.meta.url).href,
      workers: Math.max(1, Math.min(4, availableParallelism() - 1)),
      flushIntervalMs: 0,
      logger: new Logger('error', {}, () => undefined),
    });
    await pipeline.start();
    sink = pipeline;
  }
  const server = await startOtlpGrpc({ address: '127.0.0.1:0', ephemeral: true, sink });
  const child = spawn(process.execPath, [new URL('./lib/otlp-client.js', import.meta.url).pathname, server.address!, String(SECONDS), String(STREAMS), String(now)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let started: (() => void) | null = null;
  const ready = new Promise<void>((r) => (started = r));
  child.stdout!.on('data', (d) => {
    out += d;
    if (out.includes('ready\n') && started) { started(); started = null; }
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await ready;
  const cpu0 = process.cpuUsage();
  const ticks0 = threadTicks();
  const t0 = process.hrtime.bigint();
  let rssMax = 0;
  const sampler = setInterval(() => { rssMax = Math.max(rssMax, process.memoryUsage().rss); }, 200);
  await exited;
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sampler);
  const res = JSON.parse(out.trim().split('\n').pop()!) as { acked: number; unavailable: number; errors: number; cpuUs: number };
  const split = cpuSplit(ticks0, res.acked);
  await server.close();
  if (pipeline) await pipeline.close();
  const rate = res.acked / elapsed;
  const cpuUsPerPoint = (cpu.user + cpu.system) / Math.max(1, res.acked);
  const result = {
    scenario: 'otlp', sink: SINK, seconds: SECONDS, streams: STREAMS, pointsPerRequest: POINTS_PER_REQUEST, series: SERIES,
    requestBytes: requests[0]!.length,
    ackedPointsPerSec: Math.round(rate), refusedUnavailablePoints: res.unavailable, errorPoints: res.errors,
    serverCpuUsPerPoint: Number(cpuUsPerPoint.toFixed(3)), serverCpuUsPerPointByThread: split,
    clientCpuUsPerPoint: Number((res.cpuUs / Math.max(1, res.acked)).toFixed(3)), rssMaxMiB: Math.round(rssMax / 1048576),
    decodeOnly: { protobufjsPointsPerSec: Math.round(pbjs), walkerPointsPerSec: Math.round(walker), ratio: Number((walker / pbjs).toFixed(2)) },
    pipelineVsProtobufjsDecode: Number((rate / pbjs).toFixed(2)),
    cores: availableParallelism(), node: process.version, at: new Date().toISOString(),
  };
  console.log(`gRPC ingest (${SINK} sink, ${STREAMS} streams, ${SECONDS}s)`.padEnd(44), `${Math.round(rate).toLocaleString('en-US').padStart(12)} points/s acknowledged`);
  console.log(`server CPU per point: ${cpuUsPerPoint.toFixed(3)} µs; max RSS ${result.rssMaxMiB} MiB; UNAVAILABLE ${res.unavailable} points, errors ${res.errors}`);
  console.log(`  by thread: main ${split.main} µs, other threads ${split.otherThreads} µs (busiest, a worker: ${split.busiestOther} µs); load generator ${result.clientCpuUsPerPoint} µs per point`);
  console.log(`ratio walker/protobufjs decode: ${result.decodeOnly.ratio}x; whole gRPC pipeline / protobufjs decode: ${result.pipelineVsProtobufjsDecode}x`);
  mkdirSync(new URL('../../bench/results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('../../bench/results/otlp.json', import.meta.url), JSON.stringify(result, null, 2) + '\n');
}

await main();
