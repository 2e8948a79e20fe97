import t from 'tap';
import { costsAnalytics, type CostsParams } from '../../src/cost/analytics-costs.js';
import { usageAnalytics, type UsageParams } from '../../src/cost/analytics-usage.js';
import { buildDayDigest, buildHourDigest } from '../../src/cost/day-digest-build.js';
import { refreshDayDigests } from '../../src/cost/day-digest-refresh.js';
import { mappingFingerprint } from '../../src/cost/day-digest.js';
import { DEFAULT_DIMENSION_LABELS } from '../../src/cost/dimensions.js';
import { EDGE_CACHE_STATS } from '../../src/cost/edge-cache.js';
import { SparseHistogram } from '../../src/model/hdr.js';
import type { Matcher } from '../../src/model/matcher.js';
import { MetricKind } from '../../src/model/metric-kind.js';
import type { Appender, Querier, SelectHints, SelectResult, Store } from '../../src/store/interface.js';
import { CLOCK_T0, L, openTemp } from '../store/helpers.js';
import { live } from './live-querier.js';

/**
 * The edge reads of an answer asked as users ask (from = now - period, to = now: both edges inside
 * hours) are kept between answers (src/cost/edge-cache.ts): a repeated answer reads no series, and
 * every answer equals the one read from the series alone, whatever was committed in between.
 */

const MIN = 60_000, HOUR = 3_600_000, DAY = 86_400_000;
/** The store's clock: 37 minutes into an hour, moved by the tests. */
const NOW0 = Math.floor(CLOCK_T0 / HOUR) * HOUR + 37 * MIN + 13_000;
const T0 = Math.floor(NOW0 / HOUR) * HOUR - 3 * DAY;

/**
 * counted is `q` (with its digests) counting the series reads at step hint 1 (edge reads) and the
 * series they hand over.
 */
function counted(q: Querier): { q: Querier; edgeReads: () => number; edgeSeries: () => number } {
  let n = 0, series = 0;
  const each = (a: string, m: readonly Matcher[], h: SelectHints, fn: (r: SelectResult) => void) => {
    if (h.stepMs === 1) n++;
    q.selectEach!(a, m, h, (r) => {
      if (h.stepMs === 1) series += r.floats.length + r.histograms.length;
      fn(r);
    });
  };
  return { q: { ...live(q), selectEach: each, digests: q.digests! }, edgeReads: () => n, edgeSeries: () => series };
}

interface Ids { cost: number; tokens: number[]; calls: number; lat: number }

/** points writes one target's points of window `w` (10 s) at `at`. */
function points(app: Appender, s: Ids, i: number, w: number, n: number): void {
  app.counter(s.cost, w, n * 0.0031 + i * 0.0001, w + 5_000);
  s.tokens.forEach((k, j) => app.counter(k, w, n * (100 + 10 * j), w + 5_000));
  app.counter(s.calls, w, n, w + 5_000);
  const lat = new SparseHistogram();
  for (let c = 0; c < n; c++) lat.record(0.05 + ((i * 13 + c * 7) % 40) / 20);
  app.histogram(s.lat, w, lat, w + 5_000);
}

/** load writes 3 days of 8 targets, a point every 10 minutes (some idle), then compacts and builds digests. */
async function load(store: Store): Promise<Ids[]> {
  const app = store.appender();
  const ids: Ids[] = [];
  for (let i = 0; i < 8; i++) {
    const dims = { agent: `a${i % 3}`, model: `m${i % 2}`, provider: 'p', tool: `t${i % 2}`, user: `u${i}` };
    ids.push({
      cost: app.seriesId('default', L({ __name__: 'tallyd_llm_cost_usd_total', cost_source: 'computed', ...dims }), MetricKind.Counter),
      tokens: ['input', 'output'].map((kind) => app.seriesId('default', L({ __name__: 'tallyd_llm_tokens_total', kind, ...dims }), MetricKind.Counter)),
      calls: app.seriesId('default', L({ __name__: 'tallyd_llm_calls_total', ...dims }), MetricKind.Counter),
      lat: app.seriesId('default', L({ __name__: 'mcp_tool_execute_seconds', agent_id: dims.agent, tool_name: dims.tool, outcome: i % 3 === 0 ? 'error' : 'success' }), MetricKind.Histogram),
    });
  }
  for (let w = T0; w < NOW0 - MIN; w += 10 * MIN) {
    const k = (w - T0) / (10 * MIN);
    ids.forEach((s, i) => {
      if ((k + i) % 9 !== 0) points(app, s, i, w, 1 + ((k + i) % 4));
    });
  }
  await app.commit();
  await store.compact();
  await refreshDayDigests(store.digests!, mappingFingerprint(DEFAULT_DIMENSION_LABELS), async (tenant, start, span) =>
    (span === 'day' ? buildDayDigest : buildHourDigest)(store.querier(), tenant, start, DEFAULT_DIMENSION_LABELS));
  return ids;
}

