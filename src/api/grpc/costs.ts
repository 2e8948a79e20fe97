import * as grpc from '@grpc/grpc-js';
import { AnalyticsParamError, parseRange } from '../../cost/analytics-params.js';
import { costsAnalytics } from '../../cost/analytics-costs.js';
import type { Querier } from '../../store/interface.js';
import type { CostsRequest, CostsResponse } from './messages.js';
import { GrpcError } from './status.js';

/**
 * grpcCosts answers `tallyd.v1.QueryService/Costs` with the same function, and so the same figures,
 * as `GET /api/v1/analytics/costs`. Bad parameters are INVALID_ARGUMENT.
 */
export function grpcCosts(querier: () => Querier, now: () => number = Date.now): (req: CostsRequest, tenant: string) => Promise<CostsResponse> {
  return async (req, tenant) => {
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
    const d = costsAnalytics(querier(), tenant, { ...range, nowMs });
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
      })),
    };
  };
}
