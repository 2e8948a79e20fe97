import type { FastifyRequest } from 'fastify';
import type { Matcher } from '../../model/matcher.js';
import type { QueryRunner } from '../../query/pool/runner.js';
import type { TierStats } from '../../store/interface.js';
import type { Limits } from '../../config/schema.js';
import type { Logger } from '../../self/log.js';
import type { Authenticator } from '../../model/auth.js';
import type { TlsFiles } from '../../wire/tls.js';

/** ReadinessCheck is one entry of /health/ready's `checks`. */
export interface ReadinessCheck {
  readonly name: string;
  check(): boolean;
}

/** RulesApi is what the rule manager offers the HTTP surface. */
export interface RulesApi {
  /** rulesData and alertsData answer for one tenant: only its rules and alerts. */
  rulesData(tenant: string): unknown;
  alertsData(tenant: string): unknown;
  reload(): Promise<{ ok: boolean; errors: readonly unknown[] }>;
}

/** HttpDeps is everything the HTTP API needs, as narrow functions (the api layer owns nothing). */
export interface HttpDeps {
  /** queries runs every query off the main thread (the query worker pool). */
  readonly queries: QueryRunner;
  /** parseMatchers parses one `match[]` selector; throws QueryError('bad_data') when invalid. */
  readonly parseMatchers: (selector: string) => Matcher[];
  readonly tenantOf: (req: FastifyRequest) => string;
  readonly limits: Limits;
  readonly flush: () => Promise<void>;
  readonly compact: () => Promise<void>;
  readonly tsdbStatus: () => { series: number; tiers: TierStats[]; bytes: number };
  /** exposition renders one tenant's live series in Prometheus text format. */
  readonly exposition: (tenant: string) => Promise<string>;
  readonly rules: RulesApi | null;
  readonly readiness: readonly ReadinessCheck[];
  readonly log: Logger;
  readonly version: string;
  readonly startTimeMs: number;
  /** auth checks bearer tokens on every route but /health/* (absent or no token: open). */
  readonly auth?: Authenticator;
  /** tls serves HTTPS with these files (reloaded with `setSecureContext`). */
  readonly tls?: TlsFiles | null;
}
