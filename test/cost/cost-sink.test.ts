import t from 'tap';
import { CostSink } from '../../src/cost/cost-sink.js';
import { ACCEPTED, Refusal, refusedRef } from '../../src/ingest/sink.js';
import { dimensionMap } from '../../src/cost/dimensions.js';
import { parsePriceTable } from '../../src/cost/prices.js';
import { labelsFromRecord } from '../../src/model/labels.js';
import { MetricKind } from '../../src/model/metric-kind.js';
import { SparseHistogram } from '../../src/model/hdr.js';
import { RecordingSink } from '../ingest/otlp/recording-sink.js';
import { MemStateTable } from '../rules/helpers.js';

const PRICES = parsePriceTable(`models:
  - {provider: openai, model: gpt-4o, input_per_mtok: 2.5, cached_input_per_mtok: 1.25, output_per_mtok: 10}
  - {provider: anthropic, model: claude-sonnet-4, input_per_mtok: 3, cached_input_per_mtok: 0.3, cache_write_per_mtok: 3.75, output_per_mtok: 15}
  - {provider: openai, model: o3, input_per_mtok: 2, output_per_mtok: 8, reasoning_per_mtok: 12}
  - {provider: openai, model: o3, input_per_mtok: 1, output_per_mtok: 4, effective_from: "2026-06-01T00:00:00Z"}
`, 'test');

const T = Date.parse('2026-05-20T10:00:00Z');

function setup(now = () => T) {
  const rec = new RecordingSink();
  const sink = new CostSink(rec, { dimensions: dimensionMap(), prices: PRICES, now });
  return { rec, sink };
}

function L(r: Record<string, string>) {
  return labelsFromRecord(r);
}

/** sumOf adds every sample of the series named `name` whose labels include `match`. */
function sumOf(rec: RecordingSink, name: string, match: Record<string, string> = {}): number {
  let s = 0;
  for (const ser of rec.byName(name)) {
    if (!Object.entries(match).every(([k, v]) => ser.labels[k] === v)) continue;
    for (const x of rec.samplesOf(ser.ref)) s += x.value;
  }
  return s;
}

function close(t: { ok(c: boolean, m: string): void }, got: number, want: number, msg: string) {
  t.ok(Math.abs(got - want) < 1e-12, `${msg}: got ${got}, want ${want}`);
}

