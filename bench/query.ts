/**
 * Query latency benchmark (issue 3): the seed documents' dashboard queries over one day of 10 s
 * data for about 1k series, written into a real LMDB store (temp directory) through its Appender.
 * Each query runs as an instant query and as range queries over 1 h, 6 h and 24 h at dashboard
 * steps, against the store and against a memo of the store's selections (the same data without
 * the store's cost), so the store's share of the latency is visible. Prints p50/p99 per query,
 * time in select(), samples scanned per second; writes bench/results/query.json.
 *
 *   node dist/bench/query.js [--quick] [--iterations N] [--only REGEX] [--store-only | --memory-only]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { QueryResult } from '../src/query/promql/api.js';
import { createEngine } from '../src/query/promql/engine.js';
import { openStore } from '../src/store/open.js';
import { FULL_SHAPE, QUICK_SHAPE, RES_MS, load } from './lib/query-data.js';
import { CountingQuerier, MemQuerier } from './lib/query-mem.js';
import { pct } from './lib/stats.js';

const args = process.argv.slice(2);
const flag = (name: string): boolean => args.includes(name);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const quick = flag('--quick');
const maxIterations = Number(opt('--iterations') ?? (quick ? 7 : 15));
const only = opt('--only') !== undefined ? new RegExp(opt('--only')!) : null;
const storeOnly = flag('--store-only');
/** Time only the memoised selections (for profiling the engine); the store is read once. */
const memoryOnly = flag('--memory-only');
/** A scenario stops repeating after this much time (at least 3 timed runs). */
const BUDGET_MS = quick ? 1_500 : 4_000;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// Hour-aligned "now": the store's default tiers keep raw data 2 days, so the day must be recent.
const END_MS = Math.floor(Date.now() / HOUR) * HOUR;
const START_MS = END_MS - DAY;

/** The seed documents' dashboard panels, written as valid PromQL (the seeds put `by` outside). */
const QUERIES: Array<{ name: string; expr: string }> = [
  { name: 'p95 latency by model (classic)', expr: 'histogram_quantile(0.95, sum by (provider, model, le) (rate(llm_provider_request_seconds_bucket[5m])))' },
  { name: 'p95 latency by model (native)', expr: 'histogram_quantile(0.95, sum by (provider, model) (rate(llm_provider_request_seconds[5m])))' },
  { name: 'token rate by type', expr: 'sum by (provider, model, type) (rate(llm_provider_tokens_total[5m]))' },
  { name: 'cost per minute', expr: 'sum(rate(llm_provider_cost_usd_total[1m])) * 60' },
  { name: 'errors by type', expr: 'sum by (error_type) (rate(llm_provider_errors_total[5m]))' },
  { name: 'rate limits', expr: 'rate(llm_provider_errors_total{error_type="rate_limit"}[5m])' },
  { name: 'mcp p95 server x tool (classic)', expr: 'histogram_quantile(0.95, sum by (server_id, tool_name, le) (rate(mcp_tool_execute_seconds_bucket[5m])))' },
  { name: 'mcp p95 server x tool (native)', expr: 'histogram_quantile(0.95, sum by (server_id, tool_name) (rate(mcp_tool_execute_seconds[5m])))' },
  { name: 'mcp errors by tool', expr: 'sum by (tool_name, error_kind) (rate(mcp_tool_errors_total[5m]))' },
  { name: 'top agents by cost (1h)', expr: 'topk(5, sum by (agent) (increase(llm_provider_cost_usd_total[1h])))' },
  { name: 'mcp connections', expr: 'sum(mcp_server_connections_active)' },
];

/** Extra instant panels that look back over the whole day. */
const DAY_QUERIES: Array<{ name: string; expr: string }> = [
  { name: 'tokens today by model', expr: 'sum by (provider, model) (increase(llm_provider_tokens_total[1d]))' },
  { name: 'top agents by cost today', expr: 'topk(5, sum by (agent) (increase(llm_provider_cost_usd_total[1d])))' },
  { name: 'p99 latency today by model (native)', expr: 'histogram_quantile(0.99, sum by (provider, model) (increase(llm_provider_request_seconds[1d])))' },
  { name: 'p99 latency today by model (classic)', expr: 'histogram_quantile(0.99, sum by (provider, model, le) (increase(llm_provider_request_seconds_bucket[1d])))' },
];

/** Ranges as a dashboard picks them: instant, 1 h @15 s, 6 h @1 m, 24 h @5 m. */
const RANGES: Array<{ label: string; hours: number; stepMs: number }> = [
  { label: 'instant', hours: 0, stepMs: 0 },
  { label: '1h@15s', hours: 1, stepMs: 15_000 },
  { label: '6h@1m', hours: 6, stepMs: 60_000 },
  { label: '24h@5m', hours: 24, stepMs: 300_000 },
];

interface Scenario { name: string; expr: string; range: string; hours: number; stepMs: number }

interface Timing { p50Ms: number; p99Ms: number; selectP50Ms: number; runs: number; scanned: number; samplesPerS: number }

const engine = createEngine();

function run(q: CountingQuerier, s: Scenario): QueryResult {
  if (s.hours === 0) return engine.instant(q, 'default', s.expr, END_MS);
  return engine.range(q, 'default', s.expr, END_MS - s.hours * HOUR, END_MS, s.stepMs);
}

