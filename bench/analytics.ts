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
 * shared machine). Before the queries it brings the day digests up to date as the daemon does
 * after compaction (timed); each case also runs once without them (read live from the series),
 * and the two answers' digests must agree. Writes bench/results/analytics.json.
 *
 *   node dist/bench/analytics.js [--days 90] [--series 10000] [--runs 15] [--warmup 1] [--cases 0,1,...] [--dir D] [--no-digests]
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { costsAnalytics } from '../src/cost/analytics-costs.js';
import { usageAnalytics } from '../src/cost/analytics-usage.js';
import { buildDayDigest, buildHourDigest } from '../src/cost/day-digest-build.js';
import { refreshDayDigests } from '../src/cost/day-digest-refresh.js';
import { mappingFingerprint } from '../src/cost/day-digest.js';
import { DEFAULT_DIMENSION_LABELS } from '../src/cost/dimensions.js';
import { SparseHistogram } from '../src/model/hdr.js';
import { labelsFromRecord } from '../src/model/labels.js';
import { MetricKind } from '../src/model/metric-kind.js';
import type { Querier, Store } from '../src/store/interface.js';
import { openStore } from '../src/store/open.js';
import { pct } from './lib/stats.js';

const args = process.argv.slice(2);
const arg = (name: string, dflt: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const days = arg('--days', 90);
const series = arg('--series', 10_000);
const runs = arg('--runs', 15);
/** Unmeasured runs of each case before the measured ones (at least one: it gives the answer's digest). */
const warmup = arg('--warmup', 1);
/** --cases 0,2: run only these cases (by their order below); all when absent. */
const only = args.includes('--cases') ? new Set(args[args.indexOf('--cases') + 1]!.split(',').map(Number)) : null;
const HOUR = 3_600_000, DAY = 86_400_000;
/**
 * --dir D: load into D and keep it; when D already holds a load (bench-meta.json), reuse it and
 * only query, with the store's clock where the first run left it, so two builds can be timed on
 * the same data.
 */
const dirArg = args.includes('--dir') ? args[args.indexOf('--dir') + 1]! : null;
interface BenchMeta { days: number; series: number; now: number; clock: number; load_seconds: number; compact_seconds: number }
const meta: BenchMeta | null = dirArg !== null && existsSync(join(dirArg, 'bench-meta.json')) ? (JSON.parse(readFileSync(join(dirArg, 'bench-meta.json'), 'utf8')) as BenchMeta) : null;
if (meta !== null && (meta.days !== days || meta.series !== series)) throw new Error(`${dirArg} holds ${meta.days} days x ${meta.series} series, not ${days} x ${series}`);
const NOW = meta?.now ?? Math.floor(Date.now() / HOUR) * HOUR;
const T0 = NOW - days * DAY;
/** The store's clock: real time while loading, then frozen for the queries (tier choice and retention depend on it). */
let clock: number | null = meta?.clock ?? null;
const targets = Math.max(1, Math.round(series / 5));
/** Cost targets (5 series each) per load commit. */
const BATCH_TARGETS = 50;

async function main(): Promise<void> {
  const dir = dirArg ?? mkdtempSync(join(tmpdir(), 'tallyd-bench-analytics-'));
  const store = await openStore({ dataDir: dir, rawResolutionMs: 10_000, now: () => clock ?? Date.now() });
  try {
    let loadS = meta?.load_seconds ?? 0, compactS = meta?.compact_seconds ?? 0;
    if (meta === null) ({ loadS, compactS } = await load(store));
    clock ??= Date.now();
    if (dirArg !== null && meta === null) writeFileSync(join(dir, 'bench-meta.json'), JSON.stringify({ days, series, now: NOW, clock, load_seconds: loadS, compact_seconds: compactS }));
    // Day digests, as the daemon refreshes them after each compaction (on a query worker there).
    let digestS = 0, digestDays = 0;
    if (!args.includes('--no-digests') && store.digests !== undefined) {
      const t = performance.now();
      const r = await refreshDayDigests(store.digests, mappingFingerprint(DEFAULT_DIMENSION_LABELS), async (tenant, start, span) =>
        (span === 'day' ? buildDayDigest : buildHourDigest)(store.querier(), tenant, start, DEFAULT_DIMENSION_LABELS));
      digestS = (performance.now() - t) / 1000;
      digestDays = r.built;
    }
    const q = store.querier();
    const live = withoutDigests(q);
    // 90 days back from the store's clock, to its first whole hour: the oldest the 1 h tier keeps
    // (its retention is 90 days), as `period=90d` asks, with bucket starts on whole hours.
    const from = Math.max(T0, Math.ceil((clock - days * DAY) / HOUR) * HOUR), to = NOW - 1;
    const dfrom = Math.ceil(from / DAY) * DAY, dto = Math.floor(NOW / DAY) * DAY - 1;
    const ufrom = T0 + DAY + 17 * 60_000 + 7_000, uto = NOW - 1 - 23 * 60_000;
    const cases: Array<[string, (q: Querier) => unknown]> = [
      ['costs group_by=agent', (q) => costsAnalytics(q, 'default', { fromMs: from, toMs: to, groupBy: ['agent'], stepMs: 0, nowMs: NOW })],
      ['costs group_by=agent,model step=1d', (q) => costsAnalytics(q, 'default', { fromMs: from, toMs: to, groupBy: ['agent', 'model'], stepMs: DAY, nowMs: NOW })],
      ['usage group_by=agent,tool', (q) => usageAnalytics(q, 'default', { fromMs: from, toMs: to, groupBy: ['agent', 'tool'], stepMs: 0, dimensions: DEFAULT_DIMENSION_LABELS })],
      // `period=89d` style: edges (and so every daily bucket start) inside hour windows.
      ['costs unaligned group_by=agent,model step=1d', (q) => costsAnalytics(q, 'default', { fromMs: ufrom, toMs: uto, groupBy: ['agent', 'model'], stepMs: DAY, nowMs: NOW })],
      ['usage unaligned group_by=agent,tool', (q) => usageAnalytics(q, 'default', { fromMs: ufrom, toMs: uto, groupBy: ['agent', 'tool'], stepMs: 0, dimensions: DEFAULT_DIMENSION_LABELS })],
      ['costs unaligned group_by=agent', (q) => costsAnalytics(q, 'default', { fromMs: ufrom, toMs: uto, groupBy: ['agent'], stepMs: 0, nowMs: NOW })],
      // `from=2026-09-09&to=2026-12-06` style: whole UTC days, every one of them from a day digest.
      ['costs whole days group_by=agent', (q) => costsAnalytics(q, 'default', { fromMs: dfrom, toMs: dto, groupBy: ['agent'], stepMs: 0, nowMs: NOW })],
      ['costs whole days group_by=agent,model step=1d', (q) => costsAnalytics(q, 'default', { fromMs: dfrom, toMs: dto, groupBy: ['agent', 'model'], stepMs: DAY, nowMs: NOW })],
      ['usage whole days group_by=agent,tool', (q) => usageAnalytics(q, 'default', { fromMs: dfrom, toMs: dto, groupBy: ['agent', 'tool'], stepMs: 0, dimensions: DEFAULT_DIMENSION_LABELS })],
    ];
    // CPU time next to wall time: on a shared machine the wall time mostly measures the others.
    const rows: Array<{ query: string; digest: string; live_digest: string; live_ms: number; p50_ms: number; p99_ms: number; p50_cpu_ms: number; runs: number }> = [];
    const sha = (v: unknown) => createHash('sha1').update(JSON.stringify(v)).digest('hex').slice(0, 12);
    for (const [c, [name, run]] of cases.entries()) {
      if (only !== null && !only.has(c)) continue;
      const fn = () => run(q);
      // The answer's digest, so that two builds timed on the same data can be seen to agree.
      const digest = sha(fn());
      // The same answer read live from the series (no day digests): one timed run, and its digest.
      const l0 = performance.now();
      const liveDigest = sha(run(live));
      const liveMs = performance.now() - l0;
      for (let w = 1; w < warmup; w++) fn();
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
      rows.push({ query: name, digest, live_digest: liveDigest, live_ms: +liveMs.toFixed(1), p50_ms: +pct(ms, 0.5).toFixed(1), p99_ms: +pct(ms, 0.99).toFixed(1), p50_cpu_ms: +pct(cpu, 0.5).toFixed(1), runs });
    }
    const { loadavg } = await import('node:os');
    const digestBytes = store.digests === undefined ? 0 : store.digests.keys('default', '').reduce((n, k) => n + (store.digests!.get('default', k)?.bytes.length ?? 0), 0);
    const result = { scenario: 'analytics', days, series: targets * 5, targets, load_seconds: +loadS.toFixed(1), compact_seconds: +compactS.toFixed(1), digest_seconds: +digestS.toFixed(1), digest_days_built: digestDays, digest_bytes: digestBytes, loadavg: loadavg().map((x) => +x.toFixed(2)), rows };
    console.log(`analytics over ${days} days x ${targets * 5} series (${targets} cost targets); load ${loadS.toFixed(1)} s, compaction ${compactS.toFixed(1)} s, day digests ${digestS.toFixed(1)} s (${digestDays} built, ${(digestBytes / 1048576).toFixed(1)} MiB), loadavg ${result.loadavg.join(' ')}`);
    console.log('query                                          p50 ms    p99 ms  p50 cpu ms  answer digest   live ms  live digest');
    for (const r of rows) console.log(`${r.query.padEnd(46)} ${String(r.p50_ms).padStart(8)} ${String(r.p99_ms).padStart(9)} ${String(r.p50_cpu_ms).padStart(11)}  ${r.digest}  ${String(r.live_ms).padStart(8)}  ${r.live_digest}${r.live_digest === r.digest ? '' : '  DIFFERS'}`);
    const out = new URL('../../bench/results/', import.meta.url).pathname;
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'analytics.json'), JSON.stringify(result, null, 2) + '\n');
  } finally {
    await store.close();
    if (dirArg === null) rmSync(dir, { recursive: true, force: true });
  }
}

