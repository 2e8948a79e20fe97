import t from 'tap';
import { Worker } from 'node:worker_threads';
import { Matcher } from '../../src/model/matcher.js';
import { openStore } from '../../src/store/open.js';
import { tempDir } from './helpers.js';

t.test('two worker threads create series in one directory concurrently without id clashes', async (t) => {
  const { dir, cleanup } = tempDir();
  t.teardown(cleanup);
  const series = 600, windows = 5;
  const run = (worker: number): Promise<number[]> =>
    new Promise((resolve, reject) => {
      const w = new Worker(new URL('./concurrency-worker.js', import.meta.url), { workerData: { dir, worker, series, windows } });
      w.once('message', resolve);
      w.once('error', reject);
    });
  const [a, b] = await Promise.all([run(1), run(2)]);
  const all = new Set([...a!, ...b!]);
  t.equal(all.size, 2 * series, 'every series got its own id');
  const store = await openStore({ dataDir: dir, rawResolutionMs: 10_000, now: () => 1_700_000_000_000 });
  t.teardown(() => store.close());
  const r = store.querier().select('default', [new Matcher('=', '__name__', 'work_total')], { startMs: 1_700_000_000_000 - 60_000, endMs: 1_700_000_000_000 + 600_000 });
  t.equal(r.floats.length, 2 * series, 'both workers\' series are stored');
  t.ok(r.floats.every((s) => s.values[s.values.length - 1] === windows), 'with every window');
});
