import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import type { HttpDeps } from './deps.js';
import { registerFormParser } from './params.js';
import { healthRoutes } from './health.js';
import { promApiRoutes } from './prom-api.js';
import { adminRoutes } from './admin.js';
import { metricsRoutes } from './metrics.js';
import { rulesRoutes } from './rules.js';
import { installAuth } from './auth.js';
import { installLingeringClose } from '../../wire/linger.js';
import { readTls } from '../../wire/tls.js';
import { uiRoutes } from './ui.js';

/** ExtraRoutes are plugins owned by other layers (remote read, remote write, analytics) mounted on this server; their options also carry `deps`. */
export interface ExtraRoutes {
  readonly plugin: FastifyPluginAsync<any>;
  readonly options: Record<string, unknown>;
}

/** buildHttpServer assembles the main HTTP surface; each route group is its own plugin. */
export async function buildHttpServer(deps: HttpDeps, extra: readonly ExtraRoutes[] = []): Promise<FastifyInstance> {
  const base = { logger: false, bodyLimit: deps.limits.requestBodyBytes, forceCloseConnections: true } as const;
  const app = (deps.tls ? Fastify({ ...base, https: readTls(deps.tls) }) : Fastify(base)) as unknown as FastifyInstance;
  // Both before any route plugin, so they cover every route, including those of other layers.
  if (deps.auth) installAuth(app, deps.auth);
  installLingeringClose(app);
  registerFormParser(app);
  await app.register(healthRoutes, { deps });
  await app.register(promApiRoutes, { deps });
  await app.register(adminRoutes, { deps });
  await app.register(metricsRoutes, { deps });
  await app.register(rulesRoutes, { deps });
  await app.register(uiRoutes, {});
  // Extra plugins also get the shared deps (tenantOf, querier, flush), so they answer per tenant as the rest.
  for (const e of extra) await app.register(e.plugin, { deps, ...e.options });
  return app;
}
