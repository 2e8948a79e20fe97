import { labelsFromPairs } from '../../src/model/labels.js';
import { createEngine } from '../../src/query/promql/engine.js';
import { MemQuerier } from '../../test/query/promql/mem-querier.js';

/**
 * Range-query hot path after the conformance fixes: 200 series x 1 day of 15 s samples,
 * queried over 24 h at 1 m steps (1,441 steps). Prints ms per query for a few expressions.
 * Run: node dist-NAME/bench/lib/conformance-range.bench.js
 */
const q = new MemQuerier();
const day = 86_400_000, scrape = 15_000;
for (let s = 0; s < 200; s++) {
  const t: number[] = [], v: number[] = [];
  for (let ts = 0, c = 0; ts <= day; ts += scrape) {
    c += (s % 7) + 1;
    t.push(ts);
    v.push(c);
  }
  q.addFloat(labelsFromPairs([['__name__', 'req_total'], ['job', `j${s % 5}`], ['le', String([0.1, 0.5, 1, 5, '+Inf'][s % 5])], ['i', String(s)]]), t, v);
}
const engine = createEngine();
const exprs = ['sum by (job) (rate(req_total[5m]))', 'req_total', '-req_total', 'histogram_quantile(0.9, sum by (le) (rate(req_total[5m])))', 'max_over_time(req_total[10m])'];
for (const e of exprs) {
  engine.range(q, 't', e, 0, day, 60_000);
  const n = 5;
  const t0 = performance.now();
  for (let k = 0; k < n; k++) engine.range(q, 't', e, 0, day, 60_000);
  console.log(`${e}: ${((performance.now() - t0) / n).toFixed(1)} ms`);
}
