import { defineJobs, type JobContext, type JobTable } from '../query/pool/job.js';
import type { JobOptions, QueryRunner } from '../query/pool/runner.js';
import { costsAnalytics, type CostsData, type CostsParams } from './analytics-costs.js';
import { usageAnalytics, type UsageData, type UsageParams } from './analytics-usage.js';
import { buildDayDigest, buildHourDigest } from './day-digest-build.js';
import type { DayDigestData, Span } from './day-digest.js';
import type { DimensionMap } from './dimensions.js';

/** DayDigestJobParams ask a query worker for one tenant's digest of one UTC day (or hour). */
export interface DayDigestJobParams {
  readonly tenant: string;
  /** The start of the day (or hour). */
  readonly dayMs: number;
  /** What the digest covers (a day when absent). */
  readonly span?: Span;
  readonly dimensions: DimensionMap;
}

/** AnalyticsJobParams are one analytics request for one tenant, as sent to a query worker. */
export interface AnalyticsJobParams<P> {
  readonly tenant: string;
  readonly params: P;
}

/**
 * COST_JOBS are the analytics a query worker runs (SPEC section 5, Evaluation: analytics run on
 * query workers, never on the thread that receives ingest). The HTTP routes and the gRPC `Costs`
 * RPC call them by name, so both answer the same figures.
 */
export const COST_JOBS = defineJobs({
  'analytics.costs'(ctx: JobContext, p: AnalyticsJobParams<CostsParams>): CostsData {
    return costsAnalytics(ctx.querier, p.tenant, p.params);
  },
  'analytics.usage'(ctx: JobContext, p: AnalyticsJobParams<UsageParams>): UsageData {
    return usageAnalytics(ctx.querier, p.tenant, p.params);
  },
  /** A day (or hour) digest is read from the series on a worker; the main thread only stores it. */
  'analytics.day-digest'(ctx: JobContext, p: DayDigestJobParams): DayDigestData {
    if (p.span === 'hour') return buildHourDigest(ctx.querier, p.tenant, p.dayMs, p.dimensions);
    return buildDayDigest(ctx.querier, p.tenant, p.dayMs, p.dimensions);
  },
});

/** jobs is the table a query worker loads from this module (QueryPool `jobModules`). */
export const jobs: JobTable = COST_JOBS;

/** COST_JOB_MODULE is this module's URL, for the pool's `jobModules`. */
export const COST_JOB_MODULE = new URL('./jobs.js', import.meta.url).href;

/** runCosts runs `analytics.costs` on a query worker. */
export function runCosts(queries: QueryRunner, p: AnalyticsJobParams<CostsParams>, opts: JobOptions): Promise<CostsData> {
  return queries.runKind('analytics.costs', p, opts) as Promise<CostsData>;
}

/** runUsage runs `analytics.usage` on a query worker. */
export function runUsage(queries: QueryRunner, p: AnalyticsJobParams<UsageParams>, opts: JobOptions): Promise<UsageData> {
  return queries.runKind('analytics.usage', p, opts) as Promise<UsageData>;
}

/** runDayDigest builds one day (or hour) digest on a query worker. */
export function runDayDigest(queries: QueryRunner, p: DayDigestJobParams, opts: JobOptions): Promise<DayDigestData> {
  return queries.runKind('analytics.day-digest', p, opts) as Promise<DayDigestData>;
}