function time(q: CountingQuerier, s: Scenario): { timing: Timing; result: QueryResult } {
  const result = run(q, s); // warms the JIT and any caches
  const times: number[] = [], selects: number[] = [];
  const began = performance.now();
  for (let i = 0; i < maxIterations; i++) {
    q.reset();
    const a = performance.now();
    run(q, s);
    times.push(performance.now() - a);
    selects.push(q.selectMs);
    if (i >= 2 && performance.now() - began > BUDGET_MS) break;
  }
  times.sort((x, y) => x - y);
  selects.sort((x, y) => x - y);
  const p50 = pct(times, 0.5);
  return {
    timing: { p50Ms: round(p50), p99Ms: round(pct(times, 0.99)), selectP50Ms: round(pct(selects, 0.5)), runs: times.length, scanned: q.scanned, samplesPerS: Math.round(q.scanned / (p50 / 1000)) },
    result,
  };
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

/** digest summarises a result so the two backends can be checked to agree. */
function digest(r: QueryResult): { series: number; points: number; sum: number } {
  let series = 0, points = 0, sum = 0;
  const add = (v: number, h: { count: number; sum: number } | null): void => {
    points++;
    const x = h !== null ? h.count + h.sum : v;
    if (Number.isFinite(x)) sum += x;
  };
  if (r.type === 'vector') for (const s of r.samples) { series++; add(s.v, s.h); }
  else if (r.type === 'matrix') {
    for (const s of r.series) {
      series++;
      for (let i = 0; i < s.timestamps.length; i++) add(s.values[i]!, s.histograms?.[i] ?? null);
    }
  } else if (r.type === 'scalar') add(r.v, null);
  return { series, points, sum };
}

function agree(a: ReturnType<typeof digest>, b: ReturnType<typeof digest>): boolean {
  return a.series === b.series && a.points === b.points && Math.abs(a.sum - b.sum) <= 1e-9 * Math.max(1, Math.abs(a.sum));
}

async function main(): Promise<void> {
  const scenarios: Scenario[] = [];
  for (const q of QUERIES) for (const r of RANGES) scenarios.push({ name: q.name, expr: q.expr, range: r.label, hours: r.hours, stepMs: r.stepMs });
  for (const q of DAY_QUERIES) scenarios.push({ name: q.name, expr: q.expr, range: 'instant', hours: 0, stepMs: 0 });
  const chosen = scenarios.filter((s) => only === null || only.test(`${s.name} ${s.range}`));

  const dir = mkdtempSync(join(tmpdir(), 'tallyd-bench-query-'));
  try {
    const store = await openStore({ dataDir: dir, rawResolutionMs: RES_MS });
    const shape = quick ? QUICK_SHAPE : FULL_SHAPE;
    const loaded = await load(store, shape, START_MS, END_MS);
    const storeQ = new CountingQuerier(store.querier());
    const memQ = storeOnly ? null : new CountingQuerier(new MemQuerier(store.querier()));
    const nSeries = loaded.series.counter + loaded.series.gauge + loaded.series.histogram;
    console.log(`query: ${nSeries} stored series (${loaded.series.counter} counters, ${loaded.series.gauge} gauges, ${loaded.series.histogram} histograms), ` +
      `${loaded.windows} windows of ${RES_MS / 1000} s, ${loaded.points} points loaded in ${loaded.seconds.toFixed(1)} s`);
    console.log(`${'query'.padEnd(38)} ${'range'.padEnd(8)} ${'mem p50'.padStart(8)} ${'mem p99'.padStart(8)} ${'lmdb p50'.padStart(9)} ${'lmdb p99'.padStart(9)} ${'select'.padStart(8)} ${'scanned'.padStart(9)} ${'lmdb samp/s'.padStart(12)} ${'mem samp/s'.padStart(12)}`);
    const rows: Array<Record<string, unknown>> = [];
    for (const s of chosen) {
      const mt = memQ === null ? null : time(memQ, s);
      const st = memoryOnly ? mt! : time(storeQ, s);
      const same = mt === null ? null : agree(digest(st.result), digest(mt.result));
      const d = digest(st.result);
      rows.push({ query: s.name, expr: s.expr, range: s.range, stepMs: s.stepMs, resultSeries: d.series, resultPoints: d.points, samplesScanned: st.timing.scanned, store: st.timing, memory: mt?.timing ?? null, sameResult: same });
      const f = (x: number | undefined): string => (x === undefined ? '-' : x.toFixed(1));
      console.log(`${s.name.padEnd(38)} ${s.range.padEnd(8)} ${f(mt?.timing.p50Ms).padStart(8)} ${f(mt?.timing.p99Ms).padStart(8)} ${f(st.timing.p50Ms).padStart(9)} ${f(st.timing.p99Ms).padStart(9)} ${f(st.timing.selectP50Ms).padStart(8)} ${String(st.timing.scanned).padStart(9)} ${String(st.timing.samplesPerS).padStart(12)} ${String(mt?.timing.samplesPerS ?? '-').padStart(12)}${same === false ? '  RESULTS DIFFER' : ''}`);
    }
    await store.close();
    const outDir = new URL('./results/', import.meta.url).pathname.replace(/\/dist(-[^/]+)?\/bench\//, '/bench/');
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, 'query.json'), JSON.stringify({
      scenario: 'query', quick, node: process.version,
      data: { days: 1, resolutionMs: RES_MS, series: loaded.series, points: loaded.points, loadSeconds: round(loaded.seconds) },
      notes: 'store = LMDB via openStore + Querier; memory = the same select results memoised (engine cost only); select = ms inside Querier.select (p50); p99 over at most ' + maxIterations + ' runs after one warm-up',
      results: rows,
    }, null, 2) + '\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
