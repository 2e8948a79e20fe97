import { Counter } from 'prom-client';
import { selfRegistry } from '../../self/registry.js';

/** remoteWriteSamplesReceived counts Prometheus remote-write samples decoded. */
export const remoteWriteSamplesReceived = new Counter({
  name: 'tallyd_remote_write_samples_received_total',
  help: 'Prometheus remote write samples received.',
  registers: [selfRegistry],
});

/** remoteWriteSamplesRefused counts remote-write samples refused, by reason. */
export const remoteWriteSamplesRefused = new Counter({
  name: 'tallyd_remote_write_samples_refused_total',
  help: 'Prometheus remote write samples refused, by reason.',
  labelNames: ['reason'] as const,
  registers: [selfRegistry],
});

/** remoteWriteRequestsRefused counts whole remote write requests refused, by reason. */
export const remoteWriteRequestsRefused = new Counter({
  name: 'tallyd_remote_write_requests_refused_total',
  help: 'Prometheus remote write requests refused whole, by reason (too_large, malformed, unsupported_media_type, overloaded).',
  labelNames: ['reason'] as const,
  registers: [selfRegistry],
});
