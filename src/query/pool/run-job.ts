import type { Querier } from '../../store/interface.js';
import { QueryError, type QueryEngine } from '../promql/api.js';
import { guardQuerier } from './guard.js';
import type { JobContext, JobFn, JobLimits, JobTable } from './job.js';
import type { WireError } from './protocol.js';

/**
 * runJob runs one job of a table against a querier with the deadline, the cancellation check
 * and the limits applied, the same way on a worker and inline (tests, embedding).
 */
export function runJob(
  table: JobTable, engine: QueryEngine, querier: Querier, kind: string, params: unknown,
  deadlineMs: number, limits: JobLimits, cancelled: () => boolean,
): unknown {
  const fn = Object.prototype.hasOwnProperty.call(table, kind) ? (table[kind] as JobFn<unknown, unknown>) : undefined;
  if (fn === undefined) throw new QueryError('internal', `unknown query job kind ${JSON.stringify(kind)}`);
  const checkpoint = (): void => {
    if (cancelled()) throw new QueryError('canceled', 'query was canceled: the client went away');
    if (Date.now() > deadlineMs) throw new QueryError('timeout', 'query timed out in expression evaluation');
  };
  checkpoint();
  const ctx: JobContext = { querier: guardQuerier(querier, checkpoint, limits.maxSeries), engine, deadlineMs, limits, checkpoint };
  return fn(ctx, params);
}

/** toWireError turns anything a job threw into a QueryError's type and message. */
export function toWireError(err: unknown): WireError {
  if (err instanceof QueryError) return { type: err.type, message: err.message };
  if (err instanceof RangeError) return { type: 'execution', message: 'query processing would load too many samples into memory in query execution' };
  return { type: 'internal', message: err instanceof Error ? err.message : String(err) };
}
