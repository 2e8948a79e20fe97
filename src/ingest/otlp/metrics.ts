import { Counter } from 'prom-client';
import { selfRegistry } from '../../self/registry.js';

/** otlpPointsReceived counts OTLP data points decoded, by transport (grpc, http). */
export const otlpPointsReceived = new Counter({
  name: 'tallyd_otlp_data_points_received_total',
  help: 'OTLP data points received, by transport.',
  labelNames: ['transport'] as const,
  registers: [selfRegistry],
});

/** otlpPointsRefused counts OTLP data points refused, by reason. */
export const otlpPointsRefused = new Counter({
  name: 'tallyd_otlp_data_points_refused_total',
  help: 'OTLP data points refused, by reason (bad_value, series_limit, pipeline).',
  labelNames: ['reason'] as const,
  registers: [selfRegistry],
});

/** otlpRequestsRefused counts whole OTLP requests refused, by transport and reason (overloaded, too_large, malformed, too_deep). */
export const otlpRequestsRefused = new Counter({
  name: 'tallyd_otlp_requests_refused_total',
  help: 'OTLP export requests refused whole, by transport and reason (overloaded, too_large, malformed, too_deep, unsupported_media_type).',
  labelNames: ['transport', 'reason'] as const,
  registers: [selfRegistry],
});

/** otlpSpansReceived counts spans turned into span metrics. */
export const otlpSpansReceived = new Counter({
  name: 'tallyd_otlp_spans_received_total',
  help: 'OTLP spans received and turned into span metrics, by transport.',
  labelNames: ['transport'] as const,
  registers: [selfRegistry],
});

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

/** remoteWriteRequestsRefused counts whole remote write requests refused, by reason (too_large, malformed, unsupported_media_type, overloaded). */
export const remoteWriteRequestsRefused = new Counter({
  name: 'tallyd_remote_write_requests_refused_total',
  help: 'Prometheus remote write requests refused whole, by reason (too_large, malformed, unsupported_media_type, overloaded).',
  labelNames: ['reason'] as const,
  registers: [selfRegistry],
});
