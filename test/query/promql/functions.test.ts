import t from 'tap';
import { FUNCTIONS } from '../../../src/query/promql/functions.js';
import { INSTANT_FUNCTIONS } from '../../../src/query/promql/instant-functions.js';
import { FLOAT_RANGE_FUNCTIONS, HIST_RANGE_FUNCTIONS } from '../../../src/query/promql/range-functions.js';
import { createEngine } from '../../../src/query/promql/engine.js';
import type { Querier } from '../../../src/store/interface.js';

const TYPES = ['vector', 'matrix', 'scalar', 'string'];

t.test('every registry entry is complete: signature, implementation and flags', async (t) => {
  t.ok(FUNCTIONS.size >= 70, `${FUNCTIONS.size} functions`);
  for (const [name, f] of FUNCTIONS) {
    t.equal(f.name, name);
    t.ok(f.argTypes.every((a) => TYPES.includes(a)) && TYPES.includes(f.returnType), `${name}: argument and return types are PromQL types`);
    t.ok(Number.isInteger(f.variadic) && f.variadic >= -1, `${name}: variadic is -1, 0 or a count`);
    t.ok(f.variadic === 0 || f.argTypes.length > 0, `${name}: only a function with arguments repeats one`);
    t.equal(typeof f.keepsMetricName, 'boolean');
    t.equal(typeof f.keepsOrder, 'boolean');
    t.equal(f.takesRange, f.argTypes.includes('matrix'), `${name}: takesRange matches its signature`);
    if (f.impl.kind === 'instant') {
      t.equal(typeof f.impl.fn, 'function', `${name}: has an instant implementation`);
      t.notOk(f.takesRange);
    } else {
      t.equal(f.argTypes[f.impl.matrixArg], 'matrix', `${name}: the range implementation reads its matrix argument`);
      t.ok(f.impl.float !== null || name === 'absent_over_time', `${name}: has a float range implementation`);
    }
  }
});

t.test('no implementation is left out of the registry', async (t) => {
  for (const name of [...Object.keys(INSTANT_FUNCTIONS), ...Object.keys(FLOAT_RANGE_FUNCTIONS), ...Object.keys(HIST_RANGE_FUNCTIONS)]) {
    t.ok(FUNCTIONS.has(name), `${name} is registered`);
  }
});

t.test('the engine evaluates through the registry and honours its flags', async (t) => {
  const empty: Querier = {
    select: () => ({ floats: [], histograms: [] }),
    series: () => [], labelNames: () => [], labelValues: () => [], metadata: () => [],
  };
  const e = createEngine();
  t.same(e.instant(empty, 'default', 'clamp_max(vector(5), 3)', 0), { type: 'vector', samples: [{ labels: [], t: 0, v: 3, h: null }] });
  t.same(e.instant(empty, 'default', 'absent_over_time(nothing[5m])', 0), { type: 'vector', samples: [{ labels: [], t: 0, v: 1, h: null }] });
  const sorted = e.instant(empty, 'default', 'sort_desc(label_replace(vector(1), "a", "x", "", "") or label_replace(vector(2), "a", "y", "", ""))', 0);
  t.same(sorted.type === 'vector' ? sorted.samples.map((s) => s.v) : null, [2, 1], 'sort_desc keeps its order (keepsOrder)');
});
