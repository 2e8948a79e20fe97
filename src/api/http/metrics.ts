import type { FastifyInstance } from 'fastify';
import { selfRegistry } from '../../self/registry.js';
import type { HttpDeps } from './deps.js';

const TEXT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** metricsRoutes serves GET /metrics: every live series, then tallyd's own metrics. */
export async function metricsRoutes(app: FastifyInstance, opts: { deps: HttpDeps }): Promise<void> {
  const deps = opts.deps;
  app.get('/metrics', async (_req, reply) => {
    const [series, self] = await Promise.all([deps.exposition(), selfRegistry.metrics()]);
    let body = series;
    if (body.length && !body.endsWith('\n')) body += '\n';
    body += self;
    return reply.header('content-type', TEXT_TYPE).send(body);
  });
}