const costs = (now: number): CostsParams => ({ fromMs: now - DAY, toMs: now, groupBy: ['agent'], stepMs: 0, nowMs: now });
const usage = (now: number): UsageParams => ({ fromMs: now - DAY, toMs: now, groupBy: ['agent', 'tool'], stepMs: 0, dimensions: DEFAULT_DIMENSION_LABELS });

t.test('a repeated answer reads its edges from the kept reads, and equals the answer read from the series', async (t) => {
  let now = NOW0;
  const { store } = await openTemp(t, { now: () => now });
  await load(store);
  const c = counted(store.querier());
  const first = [costsAnalytics(c.q, 'default', costs(now)), usageAnalytics(c.q, 'default', usage(now))];
  const firstReads = c.edgeReads();
  t.ok(firstReads > 0, `the first answers read their edges from the series (${firstReads} reads)`);
  const hits = EDGE_CACHE_STATS.hits;
  const again = [costsAnalytics(c.q, 'default', costs(now)), usageAnalytics(c.q, 'default', usage(now))];
  t.equal(c.edgeReads(), firstReads, 'the repeated answers read no series at the edges');
  t.ok(EDGE_CACHE_STATS.hits > hits, 'they were served from kept reads');
  t.same(again, first, 'the same answers');
  t.same(again, [costsAnalytics(live(store.querier()), 'default', costs(now)), usageAnalytics(live(store.querier()), 'default', usage(now))], 'the answers read from the series alone');
  // A dashboard refreshing: `from` and `now` move inside their hours; nothing was committed.
  for (const step of [5_000, 60_000, 7 * MIN, 11 * MIN]) {
    now += step;
    const reads = c.edgeReads();
    const got = [costsAnalytics(c.q, 'default', costs(now)), usageAnalytics(c.q, 'default', usage(now))];
    const want = [costsAnalytics(live(store.querier()), 'default', costs(now)), usageAnalytics(live(store.querier()), 'default', usage(now))];
    t.same(got, want, `now + ${(now - NOW0) / 1000} s: the answers read from the series alone`);
    t.equal(c.edgeReads(), reads, `now + ${(now - NOW0) / 1000} s: no edge read`);
  }
  // Into the next hour: both edges are new hours, read and kept.
  now += 10 * MIN;
  t.same([costsAnalytics(c.q, 'default', costs(now)), usageAnalytics(c.q, 'default', usage(now))],
    [costsAnalytics(live(store.querier()), 'default', costs(now)), usageAnalytics(live(store.querier()), 'default', usage(now))], 'in the next hour: the answers read from the series alone');
});

t.test('a newly committed window shows up in the next answer', async (t) => {
  let now = NOW0;
  const { store } = await openTemp(t, { now: () => now });
  const ids = await load(store);
  const q = store.querier();
  const before = costsAnalytics(q, 'default', costs(now));
  const beforeUsage = usageAnalytics(q, 'default', usage(now));
  costsAnalytics(q, 'default', costs(now));
  // A window of the open hour, just committed (a point at now - 2 s).
  now += 3_000;
  const w = Math.floor((now - 2_000) / 10_000) * 10_000;
  let app = store.appender();
  points(app, ids[0]!, 0, w, 5);
  await app.commit();
  const after = costsAnalytics(q, 'default', costs(now));
  t.same(after, costsAnalytics(live(q), 'default', costs(now)), 'the answer read from the series alone');
  const calls = (d: typeof before) => d.groups.reduce((s, g) => s + g.calls, 0);
  t.equal(calls(after), calls(before) + 5, 'the new window\'s 5 calls are counted');
  const afterUsage = usageAnalytics(q, 'default', usage(now));
  t.same(afterUsage, usageAnalytics(live(q), 'default', usage(now)), 'usage: the answer read from the series alone');
  const ucalls = (d: typeof beforeUsage) => d.rows.reduce((s, r) => s + r.call_count, 0);
  t.equal(ucalls(afterUsage), ucalls(beforeUsage) + 5, 'usage: the new window\'s 5 calls are counted');
  // A late window in the hour the period starts in (settled, kept from the first answers).
  const late = Math.floor((now - DAY) / HOUR) * HOUR + 59 * MIN;
  app = store.appender();
  points(app, ids[1]!, 1, late, 3);
  await app.commit();
  const afterLate = costsAnalytics(q, 'default', costs(now));
  t.same(afterLate, costsAnalytics(live(q), 'default', costs(now)), 'after a late write: the answer read from the series alone');
  t.equal(calls(afterLate), calls(after) + 3, 'the late window\'s 3 calls are counted');
  t.same(usageAnalytics(q, 'default', usage(now)), usageAnalytics(live(q), 'default', usage(now)), 'usage after a late write: the answer read from the series alone');
});

