import type { Matcher } from '../../model/matcher.js';
import { compareLabels } from '../../model/labels.js';
import type { Querier } from '../../store/interface.js';
import { QueryError, type QueryEngine, type QueryOptions, type QueryResult, type RangeSeries, type Sample } from './api.js';
import { unwrapParens, type Expr } from './ast.js';
import { Evaluator, type EvalContext, type Value } from './eval.js';
import { FUNCTIONS } from './functions.js';
import { checkRangeQueryType, parseExpr } from './parse.js';

/** EngineOptions tune an engine; every field has Prometheus' default. */
export interface EngineOptions {
  /** Step of subqueries written without one (`x[1h:]`); Prometheus' evaluation_interval, 1 m. */
  readonly defaultSubqueryStepMs?: number;
  /** Default lookback delta when a query does not set one: 5 m. */
  readonly lookbackMs?: number;
  /** Default samples limit when a query does not set one: 50,000,000. */
  readonly maxSamples?: number;
  /** Most range-query steps, as Prometheus' 11,000 point limit. */
  readonly maxSteps?: number;
}

const DEFAULT_LOOKBACK_MS = 5 * 60 * 1000;
const DEFAULT_MAX_SAMPLES = 50_000_000;

/** keepsOrder says whether an instant result keeps evaluation order (sort*, topk/bottomk). */
function keepsOrder(e: Expr): boolean {
  const u = unwrapParens(e);
  if (u.kind === 'call') return FUNCTIONS.get(u.name)?.keepsOrder === true;
  if (u.kind === 'aggregate') return u.op === 'topk' || u.op === 'bottomk';
  return false;
}

/** createEngine returns a PromQL engine; it is stateless between queries and safe to share. */
export function createEngine(engineOpts: EngineOptions = {}): QueryEngine {
  const defaultStep = engineOpts.defaultSubqueryStepMs ?? 60_000;
  const maxSteps = engineOpts.maxSteps ?? 11_000;

  function context(querier: Querier, tenant: string, startMs: number, endMs: number, opts: QueryOptions | undefined): EvalContext {
    return {
      querier,
      tenant,
      lookbackMs: opts?.lookbackMs ?? engineOpts.lookbackMs ?? DEFAULT_LOOKBACK_MS,
      deadlineMs: opts?.deadlineMs ?? Infinity,
      maxSamples: opts?.maxSamples ?? engineOpts.maxSamples ?? DEFAULT_MAX_SAMPLES,
      queryStartMs: startMs,
      queryEndMs: endMs,
      defaultSubqueryStepMs: defaultStep,
      samples: 0,
      ticks: 0,
      interrupt: opts?.interrupt ?? null,
    };
  }

  function checkDeadline(ctx: EvalContext): void {
    if (Date.now() > ctx.deadlineMs) throw new QueryError('timeout', 'query timed out in expression evaluation');
    ctx.interrupt?.();
  }

  function wrap<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof QueryError) throw e;
      if (e instanceof RangeError) throw new QueryError('execution', `query processing would load too many samples into memory in query execution`);
      throw new QueryError('internal', (e as Error).message);
    }
  }

  return {
    parseCheck(expr: string): void {
      parseExpr(expr);
    },

    instant(querier, tenant, exprStr, timeMs, opts): QueryResult {
      const expr = parseExpr(exprStr);
      return wrap(() => {
        const ctx = context(querier, tenant, timeMs, timeMs, opts);
        checkDeadline(ctx);
        const ev = new Evaluator(ctx, timeMs, timeMs, 1, 0);
        const v: Value = ev.eval(expr);
        switch (v.kind) {
          case 'scalar':
            return { type: 'scalar', t: timeMs, v: v.vs[0]! };
          case 'string':
            return { type: 'string', t: timeMs, v: v.value };
          case 'matrix': {
            const series: RangeSeries[] = v.series.map((d) => {
              const hs = d.hist;
              const timestamps = Array.from(d.t);
              return {
                labels: d.labels,
                timestamps,
                values: hs === null ? Array.from(d.v) : timestamps.map(() => 0),
                histograms: hs === null ? null : timestamps.map((_, i) => hs.at(i)),
              };
            });
            series.sort((a, b) => compareLabels(a.labels, b.labels));
            return { type: 'matrix', series };
          }
          case 'vector': {
            const samples: Sample[] = v.series.map((s) => ({ labels: s.labels, t: timeMs, v: s.h(0) === null ? s.vs[0]! : 0, h: s.h(0) }));
            if (!keepsOrder(expr)) samples.sort((a, b) => compareLabels(a.labels, b.labels));
            return { type: 'vector', samples };
          }
        }
      });
    },

    range(querier, tenant, exprStr, startMs, endMs, stepMs, opts): QueryResult {
      const expr = parseExpr(exprStr);
      checkRangeQueryType(expr);
      if (!(stepMs > 0)) throw new QueryError('bad_data', 'zero or negative query resolution step widths are not accepted. Try a positive integer');
      if (endMs < startMs) throw new QueryError('bad_data', 'end timestamp must not be before start time');
      if ((endMs - startMs) / stepMs > maxSteps) {
        throw new QueryError('bad_data', 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)');
      }
      return wrap(() => {
        const ctx = context(querier, tenant, startMs, endMs, opts);
        checkDeadline(ctx);
        const ev = new Evaluator(ctx, startMs, endMs, stepMs, stepMs);
        const v = ev.eval(expr);
        const series: RangeSeries[] = [];
        if (v.kind === 'scalar') {
          const timestamps: number[] = [], values: number[] = [];
          for (let i = 0; i < ev.steps; i++) {
            timestamps.push(ev.ts(i));
            values.push(v.vs[i]!);
          }
          series.push({ labels: [], timestamps, values, histograms: null });
        } else if (v.kind === 'vector') {
          for (const s of v.series) {
            const timestamps: number[] = [], values: number[] = [];
            const histograms: Array<ReturnType<typeof s.h>> | null = s.hs === null ? null : [];
            for (let i = 0; i < ev.steps; i++) {
              if (s.present[i] === 0) continue;
              timestamps.push(ev.ts(i));
              const h = s.h(i);
              values.push(h === null ? s.vs[i]! : 0);
              if (histograms !== null) histograms.push(h);
            }
            if (timestamps.length > 0) series.push({ labels: s.labels, timestamps, values, histograms });
          }
          series.sort((a, b) => compareLabels(a.labels, b.labels));
        }
        return { type: 'matrix', series };
      });
    },
  };
}

/**
 * parseMatchers parses one series selector (`up{job="x"}`, a `match[]` parameter) into matchers,
 * the metric name included as a `__name__` matcher; anything else is QueryError('bad_data').
 */
export function parseMatchers(selector: string): Matcher[] {
  const e = parseExpr(selector);
  if (e.kind !== 'vector' || e.offsetMs !== 0 || e.at !== null) {
    throw new QueryError('bad_data', `1:1: parse error: expected a series selector, got ${JSON.stringify(selector)}`);
  }
  return [...e.matchers];
}
