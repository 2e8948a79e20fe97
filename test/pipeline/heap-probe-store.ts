// A Store for memory tests: keeps nothing (like bench/lib/pipeline-discard-store.ts) and, when
// the worker closes it, writes that worker's V8 heap spaces to heap-<threadId>.json in the data
// directory, so a test on the main thread can read the aggregation worker's young generation.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getHeapSpaceStatistics } from 'node:v8';
import { threadId } from 'node:worker_threads';
import type { Store, StoreOptions } from '../../src/store/interface.js';
import { openStore as openDiscardStore } from '../../bench/lib/pipeline-discard-store.js';

/** HeapSpaces is what the store writes: physical (committed) bytes per V8 space, by name. */
export type HeapSpaces = Record<string, number>;

/** openStore returns a store that discards every write and reports the heap on close. */
export async function openStore(opts: StoreOptions): Promise<Store> {
  const store = await openDiscardStore(opts);
  return {
    ...store,
    close: async () => {
      const spaces: HeapSpaces = {};
      for (const s of getHeapSpaceStatistics()) spaces[s.space_name] = s.physical_space_size;
      writeFileSync(join(opts.dataDir, `heap-${threadId}.json`), JSON.stringify(spaces));
    },
  };
}
