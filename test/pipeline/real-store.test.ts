import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { Matcher } from '../../src/model/matcher.js';
import { MetricKind } from '../../src/model/metric-kind.js';
import { Pipeline } from '../../src/pipeline/router.js';
import { Logger } from '../../src/self/log.js';
import type { Store, StoreOptions } from '../../src/store/interface.js';
import { L, ManualClock, RES, T0, tempDir } from './helpers.js';

// The LMDB store is built in parallel; this test runs against it as soon as it is compiled.
const OPEN = new URL('../../src/store/open.js', import.meta.url);
const skip = existsSync(fileURLToPath(OPEN)) ? false : 'src/store/open.ts is not built yet';

t.test('windows flushed by the workers read back through the LMDB store', { skip }, async (t) => {
  const dir = tempDir(t);
  const clock = new ManualClock(T0 + RES);
  const p = new Pipeline({ store: { dataDir: dir, rawResolutionMs: RES }, workers: 2, flushIntervalMs: 0, now: clock.now, logger: new Logger('error', {}, () => undefined) });
  t.teardown(() => p.close().catch(() => undefined));
  await p.start();
  const c = p.series('default', L('jobs_total', { q: 'a' }), MetricKind.Counter);
  const cc = p.series('default', L('otlp_calls_total'), MetricKind.Counter);
  const h = p.series('default', L('lat_seconds'), MetricKind.Histogram);
  p.counter(c, 2, T0);
  p.counter(c, 3, T0 + RES);
  p.counterCumulative(cc, 10, T0 - 1000, T0);
  p.observe(h, 0.25, 4, T0);
  await p.flushNow();
  await p.close();

  const mod = (await import(OPEN.href)) as { openStore(o: StoreOptions): Promise<Store> };
  const store = await mod.openStore({ dataDir: dir, rawResolutionMs: RES, now: clock.now });
  t.teardown(() => store.close());
  const q = store.querier();
  const hints = { startMs: T0 - RES, endMs: T0 + 3 * RES };
  const jobs = q.select('default', [new Matcher('=', '__name__', 'jobs_total')], hints).floats[0]!;
  t.equal(jobs.values[jobs.values.length - 1], 5, 'counter reads cumulative');
  const calls = q.select('default', [new Matcher('=', '__name__', 'otlp_calls_total')], hints).floats[0]!;
  t.equal(calls.values[calls.values.length - 1], 10, 'cumulative stream with start time counted in full');
  const hist = q.select('default', [new Matcher('=', '__name__', 'lat_seconds')], hints).histograms[0]!;
  let n = hist.base().count;
  for (const d of hist.deltas) n += d.count;
  t.equal(n, 4, 'histogram count');
  t.ok(store.state('temporality').entries().length >= 1, 'the temporality baseline was persisted');
});
