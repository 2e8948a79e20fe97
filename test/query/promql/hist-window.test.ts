import t from 'tap';
import { SparseHistogram } from '../../../src/model/hdr.js';
import { labelsFromRecord } from '../../../src/model/labels.js';
import type { RangeSeries } from '../../../src/query/promql/api.js';
import { createEngine } from '../../../src/query/promql/engine.js';
import { MemQuerier } from './mem-querier.js';

// Range queries compute rate()/increase() over bare histograms with a sliding sum of deltas that
// moves with the steps; an instant query at one step sums its window afresh. Users see both, so
// they must agree exactly, whatever the data.

const engine = createEngine();
const RES = 10_000;
const POINTS = 400;

let seed = 7;
function rnd(): number {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  return seed / 4294967296;
}

interface Opts {
  /** Multiplier of every count (fractional counts take the fresh-sum path). */
  readonly weight: number;
  /** Classic bounds per point index, or null for none. */
  readonly bounds: (i: number) => Float64Array | null;
  /** Probability that a window is idle (an empty delta). */
  readonly idle: number;
}

function deltas(o: Opts): SparseHistogram[] {
  const out: SparseHistogram[] = [];
  for (let i = 0; i < POINTS; i++) {
    const h = new SparseHistogram();
    const n = rnd() < o.idle ? 0 : 1 + Math.floor(rnd() * 4);
    for (let k = 0; k < n; k++) h.record(Math.round(Math.exp(rnd() * 6 - 4) * 1e4) / 1e4, o.weight);
    const b = o.bounds(i);
    if (b !== null) {
      h.bounds = b;
      h.classicCounts = new Float64Array(b.length + 1);
      for (let k = 0; k < h.classicCounts.length; k++) h.classicCounts[k] = Math.floor(rnd() * 3) * o.weight;
    }
    out.push(h);
  }
  return out;
}

function querier(series: Record<string, Opts>): MemQuerier {
  const q = new MemQuerier();
  const ts = Array.from({ length: POINTS }, (_, i) => i * RES);
  for (const [name, o] of Object.entries(series)) q.addHistogram(labelsFromRecord({ __name__: 'lat', s: name }), ts, deltas(o));
  return q;
}

/** stepMismatches evaluates `expr` as a range query and as an instant query at each step and lists where they differ. */
function stepMismatches(q: MemQuerier, expr: string, startMs: number, endMs: number, stepMs: number): string[] {
  const r = engine.range(q, 'default', expr, startMs, endMs, stepMs);
  if (r.type !== 'matrix') return ['not a matrix'];
  const bad: string[] = [];
  let checked = 0;
  for (let ts = startMs; ts <= endMs; ts += stepMs) {
    const inst = engine.instant(q, 'default', expr, ts);
    if (inst.type !== 'vector') return ['not a vector'];
    for (const s of inst.samples) {
      const rs = r.series.find((x: RangeSeries) => JSON.stringify(x.labels) === JSON.stringify(s.labels));
      const i = rs === undefined ? -1 : rs.timestamps.indexOf(ts);
      const h = i < 0 ? null : rs!.histograms![i]!;
      checked++;
      if (h === null || s.h === null) {
        bad.push(`${ts}: missing`);
        continue;
      }
      const a = JSON.stringify([Array.from(h.indices.subarray(0, h.size)), Array.from(h.counts.subarray(0, h.size)), h.count, h.sum, h.min, h.max, h.bounds && Array.from(h.bounds), h.classicCounts && Array.from(h.classicCounts)]);
      const b = JSON.stringify([Array.from(s.h.indices.subarray(0, s.h.size)), Array.from(s.h.counts.subarray(0, s.h.size)), s.h.count, s.h.sum, s.h.min, s.h.max, s.h.bounds && Array.from(s.h.bounds), s.h.classicCounts && Array.from(s.h.classicCounts)]);
      if (a !== b) bad.push(`${ts}: range ${a} instant ${b}`);
    }
  }
  if (checked === 0) bad.push('nothing compared');
  return bad;
}

const B1 = Float64Array.from([0.01, 0.1, 1, 10]);
const B2 = Float64Array.from([0.05, 0.5, 5]);

t.test('rate() over a bare histogram is the same in a range query as in an instant query at each step', (tt) => {
  const q = querier({
    plain: { weight: 1, bounds: () => null, idle: 0.1 },
    classic: { weight: 1, bounds: () => B1, idle: 0.3 },
  });
  for (const [step, range] of [[15_000, '5m'], [60_000, '5m'], [10_000, '1m'], [300_000, '5m'], [7_000, '2m']] as const) {
    tt.same(stepMismatches(q, `rate(lat[${range}])`, 600_000, 3_900_000, step), [], `step ${step} range ${range}`);
  }
  tt.end();
});

t.test('increase() over histograms with fractional counts agrees between range and instant queries', (tt) => {
  const q = querier({ weighted: { weight: 2.5, bounds: () => B1, idle: 0.1 }, tenth: { weight: 0.1, bounds: () => null, idle: 0 } });
  tt.same(stepMismatches(q, 'increase(lat[5m])', 600_000, 3_900_000, 15_000), []);
  tt.end();
});

t.test('classic buckets of a rate over a histogram whose bounds change are kept only where the window has one set of bounds', (tt) => {
  const q = querier({ changing: { weight: 1, bounds: (i) => (i < 200 ? B1 : B2), idle: 0.05 } });
  tt.same(stepMismatches(q, 'rate(lat[5m])', 600_000, 3_900_000, 15_000), []);
  const r = engine.range(q, 'default', 'rate(lat[5m])', 1_500_000, 2_500_000, 60_000);
  const hs = r.type === 'matrix' ? r.series[0]!.histograms! : [];
  // Before the change B1, across it none, after it B2.
  tt.same(hs.map((h) => (h!.bounds === null ? 0 : h!.bounds.length)).filter((n, i, a) => i === 0 || a[i - 1] !== n), [4, 0, 3]);
  tt.end();
});

t.test('a sum of histogram rates by label agrees between range and instant queries', (tt) => {
  const q = querier({
    a: { weight: 1, bounds: () => B1, idle: 0.2 },
    b: { weight: 1, bounds: () => B1, idle: 0.6 },
  });
  tt.same(stepMismatches(q, 'sum(rate(lat[5m]))', 600_000, 3_900_000, 30_000), []);
  tt.end();
});
