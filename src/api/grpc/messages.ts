/**
 * The tallyd.v1 messages as the handlers see them (proto-loader with keepCase and numeric longs:
 * snake_case fields, int64 as number, maps as plain objects). proto/tallyd/v1/query.proto is the
 * source of truth; these mirror it field for field.
 */

/** SampleMsg is tallyd.v1.Sample. */
export interface SampleMsg {
  timestamp_ms: number;
  value: number;
}

/** SeriesMsg is tallyd.v1.Series. */
export interface SeriesMsg {
  labels: Record<string, string>;
  samples: SampleMsg[];
}

/** QueryRequest is tallyd.v1.QueryRequest. */
export interface QueryRequest {
  expr: string;
  time_ms: number;
}

/** QueryRangeRequest is tallyd.v1.QueryRangeRequest. */
export interface QueryRangeRequest {
  expr: string;
  start_ms: number;
  end_ms: number;
  step_ms: number;
}

/** QueryResponse is tallyd.v1.QueryResponse. */
export interface QueryResponse {
  result_type: 'vector' | 'matrix' | 'scalar';
  series: SeriesMsg[];
}

/** SeriesRequest is tallyd.v1.SeriesRequest. */
export interface SeriesRequest {
  match: string[];
  start_ms: number;
  end_ms: number;
}

/** SeriesResponse is tallyd.v1.SeriesResponse. */
export interface SeriesResponse {
  series: SeriesMsg[];
}

/** LabelValuesRequest is tallyd.v1.LabelValuesRequest. */
export interface LabelValuesRequest {
  name: string;
  match: string[];
}

/** LabelValuesResponse is tallyd.v1.LabelValuesResponse. */
export interface LabelValuesResponse {
  values: string[];
}

/** CostsRequest is tallyd.v1.CostsRequest. */
export interface CostsRequest {
  period: string;
  from_ms: number;
  to_ms: number;
  group_by: string[];
  step_ms: number;
}

/** CostGroup is tallyd.v1.CostGroup. */
export interface CostGroup {
  labels: Record<string, string>;
  cost_usd: number;
  input_tokens: number;
  output_tokens: number;
  calls: number;
  trend?: SampleMsg[];
  cache_read_tokens?: number;
  cache_write_tokens?: number;
  reasoning_tokens?: number;
  unpriced_tokens?: number;
  reported_cost_usd?: number;
  forecast_cost_usd?: number;
}

/** CostsResponse is tallyd.v1.CostsResponse. */
export interface CostsResponse {
  currency: string;
  total_cost_usd: number;
  groups: CostGroup[];
}

/** AlertEventMsg is tallyd.v1.AlertEvent. */
export interface AlertEventMsg {
  alertname: string;
  state: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  value: number;
  active_at_ms: number;
  event_ms: number;
}

/** WatchAlertsRequest is tallyd.v1.WatchAlertsRequest (no fields yet). */
export type WatchAlertsRequest = Record<string, never>;
