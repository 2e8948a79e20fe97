import t from 'tap';
import { costsAnalytics, type CostsData, type CostsParams } from '../../src/cost/analytics-costs.js';
import { usageAnalytics, type UsageParams } from '../../src/cost/analytics-usage.js';
import { buildDayDigest, buildHourDigest } from '../../src/cost/day-digest-build.js';
import { refreshDayDigests } from '../../src/cost/day-digest-refresh.js';
import { dayKey, hourKey, keyHour, mappingFingerprint } from '../../src/cost/day-digest.js';
import { DEFAULT_DIMENSION_LABELS, dimensionMap, type Dimension, type DimensionMap } from '../../src/cost/dimensions.js';
import { SparseHistogram } from '../../src/model/hdr.js';
import { Matcher } from '../../src/model/matcher.js';
import { MetricKind } from '../../src/model/metric-kind.js';
import type { Querier, SelectHints, SelectResult, Store } from '../../src/store/interface.js';
import { CLOCK_T0, L, openTemp } from '../store/helpers.js';
import { live } from './live-querier.js';

const MIN = 60_000, HOUR = 3_600_000, DAY = 86_400_000;
const NOW = Math.floor(CLOCK_T0 / HOUR) * HOUR;
const DAYS = 20;
const T0 = Math.floor((NOW - DAYS * DAY) / HOUR) * HOUR;

/** reads is `q` recording the time span of every series read. */
function reads(q: Querier): { q: Querier; spans: Array<[number, number]> } {
  const spans: Array<[number, number]> = [];
  const each = (a: string, m: readonly Matcher[], h: SelectHints, fn: (r: SelectResult) => void) => {
    spans.push([h.startMs, h.endMs]);
    q.selectEach!(a, m, h, fn);
  };
  return { q: { ...live(q), selectEach: each, digests: q.digests! }, spans };
}

/**
 * load writes 20 days of derived LLM series for 3 agents x 2 models x 2 tools x 2 users, with
 * every token kind, reported cost beside computed, windows with tokens but no cost (unpriced),
 * calls, and latency histograms from two sources with failures, at points inside their hours.
 */
async function load(store: Store): Promise<void> {
  const app = store.appender();
  const ids: Array<{ i: number; cost: number; rep: number; kinds: number[]; calls: number; lat: number; span: number }> = [];
  let i = 0;
  for (const agent of ['a1', 'a2', 'a3']) for (const model of ['gpt-4o', 'claude']) for (const tool of ['search', 'fetch']) for (const user of ['u1', 'u2']) {
    const dims = { agent, model, provider: model === 'claude' ? 'anthropic' : 'openai', tool, user };
    ids.push({
      i: i++,
      cost: app.seriesId('default', L({ __name__: 'tallyd_llm_cost_usd_total', cost_source: 'computed', ...dims }), MetricKind.Counter),
      rep: app.seriesId('default', L({ __name__: 'tallyd_llm_cost_usd_total', cost_source: 'reported', ...dims }), MetricKind.Counter),
      kinds: ['input', 'cache_read', 'cache_write', 'output', 'reasoning'].map((kind) => app.seriesId('default', L({ __name__: 'tallyd_llm_tokens_total', kind, ...dims }), MetricKind.Counter)),
      calls: app.seriesId('default', L({ __name__: 'tallyd_llm_calls_total', ...dims }), MetricKind.Counter),
      lat: app.seriesId('default', L({ __name__: 'mcp_tool_execute_seconds', agent_id: agent, tool_name: tool, user_id: user, outcome: i % 3 === 0 ? 'error' : 'success' }), MetricKind.Histogram),
      span: app.seriesId('default', L({ __name__: 'traces_span_metrics_duration_milliseconds', agent_id: agent, tool_name: tool, model, status_code: i % 4 === 0 ? 'STATUS_CODE_ERROR' : 'STATUS_CODE_UNSET' }), MetricKind.Histogram),
    });
  }
  for (let w = T0; w < NOW; w += HOUR) {
    const h = (w - T0) / HOUR;
    for (const s of ids) {
      if ((h + s.i) % 5 === 0) continue; // idle hours
      const at = w + ((h * 7 + s.i * 11) % 60) * MIN;
      const n = 1 + ((h + s.i) % 4);
      // Every 7th active window has tokens but no price: no cost increment.
      if ((h + s.i) % 7 !== 0) app.counter(s.cost, w, n * 0.0031 + s.i * 0.0001, at);
      if ((h + s.i) % 3 === 0) app.counter(s.rep, w, n * 0.002, at);
      s.kinds.forEach((k, j) => app.counter(k, w, n * (100 + 10 * j), at));
      app.counter(s.calls, w, n, at);
      const lat = new SparseHistogram();
      for (let c = 0; c < n; c++) lat.record(0.05 + ((h * 13 + c * 7 + s.i) % 40) / 20);
      app.histogram(s.lat, w, lat, at);
      if (h % 2 === 0) {
        const sp = new SparseHistogram();
        sp.record(40 + (h % 30) * 5, n);
        app.histogram(s.span, w, sp, at);
      }
    }
  }
  await app.commit();
  await store.compact();
}

