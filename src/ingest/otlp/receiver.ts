import type { IngestSink } from '../sink.js';
import { DEFAULT_TENANT } from '../../model/metric-kind.js';
import { MetricsDecoder } from './decode.js';
import { MetricsWriter } from './metrics-writer.js';
import { SpanMetricsWriter } from './spans.js';
import { DEFAULT_PROMOTE_RESOURCE_ATTRIBUTES } from './translate.js';
import { otlpPointsReceived, otlpPointsRefused, otlpSpansReceived } from './metrics.js';

/** ExportResult is what an Export answers: rejected points (or spans) and the partial_success message. */
export interface ExportResult {
  readonly accepted: number;
  readonly rejected: number;
  readonly message: string;
}

/** ReceiverOptions configure an OtlpReceiver. */
export interface ReceiverOptions {
  readonly sink: IngestSink;
  /** Resource attributes promoted to labels (default: tenant.id, deployment.environment). */
  readonly promoteResourceAttributes?: readonly string[];
  /** Interned series kept per receiver before the cache is recycled (bounds memory). */
  readonly maxCachedSeries?: number;
  /** How long an LLM call span waits for its ancestor spans to attribute agent and tool (default 5 s). */
  readonly traceAttributionWaitMs?: number;
}

/** Transport labels the self-metrics. */
export type Transport = 'grpc' | 'http';

/**
 * OtlpReceiver is the transport-independent part of the OTLP receiver: it decodes a protobuf
 * Export request, pushes it into the sink, flushes, and says what was refused. The gRPC and HTTP
 * servers are thin wrappers around it. Calls are synchronous, so one receiver can serve both.
 */
export class OtlpReceiver {
  private readonly sink: IngestSink;
  private readonly decoder = new MetricsDecoder();
  private readonly metrics: MetricsWriter;
  private readonly spans: SpanMetricsWriter;
  private readonly received: Record<Transport, { inc(n: number): void }>;
  private readonly spansReceived: Record<Transport, { inc(n: number): void }>;

  constructor(opts: ReceiverOptions) {
    this.sink = opts.sink;
    const promote = opts.promoteResourceAttributes ?? DEFAULT_PROMOTE_RESOURCE_ATTRIBUTES;
    this.metrics = new MetricsWriter(opts.sink, promote, opts.maxCachedSeries);
    this.spans = new SpanMetricsWriter(opts.sink, promote, { traceAttributionWaitMs: opts.traceAttributionWaitMs });
    this.received = { grpc: otlpPointsReceived.labels('grpc'), http: otlpPointsReceived.labels('http') };
    this.spansReceived = { grpc: otlpSpansReceived.labels('grpc'), http: otlpSpansReceived.labels('http') };
  }

  /** close releases the call spans still waiting for their ancestors (stop: nothing is lost). */
  close(): void {
    this.spans.close();
  }

  /** accepting is false while the pipeline is saturated: answer UNAVAILABLE / 503. */
  accepting(): boolean {
    return this.sink.accepting();
  }

  /**
   * exportMetrics ingests an ExportMetricsServiceRequest. Throws DecodeError on a malformed body;
   * points decoded before the error are kept (OTLP forbids retrying INVALID_ARGUMENT, so nothing
   * is counted twice).
   */
  exportMetrics(buf: Uint8Array, transport: Transport, tenant: string = DEFAULT_TENANT): ExportResult {
    const w = this.metrics;
    w.begin(tenant);
    try {
      this.decoder.decode(buf, w);
    } finally {
      this.sink.flush();
      if (w.received > 0) this.received[transport].inc(w.received);
      w.refused.forEach((reason, n) => otlpPointsRefused.labels(reason).inc(n));
    }
    const rejected = w.refused.total();
    return { accepted: w.received - rejected, rejected, message: w.refused.message('data points') };
  }

  /** exportTraces turns an ExportTraceServiceRequest into span metrics (spans are not stored). */
  exportTraces(buf: Uint8Array, transport: Transport, tenant: string = DEFAULT_TENANT): ExportResult {
    const w = this.spans;
    try {
      w.write(buf, tenant);
    } finally {
      this.sink.flush();
      if (w.received > 0) this.spansReceived[transport].inc(w.received);
    }
    const rejected = w.refused.total();
    return { accepted: w.received - rejected, rejected, message: w.refused.message('spans') };
  }
}