t.test('hand-computed costs per agent and model, with cached input and reasoning kept apart', async (t) => {
  const { rec, sink } = setup();
  // agent a1 on claude-sonnet-4 via the new GenAI counters (delta): 10000 input of which 6000
  // cache read and 1000 cache write; 2000 output.
  const base = { gen_ai_agent_id: 'a1', gen_ai_provider_name: 'anthropic', gen_ai_request_model: 'claude-sonnet-4' };
  const inp = sink.series('default', L({ __name__: 'gen_ai_client_inference_usage_input_tokens_total', ...base }), MetricKind.Counter);
  const cr = sink.series('default', L({ __name__: 'gen_ai_client_inference_usage_cache_read_input_tokens_total', ...base }), MetricKind.Counter);
  const cw = sink.series('default', L({ __name__: 'gen_ai_client_inference_usage_cache_write_input_tokens_total', ...base }), MetricKind.Counter);
  const out = sink.series('default', L({ __name__: 'gen_ai_client_inference_usage_output_tokens_total', ...base }), MetricKind.Counter);
  sink.counter(inp, 10_000, T);
  sink.counter(cr, 6000, T);
  sink.counter(cw, 1000, T);
  sink.counter(out, 2000, T);
  // agent a2 on o3 (StatsD-style llm_provider_tokens_total has no cache kinds) plus reasoning via a
  // GenAI histogram: 4000 output of which 3000 reasoning, 1000 input.
  const b2 = { agent_id: 'a2', provider: 'openai', model: 'o3' };
  const hIn = sink.series('default', L({ __name__: 'gen_ai_client_token_usage', gen_ai_token_type: 'input', ...b2 }), MetricKind.Histogram);
  const hOut = sink.series('default', L({ __name__: 'gen_ai_client_token_usage', gen_ai_token_type: 'output', ...b2 }), MetricKind.Histogram);
  const hRe = sink.series('default', L({ __name__: 'gen_ai_client_token_usage', gen_ai_token_type: 'reasoning', ...b2 }), MetricKind.Histogram);
  const h = (v: number) => { const x = new SparseHistogram(); x.record(v); return x; };
  sink.histogram(hIn, h(1000), T);
  sink.histogram(hOut, h(4000), T);
  sink.histogram(hRe, h(3000), T);
  sink.flush();

  // a1: uncached 3000*3 + 6000*0.3 + 1000*3.75 + 2000*15 per million = (9000+1800+3750+30000)/1e6
  close(t, sumOf(rec, 'tallyd_llm_cost_usd_total', { agent: 'a1', cost_source: 'computed' }), 44_550 / 1e6, 'a1 cost');
  // a2: 1000*2 + 1000*8 + 3000*12 per million = 46000/1e6
  close(t, sumOf(rec, 'tallyd_llm_cost_usd_total', { agent: 'a2', cost_source: 'computed' }), 46_000 / 1e6, 'a2 cost');
  t.equal(sumOf(rec, 'tallyd_llm_tokens_total', { agent: 'a1', kind: 'input' }), 3000, 'uncached input');
  t.equal(sumOf(rec, 'tallyd_llm_tokens_total', { agent: 'a1', kind: 'cache_read' }), 6000);
  t.equal(sumOf(rec, 'tallyd_llm_tokens_total', { agent: 'a1', kind: 'cache_write' }), 1000);
  t.equal(sumOf(rec, 'tallyd_llm_tokens_total', { agent: 'a2', kind: 'output' }), 1000, 'output without reasoning');
  t.equal(sumOf(rec, 'tallyd_llm_tokens_total', { agent: 'a2', kind: 'reasoning' }), 3000);
  t.equal(sumOf(rec, 'tallyd_llm_tokens_total', { agent: 'a1' }), 12_000, 'kinds are disjoint: the sum is input + output');
  t.equal(sumOf(rec, 'tallyd_llm_calls_total', { agent: 'a2' }), 1, 'one call from the histogram count');
  const costSeries = rec.byName('tallyd_llm_cost_usd_total').find((s) => s.labels['agent'] === 'a1')!;
  t.same(costSeries.labels, { __name__: 'tallyd_llm_cost_usd_total', agent: 'a1', model: 'claude-sonnet-4', provider: 'anthropic', cost_source: 'computed' }, 'cost carries the dimension labels');
  t.same(rec.samplesOf(costSeries.ref).map((s) => s.tsMs), [T], 'stamped at the point time');
});

t.test('both GenAI metric generations, with the cache_creation and the cache_write name, price cache writes once', async (t) => {
  // claude-sonnet-4: input $3, cache read $0.3, cache write $3.75, output $15 per million.
  const cases: Array<[string, Record<string, string>, MetricKind]> = [
    ['new counters, cache_write', { __name__: 'gen_ai_client_inference_usage_cache_write_input_tokens_total' }, MetricKind.Counter],
    ['new counters, cache_creation', { __name__: 'gen_ai_client_inference_usage_cache_creation_input_tokens_total' }, MetricKind.Counter],
    ['token.usage histogram, cache_write', { __name__: 'gen_ai_client_token_usage', gen_ai_token_type: 'cache_write' }, MetricKind.Histogram],
    ['token.usage histogram, cache_creation', { __name__: 'gen_ai_client_token_usage', gen_ai_token_type: 'cache_creation' }, MetricKind.Histogram],
  ];
  for (const [name, cw, kind] of cases) {
    const { rec, sink } = setup();
    const base = { gen_ai_agent_id: 'a', gen_ai_provider_name: 'anthropic', gen_ai_request_model: 'claude-sonnet-4' };
    const newGen = kind === MetricKind.Counter;
    const input = sink.series('default', L(newGen ? { __name__: 'gen_ai_client_inference_usage_input_tokens_total', ...base } : { __name__: 'gen_ai_client_token_usage', gen_ai_token_type: 'input', ...base }), kind);
    const write = sink.series('default', L({ ...cw, ...base }), kind);
    // 1M input tokens of which 400k were written to the cache.
    if (newGen) {
      sink.counter(input, 1_000_000, T);
      sink.counter(write, 400_000, T);
    } else {
      sink.observe(input, 1_000_000, 1, T);
      sink.observe(write, 400_000, 1, T);
    }
    sink.flush();
    t.equal(sumOf(rec, 'tallyd_llm_tokens_total', { kind: 'cache_write' }), 400_000, `${name}: cache write kept apart`);
    t.equal(sumOf(rec, 'tallyd_llm_tokens_total', { kind: 'input' }), 600_000, `${name}: uncached input = input - cache write`);
    close(t, sumOf(rec, 'tallyd_llm_cost_usd_total'), 0.6 * 3 + 0.4 * 3.75, `${name}: 600k at $3 + 400k at $3.75, none priced twice`);
  }
});

