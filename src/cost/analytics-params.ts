import { parseDuration } from '../config/duration.js';
import { isDimension, type Dimension } from './dimensions.js';

/**
 * analytics-params.ts parses the query parameters of `/api/v1/analytics/costs` and `/usage`
 * (SPEC section 7) into plain objects a query worker can take.
 */

/** AnalyticsParamError is a bad parameter; the HTTP layer answers 400 bad_data, gRPC INVALID_ARGUMENT. */
export class AnalyticsParamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AnalyticsParamError';
  }
}

/** RangeParams is a resolved analytics range. */
export interface RangeParams {
  readonly fromMs: number;
  readonly toMs: number;
  readonly groupBy: readonly Dimension[];
  /** Trend resolution in ms; 0 = no trend. */
  readonly stepMs: number;
}

/** RawAnalyticsQuery is what a caller gives, all optional text (HTTP query) or numbers (gRPC). */
export interface RawAnalyticsQuery {
  readonly period?: string;
  readonly from?: string;
  readonly to?: string;
  readonly group_by?: string | readonly string[];
  readonly step?: string;
}

/** DEFAULT_PERIOD_MS is the range when neither period nor from/to is given: 30 days. */
export const DEFAULT_PERIOD_MS = 30 * 86_400_000;
/** MAX_TREND_POINTS bounds a trend, as Prometheus bounds a range query's resolution. */
export const MAX_TREND_POINTS = 11_000;

/** parseTime reads RFC 3339 or unix seconds (fractions allowed) into ms. */
export function parseTime(text: string, name: string): number {
  const s = text.trim();
  if (/^-?\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  if (/^\d{4}-\d{2}-\d{2}(T|$)/.test(s)) {
    const ms = Date.parse(s);
    if (Number.isFinite(ms)) return ms;
  }
  throw new AnalyticsParamError(`invalid parameter "${name}": ${JSON.stringify(text)} is neither an RFC 3339 time nor unix seconds`);
}

/**
 * parseRange resolves period/from/to/group_by/step. `period` is a duration ending at `to` (or
 * now); `from` and `to` override it. Errors name the parameter and what is allowed.
 */
export function parseRange(q: RawAnalyticsQuery, nowMs: number): RangeParams {
  let toMs = nowMs;
  if (q.to !== undefined && q.to !== '') toMs = parseTime(q.to, 'to');
  let fromMs: number;
  if (q.from !== undefined && q.from !== '') {
    fromMs = parseTime(q.from, 'from');
  } else {
    let period = DEFAULT_PERIOD_MS;
    if (q.period !== undefined && q.period !== '') {
      const p = parseDuration(q.period);
      if (p === null || p <= 0) throw new AnalyticsParamError(`invalid parameter "period": ${JSON.stringify(q.period)}; expected a duration such as 7d or 30d`);
      period = p;
    }
    fromMs = toMs - period;
  }
  if (!(toMs > fromMs)) throw new AnalyticsParamError(`invalid range: "to" (${new Date(toMs).toISOString()}) must be after "from" (${new Date(fromMs).toISOString()})`);
  const groupBy = parseGroupBy(q.group_by);
  let stepMs = 0;
  if (q.step !== undefined && q.step !== '') {
    const s = parseDuration(q.step) ?? (/^\d+(\.\d+)?$/.test(q.step) ? Number(q.step) * 1000 : null);
    if (s === null || !(s > 0)) throw new AnalyticsParamError(`invalid parameter "step": ${JSON.stringify(q.step)}; expected a positive duration such as 1h or 1d`);
    if ((toMs - fromMs) / s > MAX_TREND_POINTS) throw new AnalyticsParamError(`invalid parameter "step": ${q.step} gives more than ${MAX_TREND_POINTS} points over the range; use a larger step`);
    stepMs = s;
  }
  return { fromMs, toMs, groupBy, stepMs };
}

/** parseGroupBy reads `agent,model` (or repeated values) into validated dimensions. */
export function parseGroupBy(v: string | readonly string[] | undefined): Dimension[] {
  if (v === undefined) return [];
  const parts = (typeof v === 'string' ? [v] : v).flatMap((x) => x.split(',')).map((x) => x.trim()).filter((x) => x !== '');
  const out: Dimension[] = [];
  for (const p of parts) {
    if (!isDimension(p)) throw new AnalyticsParamError(`invalid parameter "group_by": unknown dimension ${JSON.stringify(p)}; allowed: agent, tenant, user, model, provider, tool, mcp_server`);
    if (!out.includes(p)) out.push(p);
  }
  return out;
}
