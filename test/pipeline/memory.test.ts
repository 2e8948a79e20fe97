import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MetricKind } from '../../src/model/metric-kind.js';
import { Pipeline } from '../../src/pipeline/router.js';
import type { PipelineOptions } from '../../src/pipeline/options.js';
import { Logger } from '../../src/self/log.js';
import type { HeapSpaces } from './heap-probe-store.js';
import { L, T0, tempDir } from './helpers.js';

const PROBE_STORE = new URL('./heap-probe-store.js', import.meta.url).href;
const SERIES = 60_000;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function open(dir: string, extra: Partial<PipelineOptions> = {}): Pipeline {
  return new Pipeline({
    store: { dataDir: dir, rawResolutionMs: 10_000 },
    storeModule: PROBE_STORE,
    workers: 1,
    flushIntervalMs: 0,
    postDelayMs: 0,
    limits: { maxSeriesPerMetric: 1_000_000, maxSeriesPerTenant: 1_000_000 },
    logger: new Logger('error', {}, () => undefined),
    ...extra,
  });
}

/** burst defines SERIES new counter series with one sample each, as a burst of new senders does, and waits until the worker applied them. */
async function burst(p: Pipeline, from = 0): Promise<void> {
  for (let i = from; i < from + SERIES; i++) {
    const ref = p.series('default', L('burst_requests_total', { route: `/api/v1/r${i % 100}`, instance: `host-${Math.floor(i / 100)}` }), MetricKind.Counter);
    p.counter(ref, 1, T0);
    if ((i & 1023) === 0) {
      p.flush();
      while (!p.accepting()) await new Promise((r) => setTimeout(r, 1));
    }
  }
  p.flush();
  while (p.inFlightBatches(0) > 0) await new Promise((r) => setTimeout(r, 1));
}

t.test('the main thread keeps no heap object per admitted series', async (t) => {
  const p = open(tempDir(t));
  t.teardown(() => p.close());
  await p.ready();
  await burst(p, 0); // warm: code, pools and the table's first growth
  gc();
  const before = process.memoryUsage().heapUsed;
  await burst(p, SERIES);
  gc();
  const perSeries = (process.memoryUsage().heapUsed - before) / SERIES;
  // A Map<string, number> of identity keys held ~140 B per series here.
  t.ok(perSeries < 40, `main-thread heap per series: ${perSeries.toFixed(1)} B`);
  t.equal(p.seriesCount(), 2 * SERIES);
  const again = p.series('default', L('burst_requests_total', { route: '/api/v1/r7', instance: 'host-0' }), MetricKind.Counter);
  t.equal(p.series('default', L('burst_requests_total', { route: '/api/v1/r7', instance: 'host-0' }), MetricKind.Counter), again, 'a defined series is found again');
  t.equal(p.seriesCount(), 2 * SERIES, 'and not counted twice');
});

t.test('a burst of new series leaves the aggregation worker with a small young generation', async (t) => {
  const dir = tempDir(t);
  const p = open(dir);
  await p.ready();
  await burst(p);
  await p.close();
  const file = readdirSync(dir).find((f) => f.startsWith('heap-'))!;
  const spaces = JSON.parse(readFileSync(join(dir, file), 'utf8')) as HeapSpaces;
  // V8's own sizing grew it to ~34 MB committed (16 MB semi-spaces) for good after such a burst.
  t.ok(spaces['new_space']! <= 8 << 20, `worker new space ${(spaces['new_space']! / 1048576).toFixed(1)} MB`);
});
