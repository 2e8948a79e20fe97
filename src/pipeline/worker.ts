import { parentPort, workerData } from 'node:worker_threads';
import type { Store, StoreOptions } from '../store/interface.js';
import { Aggregator } from './aggregator.js';
import { exposeSlots } from './exposition.js';
import type { FromWorker, ToWorker, WorkerConfig } from './protocol.js';

/**
 * The aggregation worker entry: opens its own Store (from the module named in workerData, so
 * tests can substitute one), then applies batches, flushes and answers /metrics requests. Batches
 * that arrive before the store is open wait in order; flushes run one at a time.
 */
const cfg = workerData as WorkerConfig;
const port = parentPort!;
let agg: Aggregator | null = null;
let store: Store | null = null;
const early: ToWorker[] = [];
let flushing: Promise<unknown> = Promise.resolve();

function send(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(msg, transfer);
}

function handle(msg: ToWorker): void {
  const a = agg!;
  switch (msg.t) {
    case 'batch': {
      a.apply(msg);
      send({ t: 'returned', buf: msg.buf, side: msg.side }, msg.side ? [msg.buf, msg.side] : [msg.buf]);
      return;
    }
    case 'flush':
      flushing = flushing.then(() => a.flush(msg.now, msg.all).then(
        (stats) => send({ t: 'flushed', id: msg.id, stats, error: null }),
        (err: unknown) => send({ t: 'flushed', id: msg.id, stats: { windows: 0, activeSeries: a.activeSeries(msg.now), totalSeries: 0, durationMs: 0 }, error: String(err) }),
      ));
      return;
    case 'expose':
      send({ t: 'exposed', id: msg.id, families: exposeSlots(a.liveSlots(msg.tenant, msg.now)) });
      return;
    case 'close':
      flushing = flushing.then(() => store!.close().then(
        () => send({ t: 'closed', id: msg.id, error: null }),
        (err: unknown) => send({ t: 'closed', id: msg.id, error: String(err) }),
      ));
      return;
  }
}

port.on('message', (msg: ToWorker) => {
  if (agg === null) early.push(msg);
  else handle(msg);
});

try {
  const mod = (await import(cfg.storeModule)) as { openStore(o: StoreOptions): Promise<Store> };
  store = await mod.openStore(cfg.store);
  agg = new Aggregator(store, { seriesTtlMs: cfg.seriesTtlMs, restoreLookbackMs: cfg.restoreLookbackMs });
  send({ t: 'ready', error: null });
  for (const m of early.splice(0)) handle(m);
} catch (err) {
  send({ t: 'ready', error: `worker ${cfg.index}: opening store via ${cfg.storeModule}: ${String(err)}` });
}
