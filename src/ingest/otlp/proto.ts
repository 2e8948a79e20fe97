import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { DecodeError } from '../../wire/proto-reader.js';

/**
 * proto.ts loads the OTLP .proto files of proto/opentelemetry/ with protobufjs, for the paths that
 * are not hot: OTLP/JSON bodies (re-encoded to protobuf and walked like any other), response
 * encoding, and tests that build requests. The hot path never touches it.
 */

/** PROTO_ROOT is the import root of the OTLP .proto files (they import `opentelemetry/proto/...`). */
export const PROTO_ROOT = fileURLToPath(new URL('../../../../proto/', import.meta.url));

const FILES = [
  'opentelemetry/proto/collector/metrics/v1/metrics_service.proto',
  'opentelemetry/proto/collector/trace/v1/trace_service.proto',
];

let root: protobuf.Root | null = null;

/** otlpRoot returns the (lazily loaded, shared) protobufjs root of the OTLP messages. */
export function otlpRoot(): protobuf.Root {
  if (root !== null) return root;
  const r = new protobuf.Root();
  r.resolvePath = (_origin, target) => join(PROTO_ROOT, target);
  r.loadSync(FILES, { keepCase: false });
  r.resolveAll();
  root = r;
  return r;
}

/** otlpType returns a message type by its full name (e.g. `opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest`). */
export function otlpType(name: string): protobuf.Type {
  return otlpRoot().lookupType(name);
}

const METRICS_REQ = 'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest';
const TRACES_REQ = 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest';

/** JSON_DEPTH_ALLOWANCE extends protobufjs' message nesting limit (100) to cover MAX_JSON_DEPTH (256). */
const JSON_DEPTH_ALLOWANCE = 200;

/** ExportKind names the two OTLP export requests tallyd receives. */
export type ExportKind = 'metrics' | 'traces';

/**
 * jsonToProtobuf converts an OTLP/JSON body to the protobuf encoding of the same request.
 * OTLP/JSON differs from canonical proto3 JSON in trace and span ids (hex, not base64); those are
 * rewritten to base64 first. Int64 as strings or numbers and enums as integers are accepted by
 * protobufjs' fromObject. Throws on a body that is not a JSON object of the right shape.
 */
export function jsonToProtobuf(kind: ExportKind, body: unknown): Uint8Array {
  const type = otlpType(kind === 'metrics' ? METRICS_REQ : TRACES_REQ);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new DecodeError('body is not a JSON object');
  if (kind === 'traces') hexIdsToBase64(body);
  // No type.verify(): it refuses int64 given as strings, which OTLP/JSON uses; fromObject accepts them.
  // protobufjs stops at 100 nested messages; the body's depth is already bounded (MAX_JSON_DEPTH in
  // http.ts), so start its count below zero and let the walker apply the AnyValue limit, the same
  // for JSON as for protobuf bodies.
  try {
    const t = type as unknown as { fromObject(o: unknown, depth: number): protobuf.Message; encode(m: protobuf.Message, w: protobuf.Writer | undefined, depth: number): protobuf.Writer };
    return t.encode(t.fromObject(body, -JSON_DEPTH_ALLOWANCE), undefined, -JSON_DEPTH_ALLOWANCE).finish();
  } catch (e) {
    const msg = (e as Error).message;
    throw /depth exceeded/.test(msg) ? new DecodeError(`JSON body nested too deep (${msg})`, 'too_deep') : new DecodeError(msg);
  }
}

const ID_KEYS = new Set(['traceId', 'spanId', 'parentSpanId', 'trace_id', 'span_id', 'parent_span_id']);

function hexIdsToBase64(v: unknown): void {
  if (Array.isArray(v)) {
    for (const x of v) hexIdsToBase64(x);
    return;
  }
  if (v === null || typeof v !== 'object') return;
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    const x = o[k];
    if (ID_KEYS.has(k) && typeof x === 'string' && /^[0-9a-fA-F]*$/.test(x) && x.length % 2 === 0) o[k] = Buffer.from(x, 'hex').toString('base64');
    else hexIdsToBase64(x);
  }
}

/** encodeExportResponse encodes an Export response: empty on full success, else partial_success. */
export function encodeExportResponse(kind: ExportKind, rejected: number, message: string): Uint8Array {
  if (rejected === 0 && message === '') return new Uint8Array(0);
  const name = kind === 'metrics' ? 'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse' : 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse';
  const type = otlpType(name);
  const field = kind === 'metrics' ? 'rejectedDataPoints' : 'rejectedSpans';
  return type.encode(type.fromObject({ partialSuccess: { [field]: rejected, errorMessage: message } })).finish();
}

/** exportResponseJson renders the OTLP/JSON response body (int64 as a string, as OTLP/JSON does). */
export function exportResponseJson(kind: ExportKind, rejected: number, message: string): Record<string, unknown> {
  if (rejected === 0 && message === '') return {};
  const field = kind === 'metrics' ? 'rejectedDataPoints' : 'rejectedSpans';
  return { partialSuccess: { [field]: String(rejected), errorMessage: message } };
}
