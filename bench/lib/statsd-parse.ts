// In-memory StatsD parser throughput and allocations: 20 lines a packet over ~10k distinct series,
// plain and DogStatsD-tagged, against a naive string-splitting parser with a Map keyed by
// per-line strings (the approach the byte parser replaces). Run with --expose-gc (and
// --max-semi-space-size=64 so no scavenge hides allocations); `--json` prints a JSON line last.
//   node --expose-gc --max-semi-space-size=64 dist/bench/lib/statsd-parse.js [--quick] [--json]
import { PerformanceObserver } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { StatsdParser } from '../../src/ingest/statsd/parse.js';
import { labelsFromRecord, sanitizeLabelName, sanitizeMetricName } from '../../src/model/labels.js';
import { MetricKind } from '../../src/model/metric-kind.js';
import { CountingSink } from './statsd-counting-sink.js';
import { buildPackets } from './statsd-workload.js';

/** ParseResult is one row of the parser benchmark. */
export interface ParseResult {
  workload: 'plain' | 'tagged';
  parser: 'bytes' | 'naive-string';
  linesPerSec: number;
  nsPerLine: number;
  /** Heap bytes allocated per line after warm-up; null when a GC ran during the measurement. */
  bytesPerLine: number | null;
  series: number;
}

type PacketFn = (buf: Buffer) => number;

const NOW = Date.now();

function bytesParser(sink: CountingSink): PacketFn {
  const p = new StatsdParser(sink);
  return (buf) => {
    const n = p.parse(buf, 0, buf.length, NOW);
    sink.flush();
    return n;
  };
}

/** naiveParser is the per-line-string approach: split, Number(), a Map keyed by a built string. */
function naiveParser(sink: CountingSink): PacketFn {
  const cache = new Map<string, number>();
  return (buf) => {
    let n = 0;
    for (const line of buf.toString('utf8').split('\n')) {
      if (line === '') continue;
      n++;
      const colon = line.indexOf(':');
      const parts = line.slice(colon + 1).split('|');
      const value = Number(parts[0]);
      const type = parts[1]!;
      let tags = '';
      for (let k = 2; k < parts.length; k++) if (parts[k]!.startsWith('#')) tags = parts[k]!.slice(1);
      const key = type + '|' + line.slice(0, colon) + '|' + tags;
      let ref = cache.get(key);
      if (ref === undefined) {
        const rec: Record<string, string> = {};
        for (const tag of tags ? tags.split(',') : []) {
          const i = tag.indexOf(':');
          if (i > 0) rec[sanitizeLabelName(tag.slice(0, i))] = tag.slice(i + 1);
        }
        let name = sanitizeMetricName(line.slice(0, colon));
        if (type === 'c') name += '_total';
        if (type === 'ms') name += '_seconds';
        rec['__name__'] = name;
        ref = sink.series('default', labelsFromRecord(rec), type === 'c' ? MetricKind.Counter : type === 'g' ? MetricKind.Gauge : MetricKind.Histogram);
        cache.set(key, ref);
      }
      if (type === 'c') sink.counter(ref, value, NOW);
      else if (type === 'g') sink.gaugeSet(ref, value, NOW);
      else sink.observe(ref, type === 'ms' ? value / 1000 : value, 1, NOW);
    }
    sink.flush();
    return n;
  };
}

function gcNow(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) gc();
}

async function measure(fn: PacketFn, packets: Buffer[], seconds: number): Promise<{ linesPerSec: number; bytesPerLine: number | null }> {
  for (const p of packets) fn(p); // warm-up: fills the series cache, lets the JIT settle
  for (const p of packets) fn(p);
  let lines = 0;
  const t0 = process.hrtime.bigint();
  const deadline = t0 + BigInt(Math.round(seconds * 1e9));
  let i = 0;
  for (;;) {
    for (let k = 0; k < 256; k++) {
      lines += fn(packets[i]!);
      if (++i === packets.length) i = 0;
    }
    if (process.hrtime.bigint() >= deadline) break;
  }
  const ns = Number(process.hrtime.bigint() - t0);

  // Allocation: heap growth over a fixed number of packets with no GC in between.
  let gcs = 0;
  const obs = new PerformanceObserver((list) => (gcs += list.getEntries().length));
  gcNow();
  await new Promise((r) => setImmediate(r));
  obs.observe({ entryTypes: ['gc'] });
  const allocPackets = Math.min(packets.length, 2000);
  const before = process.memoryUsage().heapUsed;
  let allocLines = 0;
  for (let k = 0; k < allocPackets; k++) allocLines += fn(packets[k]!);
  const after = process.memoryUsage().heapUsed;
  await new Promise((r) => setImmediate(r));
  obs.disconnect();
  const hasGc = typeof (globalThis as { gc?: unknown }).gc === 'function';
  const bytesPerLine = gcs === 0 && hasGc ? Math.max(0, (after - before) / allocLines) : null;
  return { linesPerSec: (lines * 1e9) / ns, bytesPerLine };
}

/** runParseBench measures both parsers on both workloads. */
export async function runParseBench(quick: boolean): Promise<ParseResult[]> {
  const seconds = quick ? 0.5 : 1.5;
  const out: ParseResult[] = [];
  for (const workload of ['plain', 'tagged'] as const) {
    const packets = buildPackets({ tagged: workload === 'tagged', series: 10_000, linesPerPacket: 20, packets: 2000 });
    for (const parser of ['bytes', 'naive-string'] as const) {
      const sink = new CountingSink();
      const fn = parser === 'bytes' ? bytesParser(sink) : naiveParser(sink);
      const r = await measure(fn, packets, seconds);
      out.push({ workload, parser, linesPerSec: r.linesPerSec, nsPerLine: 1e9 / r.linesPerSec, bytesPerLine: r.bytesPerLine, series: sink.seriesCount });
    }
  }
  return out;
}

/** printParseTable prints the rows with the byte parser's speed-up over the naive one. */
export function printParseTable(rows: ParseResult[]): void {
  console.log('\nStatsD parser, in memory (20 lines/packet, 10k series)');
  console.log('workload  parser          lines/s     ns/line  bytes/line  speed-up');
  for (const r of rows) {
    const naive = rows.find((x) => x.workload === r.workload && x.parser === 'naive-string')!;
    const speed = r.parser === 'bytes' ? `${(r.linesPerSec / naive.linesPerSec).toFixed(1)}x` : '';
    console.log(`${r.workload.padEnd(9)} ${r.parser.padEnd(14)} ${fmtRate(r.linesPerSec).padStart(9)} ${r.nsPerLine.toFixed(0).padStart(10)} ${(r.bytesPerLine === null ? 'n/a' : r.bytesPerLine.toFixed(1)).padStart(11)}  ${speed}`);
  }
}

function fmtRate(v: number): string {
  return v >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : `${(v / 1e3).toFixed(0)}k`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const quick = process.argv.includes('--quick');
  const rows = await runParseBench(quick);
  printParseTable(rows);
  if (process.argv.includes('--json')) console.log(JSON.stringify(rows));
}
