import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from './deps.js';
import { sendError } from './errors.js';
import { tenantOf } from './auth.js';

/**
 * rulesRoutes: /api/v1/rules, /api/v1/alerts and POST /-/reload. Each tenant's rules evaluate
 * over its own series (`--rules` for the default tenant, `tenant_rules` for others), so a caller
 * sees only its tenant's rules and alerts (an admin picks the tenant with X-Scope-OrgID). A reload
 * re-reads every tenant's files.
 */
export async function rulesRoutes(app: FastifyInstance, opts: { deps: HttpDeps }): Promise<void> {
  const rules = opts.deps.rules;
  app.get('/api/v1/rules', async (req) => ({ status: 'success', data: rules ? rules.rulesData(tenantOf(req)) : { groups: [] } }));
  app.get('/api/v1/alerts', async (req) => ({ status: 'success', data: rules ? rules.alertsData(tenantOf(req)) : { alerts: [] } }));
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
