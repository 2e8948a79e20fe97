/**
 * Analytics benchmark (issue 13): costs and usage analytics over D days of S series.
 *
 * Loads, through the Appender with the store's clock at "now", one point per hour for D days of
 * S series: per cost target (agent × model × tool × user) its tallyd_llm_cost_usd_total, two
 * tallyd_llm_tokens_total kinds, tallyd_llm_calls_total and an mcp_tool_execute_seconds histogram
 * (5 series per target). Windows older than the raw tier's 2 days take the backfill path; then
 * compaction builds the 1 h tier. Then times costsAnalytics (group_by agent; group_by agent,model
 * with a daily trend) and usageAnalytics (group_by agent,tool) over the whole range, and the same
 * over a range whose edges and daily bucket starts fall inside hour windows, reporting p50/p99
 * wall time and p50 CPU time (process.cpuUsage: the main thread's work, less sensitive to a
 * shared machine). Writes bench/results/analytics.json.
 *
 *   node dist/bench/analytics.js [--days 90] [--series 10000] [--runs 15]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { costsAnalytics } from '../src/cost/analytics-costs.js';
import { usageAnalytics } from '../src/cost/analytics-usage.js';
import { DEFAULT_DIMENSION_LABELS } from '../src/cost/dimensions.js';
import { SparseHistogram } from '../src/model/hdr.js';
import { labelsFromRecord } from '../src/model/labels.js';
import { MetricKind } from '../src/model/metric-kind.js';
import { openStore } from '../src/store/open.js';

const args = process.argv.slice(2);
const arg = (name: string, dflt: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const days = arg('--days', 90);
const series = arg('--series', 10_000);
const runs = arg('--runs', 15);
const HOUR = 3_600_000, DAY = 86_400_000;
const NOW = Math.floor(Date.now() / HOUR) * HOUR;
const T0 = NOW - days * DAY;
const targets = Math.max(1, Math.round(series / 5));

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tallyd-bench-analytics-'));
  const store = await openStore({ dataDir: dir, rawResolutionMs: 10_000 });
  try {
    const t0 = performance.now();
    const ids: Array<{ cost: number; tin: number; tout: number; calls: number; lat: number }> = [];
    {
      const app = store.appender();
      for (let i = 0; i < targets; i++) {
        const dims = { agent: `agent-${i % 200}`, model: `model-${i % 20}`, provider: `prov-${i % 4}`, tool: `tool-${i % 50}`, user: `user-${i}` };
        ids.push({
          cost: app.seriesId('default', labelsFromRecord({ __name__: 'tallyd_llm_cost_usd_total', cost_source: 'computed', ...dims }), MetricKind.Counter),
          tin: app.seriesId('default', labelsFromRecord({ __name__: 'tallyd_llm_tokens_total', kind: 'input', ...dims }), MetricKind.Counter),
          tout: app.seriesId('default', labelsFromRecord({ __name__: 'tallyd_llm_tokens_total', kind: 'output', ...dims }), MetricKind.Counter),
          calls: app.seriesId('default', labelsFromRecord({ __name__: 'tallyd_llm_calls_total', ...dims }), MetricKind.Counter),
          lat: app.seriesId('default', labelsFromRecord({ __name__: 'mcp_tool_execute_seconds', agent_id: dims.agent, tool_name: dims.tool, outcome: i % 10 === 0 ? 'error' : 'success' }), MetricKind.Histogram),
        });
      }
      await app.commit();
    }
    for (let d = 0; d < days; d++) {
      const app = store.appender();
      for (let h = 0; h < 24; h++) {
        const w = T0 + d * DAY + h * HOUR;
        for (let i = 0; i < targets; i++) {
          const s = ids[i]!;
          const calls = 1 + ((i + h) % 7);
          app.counter(s.tin, w, calls * 1200);
          app.counter(s.tout, w, calls * 300);
          app.counter(s.cost, w, calls * 0.0042);
          app.counter(s.calls, w, calls);
          const hist = new SparseHistogram();
          for (let c = 0; c < calls; c++) hist.record(0.02 + ((i * 7 + c * 13 + h) % 100) / 100);
          app.histogram(s.lat, w, hist);
        }
      }
      await app.commit();
    }
    const loadS = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    await store.compact();
    const compactS = (performance.now() - t1) / 1000;
    const q = store.querier();
    const from = T0, to = NOW - 1;
    const ufrom = T0 + DAY + 17 * 60_000 + 7_000, uto = NOW - 1 - 23 * 60_000;
    const cases: Array<[string, () => unknown]> = [
      ['costs group_by=agent', () => costsAnalytics(q, 'default', { fromMs: from, toMs: to, groupBy: ['agent'], stepMs: 0, nowMs: NOW })],
      ['costs group_by=agent,model step=1d', () => costsAnalytics(q, 'default', { fromMs: from, toMs: to, groupBy: ['agent', 'model'], stepMs: DAY, nowMs: NOW })],
      ['usage group_by=agent,tool', () => usageAnalytics(q, 'default', { fromMs: from, toMs: to, groupBy: ['agent', 'tool'], stepMs: 0, dimensions: DEFAULT_DIMENSION_LABELS })],
      // `period=89d` style: edges (and so every daily bucket start) inside hour windows.
      ['costs unaligned group_by=agent,model step=1d', () => costsAnalytics(q, 'default', { fromMs: ufrom, toMs: uto, groupBy: ['agent', 'model'], stepMs: DAY, nowMs: NOW })],
      ['usage unaligned group_by=agent,tool', () => usageAnalytics(q, 'default', { fromMs: ufrom, toMs: uto, groupBy: ['agent', 'tool'], stepMs: 0, dimensions: DEFAULT_DIMENSION_LABELS })],
    ];
    // CPU time next to wall time: on a shared machine the wall time mostly measures the others.
    const rows: Array<{ query: string; p50_ms: number; p99_ms: number; p50_cpu_ms: number; runs: number }> = [];
    for (const [name, fn] of cases) {
      fn(); // warm-up
      const ms: number[] = [];
      const cpu: number[] = [];
      for (let r = 0; r < runs; r++) {
        const a = performance.now();
        const c = process.cpuUsage();
        fn();
        const dc = process.cpuUsage(c);
        ms.push(performance.now() - a);
        cpu.push((dc.user + dc.system) / 1000);
      }
      ms.sort((a, b) => a - b);
      cpu.sort((a, b) => a - b);
      rows.push({ query: name, p50_ms: +pct(ms, 0.5).toFixed(1), p99_ms: +pct(ms, 0.99).toFixed(1), p50_cpu_ms: +pct(cpu, 0.5).toFixed(1), runs });
    }
    const { loadavg } = await import('node:os');
    const result = { scenario: 'analytics', days, series: targets * 5, targets, load_seconds: +loadS.toFixed(1), compact_seconds: +compactS.toFixed(1), loadavg: loadavg().map((x) => +x.toFixed(2)), rows };
    console.log(`analytics over ${days} days x ${targets * 5} series (${targets} cost targets); load ${loadS.toFixed(1)} s, compaction ${compactS.toFixed(1)} s, loadavg ${result.loadavg.join(' ')}`);
    console.log('query                                          p50 ms    p99 ms  p50 cpu ms');
    for (const r of rows) console.log(`${r.query.padEnd(46)} ${String(r.p50_ms).padStart(8)} ${String(r.p99_ms).padStart(9)} ${String(r.p50_cpu_ms).padStart(11)}`);
    const out = new URL('../../bench/results/', import.meta.url).pathname;
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'analytics.json'), JSON.stringify(result, null, 2) + '\n');
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
