import t from 'tap';
import { MetricKind } from '../../src/model/metric-kind.js';
import { fold, key, L, ManualClock, RES, T0, startPipeline, tempDir } from './helpers.js';

t.test('accepting() turns false while too many batches are in flight and true once workers catch up', async (t) => {
  const dir = tempDir(t);
  const p = await startPipeline(t, dir, new ManualClock(T0 + RES), { workers: 1, batchRecords: 16, maxInFlightBatches: 4 });
  const c = p.series('default', L('c_total'), MetricKind.Counter);
  t.equal(p.accepting(), true);
  // A producer that honours accepting(), with no chance for the worker's replies to arrive.
  let sent = 0;
  while (p.accepting() && sent < 100_000) {
    p.counter(c, 1, T0);
    sent++;
  }
  t.equal(p.accepting(), false, 'the producer was stopped');
  t.equal(sent, 4 * 16, 'stopped after exactly the in-flight bound');
  t.equal(p.inFlightBatches(0), 4, 'in-flight batches did not grow past the bound');
  await new Promise((r) => setTimeout(r, 200));
  t.equal(p.accepting(), true, 'accepting again once the worker consumed the batches');
  t.equal(p.inFlightBatches(0), 0);
  await p.flushNow();
  t.equal(fold(dir).counters.get(key(L('c_total')))!.get(T0), sent, 'everything accepted was aggregated');
});
