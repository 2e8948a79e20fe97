/**
 * Query latency benchmark: dashboard-like PromQL over one day of 10 s data for about 1k series
 * (counters, classic `_bucket` series and bare histograms), evaluated by the PromQL engine over a
 * zero-copy in-memory Querier (histogram bases summed lazily, like the store's). Prints p50/p99 per query and samples scanned per second; writes
 * bench/results/query.json.
 *
 *   node dist/bench/query.js [--iterations N]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { SparseHistogram } from '../src/model/hdr.js';
import { getLabel, labelsFromRecord, type Labels } from '../src/model/labels.js';
import type { Matcher } from '../src/model/matcher.js';
import { createEngine } from '../src/query/promql/engine.js';
import { sumHistograms } from '../src/query/promql/value.js';
import type { FloatSeries, HistogramSeries, MetricMetadata, Querier, SelectHints, SelectResult } from '../src/store/interface.js';

const STEP_MS = 10_000;
const DAY_MS = 86_400_000;
const END_MS = Date.UTC(2025, 0, 2);
const START_MS = END_MS - DAY_MS;
const MODELS = 10;
const AGENTS = 90;
const BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, Infinity];

interface Float { labels: Labels; t: Float64Array; v: Float64Array }
interface Hist { labels: Labels; t: Float64Array; deltas: SparseHistogram[] }

/** BenchQuerier answers selections with subarrays of preloaded series (binary-searched bounds). */
class BenchQuerier implements Querier {
  scanned = 0;
  constructor(readonly floats: Float[], readonly hists: Hist[]) {}
  private match(l: Labels, ms: readonly Matcher[]): boolean {
    for (const m of ms) if (!m.matches(getLabel(l, m.name))) return false;
    return true;
  }
  private bounds(t: Float64Array, h: SelectHints): [number, number] {
    let lo = 0, hi = t.length;
    while (lo < hi) { const m = (lo + hi) >>> 1; if (t[m]! < h.startMs) lo = m + 1; else hi = m; }
    let e = lo, hi2 = t.length;
    while (e < hi2) { const m = (e + hi2) >>> 1; if (t[m]! <= h.endMs) e = m + 1; else hi2 = m; }
    return [lo, e];
  }
  select(_tenant: string, ms: readonly Matcher[], h: SelectHints): SelectResult {
    const floats: FloatSeries[] = [];
    const histograms: HistogramSeries[] = [];
    for (const s of this.floats) {
      if (!this.match(s.labels, ms)) continue;
      const [lo, hi] = this.bounds(s.t, h);
      if (hi <= lo) continue;
      this.scanned += hi - lo;
      floats.push({ labels: s.labels, timestamps: s.t.subarray(lo, hi), values: s.v.subarray(lo, hi) });
    }
    for (const s of this.hists) {
      if (!this.match(s.labels, ms)) continue;
      const [lo, hi] = this.bounds(s.t, h);
      if (hi <= lo) continue;
      this.scanned += hi - lo;
      histograms.push({ labels: s.labels, timestamps: s.t.subarray(lo, hi), deltas: s.deltas.slice(lo, hi), base: () => sumHistograms(s.deltas, 0, lo) });
    }
    return { floats, histograms };
  }
  series(): Labels[] { return []; }
  labelNames(): string[] { return []; }
  labelValues(): string[] { return []; }
  metadata(): MetricMetadata[] { return []; }
}

/** Deterministic pseudo-random numbers so runs compare. */
let seed = 42;
function rnd(): number {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
}

function build(): BenchQuerier {
  const n = DAY_MS / STEP_MS + 1;
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) t[i] = START_MS + i * STEP_MS;
  const floats: Float[] = [];
  for (let m = 0; m < MODELS; m++) {
    for (let a = 0; a < AGENTS; a++) {
      const v = new Float64Array(n);
      let c = 0;
      for (let i = 0; i < n; i++) { c += Math.floor(rnd() * 100); v[i] = c; }
      floats.push({ labels: labelsFromRecord({ __name__: 'llm_tokens_total', model: `m${m}`, agent: `a${a}` }), t, v });
    }
    // Classic buckets: cumulative counts of latencies drawn per step.
    const counts = BOUNDS.map(() => new Float64Array(n));
    const run = new Float64Array(BOUNDS.length);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < 5; k++) {
        const x = Math.exp(rnd() * 6 - 4);
        for (let b = 0; b < BOUNDS.length; b++) if (x <= BOUNDS[b]!) run[b]!++;
      }
      for (let b = 0; b < BOUNDS.length; b++) counts[b]![i] = run[b]!;
    }
    BOUNDS.forEach((le, b) => floats.push({ labels: labelsFromRecord({ __name__: 'llm_req_seconds_bucket', model: `m${m}`, le: le === Infinity ? '+Inf' : String(le) }), t, v: counts[b]! }));
  }
  const hists: Hist[] = [];
  for (let m = 0; m < MODELS; m++) {
    for (let inst = 0; inst < 2; inst++) {
      const deltas: SparseHistogram[] = [];
      for (let i = 0; i < n; i++) {
        const d = new SparseHistogram();
        for (let k = 0; k < 5; k++) d.record(Math.exp(rnd() * 6 - 4));
        deltas.push(d);
      }
      hists.push({ labels: labelsFromRecord({ __name__: 'llm_provider_request_seconds', model: `m${m}`, instance: String(inst) }), t, deltas });
    }
  }
  return new BenchQuerier(floats, hists);
}