async function refresh(store: Store, mapping: DimensionMap = DEFAULT_DIMENSION_LABELS) {
  return refreshDayDigests(store.digests!, mappingFingerprint(mapping), async (tenant, start, span) =>
    (span === 'day' ? buildDayDigest : buildHourDigest)(store.querier(), tenant, start, mapping));
}

const GROUPS: Dimension[][] = [[], ['agent'], ['agent', 'model'], ['tool', 'user'], ['provider', 'model', 'tool', 'user', 'agent']];
/** Ranges: the whole span, whole UTC days, edges inside hours, a range from after the 1st of NOW's month. */
const RANGES: Array<[string, number, number]> = [
  ['whole span', T0, NOW - 1],
  ['whole days', Math.ceil(T0 / DAY) * DAY + DAY, Math.floor(NOW / DAY) * DAY - DAY - 1],
  ['edges inside hours', T0 + 5 * DAY + 17 * MIN + 3_000, NOW - 2 * DAY - 23 * MIN],
  ['from after the 1st', Date.UTC(2023, 10, 5, 6), NOW - 1],
  ['from ten empty days before the first point', T0 - 10 * DAY - 5 * HOUR, NOW - DAY - 1],
];

t.test('answers from day digests equal the answers read from the series', async (t) => {
  const { store } = await openTemp(t, { now: () => NOW + 10 * MIN });
  await load(store);
  const q = store.querier();
  const before = costsAnalytics(q, 'default', { fromMs: T0, toMs: NOW - 1, groupBy: ['agent'], stepMs: 0, nowMs: NOW });
  const r = await refresh(store);
  const settled = store.digests!.settledDays();
  t.ok(settled.toMs - settled.fromMs >= 15 * DAY, `most days are settled (${(settled.toMs - settled.fromMs) / DAY})`);
  // Days before the first point were never written into: they need no digest.
  const firstDay = Math.floor(T0 / DAY) * DAY;
  t.ok(firstDay > settled.fromMs, 'some settled days are empty');
  t.equal(r.built, (settled.toMs - firstDay) / DAY, 'a digest for every settled day with points, none for empty days');
  t.equal(store.digests!.keys('default', dayKey(settled.fromMs, 'head')).length, 0, 'no digest of an empty day');
  t.same(costsAnalytics(store.querier(), 'default', { fromMs: T0, toMs: NOW - 1, groupBy: ['agent'], stepMs: 0, nowMs: NOW }), before, 'the same answer as before the digests');

  for (const [name, from, to] of RANGES) {
    for (const groupBy of GROUPS) {
      for (const stepMs of [0, DAY, 6 * HOUR]) {
        const p: CostsParams = { fromMs: from, toMs: to, groupBy, stepMs, nowMs: NOW };
        const got = costsAnalytics(store.querier(), 'default', p);
        const want = costsAnalytics(live(store.querier()), 'default', p);
        if (JSON.stringify(got) !== JSON.stringify(want)) {
          t.same(got, want, `costs ${name} group_by=${groupBy.join(',')} step=${stepMs}`);
          return;
        }
      }
      const u: UsageParams = { fromMs: from, toMs: to, groupBy, stepMs: 0, dimensions: DEFAULT_DIMENSION_LABELS };
      const got = usageAnalytics(store.querier(), 'default', u);
      const want = usageAnalytics(live(store.querier()), 'default', u);
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        t.same(got, want, `usage ${name} group_by=${groupBy.join(',')}`);
        return;
      }
    }
  }
  t.pass(`${RANGES.length * GROUPS.length * 4} answers equal`);
  const some = costsAnalytics(store.querier(), 'default', { fromMs: T0, toMs: NOW - 1, groupBy: ['agent'], stepMs: DAY, nowMs: NOW });
  t.ok(some.groups.length === 3 && some.groups.every((g) => g.cost_usd > 0 && g.unpriced_tokens > 0 && g.reported_cost_usd > 0 && g.reasoning_tokens > 0 && (g.forecast_cost_usd ?? 0) > 0), 'the compared answers hold every kind of figure');
});

