// A Store that keeps nothing, for bench/pipeline.ts: measures routing and aggregation, not disk.
import type { Appender, Querier, StateTable, Store, StoreOptions } from '../../src/store/interface.js';

const appender: Appender = {
  seriesId: (() => {
    let next = 1;
    return () => next++;
  })(),
  counter: () => undefined,
  gauge: () => undefined,
  histogram: () => undefined,
  commit: () => Promise.resolve(),
  rollback: () => undefined,
};

const querier: Querier = {
  select: () => ({ floats: [], histograms: [] }),
  series: () => [],
  labelNames: () => [],
  labelValues: () => [],
  metadata: () => [],
};

/** openStore returns a store that discards every write. */
export async function openStore(opts: StoreOptions): Promise<Store> {
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
    close: async () => undefined,
  };
}