/** withoutDigests is `q` without its day digests: every answer read live from the series. */
function withoutDigests(q: Querier): Querier {
  return {
    select: (t, m, h) => q.select(t, m, h),
    ...(q.selectEach === undefined ? {} : { selectEach: q.selectEach.bind(q) }),
    series: (t, m, s, e) => q.series(t, m, s, e),
    labelNames: (t, m, s, e) => q.labelNames(t, m, s, e),
    labelValues: (t, n, m, s, e) => q.labelValues(t, n, m, s, e),
    metadata: (t, m) => q.metadata(t, m),
  };
}

/** load writes the bench's series through the appender (whole batches of series per commit), then compacts. */
async function load(store: Store): Promise<{ loadS: number; compactS: number }> {
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
  // Load series by series, not day by day: one commit writes a batch of targets' whole range,
  // so each series' chunks are appended to in one go. Day by day, every commit touched every
  // series and, past the writer's 8192 cached rollup heads, re-read and re-encoded each one's
  // head chunk: 10k series did not finish loading in 18 minutes.
  for (let b0 = 0; b0 < targets; b0 += BATCH_TARGETS) {
    const app = store.appender();
    for (let i = b0; i < Math.min(targets, b0 + BATCH_TARGETS); i++) {
      const s = ids[i]!;
      for (let d = 0; d < days; d++) {
        for (let h = 0; h < 24; h++) {
          const w = T0 + d * DAY + h * HOUR;
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
    }
    await app.commit();
  }
  const loadS = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  await store.compact();
  const compactS = (performance.now() - t1) / 1000;
  return { loadS, compactS };
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
