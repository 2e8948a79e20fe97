import { status } from '@grpc/grpc-js';
import { labelsToRecord, type Labels } from '../../model/labels.js';
import type { QueryResult } from '../../query/promql/api.js';
import type { AlertEventMsg, QueryResponse, SampleMsg, SeriesMsg } from './messages.js';
import { GrpcError } from './status.js';

/**
 * queryResponse shapes an engine result as tallyd.v1.QueryResponse. Histogram-valued points
 * have no place in `Sample` and are left out (the proto says so); a string result has no
 * result_type in the API and is refused as INVALID_ARGUMENT.
 */
export function queryResponse(r: QueryResult): QueryResponse {
  switch (r.type) {
    case 'vector': {
      const series: SeriesMsg[] = [];
      for (const s of r.samples) {
        if (s.h !== null) continue;
        series.push({ labels: labelsToRecord(s.labels), samples: [{ timestamp_ms: s.t, value: s.v }] });
      }
      return { result_type: 'vector', series };
    }
    case 'matrix': {
      const series: SeriesMsg[] = [];
      for (const s of r.series) {
        const samples: SampleMsg[] = [];
        const hs = s.histograms;
        for (let i = 0; i < s.timestamps.length; i++) {
          if (hs !== null && hs[i] != null) continue;
          samples.push({ timestamp_ms: s.timestamps[i]!, value: s.values[i]! });
        }
        if (samples.length > 0) series.push({ labels: labelsToRecord(s.labels), samples });
      }
      return { result_type: 'matrix', series };
    }
    case 'scalar':
      return { result_type: 'scalar', series: [{ labels: {}, samples: [{ timestamp_ms: r.t, value: r.v }] }] };
    case 'string':
      throw new GrpcError(status.INVALID_ARGUMENT, 'string results are not supported by the gRPC API; use a vector, matrix or scalar expression');
  }
}

/**
 * AlertEventLike is what the rule manager emits as `'alert'` on the alert emitter. `labels`
 * may be a Labels array or a plain record. `tenant` names the tenant whose rules produced the
 * event; absent means the default tenant. Times are unix ms.
 */
export interface AlertEventLike {
  readonly alertname: string;
  readonly state: 'pending' | 'firing' | 'resolved';
  readonly labels: Labels | Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly value: number;
  readonly activeAtMs: number;
  readonly eventMs: number;
  readonly tenant?: string;
}

/** alertEventMessage shapes an emitted alert event as tallyd.v1.AlertEvent. */
export function alertEventMessage(ev: AlertEventLike): AlertEventMsg {
  const labels = Array.isArray(ev.labels) ? labelsToRecord(ev.labels as Labels) : { ...(ev.labels as Record<string, string>) };
  return {
    alertname: ev.alertname,
    state: ev.state,
    labels,
    annotations: { ...ev.annotations },
    value: ev.value,
    active_at_ms: ev.activeAtMs,
    event_ms: ev.eventMs,
  };
}
