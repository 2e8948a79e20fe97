import * as grpc from '@grpc/grpc-js';
import { AnalyticsParamError, parseRange } from '../../cost/analytics-params.js';
import { runCosts } from '../../cost/jobs.js';
import type { JobOptions, QueryRunner } from '../../query/pool/runner.js';
import type { CostsRequest, CostsResponse } from './messages.js';
import { GrpcError } from './status.js';

/**
 * grpcCosts answers `tallyd.v1.QueryService/Costs` with the same function, and so the same figures,
 * as `GET /api/v1/analytics/costs`. Bad parameters are INVALID_ARGUMENT.
 */
export function grpcCosts(queries: QueryRunner, now: () => number = Date.now): (req: CostsRequest, tenant: string, opts: JobOptions) => Promise<CostsResponse> {
  return async (req, tenant, opts) => {
    const nowMs = now();
    let range;
    try {
      range = parseRange({
        period: req.period || undefined,
        from: req.from_ms ? String(req.from_ms / 1000) : undefined,
        to: req.to_ms ? String(req.to_ms / 1000) : undefined,
        group_by: req.group_by ?? [],
        step: req.step_ms > 0 ? `${req.step_ms}ms` : undefined,
      }, nowMs);
    } catch (err) {
      if (err instanceof AnalyticsParamError) throw new GrpcError(grpc.status.INVALID_ARGUMENT, err.message);
      throw err;
    }
    const d = await runCosts(queries, { tenant, params: { ...range, nowMs } }, opts);
    return {
      currency: d.currency,
      total_cost_usd: d.total_cost_usd,
      groups: d.groups.map((g) => ({
        labels: g.labels,
        cost_usd: g.cost_usd,
        input_tokens: g.input_tokens,
        output_tokens: g.output_tokens,
        calls: g.calls,
        trend: (g.trend ?? []).map(([s, v]) => ({ timestamp_ms: Math.round(s * 1000), value: v })),
        cache_read_tokens: g.cache_read_tokens,
        cache_write_tokens: g.cache_write_tokens,
        reasoning_tokens: g.reasoning_tokens,
        unpriced_tokens: g.unpriced_tokens,
        reported_cost_usd: g.reported_cost_usd,
        ...(g.forecast_cost_usd !== undefined ? { forecast_cost_usd: g.forecast_cost_usd } : {}),
      })),
    };
  };
}
