// A Store for memory tests: keeps nothing (like bench/lib/pipeline-discard-store.ts) and, when
// the worker closes it, writes that worker's V8 heap spaces to heap-<threadId>.json in the data
// directory, so a test on the main thread can read the aggregation worker's young generation.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getHeapSpaceStatistics } from 'node:v8';
import { threadId } from 'node:worker_threads';
import type { Appender, Querier, StateTable, Store, StoreOptions } from '../../src/store/interface.js';

/** HeapSpaces is what the store writes: physical (committed) bytes per V8 space, by name. */
export type HeapSpaces = Record<string, number>;

/** openStore returns a store that discards every write and reports the heap on close. */
export async function openStore(opts: StoreOptions): Promise<Store> {
  let next = 1;
  const appender: Appender = {
    seriesId: () => next++,
    counter: () => undefined,
    gauge: () => undefined,
    histogram: () => undefined,
    commit: () => Promise.resolve(),
    rollback: () => undefined,
  };
  const querier: Querier = { select: () => ({ floats: [], histograms: [] }), series: () => [], labelNames: () => [], labelValues: () => [], metadata: () => [] };
  const data = new Map<string, unknown>();
  const table: StateTable = {
    get: <T>(k: string) => data.get(k) as T | undefined,
    put: async (k, v) => void data.set(k, v),
    remove: async (k) => void data.delete(k),
    entries: () => [],
  };
  return {
    rawResolutionMs: opts.rawResolutionMs,
    appender: () => appender,
    querier: () => querier,
    state: () => table,
    stats: () => ({ series: 0, tiers: [], bytes: 0 }),
    compact: async () => undefined,
    close: async () => {
      const spaces: HeapSpaces = {};
      for (const s of getHeapSpaceStatistics()) spaces[s.space_name] = s.physical_space_size;
      writeFileSync(join(opts.dataDir, `heap-${threadId}.json`), JSON.stringify(spaces));
    },
  };
}
