import { Counter, Gauge, Histogram } from 'prom-client';
import type { Metric } from 'prom-client';
import { selfRegistry } from '../self/registry.js';

/**
 * The pipeline's own metrics on selfRegistry. Declared once per process; a name another module
 * registered first is reused instead of registered twice (prom-client throws on duplicates).
 */
function reuse<T extends Metric>(name: string, make: () => T): T {
  return (selfRegistry.getSingleMetric(name) as T | undefined) ?? make();
}

/** seriesRefused counts series refused by a cardinality limit, by limit. */
export const seriesRefused = reuse('tallyd_series_refused_total', () => new Counter({
  name: 'tallyd_series_refused_total',
  help: 'Series refused by a limit, by reason.',
  labelNames: ['reason'],
  registers: [selfRegistry],
}));

/** samplesRefused counts points refused by the pipeline (timestamp out of range, wrong kind, bad value). */
export const samplesRefused = reuse('tallyd_samples_refused_total', () => new Counter({
  name: 'tallyd_samples_refused_total',
  help: 'Samples refused by the aggregation pipeline, by reason.',
  labelNames: ['reason'],
  registers: [selfRegistry],
}));

/** samplesReceived counts points handed to the pipeline, by kind (counter, gauge, histogram, set). */
export const samplesReceived = reuse('tallyd_samples_received_total', () => new Counter({
  name: 'tallyd_samples_received_total',
  help: 'Samples received by the aggregation pipeline, by kind.',
  labelNames: ['kind'],
  registers: [selfRegistry],
}));

/** flushDuration observes how long one flush of every worker took, commit included. */
export const flushDuration = reuse('tallyd_flush_duration_seconds', () => new Histogram({
  name: 'tallyd_flush_duration_seconds',
  help: 'Time to close and commit the aggregation windows of all workers.',
  buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [selfRegistry],
}));

/** seriesActive is the number of series updated within the series TTL, as of the last flush. */
export const seriesActive = reuse('tallyd_series_active', () => new Gauge({
  name: 'tallyd_series_active',
  help: 'Series updated within the series TTL, as of the last flush.',
  registers: [selfRegistry],
}));

/** workerQueueDepth is the number of batches posted to a worker and not yet consumed. */
export const workerQueueDepth = reuse('tallyd_worker_queue_depth', () => new Gauge({
  name: 'tallyd_worker_queue_depth',
  help: 'Batches posted to an aggregation worker and not yet consumed.',
  labelNames: ['worker'],
  registers: [selfRegistry],
}));
