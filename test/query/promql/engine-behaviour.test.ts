import t from 'tap';
import { QueryError } from '../../../src/query/promql/api.js';
import { createEngine, parseMatchers } from '../../../src/query/promql/engine.js';
import { loadSeries } from './load.js';

const engine = createEngine();

/** errorType runs f and returns the QueryError type it threw ('none' when it did not throw). */
function errorType(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return e instanceof QueryError ? e.type : 'other';
  }
  return 'none';
}
const DATA = `
load 1m
  x{a="1"} 0+1x60
  x{a="2"} 0+2x60
load_hist 1m
  h{m="a"} 0.1*5 | 0.1*5 | 0.1*5 | 0.1*5
`;

t.test('a range query reads storage once per selector, with hints covering range and lookback', (tt) => {
  const q = loadSeries(DATA);
  const r = engine.range(q, 'default', 'sum(rate(x[5m])) + sum(x)', 600_000, 1_800_000, 60_000);
  tt.equal(q.selects, 2);
  tt.equal(r.type, 'matrix');
  // rangeMs is the look-back before the first step (x's 5 m look-back delta), for the tier choice.
  tt.same(q.lastHints, { startMs: 600_000 - 300_000 + 1, endMs: 1_800_000, stepMs: 60_000, rangeMs: 300_000 });
  tt.equal(r.type === 'matrix' ? r.series[0]!.timestamps.length : 0, 21);
  tt.end();
});

t.test('a query past its deadline fails with a timeout error', (tt) => {
  const q = loadSeries(DATA);
  tt.equal(errorType(() => engine.range(q, 'default', 'rate(x[5m])', 0, 3_600_000, 1000, { deadlineMs: Date.now() - 1 })), 'timeout');
  tt.end();
});

t.test('a range query over too many samples fails with the Prometheus message', (tt) => {
  const q = loadSeries(DATA);
  tt.throws(() => engine.range(q, 'default', 'x', 0, 3_600_000, 60_000, { maxSamples: 50 }), /query processing would load too many samples into memory in query execution/);
  tt.end();
});

t.test('an instant range selector over a histogram returns cumulative histograms', (tt) => {
  const q = loadSeries(DATA);
  const r = engine.instant(q, 'default', 'h[2m]', 180_000);
  tt.equal(r.type, 'matrix');
  if (r.type !== 'matrix') return tt.end();
  tt.same(r.series[0]!.timestamps, [120_000, 180_000]);
  tt.same(r.series[0]!.histograms!.map((h) => h!.count), [15, 20]);
  tt.end();
});

t.test('an instant selector over a histogram returns the cumulative histogram sample', (tt) => {
  const q = loadSeries(DATA);
  const r = engine.instant(q, 'default', 'h', 120_000);
  tt.equal(r.type, 'vector');
  if (r.type !== 'vector') return tt.end();
  tt.equal(r.samples[0]!.h!.count, 15);
  tt.equal(r.samples[0]!.h!.sum, 1.5);
  tt.end();
});

t.test('parseCheck rejects bad PromQL with bad_data and accepts good PromQL', (tt) => {
  tt.equal(errorType(() => engine.parseCheck('sum by (a) (rate(x[5m])')), 'bad_data');
  tt.doesNotThrow(() => engine.parseCheck('histogram_quantile(0.99, sum by (model) (rate(llm_provider_request_seconds[5m])))'));
  tt.end();
});

t.test('parseMatchers turns a series selector into matchers including the name', (tt) => {
  const ms = parseMatchers('up{job="a", env=~"p.*"}');
  tt.same(ms.map((m) => m.toString()), ['__name__="up"', 'job="a"', 'env=~"p.*"']);
  tt.equal(errorType(() => parseMatchers('sum(up)')), 'bad_data');
  tt.end();
});

t.test('a range query of a scalar returns one unlabelled series', (tt) => {
  const q = loadSeries(DATA);
  const r = engine.range(q, 'default', '1 + 1', 0, 120_000, 60_000);
  tt.same(r.type === 'matrix' ? r.series.map((s) => s.values) : null, [[2, 2, 2]]);
  tt.end();
});

t.test('an aggregation over rate() streams its input and answers bit-identically to the evaluated path', (tt) => {
  // `{__name__=~"big"}` takes the evaluated path (a name regex may merge series after rate drops
  // the name); `big` streams. Values near 1e16 with small ones make Kahan compensation matter,
  // and series 4 has gaps so groups see different counts per step.
  const lines = ['load 1m'];
  for (let i = 0; i < 24; i++) {
    const step = i % 3 === 0 ? 1e15 + i : (i + 1) * 0.1;
    lines.push(`  big{g="${i % 4}", i="${i}"} ${i === 4 ? '0+1x10 _x5 0+3x20' : `0+${step}x40`}`);
  }
  lines.push('load_hist 1m', '  hh{g="0", i="a"} 0.1*5 | 0.2*5 | 0.1*5 | 0.3*5', '  hh{g="0", i="b"} 0.5*1 | 0.5*2 | 0.5*3 | 0.5*4');
  const q = loadSeries(lines.join('\n'));
  const ops = ['sum', 'avg', 'min', 'max', 'count', 'group', 'stddev', 'stdvar'];
  for (const op of ops) {
    for (const [streamed, evaluated] of [
      [`${op} by (g) (rate(big[5m]))`, `${op} by (g) (rate({__name__=~"big"}[5m]))`],
      [`${op} without (i) (increase(big[3m]))`, `${op} without (i) (increase({__name__=~"big"}[3m]))`],
      [`${op} (max_over_time(big[2m]))`, `${op} (max_over_time({__name__=~"big"}[2m]))`],
      [`${op} by (g) (rate(hh[2m]))`, `${op} by (g) (rate({__name__=~"hh"}[2m]))`],
    ]) {
      const a = engine.range(q, 'default', streamed!, 0, 2_400_000, 30_000);
      const b = engine.range(q, 'default', evaluated!, 0, 2_400_000, 30_000);
      tt.same(a, b, `${streamed} equals ${evaluated}`);
      // min, max, stddev and stdvar ignore histogram samples, as in Prometheus.
      const histOnly = streamed!.includes('hh') && ['min', 'max', 'stddev', 'stdvar'].includes(op);
      if (a.type === 'matrix') tt.equal(a.series.length > 0, !histOnly, `${streamed} has ${histOnly ? 'no' : ''} series`);
    }
  }
  // The streamed path counts samples as if it held every input series, as Prometheus does.
  tt.throws(() => engine.range(q, 'default', 'sum(rate(big[5m]))', 0, 2_400_000, 30_000, { maxSamples: 500 }), /too many samples/);
  tt.end();
});
