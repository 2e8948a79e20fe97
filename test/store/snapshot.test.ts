import t from 'tap';
import { Worker } from 'node:worker_threads';
import { Matcher } from '../../src/model/matcher.js';
import { CLOCK_T0, L, openTemp } from './helpers.js';
import { MetricKind } from '../../src/model/metric-kind.js';

t.test('a new querier sees what another thread committed, even within the same event-loop turn', async (t) => {
  const { store, dir } = await openTemp(t);
  const app = store.appender();
  app.counter(app.seriesId('default', L({ __name__: 'early_total' }), MetricKind.Counter), CLOCK_T0, 1);
  await app.commit();
  const range = { startMs: CLOCK_T0 - 60_000, endMs: CLOCK_T0 + 60_000 };
  const late = [new Matcher('=', '__name__', 'late_series_total')];
  // A read now opens this thread's snapshot ...
  t.equal(store.querier().select('default', late, range).floats.length, 0, 'not there yet');

  // ... then, without leaving this turn, another thread commits a new series (as a query worker
  // runs its next job before lmdb-js would renew the snapshot on its own).
  const flag = new SharedArrayBuffer(4);
  const w = new Worker(new URL('./snapshot-worker.js', import.meta.url), { workerData: { dir, flag } });
  const done = new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  t.equal(Atomics.wait(new Int32Array(flag), 0, 0, 30_000), 'ok', 'the other thread committed');
  const r = store.querier().select('default', late, range);
  t.equal(r.floats.length, 1, 'the next querier reads the other thread\'s commit');
  await done;
});