t.test('an answer reads from the series only what no digest holds', async (t) => {
  const { store } = await openTemp(t, { now: () => NOW + 10 * MIN });
  await load(store);
  await refresh(store);
  const settled = store.digests!.settledDays();
  for (const [name, from, to] of RANGES) {
    // The digest days of the range: whole, settled UTC days inside it.
    const days: number[] = [];
    for (let d = Math.max(Math.ceil(from / DAY) * DAY, settled.fromMs); d + DAY <= Math.min(to + 1, settled.toMs); d += DAY) days.push(d);
    t.ok(days.length > 0, `${name}: has digest days`);
    for (const [what, run] of [
      ['costs', (q: Querier) => costsAnalytics(q, 'default', { fromMs: from, toMs: to, groupBy: ['agent'], stepMs: 0, nowMs: NOW })],
      ['usage', (q: Querier) => usageAnalytics(q, 'default', { fromMs: from, toMs: to, groupBy: ['agent'], stepMs: 0, dimensions: DEFAULT_DIMENSION_LABELS })],
    ] as const) {
      const r = reads(store.querier());
      run(r.q);
      // A read may start 2 h before its part (the sample before its first window).
      const bad = r.spans.filter(([s, e]) => days.some((d) => s + 2 * HOUR < d + DAY && e >= d));
      t.same(bad, [], `${what} ${name}: no series read reaches into a digest day`);
    }
  }
  const r = reads(store.querier());
  costsAnalytics(r.q, 'default', { fromMs: T0, toMs: NOW - 1, groupBy: ['agent'], stepMs: DAY, nowMs: NOW });
  const first = Math.max(Math.ceil(T0 / DAY) * DAY, settled.fromMs);
  t.ok(r.spans.every(([s, e]) => s + 2 * HOUR >= settled.toMs || e < first), 'a daily trend with buckets starting on whole hours takes its days from digests too');
  const w = reads(store.querier());
  const a = settled.toMs - 5 * DAY;
  costsAnalytics(w.q, 'default', { fromMs: a, toMs: a + 3 * DAY - 1, groupBy: ['agent'], stepMs: 0, nowMs: NOW });
  t.same(w.spans, [], 'three whole settled days: no series read at all');
});

t.test('a write into a digested day makes its digest stale until the next refresh', async (t) => {
  const { store } = await openTemp(t, { now: () => NOW + 10 * MIN });
  await load(store);
  await refresh(store);
  const day = Math.floor(NOW / DAY) * DAY - 4 * DAY;
  const p: CostsParams = { fromMs: day - 2 * DAY, toMs: day + 2 * DAY - 1, groupBy: ['agent'], stepMs: 0, nowMs: NOW };
  const was = costsAnalytics(store.querier(), 'default', p);
  const stamp = store.digests!.dayStamp(day);
  const stampBefore = store.digests!.dayStamp(day - DAY);
  const app = store.appender();
  const id = app.seriesId('default', L({ __name__: 'tallyd_llm_cost_usd_total', cost_source: 'computed', agent: 'a1', model: 'gpt-4o', provider: 'openai', tool: 'search', user: 'u1' }), MetricKind.Counter);
  app.counter(id, day + 3 * HOUR, 100, day + 3 * HOUR + 5 * MIN);
  await app.commit();
  t.not(store.digests!.dayStamp(day), stamp, 'the commit changed the day stamp');
  t.equal(store.digests!.dayStamp(day - DAY), stampBefore, 'other days keep theirs');
  const now = costsAnalytics(store.querier(), 'default', p);
  const a1 = (d: typeof now) => d.groups.find((g) => g.labels.agent === 'a1')!.cost_usd;
  t.equal(Math.round((a1(now) - a1(was)) * 1e6) / 1e6, 100, 'the late $100 counts at once (the stale digest is not used)');
  t.same(now, costsAnalytics(live(store.querier()), 'default', p), 'and the answer is the live one');
  const again = await refresh(store);
  t.equal(again.built, 1, 'the next refresh rebuilds that day only');
  t.same(costsAnalytics(store.querier(), 'default', p), now, 'with the same answer');
  t.equal((await refresh(store)).built, 0, 'a refresh with nothing new builds nothing');
});

t.test('usage digests grouped by another dimension mapping are not used', async (t) => {
  const { store } = await openTemp(t, { now: () => NOW + 10 * MIN });
  await load(store);
  await refresh(store);
  // `user` read from a label the sources do not have: every user is ''.
  const other = dimensionMap({ user: ['nobody'] });
  const u: UsageParams = { fromMs: T0, toMs: NOW - 1, groupBy: ['agent', 'user'], stepMs: 0, dimensions: other };
  const got = usageAnalytics(store.querier(), 'default', u);
  t.same(got, usageAnalytics(live(store.querier()), 'default', u), 'the answer is read live with that mapping');
  t.notSame(got, usageAnalytics(store.querier(), 'default', { ...u, dimensions: DEFAULT_DIMENSION_LABELS }), 'which gives another answer than the digests\' mapping');
  const r = await refresh(store, other);
  t.ok(r.built > 0, 'a refresh with the new mapping rebuilds the digests');
  t.same(usageAnalytics(store.querier(), 'default', u), got, 'and the answer stays the same');
});

