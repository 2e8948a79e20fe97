/**
 * `tallyd/otel`: an OpenTelemetry SDK PushMetricExporter that writes into an embedded tallyd
 * (from `open()`) with no network hop. The SDK's ResourceMetrics are serialized by
 * @opentelemetry/otlp-transformer into an OTLP ExportMetricsServiceRequest and handed to the same
 * decoder the OTLP/gRPC and OTLP/HTTP receivers use, so names, labels, temporality and histogram
 * handling are exactly those of `--otlp-http`.
 */
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import type { PushMetricExporter, ResourceMetrics, AggregationTemporality, InstrumentType } from '@opentelemetry/sdk-metrics';
import type { ExportResult } from '@opentelemetry/core';
import type { Tallyd } from './index.js';

/** ExportResultCode values of @opentelemetry/core (kept literal so core is not a runtime import). */
const SUCCESS = 0;
const FAILED = 1;

/** TallydExporterOptions tune the exporter. */
export interface TallydExporterOptions {
  /**
   * Temporality asked of the SDK: 'cumulative' (the default, as the OTLP exporters) or 'delta'.
   * tallyd accepts both; delta avoids the SDK keeping start times for long-lived series.
   */
  readonly temporality?: 'cumulative' | 'delta';
  /** Tenant to write into (default: the default tenant). */
  readonly tenant?: string;
}

/**
 * TallydMetricExporter is a PushMetricExporter for a PeriodicExportingMetricReader (or any
 * reader): each export decodes synchronously into the embedded tallyd's pipeline. An export that
 * tallyd refuses as a whole (malformed, or the pipeline saturated) reports FAILED; points refused
 * one by one (limits, timestamps) are counted in tallyd's self-metrics like over the network.
 */
export class TallydMetricExporter implements PushMetricExporter {
  private readonly target: Tallyd;
  private readonly temporality: AggregationTemporality;
  private readonly tenant: string | undefined;
  private stopped = false;

  constructor(target: Tallyd, opts: TallydExporterOptions = {}) {
    this.target = target;
    // AggregationTemporality.DELTA = 0, CUMULATIVE = 1 in @opentelemetry/sdk-metrics.
    this.temporality = (opts.temporality === 'delta' ? 0 : 1) as AggregationTemporality;
    this.tenant = opts.tenant;
  }

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    if (this.stopped) {
      resultCallback({ code: FAILED, error: new Error('TallydMetricExporter is shut down') });
      return;
    }
    try {
      const body = ProtobufMetricsSerializer.serializeRequest(metrics);
      if (body === undefined) throw new Error('OTLP serialization produced no body');
      const otlp = this.target.daemon.otlp;
      if (!otlp.accepting()) throw new Error('tallyd is saturated; the SDK will export again on its next interval');
      otlp.exportMetrics(body, 'embedded', this.tenant);
      resultCallback({ code: SUCCESS });
    } catch (err) {
      resultCallback({ code: FAILED, error: err as Error });
    }
  }

  selectAggregationTemporality(_instrumentType: InstrumentType): AggregationTemporality {
    return this.temporality;
  }

  /** forceFlush: exports are synchronous, so there is nothing in flight. */
  async forceFlush(): Promise<void> {}

  /** shutdown stops accepting exports; the embedded tallyd stays open (close it yourself). */
  async shutdown(): Promise<void> {
    this.stopped = true;
  }
}