t.test('a kept hour serves a read from inside it as a read starting there (after an idle gap)', async (t) => {
  const now = NOW0;
  const { store } = await openTemp(t, { now: () => now });
  await load(store);
  // A target idle for over 2 h before a point after `from`, in the hour `from` falls in: its
  // previous point lies in the kept hour read's look-back but not in that of a read from `from`
  // (the store puts a sample holding the total before the window after the gap, so both count
  // the point's increment), and points of the hour before `from` are not counted.
  const from = now - DAY, hour = Math.floor(from / HOUR) * HOUR;
  t.ok(from - hour > 10 * MIN && from - hour < 45 * MIN, 'from is inside its hour');
  const app = store.appender();
  const idle: Ids = {
    cost: app.seriesId('default', L({ __name__: 'tallyd_llm_cost_usd_total', cost_source: 'computed', agent: 'idle', model: 'm0', provider: 'p', tool: 't0', user: 'ui' }), MetricKind.Counter),
    tokens: ['input', 'output'].map((kind) => app.seriesId('default', L({ __name__: 'tallyd_llm_tokens_total', kind, agent: 'idle', model: 'm0', provider: 'p', tool: 't0', user: 'ui' }), MetricKind.Counter)),
    calls: app.seriesId('default', L({ __name__: 'tallyd_llm_calls_total', agent: 'idle', model: 'm0', provider: 'p', tool: 't0', user: 'ui' }), MetricKind.Counter),
    lat: app.seriesId('default', L({ __name__: 'mcp_tool_execute_seconds', agent_id: 'idle', tool_name: 't0', outcome: 'success' }), MetricKind.Histogram),
  };
  points(app, idle, 0, hour - 110 * MIN, 2);
  points(app, idle, 0, hour + 45 * MIN, 3);
  await app.commit();
  const q = store.querier();
  // Costs read the whole hour (and keep it); usage reads from `from`, served from the kept hour.
  t.same(costsAnalytics(q, 'default', costs(now)), costsAnalytics(live(q), 'default', costs(now)), 'costs: the answer read from the series alone');
  const hits = EDGE_CACHE_STATS.hits;
  t.same(usageAnalytics(q, 'default', usage(now)), usageAnalytics(live(q), 'default', usage(now)), 'usage: the answer read from the series alone');
  t.ok(EDGE_CACHE_STATS.hits > hits, 'usage took its edges from kept reads');
});

