import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { Store, StoreOptions } from '../../store/interface.js';
import { createEngine } from '../promql/engine.js';
import type { JobTable } from './job.js';
import type { FromWorker, ToWorker, WorkerConfig } from './protocol.js';
import { runJob, toWireError } from './run-job.js';

/**
 * The query worker entry: opens its own Store handle (one per thread, as the store requires),
 * loads the job tables, then runs one job at a time. A job runs synchronously; the main thread
 * cancels it through the shared cancel slot, which the job's checkpoints read.
 */
const cfg = workerData as WorkerConfig;

/**
 * lowerPriority makes this thread nicer than the main thread, so that on a machine with few cores
 * the scheduler gives the thread that receives StatsD/OTLP the CPU before a query. Linux applies
 * setpriority to one thread when given its thread id; elsewhere the thread keeps its priority.
 */
function lowerPriority(nice: number): void {
  if (nice <= 0) return;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, nice);
  } catch {
    // No /proc (not Linux) or not permitted: keep the default priority.
  }
}
lowerPriority(cfg.nice);
const port = parentPort!;
const cancel = new Int32Array(cfg.cancel);
const engine = createEngine();
let store: Store | null = null;
let table: JobTable = {};
const early: ToWorker[] = [];

function send(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(msg, transfer);
}

function handle(msg: ToWorker): void {
  if (msg.t === 'close') {
    // Release this thread's store handle (its LMDB reader slot) before the thread ends.
    store!.close().finally(() => send({ t: 'closed' }));
    return;
  }
  try {
    const value = runJob(table, engine, store!.querier(), msg.kind, msg.params, msg.deadlineMs, msg.limits, () => Atomics.load(cancel, 0) === msg.id);
    // Bytes (remote read answers) move to the main thread instead of being copied.
    if (value instanceof Uint8Array) {
      const own = value.byteOffset === 0 && value.byteLength === value.buffer.byteLength && value.buffer instanceof ArrayBuffer ? value : value.slice();
      send({ t: 'done', id: msg.id, ok: true, value: own }, [own.buffer as ArrayBuffer]);
    } else {
      send({ t: 'done', id: msg.id, ok: true, value });
    }
  } catch (err) {
    send({ t: 'done', id: msg.id, ok: false, error: toWireError(err) });
  }
}

port.on('message', (msg: ToWorker) => {
  if (store === null) early.push(msg);
  else handle(msg);
});

try {
  const mod = (await import(cfg.storeModule)) as { openStore(o: StoreOptions): Promise<Store> };
  const tables: JobTable[] = [];
  for (const m of cfg.jobModules) tables.push(((await import(m)) as { jobs: JobTable }).jobs);
  table = Object.assign({}, ...tables) as JobTable;
  store = await mod.openStore(cfg.store);
  send({ t: 'ready', error: null });
  for (const m of early.splice(0)) handle(m);
} catch (err) {
  send({ t: 'ready', error: `query worker ${cfg.index}: ${String(err)}` });
}
