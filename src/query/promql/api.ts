import type { Labels } from '../../model/labels.js';
import type { SparseHistogram } from '../../model/hdr.js';
import type { Querier } from '../../store/interface.js';

/** Sample is one instant-vector element: a float (`h` null) or a histogram value. */
export interface Sample {
  readonly labels: Labels;
  readonly t: number;
  readonly v: number;
  readonly h: SparseHistogram | null;
}

/** RangeSeries is one matrix element; `histograms[i]` is null where point i is a float. */
export interface RangeSeries {
  readonly labels: Labels;
  readonly timestamps: number[];
  readonly values: number[];
  readonly histograms: Array<SparseHistogram | null> | null;
}

/** QueryResult is an evaluated expression, shaped like Prometheus' result types. */
export type QueryResult =
  | { readonly type: 'vector'; readonly samples: Sample[] }
  | { readonly type: 'matrix'; readonly series: RangeSeries[] }
  | { readonly type: 'scalar'; readonly t: number; readonly v: number }
  | { readonly type: 'string'; readonly t: number; readonly v: string };

/** QueryErrorType follows Prometheus' errorType strings; the HTTP layer maps them to statuses. */
export type QueryErrorType = 'bad_data' | 'execution' | 'timeout' | 'canceled' | 'internal' | 'unavailable';

/** QueryError is every failure the engine reports; `message` is Prometheus-style. */
export class QueryError extends Error {
  readonly type: QueryErrorType;
  constructor(type: QueryErrorType, message: string) {
    super(message);
    this.type = type;
    this.name = 'QueryError';
  }
}

/** QueryOptions bound one evaluation. */
export interface QueryOptions {
  /** Absolute deadline (Date.now() ms); past it the engine throws QueryError('timeout'). */
  readonly deadlineMs?: number;
  /** Most samples the evaluation may hold at once (Prometheus' --query.max-samples). */
  readonly maxSamples?: number;
  /** Lookback delta, default 5 m. */
  readonly lookbackMs?: number;
  /**
   * interrupt is called every few hundred evaluation steps; it throws (a QueryError) to stop the
   * evaluation, e.g. when the client went away. The deadline is checked at the same points.
   */
  readonly interrupt?: () => void;
}

/**
 * QueryEngine evaluates PromQL over a Querier for one tenant. Times are unix ms.
 * `instant` may return any result type; `range` always returns a matrix (Prometheus rejects
 * scalar/string expressions in range queries only for strings).
 */
export interface QueryEngine {
  instant(querier: Querier, tenant: string, expr: string, timeMs: number, opts?: QueryOptions): QueryResult;
  range(querier: Querier, tenant: string, expr: string, startMs: number, endMs: number, stepMs: number, opts?: QueryOptions): QueryResult;
  /** parseCheck throws QueryError('bad_data') when expr does not parse or type-check. */
  parseCheck(expr: string): void;
}

/** QueryFunc is what rules and analytics depend on: an instant query for one tenant. */
export type QueryFunc = (expr: string, timeMs: number) => Promise<Sample[]>;
