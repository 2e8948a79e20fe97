import { Counter, Gauge } from 'prom-client';
import type { Metric } from 'prom-client';
import { selfRegistry } from '../../self/registry.js';

function reuse<T extends Metric>(name: string, make: () => T): T {
  return (selfRegistry.getSingleMetric(name) as T | undefined) ?? make();
}

/** samplesSent counts samples a receiver acknowledged (2xx), by target URL. */
export const samplesSent = reuse('tallyd_remote_write_samples_sent_total', () => new Counter({
  name: 'tallyd_remote_write_samples_sent_total',
  help: 'Samples acknowledged by a remote write receiver.',
  labelNames: ['url'],
  registers: [selfRegistry],
}));

/** samplesDropped counts samples given up: queue over max_bytes, older than max_age, or refused (4xx). */
export const samplesDropped = reuse('tallyd_remote_write_samples_dropped_total', () => new Counter({
  name: 'tallyd_remote_write_samples_dropped_total',
  help: 'Samples dropped from a remote write queue, by reason (max_bytes, max_age, rejected).',
  labelNames: ['url', 'reason'],
  registers: [selfRegistry],
}));

/** requestsFailed counts attempts that will be retried (network error, 5xx, 408, 429). */
export const requestsFailed = reuse('tallyd_remote_write_requests_failed_total', () => new Counter({
  name: 'tallyd_remote_write_requests_failed_total',
  help: 'Remote write requests that failed and are retried with backoff.',
  labelNames: ['url'],
  registers: [selfRegistry],
}));

/** queueBytes is the size of a target's on-disk queue. */
export const queueBytes = reuse('tallyd_remote_write_queue_bytes', () => new Gauge({
  name: 'tallyd_remote_write_queue_bytes',
  help: 'Bytes of encoded requests waiting in a remote write queue.',
  labelNames: ['url'],
  registers: [selfRegistry],
}));

/** queueSamples is the number of samples in a target's on-disk queue. */
export const queueSamples = reuse('tallyd_remote_write_queue_samples', () => new Gauge({
  name: 'tallyd_remote_write_queue_samples',
  help: 'Samples waiting in a remote write queue.',
  labelNames: ['url'],
  registers: [selfRegistry],
}));
