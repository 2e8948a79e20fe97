/**
 * MetricKind is how a stored series aggregates per window and how queries read it.
 * - Counter: each window keeps the increment; queries read the cumulative total since creation.
 * - Gauge: each window keeps last, min, max, sum and count; queries read `last`.
 * - Histogram: each window keeps a sparse HDR histogram plus count, sum, min, max; queries read
 *   classic `_bucket{le}`, `_sum`, `_count` series and histogram-valued samples under the bare name.
 */
export const enum MetricKind {
  Counter = 0,
  Gauge = 1,
  Histogram = 2,
}

/** metricKindName is the Prometheus TYPE word for a kind. */
export function metricKindName(kind: MetricKind): 'counter' | 'gauge' | 'histogram' {
  return kind === MetricKind.Counter ? 'counter' : kind === MetricKind.Gauge ? 'gauge' : 'histogram';
}

/** DEFAULT_TENANT is the tenant of data written without authentication. */
export const DEFAULT_TENANT = 'default';