t.test('digests of days that left the settled range are removed', async (t) => {
  let clock = NOW + 10 * MIN;
  const { store } = await openTemp(t, { now: () => clock, tiers: [
    { name: 'raw', resolutionMs: 10_000, retentionMs: 2 * DAY },
    { name: '5m', resolutionMs: 300_000, retentionMs: 10 * DAY },
    { name: '1h', resolutionMs: 3_600_000, retentionMs: 10 * DAY },
    { name: 'monthly', resolutionMs: 0, retentionMs: 365 * DAY, monthly: true },
  ] });
  await load(store);
  const first = await refresh(store);
  const oldest = store.digests!.settledDays().fromMs;
  t.ok(first.built >= 8, `built ${first.built}`);
  t.ok(store.digests!.get('default', dayKey(oldest)) !== undefined, 'the oldest settled day has a digest');
  clock += 3 * DAY;
  await store.compact();
  const r = await refresh(store);
  t.equal(r.removed, 3, 'three days left the 1 h tier\'s retention');
  t.equal(store.digests!.get('default', dayKey(oldest)), undefined, 'their digests are gone');
  // The stamps of the days before the one the retention starts in, 3 more than at the first
  // refresh (which pruned those before it then): each day's, and its 24 hours' (every hour of the
  // load has points).
  t.equal(r.stampsPruned, 3 + 3 * 24, 'their stamps are pruned');
  t.equal(store.digests!.dayStamp(oldest), 0, 'the oldest settled day\'s stamp among them');
  t.ok(store.digests!.dayStamp(store.digests!.settledDays().fromMs) > 0, 'the days still settled keep theirs');
  const p: CostsParams = { fromMs: oldest - 5 * DAY, toMs: clock, groupBy: ['agent'], stepMs: 0, nowMs: clock };
  t.same(costsAnalytics(store.querier(), 'default', p), costsAnalytics(live(store.querier()), 'default', p), 'answers past the retention are the live ones');
});

/** TODAY is the start of NOW's UTC day: its hours so far (22 of them) are settled, the day is not. */
const TODAY = Math.floor(NOW / DAY) * DAY;
/** Ranges that end inside today, whose whole hours come from hour digests. */
const TODAY_RANGES: Array<[string, number, number]> = [
  ['today so far', TODAY, NOW - 1],
  ['eight days, edges inside hours', TODAY - 8 * DAY + 3 * HOUR + 17 * MIN + 3_000, NOW - 23 * MIN],
  ['yesterday noon to now', TODAY - 12 * HOUR, NOW - 1],
  ['ten days to inside the last hour', TODAY - 10 * DAY, NOW - HOUR + 7 * MIN],
  ['to past now', TODAY + HOUR, NOW + 2 * HOUR - 1],
  // Short and not hour-aligned: edges at the raw tier, whole hours from their digests.
  ['today, edges inside hours', TODAY + 3 * HOUR + 17 * MIN + 3_000, NOW - 23 * MIN],
];

/** same compares digest answers with live ones over `ranges`; the first difference fails. */
function sameAsLive(t: { same: (got: unknown, want: unknown, msg: string) => unknown }, store: Store, ranges: Array<[string, number, number]>, nowMs = NOW): boolean {
  for (const [name, from, to] of ranges) {
    for (const groupBy of GROUPS) {
      for (const stepMs of [0, HOUR, 6 * HOUR, DAY, 7 * MIN]) {
        const p: CostsParams = { fromMs: from, toMs: to, groupBy, stepMs, nowMs };
        const got = costsAnalytics(store.querier(), 'default', p);
        const want = costsAnalytics(live(store.querier()), 'default', p);
        if (JSON.stringify(got) !== JSON.stringify(want)) {
          t.same(got, want, `costs ${name} group_by=${groupBy.join(',')} step=${stepMs}`);
          return false;
        }
      }
      const u: UsageParams = { fromMs: from, toMs: to, groupBy, stepMs: 0, dimensions: DEFAULT_DIMENSION_LABELS };
      const got = usageAnalytics(store.querier(), 'default', u);
      const want = usageAnalytics(live(store.querier()), 'default', u);
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        t.same(got, want, `usage ${name} group_by=${groupBy.join(',')}`);
        return false;
      }
    }
  }
  return true;
}

