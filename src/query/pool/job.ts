import type { Querier } from '../../store/interface.js';
import type { QueryEngine } from '../promql/api.js';

/** JobLimits bound one job; the worker enforces them. */
export interface JobLimits {
  /** Most samples one query may hold at once (`limits.query_max_samples`). */
  readonly maxSamples: number;
  /** Most series one query may select (`limits.query_max_series`). */
  readonly maxSeries: number;
}

/** JobContext is what a job runs with on a query worker. */
export interface JobContext {
  /** The worker's querier, guarded: it checks deadline and cancellation and counts series. */
  readonly querier: Querier;
  readonly engine: QueryEngine;
  /** Absolute deadline (Date.now() ms). */
  readonly deadlineMs: number;
  readonly limits: JobLimits;
  /**
   * checkpoint throws QueryError('timeout') past the deadline or QueryError('canceled') once the
   * client went away; long loops of a job call it (the engine and the querier already do).
   */
  checkpoint(): void;
}

/**
 * JobFn is one kind of job: params in, a structured-clonable result out. A Uint8Array result is
 * transferred to the main thread, not copied. Failures are thrown as QueryError.
 */
export type JobFn<P = never, R = unknown> = (ctx: JobContext, params: P) => R;

/** JobTable names job kinds; a module that adds kinds exports one as `jobs`. */
export type JobTable = Readonly<Record<string, JobFn<never, unknown>>>;

/** defineJobs keeps a table's exact types while checking that every entry is a JobFn. */
export function defineJobs<T extends { readonly [K in keyof T]: JobFn<never, unknown> }>(t: T): T {
  return t;
}
