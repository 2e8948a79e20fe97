import t from 'tap';
import { costsAnalytics } from '../../src/cost/analytics-costs.js';
import { usageAnalytics } from '../../src/cost/analytics-usage.js';
import { DEFAULT_DIMENSION_LABELS } from '../../src/cost/dimensions.js';
import { SparseHistogram } from '../../src/model/hdr.js';
import { MetricKind } from '../../src/model/metric-kind.js';
import { CLOCK_T0, L, openTemp } from '../store/helpers.js';

const HOUR = 3_600_000, DAY = 86_400_000;
const NOW = Math.floor(CLOCK_T0 / HOUR) * HOUR;
const DAYS = 90;
const T0 = NOW - DAYS * DAY;

/**
 * A 90-day range (`period=90d`) reaches back to the hour tier's retention. The reads look one
 * window back for each series' sample before the range; that look-back lies past the retention,
 * and the tier was chosen for it, so the whole first part of the range was read from the monthly
 * tier: its months' increments came at month ends, or not at all where a read began mid-month
 * (about three weeks of 90 days were missing from the totals).
 */
t.test('every hour of a 90-day range counts, in its own day', async (t) => {
  const { store } = await openTemp(t, { now: () => NOW + 10 * 60_000 });
  const dims = { agent: 'a1', model: 'gpt-4o', provider: 'openai', tool: 'search' };
  const app = store.appender();
  const cost = app.seriesId('default', L({ __name__: 'tallyd_llm_cost_usd_total', cost_source: 'computed', ...dims }), MetricKind.Counter);
  const tin = app.seriesId('default', L({ __name__: 'tallyd_llm_tokens_total', kind: 'input', ...dims }), MetricKind.Counter);
  const calls = app.seriesId('default', L({ __name__: 'tallyd_llm_calls_total', ...dims }), MetricKind.Counter);
  const lat = app.seriesId('default', L({ __name__: 'mcp_tool_execute_seconds', agent_id: 'a1', tool_name: 'search' }), MetricKind.Histogram);
  for (let w = T0; w < NOW; w += HOUR) {
    app.counter(cost, w, 0.25);
    app.counter(tin, w, 1000);
    app.counter(calls, w, 2);
    const h = new SparseHistogram();
    h.record(0.5, 2);
    app.histogram(lat, w, h);
  }
  await app.commit();
  await store.compact();
  const q = store.querier();

  const total = costsAnalytics(q, 'default', { fromMs: T0, toMs: NOW - 1, groupBy: ['agent'], stepMs: 0, nowMs: NOW });
  t.equal(total.groups.length, 1);
  const g = total.groups[0]!;
  t.equal(g.calls, 2 * 24 * DAYS, 'calls: 2 an hour for 90 days');
  t.equal(g.input_tokens, 1000 * 24 * DAYS, 'input tokens: 1000 an hour');
  t.equal(g.cost_usd, 0.25 * 24 * DAYS, 'cost: $0.25 an hour');
  t.equal(g.unpriced_tokens, 0, 'every window was priced');

  const daily = costsAnalytics(q, 'default', { fromMs: T0, toMs: NOW - 1, groupBy: ['agent'], stepMs: DAY, nowMs: NOW });
  const trend = daily.groups[0]!.trend!;
  t.equal(trend.length, DAYS);
  t.same(trend.map(([, v]) => v), new Array(DAYS).fill(6), 'every day of the trend holds its 24 hours: $6');

  const usage = usageAnalytics(q, 'default', { fromMs: T0, toMs: NOW - 1, groupBy: ['agent', 'tool'], stepMs: 0, dimensions: DEFAULT_DIMENSION_LABELS });
  const byDate = new Map<string, { calls: number; input: number }>();
  for (const r of usage.rows) {
    const e = byDate.get(r.date) ?? { calls: 0, input: 0 };
    e.calls += r.call_count;
    e.input += r.estimated_input_tokens;
    byDate.set(r.date, e);
  }
  let calls2 = 0, input2 = 0;
  for (const e of byDate.values()) {
    calls2 += e.calls;
    input2 += e.input;
  }
  t.equal(calls2, 2 * 24 * DAYS, 'usage: every call of the range');
  t.equal(input2, 1000 * 24 * DAYS, 'usage: every input token of the range');
  // Whole UTC days inside the range: 24 hours each.
  const firstWhole = Math.ceil(T0 / DAY) * DAY;
  for (let d = firstWhole; d + DAY <= NOW; d += DAY) {
    const e = byDate.get(new Date(d).toISOString().slice(0, 10));
    if (e === undefined || e.calls !== 48 || e.input !== 24_000) {
      t.fail(`day ${new Date(d).toISOString().slice(0, 10)}: ${JSON.stringify(e)}`);
      break;
    }
  }
});
