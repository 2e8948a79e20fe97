import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from './deps.js';
import { sendError } from './errors.js';

/** adminRoutes: flush, compact and TSDB status (SPEC section 2). */
export async function adminRoutes(app: FastifyInstance, opts: { deps: HttpDeps }): Promise<void> {
  const deps = opts.deps;
  app.post('/api/v1/admin/flush', async (_req, reply) => {
    try {
      const t0 = performance.now();
      await deps.flush();
      return reply.send({ status: 'success', data: { flushed: true, duration_ms: Math.round(performance.now() - t0) } });
    } catch (err) {
      return sendError(reply, err);
    }
  });
  app.post('/api/v1/admin/compact', async (_req, reply) => {
    try {
      const t0 = performance.now();
      await deps.compact();
      return reply.send({ status: 'success', data: { compacted: true, duration_ms: Math.round(performance.now() - t0) } });
    } catch (err) {
      return sendError(reply, err);
    }
  });
  app.get('/api/v1/status/tsdb', async (_req, reply) => {
    try {
      const s = deps.tsdbStatus();
      return reply.send({
        status: 'success',
        data: {
          headStats: { numSeries: s.series, minTime: minOf(s.tiers), maxTime: maxOf(s.tiers) },
          bytes: s.bytes,
          tiers: s.tiers.map((t) => ({
            name: t.name,
            resolution_ms: t.resolutionMs,
            retention_ms: t.retentionMs,
            series: t.series,
            points: t.points,
            bytes: t.bytes,
            min_time_ms: t.minTimeMs,
            max_time_ms: t.maxTimeMs,
          })),
        },
      });
    } catch (err) {
      return sendError(reply, err);
    }
  });
}

function minOf(tiers: ReturnType<HttpDeps['tsdbStatus']>['tiers']): number | null {
  const xs = tiers.map((t) => t.minTimeMs).filter((x): x is number => x !== null);
  return xs.length ? Math.min(...xs) : null;
}

function maxOf(tiers: ReturnType<HttpDeps['tsdbStatus']>['tiers']): number | null {
  const xs = tiers.map((t) => t.maxTimeMs).filter((x): x is number => x !== null);
  return xs.length ? Math.max(...xs) : null;
}
