import type { FastifyInstance } from 'fastify';
import { selfRegistry } from '../../self/registry.js';
import type { HttpDeps } from './deps.js';
import { OPENMETRICS_TYPE, toOpenMetrics } from './openmetrics.js';
import { principalOf } from './auth.js';
import { DEFAULT_TENANT } from '../../model/metric-kind.js';

const TEXT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * metricsRoutes serves GET /metrics: the caller's tenant's live series, then tallyd's own
 * metrics (`tallyd_*`, process-wide, so only for admin tokens and the default tenant), as
 * Prometheus text or, when the scraper asks for it, OpenMetrics.
 */
export async function metricsRoutes(app: FastifyInstance, opts: { deps: HttpDeps }): Promise<void> {
  const deps = opts.deps;
  app.get('/metrics', async (req, reply) => {
    const who = principalOf(req);
    const withSelf = who.admin || who.tenant === DEFAULT_TENANT;
    const [series, self] = await Promise.all([deps.exposition(who.tenant), withSelf ? selfRegistry.metrics() : Promise.resolve('')]);
    let body = series;
    if (body.length && !body.endsWith('\n')) body += '\n';
    body += self;
    if (String(req.headers.accept ?? '').includes('application/openmetrics-text')) {
      return reply.header('content-type', OPENMETRICS_TYPE).send(toOpenMetrics(body));
    }
    return reply.header('content-type', TEXT_TYPE).send(body);
  });
}
