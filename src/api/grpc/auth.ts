import * as grpc from '@grpc/grpc-js';
import { TENANT_HEADER, type Authenticator } from '../../model/auth.js';
import type { GrpcAuth } from './server.js';

function first(md: grpc.Metadata, key: string): string | undefined {
  const v = md.get(key)[0];
  return typeof v === 'string' ? v : undefined;
}

/**
 * grpcAuth adapts the Authenticator to the query service's `auth` option: metadata
 * `authorization: Bearer <token>` (and `x-scope-orgid` for admin tokens) resolved once per call.
 * A missing or wrong token is UNAUTHENTICATED, a token without the query scope or naming
 * another tenant PERMISSION_DENIED. Returns undefined when no token is configured (open).
 */
export function grpcAuth(auth: Authenticator): ((md: grpc.Metadata) => GrpcAuth | Error) | undefined {
  if (!auth.enabled) return undefined;
  return (md: grpc.Metadata): GrpcAuth | Error => {
    const r = auth.authenticate(first(md, 'authorization'), 'query', first(md, TENANT_HEADER));
    if (r.ok) return { tenant: r.principal.tenant, scopes: [...r.principal.scopes] };
    const err = new Error(r.failure.message) as Error & { code: number };
    err.code = r.failure.kind === 'unauthenticated' ? grpc.status.UNAUTHENTICATED : grpc.status.PERMISSION_DENIED;
    return err;
  };
}