t.test('today\'s whole hours come from hour digests, with the live answers', async (t) => {
  const { store } = await openTemp(t, { now: () => NOW + 10 * MIN });
  await load(store);
  const r = await refresh(store);
  // Today's 22 settled hours (22:00 is still open), and 22:00 and 23:00 of yesterday and of a week
  // ago: `period=1d` and `period=7d` asked now start there (the 30- and 90-day starts hold no point).
  t.equal(r.hoursBuilt, 26, 'an hour digest for each settled hour of today and the hours periods start in');
  t.equal(store.digests!.keys('default', 'llm-hour/').length, 26 * 4, 'four sections each');
  t.ok(store.digests!.get('default', hourKey(TODAY - 3 * HOUR)) === undefined, 'none for yesterday\'s 21:00: it is settled, its day digest covers it, and no period starts after it');
  t.ok(store.digests!.get('default', hourKey(TODAY - HOUR)) !== undefined, 'one for yesterday\'s 23:00');
  t.ok(store.digests!.get('default', hourKey(TODAY - 7 * DAY + 21 * HOUR)) === undefined, 'none for 21:00 a week ago');
  t.ok(store.digests!.get('default', hourKey(TODAY - 7 * DAY + 22 * HOUR)) !== undefined, 'one for 22:00 a week ago');
  t.ok(sameAsLive(t, store, TODAY_RANGES), `${TODAY_RANGES.length * GROUPS.length * 6} answers equal the live ones`);

  for (const [what, run] of [
    ['costs', (q: Querier) => costsAnalytics(q, 'default', { fromMs: TODAY, toMs: NOW - 1, groupBy: ['agent'], stepMs: 0, nowMs: NOW })],
    ['costs hourly trend', (q: Querier) => costsAnalytics(q, 'default', { fromMs: TODAY, toMs: NOW - 1, groupBy: ['agent'], stepMs: HOUR, nowMs: NOW })],
    ['usage', (q: Querier) => usageAnalytics(q, 'default', { fromMs: TODAY, toMs: NOW - 1, groupBy: ['agent'], stepMs: 0, dimensions: DEFAULT_DIMENSION_LABELS })],
  ] as const) {
    const rd = reads(store.querier());
    run(rd.q);
    t.same(rd.spans, [], `${what} of today's whole hours: no series read at all`);
  }
  // Edges inside hours: only the first (settled, partial) day and the last partial hour are read
  // (from 2 h before each, the sample before it; the first from its hour's start, which the forecast's month part shares), and the month before the range.
  const from = TODAY - 8 * DAY + 3 * HOUR + 17 * MIN, to = NOW - 23 * MIN;
  const firstEnd = Math.ceil(from / DAY) * DAY;
  for (const [what, run] of [
    ['costs', (q: Querier) => costsAnalytics(q, 'default', { fromMs: from, toMs: to, groupBy: ['agent'], stepMs: 0, nowMs: NOW })],
    ['usage', (q: Querier) => usageAnalytics(q, 'default', { fromMs: from, toMs: to, groupBy: ['agent'], stepMs: 0, dimensions: DEFAULT_DIMENSION_LABELS })],
  ] as const) {
    const rd = reads(store.querier());
    run(rd.q);
    t.ok(rd.spans.length > 0 && rd.spans.every(([s, e]) => e < from || (s >= Math.floor(from / HOUR) * HOUR - 2 * HOUR && e < firstEnd) || (s >= NOW - HOUR - 2 * HOUR && e <= to)),
      `${what}: only the first day and the last partial hour are read: ${JSON.stringify(rd.spans.map(([s, e]) => [(s - TODAY) / HOUR, (e - TODAY) / HOUR]))}`);
  }
  // A trend whose bucket starts fall inside hours cannot take those hours from digests: read live, same answer.
  const odd = reads(store.querier());
  costsAnalytics(odd.q, 'default', { fromMs: TODAY, toMs: NOW - 1, groupBy: ['agent'], stepMs: 90 * MIN, nowMs: NOW });
  t.ok(odd.spans.length > 0, 'a 90 min trend reads the hours its bucket starts cut');
});