interface Scenario { name: string; expr: string; range?: { hours: number; stepMs: number } }

const SCENARIOS: Scenario[] = [
  { name: 'sum by model rate 5m, 6h range @1m', expr: 'sum by (model) (rate(llm_tokens_total[5m]))', range: { hours: 6, stepMs: 60_000 } },
  { name: 'classic histogram_quantile p99, 6h @1m', expr: 'histogram_quantile(0.99, sum by (model, le) (rate(llm_req_seconds_bucket[5m])))', range: { hours: 6, stepMs: 60_000 } },
  { name: 'bare histogram_quantile p99, 6h @1m', expr: 'histogram_quantile(0.99, sum by (model) (rate(llm_provider_request_seconds[5m])))', range: { hours: 6, stepMs: 60_000 } },
  { name: 'topk 5 agents by rate, instant', expr: 'topk(5, sum by (agent) (rate(llm_tokens_total[5m])))' },
  { name: 'increase over 1d by model, instant', expr: 'sum by (model) (increase(llm_tokens_total[1d]))' },
  { name: 'bare histogram_quantile over 1d, instant', expr: 'histogram_quantile(0.99, sum by (model) (increase(llm_provider_request_seconds[1d])))' },
];

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function main(): void {
  const iterArg = process.argv.indexOf('--iterations');
  const iterations = iterArg > 0 ? Number(process.argv[iterArg + 1]) : 7;
  const t0 = performance.now();
  const q = build();
  const buildMs = performance.now() - t0;
  const engine = createEngine();
  const rows: Array<Record<string, number | string>> = [];
  for (const s of SCENARIOS) {
    const times: number[] = [];
    let scanned = 0;
    for (let i = 0; i < iterations + 1; i++) {
      q.scanned = 0;
      const a = performance.now();
      if (s.range) engine.range(q, 'default', s.expr, END_MS - s.range.hours * 3_600_000, END_MS, s.range.stepMs);
      else engine.instant(q, 'default', s.expr, END_MS);
      const ms = performance.now() - a;
      if (i > 0) times.push(ms); // the first run warms the JIT
      scanned = q.scanned;
    }
    times.sort((x, y) => x - y);
    const p50 = pct(times, 0.5), p99 = pct(times, 0.99);
    rows.push({ query: s.name, expr: s.expr, p50_ms: +p50.toFixed(2), p99_ms: +p99.toFixed(2), samples_scanned: scanned, samples_per_s: Math.round(scanned / (p50 / 1000)) });
  }
  console.log(`data: ${q.floats.length} float + ${q.hists.length} histogram series, ${DAY_MS / STEP_MS + 1} points each (built in ${buildMs.toFixed(0)} ms)`);
  console.log('query'.padEnd(44), 'p50 ms'.padStart(9), 'p99 ms'.padStart(9), 'scanned'.padStart(10), 'samples/s'.padStart(12));
  for (const r of rows) console.log(String(r.query).padEnd(44), String(r.p50_ms).padStart(9), String(r.p99_ms).padStart(9), String(r.samples_scanned).padStart(10), String(r.samples_per_s).padStart(12));
  mkdirSync(new URL('../../bench/results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('../../bench/results/query.json', import.meta.url), JSON.stringify({
    scenario: 'query', store: 'memory', iterations, series: { float: q.floats.length, histogram: q.hists.length }, pointsPerSeries: DAY_MS / STEP_MS + 1, stepMs: STEP_MS, results: rows, node: process.version,
  }, null, 2) + '\n');
}

main();
