import { Counter, Gauge } from 'prom-client';
import { selfRegistry } from './registry.js';

let registered = false;

/**
 * registerProcessMetrics adds CPU, memory and start time of the tallyd process and the store's
 * size to the self registry. Values are read when scraped, not on a timer, so they cost nothing
 * between scrapes. (prom-client's default set is not used: some of its gauges end in `_total`,
 * which `promtool check metrics` rejects.)
 */
export function registerProcessMetrics(storeBytes: () => number): void {
  if (registered) return;
  registered = true;
  const startSeconds = Math.round(Date.now() / 1000 - process.uptime());
  new Counter({
    name: 'tallyd_process_cpu_seconds_total',
    help: 'User and system CPU time spent by the tallyd process, in seconds.',
    registers: [selfRegistry],
    collect() {
      const u = process.cpuUsage();
      this.reset();
      this.inc((u.user + u.system) / 1e6);
    },
  });
  new Gauge({
    name: 'tallyd_process_resident_memory_bytes',
    help: 'Resident memory of the tallyd process, in bytes.',
    registers: [selfRegistry],
    collect() {
      this.set(process.memoryUsage.rss());
    },
  });
  new Gauge({
    name: 'tallyd_process_heap_used_bytes',
    help: 'V8 heap in use on the main thread, in bytes.',
    registers: [selfRegistry],
    collect() {
      this.set(process.memoryUsage().heapUsed);
    },
  });
  new Gauge({
    name: 'tallyd_process_start_time_seconds',
    help: 'Start time of the tallyd process since the unix epoch, in seconds.',
    registers: [selfRegistry],
    collect() {
      this.set(startSeconds);
    },
  });
  new Gauge({
    name: 'tallyd_store_bytes',
    help: 'Bytes of LMDB pages in use by the store, over all tables and tiers.',
    registers: [selfRegistry],
    collect() {
      this.set(storeBytes());
    },
  });
}
