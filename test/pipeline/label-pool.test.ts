import t from 'tap';
import { LabelPool } from '../../src/pipeline/label-pool.js';
import { SeriesTable } from '../../src/pipeline/series-slot.js';
import { labelsFromRecord } from '../../src/model/labels.js';
import { MetricKind } from '../../src/model/metric-kind.js';

t.test('equal pairs get one number and one shared pair; the lookup starting over keeps old numbers valid', async (t) => {
  const pool = new LabelPool(3);
  const a = pool.id({ name: 'job', value: 'api' });
  t.equal(pool.id({ name: 'job', value: 'api' }), a);
  const b = pool.id({ name: 'job', value: 'db' });
  t.not(b, a);
  t.equal(pool.pair(pool.id({ name: 'job', value: 'db' })), pool.pair(b), 'the same Label object');
  pool.id({ name: 'env', value: 'prod' });
  t.equal(pool.size, 3);
  // The fourth distinct pair starts the lookup over: sharing with earlier series is lost, not their pairs.
  const c = pool.id({ name: 'zone', value: 'a' });
  t.equal(pool.size, 1);
  t.same(pool.pair(a), { name: 'job', value: 'api' });
  t.same(pool.pair(c), { name: 'zone', value: 'a' });
  t.not(pool.id({ name: 'job', value: 'api' }), a, 'a pair seen before the restart is numbered again');
});

t.test('a series table gives back each label set as defined, built from shared pairs', async (t) => {
  const st = new SeriesTable();
  const sets = [0, 1, 2].map((i) => labelsFromRecord({ __name__: 'reqs_total', route: `/r${i % 2}`, instance: `host-${i}` }));
  sets.forEach((labels, i) => st.define(structuredClone({ slot: i * 3, tenant: 'default', labels, kind: MetricKind.Counter, bounds: null, help: '', unit: '' })));
  t.same([0, 3, 6].map((s) => st.labelsOf(s)), sets);
  t.equal(st.labelsOf(0)[0], st.labelsOf(3)[0], '__name__ is one pair for every series');
  t.equal(st.labelsOf(0).find((l) => l.name === 'route'), st.labelsOf(6).find((l) => l.name === 'route'));
  t.equal(st.count, 3);
  t.notOk(st.defined(1));
  t.equal(st.stateKey(3), '"default"reqs_total{instance="host-1", route="/r1"}', 'the key the baselines were stored under');
});