t.test('after a commit into a kept hour only the series it wrote there are read again', async (t) => {
  let now = NOW0;
  const { store } = await openTemp(t, { now: () => now });
  const ids = await load(store);
  const c = counted(store.querier());
  const answers = () => [costsAnalytics(c.q, 'default', costs(now)), usageAnalytics(c.q, 'default', usage(now))];
  const want = () => [costsAnalytics(live(store.querier()), 'default', costs(now)), usageAnalytics(live(store.querier()), 'default', usage(now))];
  answers();
  const fills = EDGE_CACHE_STATS.fills;
  const check = async (what: string, write: (app: Appender, w: number) => void, most: number) => {
    now += 5_000;
    const app = store.appender();
    // A window whose last point (5 s in) is before now.
    write(app, Math.floor((now - 7_000) / 10_000) * 10_000);
    await app.commit();
    const refreshes = EDGE_CACHE_STATS.refreshes, series = c.edgeSeries();
    t.same(answers(), want(), `${what}: the answers read from the series alone`);
    t.ok(c.edgeSeries() - series <= most, `${what}: ${c.edgeSeries() - series} series read at the edges (at most ${most})`);
    return EDGE_CACHE_STATS.refreshes - refreshes;
  };
  // Under ingestion (a commit before every answer): one target's 5 series, read again in each of
  // the open hour's 4 kept reads (cost, tokens, calls; latency).
  for (let i = 0; i < 3; i++) t.ok(await check(`commit ${i + 1}`, (app, w) => points(app, ids[2]!, 2, w, 1 + i), 5 * 2) > 0, `commit ${i + 1}: kept reads brought up to date`);
  // A series new in the open hour joins the kept reads.
  await check('a new target', (app, w) => {
    const dims = { agent: 'new', model: 'm0', provider: 'p', tool: 't1', user: 'unew' };
    points(app, {
      cost: app.seriesId('default', L({ __name__: 'tallyd_llm_cost_usd_total', cost_source: 'computed', ...dims }), MetricKind.Counter),
      tokens: ['input', 'output'].map((kind) => app.seriesId('default', L({ __name__: 'tallyd_llm_tokens_total', kind, ...dims }), MetricKind.Counter)),
      calls: app.seriesId('default', L({ __name__: 'tallyd_llm_calls_total', ...dims }), MetricKind.Counter),
      lat: app.seriesId('default', L({ __name__: 'mcp_tool_execute_seconds', agent_id: 'new', tool_name: 't1', outcome: 'success' }), MetricKind.Histogram),
    }, 9, w, 2);
  }, 5 * 2);
  t.ok(costsAnalytics(c.q, 'default', costs(now)).groups.some((g) => g.labels['agent'] === 'new'), 'the new target is counted');
  // A late window in the hour the period starts in (kept), and in the hour before it (the look-back).
  for (const back of [DAY - 20 * MIN, DAY + 70 * MIN]) {
    await check(`a late write ${back / MIN} min back`, (app) => points(app, ids[4]!, 4, Math.floor((now - back) / 10_000) * 10_000, 3), 5 * 2);
  }
  // A series the kept reads do not select: nothing read again.
  t.equal(await check('another metric', (app, w) => app.counter(app.seriesId('default', L({ __name__: 'other_total' }), MetricKind.Counter), w, 1), 0), 0, 'no read brought up to date');
  t.equal(EDGE_CACHE_STATS.fills, fills, 'no hour read whole again');
});

t.test('an hour where many series were written since its read is read live, and kept again once unchanged', async (t) => {
  let now = NOW0;
  const { store } = await openTemp(t, { now: () => now });
  const ids = await load(store);
  const c = counted(store.querier());
  const answer = () => costsAnalytics(c.q, 'default', costs(now));
  answer();
  const commit = async () => {
    now += 5_000;
    const app = store.appender();
    // Three targets of eight: over a quarter of the kept series, read again whole.
    for (const i of [2, 3, 5]) points(app, ids[i]!, i, Math.floor((now - 2_000) / 10_000) * 10_000, 1);
    await app.commit();
  };
  // Under ingestion (a commit before every answer) the open hour is read live, not recorded.
  for (let i = 0; i < 3; i++) {
    await commit();
    const fills = EDGE_CACHE_STATS.fills, reads = c.edgeReads();
    t.same(answer(), costsAnalytics(live(store.querier()), 'default', costs(now)), `commit ${i + 1}: the answer read from the series alone`);
    t.equal(c.edgeReads() - reads, 3, `commit ${i + 1}: the open hour read live (cost, tokens, calls), the start hour kept`);
    t.equal(EDGE_CACHE_STATS.fills, fills, `commit ${i + 1}: nothing recorded`);
  }
  // Unchanged since the answer before: kept again, then served.
  let fills = EDGE_CACHE_STATS.fills;
  answer();
  t.equal(EDGE_CACHE_STATS.fills - fills, 3, 'an answer after no commit keeps the open hour');
  const reads = c.edgeReads();
  fills = EDGE_CACHE_STATS.fills;
  t.same(answer(), costsAnalytics(live(store.querier()), 'default', costs(now)), 'the next answer: the answer read from the series alone');
  t.equal(c.edgeReads(), reads, 'read from the kept hour');
  t.equal(EDGE_CACHE_STATS.fills, fills, 'nothing recorded again');
});
