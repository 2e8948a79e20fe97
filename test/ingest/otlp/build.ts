import { otlpType } from '../../../src/ingest/otlp/proto.js';

/** Test helpers that build OTLP requests with protobufjs from proto/opentelemetry. */
export const MetricsRequest = otlpType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest');
export const MetricsResponse = otlpType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse');
export const TraceRequest = otlpType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
export const TraceResponse = otlpType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse');

/** attrs turns a record into OTLP KeyValues (string values). */
export function attrs(rec: Record<string, string | number | boolean>): Array<Record<string, unknown>> {
  return Object.entries(rec).map(([key, v]) => ({
    key,
    value: typeof v === 'string' ? { stringValue: v } : typeof v === 'boolean' ? { boolValue: v } : Number.isInteger(v) ? { intValue: v } : { doubleValue: v },
  }));
}

/** nanos converts ms to a fixed64 nanosecond value protobufjs accepts exactly. */
export function nanos(ms: number): string {
  return (BigInt(Math.round(ms * 1000)) * 1_000n).toString();
}

/** metricsRequest encodes one resource with one scope holding `metrics`. */
export function metricsRequest(metrics: Array<Record<string, unknown>>, resource: Record<string, string> = { 'service.name': 'svc' }): Uint8Array {
  return MetricsRequest.encode(MetricsRequest.fromObject({
    resourceMetrics: [{ resource: { attributes: attrs(resource) }, scopeMetrics: [{ scope: { name: 'test' }, metrics }] }],
  })).finish();
}