t.test('the price row in force at the point time prices it (effective dates)', async (t) => {
  const { rec, sink } = setup();
  const r = sink.series('default', L({ __name__: 'llm_provider_tokens_total', provider: 'openai', model: 'o3-2025-04-16', type: 'completion', agent: 'x' }), MetricKind.Counter);
  sink.counter(r, 1_000_000, Date.parse('2026-05-31T23:59:59Z'));
  sink.counter(r, 1_000_000, Date.parse('2026-06-01T00:00:01Z'));
  sink.flush();
  close(t, sumOf(rec, 'tallyd_llm_cost_usd_total'), 8 + 4, 'old price before, new price after (model matched by prefix)');
});

t.test('cumulative counters are differenced per stream, resets detected, first sight is a baseline', async (t) => {
  const { rec, sink } = setup();
  const r = sink.series('default', L({ __name__: 'llm_provider_tokens_total', provider: 'openai', model: 'gpt-4o', type: 'prompt' }), MetricKind.Counter);
  sink.counterCumulative(r, 5_000_000, 0, T); // remote write: no start time, baseline
  sink.counterCumulative(r, 6_000_000, 0, T + 10_000);
  sink.counterCumulative(r, 500_000, 0, T + 20_000); // reset: counts in full
  const s = sink.series('default', L({ __name__: 'gen_ai_client_inference_usage_input_tokens_total', gen_ai_request_model: 'gpt-4o', gen_ai_agent_id: 'z' }), MetricKind.Counter);
  sink.counterCumulative(s, 1_000_000, T + 1, T + 30_000); // a stream that started after tallyd: counts in full
  sink.flush();
  close(t, sumOf(rec, 'tallyd_llm_cost_usd_total', { cost_source: 'computed' }), (1.5 + 1) * 2.5, 'llm_provider_tokens_total 1.5M input, inference usage 1M input');
  t.equal(sumOf(rec, 'tallyd_llm_tokens_total', { agent: 'z' }), 1_000_000, 'inference usage stream counted from its start');
});

