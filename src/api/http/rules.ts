import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from './deps.js';
import { sendError } from './errors.js';
import { tenantOf } from './auth.js';
import { DEFAULT_TENANT } from '../../model/metric-kind.js';

/**
 * rulesRoutes: /api/v1/rules, /api/v1/alerts and POST /-/reload. Rules evaluate in the default
 * tenant (over its series only), so only callers of that tenant see them; others get none.
 */
export async function rulesRoutes(app: FastifyInstance, opts: { deps: HttpDeps }): Promise<void> {
  const rules = opts.deps.rules;
  app.get('/api/v1/rules', async (req) => ({ status: 'success', data: rules && tenantOf(req) === DEFAULT_TENANT ? rules.rulesData() : { groups: [] } }));
  app.get('/api/v1/alerts', async (req) => ({ status: 'success', data: rules && tenantOf(req) === DEFAULT_TENANT ? rules.alertsData() : { alerts: [] } }));
  app.post('/-/reload', async (_req, reply) => {
    if (!rules) return reply.send('');
    try {
      const r = await rules.reload();
      if (!r.ok) return reply.code(500).send({ status: 'error', errorType: 'bad_data', error: 'failed to reload rules', errors: r.errors });
      return reply.send('');
    } catch (err) {
      return sendError(reply, err);
    }
  });
}
