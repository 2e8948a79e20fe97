import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from './deps.js';

/** healthRoutes answers liveness and readiness (SPEC section 2); never behind auth. */
export async function healthRoutes(app: FastifyInstance, opts: { deps: HttpDeps }): Promise<void> {
  const deps = opts.deps;
  app.get('/health/live', async () => ({ status: 'healthy' }));
  app.get('/health/ready', async (_req, reply) => {
    const now = new Date().toISOString();
    const checks: Record<string, { status: string; response_time_ms: number; last_check: string }> = {};
    let ok = true;
    for (const c of deps.readiness) {
      const t0 = performance.now();
      let healthy = false;
      try {
        healthy = c.check();
      } catch {
        healthy = false;
      }
      ok &&= healthy;
      checks[c.name] = { status: healthy ? 'healthy' : 'unhealthy', response_time_ms: Math.round((performance.now() - t0) * 1000) / 1000, last_check: now };
    }
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'healthy' : 'unhealthy', timestamp: now, checks });
  });
}