t.test('an answer over a usual period reads no whole hour from the series', async (t) => {
  const clock = NOW + 10 * MIN;
  const { store } = await openTemp(t, { now: () => clock });
  await load(store);
  await refresh(store);
  for (const days of [1, 7]) {
    // `period=7d` asked at 22:10, and the same range from the hour before it on.
    for (const [name, from] of [[`period=${days}d`, clock - days * DAY], [`${days} days from a whole hour`, NOW - days * DAY]] as const) {
      t.ok(sameAsLive(t, store, [[name, from, clock]], clock), `${name}: answers equal the live ones`);
      for (const [what, run] of [
        ['costs', (q: Querier) => costsAnalytics(q, 'default', { fromMs: from, toMs: clock, groupBy: ['agent'], stepMs: 0, nowMs: clock })],
        ['usage', (q: Querier) => usageAnalytics(q, 'default', { fromMs: from, toMs: clock, groupBy: ['agent'], stepMs: 0, dimensions: DEFAULT_DIMENSION_LABELS })],
      ] as const) {
        const rd = reads(store.querier());
        run(rd.q);
        // The open hour, and for a start inside an hour that hour's rest (a read may start 2 h
        // before its part: the sample before its first window). Nothing else.
        const parts = rd.spans.filter(([s]) => s < NOW - 2 * HOUR);
        t.ok(rd.spans.every(([s, e]) => (s >= NOW - 2 * HOUR && e <= clock) || (s >= Math.floor(from / HOUR) * HOUR - 2 * HOUR && e < Math.ceil(from / HOUR) * HOUR)),
          `${what} ${name}: only the open hour${from % HOUR !== 0 ? ' and the rest of the first' : ''} read: ${JSON.stringify(rd.spans.map(([s, e]) => [(s - TODAY) / HOUR, (e - TODAY) / HOUR]))}`);
        if (from % HOUR === 0) t.same(parts, [], `${what} ${name}: nothing before today read`);
        if (what === 'costs' && from % HOUR !== 0) {
          // The forecast's month before the range shares the hour the range starts in: one read,
          // or none when an earlier answer's read of it is kept (edge-cache.ts; sameAsLive above).
          const h0 = Math.floor(from / HOUR) * HOUR;
          const first = rd.spans.filter(([s, e]) => s < from && e >= h0 && e < h0 + HOUR);
          t.ok(first.length === 3 || first.length === 0, `${what} ${name}: the hour it starts in is read at most once for the range and the month before it (cost, tokens, calls): ${first.length} reads`);
        }
      }
    }
  }
});

t.test('usage p95 of today merges the histograms of its hours', async (t) => {
  const { store } = await openTemp(t, { now: () => NOW + 10 * MIN });
  await load(store);
  await refresh(store);
  const u = (from: number, to: number, q: Querier) => usageAnalytics(q, 'default', { fromMs: from, toMs: to, groupBy: ['agent'], stepMs: 0, dimensions: DEFAULT_DIMENSION_LABELS });
  const day = u(TODAY, NOW - 1, store.querier());
  const want = u(TODAY, NOW - 1, live(store.querier()));
  t.same(day, want, 'the day\'s rows from 22 hour digests are the live rows');
  const a1 = (d: typeof day) => d.rows.find((r) => r.agent_id === 'a1')!;
  const hourly: number[] = [];
  for (let h = TODAY; h < NOW; h += HOUR) {
    const r = u(h, h + HOUR - 1, store.querier()).rows.find((x) => x.agent_id === 'a1');
    if (r?.p95_latency_ms != null) hourly.push(r.p95_latency_ms);
  }
  t.ok(new Set(hourly).size > 3, `hours have different p95s (${[...new Set(hourly)].length})`);
  const mean = hourly.reduce((a, b) => a + b, 0) / hourly.length;
  t.not(a1(day).p95_latency_ms, Math.round(mean * 1e6) / 1e6, 'the day\'s p95 is not the mean of its hours\'');
  t.ok(a1(day).p95_latency_ms! <= Math.max(...hourly) && a1(day).p95_latency_ms! >= Math.min(...hourly), 'it lies between them');
  t.equal(a1(day).call_count, a1(want).call_count);
});

