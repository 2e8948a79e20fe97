import { parentPort, workerData } from 'node:worker_threads';
import { labelsFromRecord } from '../../src/model/labels.js';
import { MetricKind } from '../../src/model/metric-kind.js';
import { openStore } from '../../src/store/open.js';

/** A worker that creates its own series in a shared directory and reports the ids it got. */
const { dir, worker, series, windows } = workerData as { dir: string; worker: number; series: number; windows: number };
const store = await openStore({ dataDir: dir, rawResolutionMs: 10_000, now: () => 1_700_000_000_000 });
const ids: number[] = [];
for (let w = 0; w < windows; w++) {
  const app = store.appender();
  for (let s = 0; s < series; s++) {
    const id = app.seriesId('default', labelsFromRecord({ __name__: 'work_total', worker: String(worker), s: String(s) }), MetricKind.Counter);
    if (w === 0) ids.push(id);
    app.counter(id, 1_700_000_000_000 + w * 10_000, 1);
  }
  await app.commit();
}
await store.close();
parentPort!.postMessage(ids);