t.test('a restarted cost sink prices the first cumulative sample by its increase since the last one seen', async (t) => {
  const state = new MemStateTable();
  const labels = L({ __name__: 'llm_provider_tokens_total', provider: 'openai', model: 'gpt-4o', type: 'prompt', agent: 'r' });
  const otel = L({ __name__: 'gen_ai_client_inference_usage_input_tokens_total', gen_ai_request_model: 'claude-sonnet-4', gen_ai_provider_name: 'anthropic', gen_ai_agent_id: 'o' });
  const before = new RecordingSink();
  const s1 = new CostSink(before, { dimensions: dimensionMap(), prices: PRICES, now: () => T, state });
  const r1 = s1.series('default', labels, MetricKind.Counter);
  const o1 = s1.series('default', otel, MetricKind.Counter);
  s1.counterCumulative(r1, 1_000_000, 0, T); // remote write: baseline
  s1.counterCumulative(r1, 1_400_000, 0, T + 10_000);
  s1.counterCumulative(o1, 100_000, T - 3_600_000, T); // started before tallyd: baseline
  s1.counterCumulative(o1, 300_000, T - 3_600_000, T + 10_000);
  s1.flush();
  close(t, sumOf(before, 'tallyd_llm_cost_usd_total'), 1 + 0.6, 'before the restart: +400k at $2.5/M, +200k at $3/M');

  // The restart: a new sink on the same state table, later, with new refs.
  const after = new RecordingSink();
  const s2 = new CostSink(after, { dimensions: dimensionMap(), prices: PRICES, now: () => T + 60_000, state });
  s2.series('default', L({ __name__: 'http_requests_total' }), MetricKind.Counter);
  const r2 = s2.series('default', labels, MetricKind.Counter);
  const o2 = s2.series('default', otel, MetricKind.Counter);
  s2.counterCumulative(r2, 2_000_000, 0, T + 70_000);
  s2.counterCumulative(o2, 800_000, T - 3_600_000, T + 70_000);
  s2.flush();
  t.equal(sumOf(after, 'tallyd_llm_tokens_total', { agent: 'r' }), 600_000, 'remote write: the true increase, not dropped and not the whole total');
  t.equal(sumOf(after, 'tallyd_llm_tokens_total', { agent: 'o' }), 500_000, 'OTLP: the true increase since the last point before the restart');
  close(t, sumOf(after, 'tallyd_llm_cost_usd_total'), 1.5 + 1.5, '600k at $2.5/M + 500k at $3/M');

  // A stream whose sender restarted while tallyd was down (new start time) counts from its start.
  const again = new RecordingSink();
  const s3 = new CostSink(again, { dimensions: dimensionMap(), prices: PRICES, now: () => T + 120_000, state });
  const o3 = s3.series('default', otel, MetricKind.Counter);
  s3.counterCumulative(o3, 50_000, T + 100_000, T + 130_000);
  s3.flush();
  t.equal(sumOf(again, 'tallyd_llm_tokens_total', { agent: 'o' }), 50_000, 'a new stream counts in full');
});

t.test('baselines of streams not seen for five weeks are dropped when a cost sink starts', async (t) => {
  const state = new MemStateTable();
  const s1 = new CostSink(new RecordingSink(), { dimensions: dimensionMap(), prices: PRICES, now: () => T, state });
  const r = s1.series('default', L({ __name__: 'llm_provider_tokens_total', provider: 'openai', model: 'gpt-4o', type: 'prompt' }), MetricKind.Counter);
  s1.counterCumulative(r, 10, 0, T);
  s1.flush();
  t.equal(state.entries('stream/').length, 1, 'saved');
  new CostSink(new RecordingSink(), { dimensions: dimensionMap(), prices: PRICES, now: () => T + 34 * 86_400_000, state });
  t.equal(state.entries('stream/').length, 1, 'kept within the TTL');
  new CostSink(new RecordingSink(), { dimensions: dimensionMap(), prices: PRICES, now: () => T + 36 * 86_400_000, state });
  await new Promise((r) => setImmediate(r));
  t.equal(state.entries('stream/').length, 0, 'dropped after it');
});