t.test('a write into a digested hour makes its digest stale until the next refresh', async (t) => {
  const { store } = await openTemp(t, { now: () => NOW + 10 * MIN });
  await load(store);
  await refresh(store);
  const hour = TODAY + 5 * HOUR;
  const p: CostsParams = { fromMs: TODAY, toMs: NOW - 1, groupBy: ['agent'], stepMs: HOUR, nowMs: NOW };
  const was = costsAnalytics(store.querier(), 'default', p);
  const stamp = store.digests!.hourStamp(hour);
  const other = store.digests!.hourStamp(hour + HOUR);
  t.ok(stamp > 0, 'the hour has a stamp');
  const app = store.appender();
  const id = app.seriesId('default', L({ __name__: 'tallyd_llm_cost_usd_total', cost_source: 'computed', agent: 'a1', model: 'gpt-4o', provider: 'openai', tool: 'search', user: 'u1' }), MetricKind.Counter);
  app.counter(id, hour + 20 * MIN, 100, hour + 25 * MIN);
  await app.commit();
  t.not(store.digests!.hourStamp(hour), stamp, 'the commit changed the hour stamp');
  t.equal(store.digests!.hourStamp(hour + HOUR), other, 'other hours keep theirs');
  const now = costsAnalytics(store.querier(), 'default', p);
  const a1 = (d: typeof now) => d.groups.find((g) => g.labels.agent === 'a1')!;
  t.equal(Math.round((a1(now).cost_usd - a1(was).cost_usd) * 1e6) / 1e6, 100, 'the late $100 counts at once (the stale digest is not used)');
  t.equal(Math.round((a1(now).trend![5]![1] - a1(was).trend![5]![1]) * 1e6) / 1e6, 100, 'in its hour');
  t.same(now, costsAnalytics(live(store.querier()), 'default', p), 'and the answer is the live one');
  const again = await refresh(store);
  t.same([again.built, again.hoursBuilt], [0, 1], 'the next refresh rebuilds that hour only');
  t.same(costsAnalytics(store.querier(), 'default', p), now, 'with the same answer');
  const rd = reads(store.querier());
  costsAnalytics(rd.q, 'default', p);
  t.same(rd.spans, [], 'from digests alone');
  t.same((await refresh(store)).hoursBuilt, 0, 'a refresh with nothing new builds nothing');
});

/**
 * a2After22 is a store loaded and digested at 22:10 (the hour tier ending at 22:00), then, at
 * 23:10, agent a2 costing $0.50 and one call in each 5-minute window from `fromMs` to 23:05.
 */
async function a2After22(t: Parameters<typeof openTemp>[0], fromMs: number): Promise<{ store: Store; clock: number }> {
  let clock = NOW + 10 * MIN;
  const { store } = await openTemp(t, { now: () => clock });
  await load(store);
  await refresh(store);
  clock = NOW + HOUR + 10 * MIN;
  const app = store.appender();
  const id = app.seriesId('default', L({ __name__: 'tallyd_llm_cost_usd_total', cost_source: 'computed', agent: 'a2', model: 'claude', provider: 'anthropic', tool: 'fetch', user: 'u2' }), MetricKind.Counter);
  const calls = app.seriesId('default', L({ __name__: 'tallyd_llm_calls_total', agent: 'a2', model: 'claude', provider: 'anthropic', tool: 'fetch', user: 'u2' }), MetricKind.Counter);
  for (let w = fromMs; w < clock; w += 5 * MIN) {
    app.counter(id, w, 0.5, w + MIN);
    app.counter(calls, w, 1, w + MIN);
  }
  await app.commit();
  return { store, clock };
}

t.test('an hour the hour tier has not rolled up is read from the series, then digested once it is', async (t) => {
  // Points in the hour that was open at the last compaction, and in the next one.
  const { store, clock } = await a2After22(t, NOW);
  t.equal(store.digests!.settledHours().toMs, NOW, 'the hour tier still ends at 22:00');
  t.equal((await refresh(store)).hoursBuilt, 0, 'no digest for an hour not rolled up');
  const ranges: Array<[string, number, number]> = [['today to 23:00', TODAY, NOW + HOUR - 1], ['ten days to now', TODAY - 10 * DAY, clock], ['the open hours', NOW - HOUR, clock - 1]];
  t.ok(sameAsLive(t, store, ranges, clock), 'answers equal the live ones');
  const p: CostsParams = { fromMs: TODAY, toMs: NOW + HOUR - 1, groupBy: ['agent'], stepMs: 0, nowMs: clock };
  const rd = reads(store.querier());
  const got = costsAnalytics(rd.q, 'default', p);
  t.ok(rd.spans.some(([s, e]) => s <= NOW && e >= NOW + HOUR - 1), '22:00-23:00 read from the series');
  t.ok(rd.spans.every(([s]) => s >= NOW - 2 * HOUR), 'and nothing before it');
  await store.compact();
  t.equal(store.digests!.settledHours().toMs, NOW + HOUR, 'compaction rolled 22:00 up');
  t.equal((await refresh(store)).hoursBuilt, 1, 'and the next refresh digests it');
  // Not `got`: compaction itself changes this live answer (points written behind the 5 m tier's
  // watermark, 22:00-22:10), so the digest is compared with the live answer after it.
  void got;
  const after = reads(store.querier());
  t.same(costsAnalytics(after.q, 'default', p), costsAnalytics(live(store.querier()), 'default', p), 'the live answer');
  t.same(after.spans, [], 'from digests alone');
  t.ok(sameAsLive(t, store, ranges, clock), 'still the live one');
});

