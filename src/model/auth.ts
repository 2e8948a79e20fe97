import { createHash, timingSafeEqual } from 'node:crypto';
import { DEFAULT_TENANT } from './metric-kind.js';

/** Scope is what a token may do: write data, read data, or run admin operations. */
export type Scope = 'ingest' | 'query' | 'admin';

/** SCOPES lists every scope. */
export const SCOPES: readonly Scope[] = ['ingest', 'query', 'admin'];

/** TokenSpec is one configured token: the plain token or its SHA-256 (hex), scopes, tenant. */
export interface TokenSpec {
  readonly token?: string;
  readonly tokenSha256?: string;
  readonly scopes: readonly Scope[];
  readonly tenant?: string;
}

/** Principal is who a request speaks for: the tenant it reads and writes, and what it may do. */
export interface Principal {
  readonly tenant: string;
  readonly scopes: ReadonlySet<Scope>;
  /** admin: the token has the admin scope (it may pick any tenant with X-Scope-OrgID). */
  readonly admin: boolean;
}

/** AuthFailure is a refused request: `unauthenticated` (401 / UNAUTHENTICATED) or `forbidden` (403 / PERMISSION_DENIED). */
export interface AuthFailure {
  readonly kind: 'unauthenticated' | 'forbidden';
  readonly message: string;
}

/** AuthResult is the outcome of resolving one request's credentials. */
export type AuthResult = { readonly ok: true; readonly principal: Principal } | { readonly ok: false; readonly failure: AuthFailure };

/** OPEN_PRINCIPAL is everyone when no token is configured: the default tenant, every scope. */
export const OPEN_PRINCIPAL: Principal = { tenant: DEFAULT_TENANT, scopes: new Set(SCOPES), admin: true };

/** TENANT_HEADER is the header (and gRPC metadata key) an admin token picks a tenant with. */
export const TENANT_HEADER = 'x-scope-orgid';

const TENANT_RE = /^[A-Za-z0-9_.:-]{1,128}$/;

interface Entry {
  readonly digest: Buffer;
  readonly principal: Principal;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * Authenticator resolves a bearer token into a Principal, once per request. Tokens are kept as
 * SHA-256 digests and the presented token's digest is compared with every configured one with
 * `crypto.timingSafeEqual` (no early exit), so neither the time taken nor a plain-text copy in
 * memory tells an attacker anything about a token.
 *
 * The admin scope includes the others: an admin token may query, ingest and run admin endpoints,
 * in its own tenant or in the one it names with X-Scope-OrgID. Another token naming a tenant
 * other than its own is refused (403).
 */
export class Authenticator {
  private readonly entries: readonly Entry[];

  constructor(tokens: readonly TokenSpec[]) {
    this.entries = tokens.map((t) => {
      const digest = t.tokenSha256 !== undefined ? Buffer.from(t.tokenSha256, 'hex') : sha256(t.token ?? '');
      const admin = t.scopes.includes('admin');
      const scopes = new Set<Scope>(admin ? SCOPES : t.scopes);
      return { digest, principal: { tenant: t.tenant ?? DEFAULT_TENANT, scopes, admin } };
    });
  }

  /** enabled says whether any token is configured (else everything is open, tenant `default`). */
  get enabled(): boolean {
    return this.entries.length > 0;
  }

  /**
   * authenticate resolves an `Authorization` header value (and the optional X-Scope-OrgID) into
   * a principal holding `scope`, or says why not.
   */
  authenticate(authorization: string | undefined, scope: Scope, orgId?: string): AuthResult {
    if (!this.enabled) return { ok: true, principal: OPEN_PRINCIPAL };
    const token = bearerToken(authorization);
    if (token === null) return fail('unauthenticated', 'missing bearer token: send Authorization: Bearer <token>');
    const digest = sha256(token);
    let found: Principal | null = null;
    for (const e of this.entries) {
      // Compare with every entry, so the time does not depend on which one matches.
      if (timingSafeEqual(digest, e.digest) && found === null) found = e.principal;
    }
    if (found === null) return fail('unauthenticated', 'invalid bearer token');
    if (!found.scopes.has(scope)) return fail('forbidden', `the token lacks the ${scope} scope`);
    const org = orgId?.trim();
    if (org !== undefined && org !== '' && org !== found.tenant) {
      if (!found.admin) return fail('forbidden', `only an admin token may name a tenant with X-Scope-OrgID (this token's tenant is ${found.tenant})`);
      if (!TENANT_RE.test(org)) return fail('forbidden', `invalid X-Scope-OrgID ${JSON.stringify(org.slice(0, 64))}: 1 to 128 characters of [A-Za-z0-9_.:-]`);
      return { ok: true, principal: { tenant: org, scopes: found.scopes, admin: true } };
    }
    return { ok: true, principal: found };
  }
}

function fail(kind: AuthFailure['kind'], message: string): AuthResult {
  return { ok: false, failure: { kind, message } };
}

/** bearerToken extracts the token of `Bearer <token>` (scheme case-insensitive), or null. */
export function bearerToken(authorization: string | undefined): string | null {
  if (typeof authorization !== 'string') return null;
  const m = /^\s*bearer\s+(\S+)\s*$/i.exec(authorization);
  return m ? m[1]! : null;
}
