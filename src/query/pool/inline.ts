import type { Querier } from '../../store/interface.js';
import type { QueryEngine } from '../promql/api.js';
import { QueryError } from '../promql/api.js';
import { createEngine } from '../promql/engine.js';
import type { JobLimits, JobTable } from './job.js';
import { QUERY_JOBS } from './jobs.js';
import type { JobOptions, QueryRunner } from './runner.js';
import { runJob } from './run-job.js';

/** InlineRunnerOptions configure an InlineRunner. */
export interface InlineRunnerOptions {
  readonly engine?: QueryEngine;
  readonly limits?: Partial<JobLimits>;
  /** Extra job tables (their kinds override the query jobs'). */
  readonly tables?: readonly JobTable[];
}

/**
 * InlineRunner runs jobs on the calling thread against a given querier, with the same deadline,
 * cancellation and limit checks as a worker. It is for code that has no store directory of its
 * own (unit tests with an in-memory querier, embedding); the daemon uses QueryPool.
 */
export class InlineRunner implements QueryRunner {
  private readonly table: JobTable;
  private readonly engine: QueryEngine;
  private readonly limits: JobLimits;

  constructor(private readonly querier: () => Querier, opts: InlineRunnerOptions = {}) {
    this.table = Object.assign({}, QUERY_JOBS, ...(opts.tables ?? [])) as JobTable;
    this.engine = opts.engine ?? createEngine();
    this.limits = { maxSamples: opts.limits?.maxSamples ?? 50_000_000, maxSeries: opts.limits?.maxSeries ?? Infinity };
  }

  run: QueryRunner['run'] = (kind, params, opts) => this.runKind(kind, params, opts) as never;

  async runKind(kind: string, params: unknown, opts: JobOptions): Promise<unknown> {
    const signal = opts.signal;
    if (signal?.aborted) throw new QueryError('canceled', 'query was canceled: the client went away');
    return runJob(this.table, this.engine, this.querier(), kind, params, opts.deadlineMs, this.limits, () => signal?.aborted === true);
  }
}