t.test('a running total read across a tier seam is not taken for a reset', async (t) => {
  // The 1 h and 5 m tiers end at 22:00; a series idle since 21:00 resumes at 22:10 in the raw
  // tier. A read from 22:00 stitches the tiers, and the raw tier's total before 22:10 (its own sum
  // of the same increments) came out 3.6e-15 below the rollups' at 21:00: taken for a reset,
  // the series' whole total (3.06) counted again.
  const { store, clock } = await a2After22(t, NOW + 10 * MIN);
  for (const [name, f] of [['from 22:00', NOW], ['from 20:00', NOW - 2 * HOUR], ['from today', TODAY]] as const) {
    for (const q of [live(store.querier()), store.querier()]) {
      const a = (d: CostsData, b: CostsData) => (d.groups.find((g) => g.labels.agent === 'a2')?.cost_usd ?? 0) - (b.groups.find((g) => g.labels.agent === 'a2')?.cost_usd ?? 0);
      const p = (from: number, to: number): CostsParams => ({ fromMs: from, toMs: to, groupBy: ['agent'], stepMs: 0, nowMs: clock });
      const d = a(costsAnalytics(q, 'default', p(f, clock)), costsAnalytics(q, 'default', p(f, NOW + 10 * MIN - 1)));
      t.equal(Math.round(d * 1e6) / 1e6, 6, `${name}: the 12 windows of $0.50 after 22:10, nothing more`);
    }
  }
  t.ok(sameAsLive(t, store, [['ten days to now', TODAY - 10 * DAY, clock], ['the open hours', NOW - HOUR, clock - 1]], clock), 'answers equal the live ones');
  // What PromQL reads too: the stitched total never drops.
  const [f] = store.querier().select('default', [new Matcher('=', '__name__', 'tallyd_llm_cost_usd_total'), new Matcher('=', 'agent', 'a2'), new Matcher('=', 'model', 'claude'), new Matcher('=', 'tool', 'fetch'), new Matcher('=', 'user', 'u2')], { startMs: NOW - 2 * HOUR, endMs: clock, stepMs: 300_000, rangeMs: 2 * HOUR }).floats;
  const drops = Array.from(f!.values).filter((v, i, vs) => i > 0 && v < vs[i - 1]!).length;
  t.equal(drops, 0, `the stitched total never drops (${f!.values.length} samples)`);
});

t.test('hour digests give way to the day digest once their day is settled', async (t) => {
  let clock = NOW + 10 * MIN;
  const { store } = await openTemp(t, { now: () => clock });
  await load(store);
  t.equal((await refresh(store)).hoursBuilt, 22 + 2 + 2, 'today\'s settled hours, and 22:00 and 23:00 of yesterday and a week ago');
  // Past midnight: points in 22:00, 23:00 and 00:00, then compaction settles the day.
  clock = TODAY + DAY + HOUR + 10 * MIN;
  const app = store.appender();
  const id = app.seriesId('default', L({ __name__: 'tallyd_llm_calls_total', agent: 'a3', model: 'claude', provider: 'anthropic', tool: 'search', user: 'u1' }), MetricKind.Counter);
  for (let w = NOW; w < TODAY + DAY + HOUR; w += 10 * MIN) app.counter(id, w, 1, w + MIN);
  await app.commit();
  await store.compact();
  const r = await refresh(store);
  // Now `period=1d` starts at yesterday's 01:00: its hours from 01:00 stay (22:00 and 23:00 built
  // now), 00:00 goes, as do the old period starts (the day before's and 8 days back's 22:00 and
  // 23:00); `period=7d` starts at 01:00 six days before yesterday: 23 hours built.
  t.same([r.built, r.hoursRemoved, r.hoursBuilt], [1, 5, 1 + 2 + 23], 'the day digest built, the hours no period starts in removed, 00:00 digested');
  const hours = new Set(store.digests!.keys('default', 'llm-hour/').map(keyHour));
  const want = [TODAY + DAY];
  for (let h = 1; h < 24; h++) want.push(TODAY + h * HOUR, TODAY - 6 * DAY + h * HOUR);
  t.same([...hours].sort(), want.sort(), 'today\'s 00:00 is left, and the hours periods start in');
  t.equal(store.digests!.get('default', hourKey(TODAY)), undefined, 'yesterday\'s 00:00 is gone: its day digest covers it');
  t.ok(store.digests!.get('default', dayKey(TODAY)) !== undefined, 'yesterday has its day digest');
  t.ok(sameAsLive(t, store, [['two days to now', TODAY - DAY, clock], ['yesterday noon to 00:59', TODAY + 12 * HOUR, TODAY + DAY + HOUR - 1]], clock), 'answers equal the live ones');
});
