import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { OPEN_PRINCIPAL, TENANT_HEADER, type Authenticator, type Principal, type Scope } from '../../model/auth.js';

/**
 * RouteScope is what a route declares in its options, `{ config: { scope: 'query' } }`:
 * the scope a token needs, or `'public'` for routes that carry no tenant data (health checks,
 * static dashboard assets). Routes that declare nothing get the scope of `scopeForPath`.
 */
export type RouteScope = Scope | 'public';

const principals = new WeakMap<FastifyRequest, Principal>();

/**
 * scopeForPath is the scope of a route that does not declare one: `/health/*` is public;
 * remote write needs ingest; admin endpoints and `/-/reload` need admin; everything else
 * (the query API, remote read, rules, alerts, `/metrics`, analytics, unknown paths) needs query.
 */
export function scopeForPath(path: string): RouteScope {
  if (path.startsWith('/health/')) return 'public';
  if (path === '/api/v1/write') return 'ingest';
  if (path.startsWith('/api/v1/admin/') || path === '/-/reload' || path === '/api/v1/status/tsdb') return 'admin';
  return 'query';
}

/** principalOf is the principal the auth hook resolved for a request (open when auth is off). */
export function principalOf(req: FastifyRequest): Principal {
  return principals.get(req) ?? OPEN_PRINCIPAL;
}

/** tenantOf is the tenant a request reads and writes. */
export function tenantOf(req: FastifyRequest): string {
  return principalOf(req).tenant;
}

function routeScope(req: FastifyRequest): RouteScope {
  const declared = (req.routeOptions?.config as { scope?: RouteScope } | undefined)?.scope;
  if (declared !== undefined) return declared;
  const path = req.url.split('?', 1)[0]!;
  return scopeForPath(path);
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * installAuth adds one onRequest hook to `app` (call it before registering route plugins, so it
 * covers all of them): it resolves the bearer token once into a principal, answers 401 (with
 * `WWW-Authenticate: Bearer`) for a missing or wrong token and 403 for a missing scope, in
 * Prometheus' error body. With no token configured every request is the open principal.
 */
export function installAuth(app: FastifyInstance, auth: Authenticator): void {
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const scope = routeScope(req);
    if (scope === 'public' || !auth.enabled) return;
    const r = auth.authenticate(header(req, 'authorization'), scope, header(req, TENANT_HEADER));
    if (r.ok) {
      principals.set(req, r.principal);
      return;
    }
    const status = r.failure.kind === 'unauthenticated' ? 401 : 403;
    if (status === 401) void reply.header('www-authenticate', 'Bearer realm="tallyd"');
    return reply.code(status).send({ status: 'error', errorType: status === 401 ? 'unauthorized' : 'forbidden', error: r.failure.message });
  });
}
