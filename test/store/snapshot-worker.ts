import { parentPort, workerData } from 'node:worker_threads';
import { labelsFromRecord } from '../../src/model/labels.js';
import { MetricKind } from '../../src/model/metric-kind.js';
import { openStore } from '../../src/store/open.js';

/** Commits one new series in a shared directory, then raises the shared flag and wakes the waiter. */
const { dir, flag } = workerData as { dir: string; flag: SharedArrayBuffer };
const store = await openStore({ dataDir: dir, rawResolutionMs: 10_000, now: () => 1_700_000_000_000 });
const app = store.appender();
const id = app.seriesId('default', labelsFromRecord({ __name__: 'late_series_total' }), MetricKind.Counter);
app.counter(id, 1_700_000_000_000, 3);
await app.commit();
await store.close();
const f = new Int32Array(flag);
Atomics.store(f, 0, 1);
Atomics.notify(f, 0);
parentPort!.postMessage('done');
