import { Gauge, collectDefaultMetrics } from 'prom-client';
import { selfRegistry } from './registry.js';

let registered = false;

/**
 * registerProcessMetrics adds the process metrics (CPU, memory, event loop lag, with the
 * `tallyd_` prefix) and the store's size to the self registry. The store size is read when
 * scraped, not on a timer, so it costs nothing between scrapes.
 */
export function registerProcessMetrics(storeBytes: () => number): void {
  if (registered) return;
  registered = true;
  collectDefaultMetrics({ register: selfRegistry, prefix: 'tallyd_' });
  new Gauge({
    name: 'tallyd_store_bytes',
    help: 'Bytes of LMDB pages in use by the store, over all tables and tiers.',
    registers: [selfRegistry],
    collect() {
      this.set(storeBytes());
    },
  });
}
