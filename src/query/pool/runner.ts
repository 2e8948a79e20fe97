import type { QueryJobs } from './jobs.js';

/** Lane is a job's priority class: interactive queries, or rule evaluations. */
export type Lane = 'interactive' | 'rules';

/** JobOptions bound one job run. */
export interface JobOptions {
  /** Absolute deadline (Date.now() ms): queued or running past it answers QueryError('timeout'). */
  readonly deadlineMs: number;
  /** Aborting (the client went away) drops a queued job or stops a running one: QueryError('canceled'). */
  readonly signal?: AbortSignal;
  /** Default 'interactive'. */
  readonly lane?: Lane;
}

type ParamsOf<F> = F extends (ctx: never, params: infer P) => unknown ? P : never;
type ResultOf<F> = F extends (...a: never[]) => infer R ? R : never;

/**
 * QueryRunner runs query jobs by kind off the calling thread. Failures reject with QueryError:
 * 'timeout' past the deadline, 'canceled' when the signal aborted, 'unavailable' when the queue
 * is full (at once), and whatever the job threw ('bad_data', 'execution', ...).
 */
export interface QueryRunner {
  run<K extends keyof QueryJobs & string>(kind: K, params: ParamsOf<QueryJobs[K]>, opts: JobOptions): Promise<ResultOf<QueryJobs[K]>>;
  /** runKind runs a kind another module's table added (e.g. `analytics.costs`). */
  runKind(kind: string, params: unknown, opts: JobOptions): Promise<unknown>;
}