t.test('a call reported as span, as GenAI metric and as provider counter counts once', async (t) => {
  let now = T;
  const { rec, sink } = setup(() => now);
  const m = { gen_ai_request_model: 'gpt-4o', gen_ai_system: 'openai' };
  const span = sink.series('default', L({ __name__: 'gen_ai_client_token_usage', gen_ai_token_type: 'input', job: 'svc', ...m }), MetricKind.Histogram, { origin: 'span' });
  const metric = sink.series('default', L({ __name__: 'gen_ai_client_inference_usage_input_tokens_total', job: 'svc', ...m }), MetricKind.Counter);
  const prov = sink.series('default', L({ __name__: 'llm_provider_tokens_total', type: 'prompt', provider: 'openai', model: 'gpt-4o' }), MetricKind.Counter);
  sink.observe(span, 400_000, 1, T);
  sink.counter(metric, 400_000, T + 1000);
  sink.counter(prov, 400_000, T + 2000);
  sink.flush();
  t.equal(sumOf(rec, 'tallyd_llm_tokens_total'), 400_000, 'one total');
  close(t, sumOf(rec, 'tallyd_llm_cost_usd_total'), 1, '400k input at $2.5/M');
  // With no span for an hour, the metric path is the source again.
  now = T + 3_700_000;
  sink.counter(metric, 100_000, now);
  sink.counter(prov, 100_000, now);
  sink.flush();
  t.equal(sumOf(rec, 'tallyd_llm_tokens_total'), 500_000, 'the best path left counts, once');
});

t.test('a span before a restart keeps the metric that reports the same call after it from being costed', async (t) => {
  const state = new MemStateTable();
  const m = { gen_ai_request_model: 'gpt-4o', gen_ai_system: 'openai', gen_ai_agent_id: 'a' };
  const spanLabels = L({ __name__: 'gen_ai_client_token_usage', gen_ai_token_type: 'input', ...m });
  const metricLabels = L({ __name__: 'gen_ai_client_inference_usage_input_tokens_total', ...m });
  const before = new RecordingSink();
  const s1 = new CostSink(before, { dimensions: dimensionMap(), prices: PRICES, now: () => T, state });
  s1.observe(s1.series('default', spanLabels, MetricKind.Histogram, { origin: 'span' }), 400_000, 1, T);
  s1.flush();
  t.equal(sumOf(before, 'tallyd_llm_tokens_total'), 400_000, 'the span is costed');

  // Restart 10 minutes later; the SDK's periodic metric export of the same call arrives then.
  const after = new RecordingSink();
  const s2 = new CostSink(after, { dimensions: dimensionMap(), prices: PRICES, now: () => T + 600_000, state });
  s2.counter(s2.series('default', metricLabels, MetricKind.Counter), 400_000, T + 600_000);
  s2.flush();
  t.equal(sumOf(after, 'tallyd_llm_tokens_total'), 0, 'the metric for tokens the span brought before the restart is not costed again');
  t.equal(sumOf(after, 'tallyd_llm_cost_usd_total'), 0, 'no second charge');

  // Over an hour after the last span the metric path is the source again, restart or not.
  const later = new RecordingSink();
  const s3 = new CostSink(later, { dimensions: dimensionMap(), prices: PRICES, now: () => T + 3_700_000, state });
  s3.counter(s3.series('default', metricLabels, MetricKind.Counter), 100_000, T + 3_700_000);
  s3.flush();
  t.equal(sumOf(later, 'tallyd_llm_tokens_total'), 100_000, 'the metric counts once no span reported for an hour');
  await new Promise((r) => setImmediate(r));
  new CostSink(new RecordingSink(), { dimensions: dimensionMap(), prices: PRICES, now: () => T + 3_700_000 + 3_600_001, state });
  await new Promise((r) => setImmediate(r));
  t.equal(state.entries('dedup/').length, 0, 'last-seen times older than the dedup window are dropped at start');
});

t.test("a sender's reported cost is kept as cost_source=reported and not added to the computed cost", async (t) => {
  const { rec, sink } = setup();
  const c = sink.series('default', L({ __name__: 'llm_provider_cost_usd_total', provider: 'openai', model: 'gpt-4o' }), MetricKind.Counter);
  const tk = sink.series('default', L({ __name__: 'llm_provider_tokens_total', type: 'completion', provider: 'openai', model: 'gpt-4o' }), MetricKind.Counter);
  sink.counter(c, 0.7, T);
  sink.counter(tk, 100_000, T);
  sink.flush();
  close(t, sumOf(rec, 'tallyd_llm_cost_usd_total', { cost_source: 'reported' }), 0.7, 'reported');
  close(t, sumOf(rec, 'tallyd_llm_cost_usd_total', { cost_source: 'computed' }), 1, 'computed from tokens only');
  t.equal(sumOf(rec, 'llm_provider_cost_usd_total'), 0.7, 'the original series passes through unchanged');
});

