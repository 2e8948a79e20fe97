import { labelsToRecord, labelsKey, compareLabels, type Labels } from '../../model/labels.js';
import type { Matcher } from '../../model/matcher.js';
import { QueryError, type QueryOptions, type QueryResult } from '../promql/api.js';
import { parseMatchers } from '../promql/engine.js';
import { resultJson } from '../promql/result-json.js';
import { readJob, type ReadJobParams } from '../remote-read/job.js';
import { defineJobs, type JobContext, type JobTable } from './job.js';

/** How a query job answers: `prom-json` is the HTTP API's `data` object as a JSON string. */
export type QueryEncoding = 'result' | 'prom-json';

/** InstantParams are one instant query. */
export interface InstantParams {
  readonly tenant: string;
  readonly expr: string;
  readonly timeMs: number;
  readonly encoding: QueryEncoding;
}

/** RangeParams are one range query. */
export interface RangeParams {
  readonly tenant: string;
  readonly expr: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly stepMs: number;
  readonly encoding: QueryEncoding;
}

/** SelectorParams select series by `match[]` selectors within a time window. */
export interface SelectorParams {
  readonly tenant: string;
  /** Series selectors (`up{job="x"}`); empty means every series (labels/values only). */
  readonly match: readonly string[];
  readonly startMs: number;
  readonly endMs: number;
}

function options(ctx: JobContext): QueryOptions {
  return { deadlineMs: ctx.deadlineMs, maxSamples: ctx.limits.maxSamples, interrupt: () => ctx.checkpoint() };
}

function encode(r: QueryResult, encoding: QueryEncoding): QueryResult | string {
  return encoding === 'prom-json' ? JSON.stringify(resultJson(r)) : r;
}

/** matcherSets parses selectors; each must hold a matcher that does not match the empty string. */
function matcherSets(match: readonly string[]): Matcher[][] {
  if (match.length === 0) return [[]];
  return match.map((s) => {
    const ms = parseMatchers(s);
    if (ms.every((m) => m.matchesEmpty())) throw new QueryError('bad_data', 'match[] must contain at least one non-empty matcher');
    return ms;
  });
}

/**
 * QUERY_JOBS is every query a worker runs. Adding a kind is one entry here (or a `jobs` table in
 * another module named in the pool's `jobModules`); the main thread calls it by name through
 * `QueryRunner.run`.
 */
export const QUERY_JOBS = defineJobs({
  instant(ctx: JobContext, p: InstantParams): QueryResult | string {
    return encode(ctx.engine.instant(ctx.querier, p.tenant, p.expr, p.timeMs, options(ctx)), p.encoding);
  },

  range(ctx: JobContext, p: RangeParams): QueryResult | string {
    return encode(ctx.engine.range(ctx.querier, p.tenant, p.expr, p.startMs, p.endMs, p.stepMs, options(ctx)), p.encoding);
  },

  /** series answers distinct label sets, sorted, as records. */
  series(ctx: JobContext, p: SelectorParams): Array<Record<string, string>> {
    if (p.match.length === 0) throw new QueryError('bad_data', 'no match[] parameter provided');
    const seen = new Map<string, Labels>();
    for (const ms of matcherSets(p.match)) {
      for (const l of ctx.querier.series(p.tenant, ms, p.startMs, p.endMs)) seen.set(labelsKey(l), l);
      ctx.checkpoint();
    }
    return [...seen.values()].sort(compareLabels).map(labelsToRecord);
  },

  labels(ctx: JobContext, p: SelectorParams): string[] {
    const names = new Set<string>();
    for (const ms of matcherSets(p.match)) for (const n of ctx.querier.labelNames(p.tenant, ms, p.startMs, p.endMs)) names.add(n);
    return [...names].sort();
  },

  labelValues(ctx: JobContext, p: SelectorParams & { readonly name: string }): string[] {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(p.name)) throw new QueryError('bad_data', `invalid label name: "${p.name}"`);
    const values = new Set<string>();
    for (const ms of matcherSets(p.match)) for (const v of ctx.querier.labelValues(p.tenant, p.name, ms, p.startMs, p.endMs)) values.add(v);
    return [...values].sort();
  },

  /** metadata answers Prometheus' /api/v1/metadata object, at most `limit` entries. */
  metadata(ctx: JobContext, p: { readonly tenant: string; readonly metric: string; readonly limit: number }): Record<string, Array<{ type: string; help: string; unit: string }>> {
    const out: Record<string, Array<{ type: string; help: string; unit: string }>> = {};
    let n = 0;
    for (const m of ctx.querier.metadata(p.tenant, p.metric || undefined)) {
      if (n >= p.limit) break;
      (out[m.metric] ??= []).push({ type: m.type, help: m.help, unit: m.unit });
      n++;
    }
    return out;
  },

  /** remoteRead answers a decoded-on-main remote read request as response bytes (transferred). */
  remoteRead(ctx: JobContext, p: ReadJobParams): Uint8Array {
    return readJob(ctx, p);
  },
});

/** QueryJobs is the type of the query job table. */
export type QueryJobs = typeof QUERY_JOBS;

/** jobs is the table a query worker loads from this module (see WorkerConfig.jobModules). */
export const jobs: JobTable = QUERY_JOBS;
