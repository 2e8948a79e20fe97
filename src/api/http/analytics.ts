import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AnalyticsParamError, parseRange, parseTime, type RawAnalyticsQuery } from '../../cost/analytics-params.js';
import { costsAnalytics } from '../../cost/analytics-costs.js';
import { usageAnalytics } from '../../cost/analytics-usage.js';
import type { DimensionMap } from '../../cost/dimensions.js';
import { listReprices, reprice, type RepriceDeps } from '../../cost/reprice.js';
import type { HttpDeps } from './deps.js';
import { ApiError, sendError } from './errors.js';
import { Params } from './params.js';

/** AnalyticsRouteOptions are what the analytics and re-price routes need, as narrow functions. */
export interface AnalyticsRouteOptions {
  /** deps: the shared HTTP deps (buildHttpServer passes them); querier, tenantOf and flush come from there. */
  readonly deps: Pick<HttpDeps, 'querier' | 'tenantOf' | 'flush'>;
  readonly dimensions: () => DimensionMap;
  /** repriceDeps gives the store access and the price table in force (the last SIGHUP's). */
  readonly repriceDeps: () => Omit<RepriceDeps, 'nowMs'>;
  readonly now?: () => number;
}

/**
 * analyticsRoutes serves SPEC section 7: `GET /api/v1/analytics/costs`, `GET /api/v1/analytics/usage`,
 * `POST /api/v1/admin/reprice` and `GET /api/v1/admin/reprices`. The figures come from the pure
 * functions in src/cost/analytics-*.ts; this file only parses, picks the tenant and answers.
 */
export async function analyticsRoutes(app: FastifyInstance, opts: AnalyticsRouteOptions): Promise<void> {
  const deps = opts.deps;
  const now = opts.now ?? Date.now;
  const raw = (req: FastifyRequest): RawAnalyticsQuery => {
    const p = new Params(req);
    const opt = (n: string) => (p.has(n) ? p.get(n) : undefined);
    return { period: opt('period'), from: opt('from'), to: opt('to'), step: opt('step'), group_by: p.all('group_by') };
  };
  app.get('/api/v1/analytics/costs', async (req, reply) => {
    try {
      const nowMs = now();
      const range = parseRange(raw(req), nowMs);
      const data = costsAnalytics(deps.querier(), deps.tenantOf(req), { ...range, nowMs });
      return reply.send({ status: 'success', data });
    } catch (err) {
      return sendError(reply, badData(err));
    }
  });
  app.get('/api/v1/analytics/usage', async (req, reply) => {
    try {
      const range = parseRange(raw(req), now());
      const data = usageAnalytics(deps.querier(), deps.tenantOf(req), { ...range, stepMs: 0, dimensions: opts.dimensions() });
      return reply.send({ status: 'success', data });
    } catch (err) {
      return sendError(reply, badData(err));
    }
  });
  app.post('/api/v1/admin/reprice', async (req, reply) => {
    try {
      const p = new Params(req);
      if (!p.get('from') || !p.get('to')) throw new ApiError('bad_data', 'reprice needs "from" and "to" (RFC 3339 or unix seconds)');
      const fromMs = parseTime(p.get('from'), 'from');
      const toMs = parseTime(p.get('to'), 'to');
      if (!(toMs > fromMs)) throw new ApiError('bad_data', '"to" must be after "from"');
      const dry = ['1', 'true', 'yes'].includes(p.get('dry_run').toLowerCase());
      await deps.flush();
      const data = await reprice({ ...opts.repriceDeps(), nowMs: now() }, deps.tenantOf(req), fromMs, toMs, dry);
      return reply.send({ status: 'success', data });
    } catch (err) {
      return sendError(reply, badData(err));
    }
  });
  app.get('/api/v1/admin/reprices', async (req, reply) => {
    try {
      const tenant = deps.tenantOf(req);
      return reply.send({ status: 'success', data: listReprices(opts.repriceDeps().state).filter((r) => r.tenant === tenant) });
    } catch (err) {
      return sendError(reply, err);
    }
  });
}

function badData(err: unknown): unknown {
  return err instanceof AnalyticsParamError ? new ApiError('bad_data', err.message) : err;
}