t.test('tokens without a price are counted as unpriced, never costed at $0 in silence', async (t) => {
  const { rec, sink } = setup();
  const r = sink.series('default', L({ __name__: 'llm_provider_tokens_total', type: 'prompt', provider: 'acme', model: 'mystery-1' }), MetricKind.Counter);
  sink.counter(r, 1234, T);
  sink.flush();
  t.equal(sumOf(rec, 'tallyd_llm_unpriced_tokens_total', { provider: 'acme', model: 'mystery-1' }), 1234);
  t.same(rec.byName('tallyd_llm_unpriced_tokens_total')[0]!.labels, { __name__: 'tallyd_llm_unpriced_tokens_total', provider: 'acme', model: 'mystery-1' });
  t.equal(rec.byName('tallyd_llm_cost_usd_total').length, 0, 'no cost series at all');
  t.equal(sumOf(rec, 'tallyd_llm_tokens_total'), 1234, 'tokens still kept for a later re-price');
});

t.test('non-token series pass through untouched and create no derived series', async (t) => {
  const { rec, sink } = setup();
  const r = sink.series('default', L({ __name__: 'http_requests_total', model: 'gpt-4o' }), MetricKind.Counter);
  t.equal(sink.counter(r, 3, T), ACCEPTED);
  sink.flush();
  t.equal(rec.series_.length, 1);
  t.equal(rec.flushes, 1);
});

t.test('cache tokens that arrive before their input are netted once the input arrives', async (t) => {
  const { rec, sink } = setup();
  const base = { gen_ai_request_model: 'gpt-4o' };
  const cr = sink.series('default', L({ __name__: 'gen_ai_client_inference_usage_cache_read_input_tokens_total', ...base }), MetricKind.Counter);
  const inp = sink.series('default', L({ __name__: 'gen_ai_client_inference_usage_input_tokens_total', ...base }), MetricKind.Counter);
  sink.counter(cr, 600, T);
  sink.flush();
  sink.counter(inp, 1000, T + 10_000);
  sink.flush();
  t.equal(sumOf(rec, 'tallyd_llm_tokens_total', { kind: 'input' }), 400, 'uncached = 1000 - 600');
  close(t, sumOf(rec, 'tallyd_llm_cost_usd_total'), (400 * 2.5 + 600 * 1.25) / 1e6, 'cached input priced once, at the cached price');
});

t.test('stale markers and refusal reasons pass through the cost sink to the pipeline', async (t) => {
  const { rec, sink } = setup();
  const ref = sink.series('default', L({ __name__: 'demo_up', job: 'a' }), MetricKind.Gauge);
  t.ok(sink.stale, 'the cost sink offers stale() because the wrapped sink does');
  t.equal(sink.stale!(ref, T), ACCEPTED);
  t.same(rec.stales, [{ ref, tsMs: T }], 'the marker reached the wrapped sink');

  // The wrapped sink's refusal codes come back through the wrapper unchanged.
  const refusing = new RecordingSink();
  refusing.refuseSample = () => true;
  refusing.sampleRefusal = Refusal.TooOld;
  refusing.refuseSeries = (l) => l['__name__'] === 'crowded';
  refusing.seriesRefusal = Refusal.SeriesPerTenant;
  const wrapped = new CostSink(refusing, { dimensions: dimensionMap(), prices: PRICES, now: () => T });
  const c = wrapped.series('default', L({ __name__: 'x_total' }), MetricKind.Counter);
  t.equal(wrapped.counter(c, 1, T), Refusal.TooOld, 'a sample refusal is the wrapped sink\'s code');
  t.equal(wrapped.series('default', L({ __name__: 'crowded' }), MetricKind.Gauge), refusedRef(Refusal.SeriesPerTenant), 'a series refusal is the wrapped sink\'s');
});
