import type { IngestSink } from '../sink.js';
import type { OtlpReceiver } from './receiver.js';
import type { Authenticator } from '../../model/auth.js';
import type { TlsFiles } from '../../wire/tls.js';

/** OtlpLog writes one structured log line (a warning: malformed bodies, failed listeners). */
export type OtlpLog = (msg: string, fields?: Record<string, unknown>) => void;

/** DEFAULT_MAX_BYTES is the default request size limit (4 MiB, after decompression). */
export const DEFAULT_MAX_BYTES = 4 * 1024 * 1024;

/** OtlpServerOptions configure startOtlpGrpc and startOtlpHttp. */
export interface OtlpServerOptions {
  /** `host:port`; port 0 disables the listener unless `ephemeral` is set (then the OS picks one). */
  readonly address: string;
  readonly sink: IngestSink;
  /** Largest accepted request in bytes, after decompression (default 4 MiB). */
  readonly maxBytes?: number;
  /** Resource attributes promoted to labels (default: tenant.id, deployment.environment). */
  readonly promoteResourceAttributes?: readonly string[];
  readonly log?: OtlpLog;
  /** Bind an OS-assigned port when the address says port 0 (tests). */
  readonly ephemeral?: boolean;
  /** Tenant the data is written to (default `default`). */
  readonly tenant?: string;
  /** Share one receiver (and its series caches) between the gRPC and HTTP servers. */
  readonly receiver?: OtlpReceiver;
  /** Seconds a client is told to wait (Retry-After) when the pipeline is saturated (default 1). */
  readonly retryAfterSeconds?: number;
  /**
   * When set and enabled, every export needs `Authorization: Bearer <token>` with the ingest
   * scope, and is written into the token's tenant (or the one an admin token names with
   * X-Scope-OrgID) instead of `tenant`.
   */
  readonly auth?: Authenticator;
  /** Serve over TLS with these certificate files (reloaded by the returned handle's `reloadTls`). */
  readonly tls?: TlsFiles | null;
}

/** OtlpServerHandle is a running (or disabled) OTLP listener. */
export interface OtlpServerHandle {
  /** The bound `host:port`, or null when the listener is disabled. */
  readonly address: string | null;
  /** The bound port (0 when disabled). */
  readonly port: number;
  /** reloadTls re-reads the certificate files (SIGHUP); a no-op without TLS. */
  reloadTls?(): void;
  close(): Promise<void>;
}

/** rateLimited wraps a log function so a flood of bad requests logs at most one line per interval. */
export function rateLimited(log: OtlpLog | undefined, intervalMs = 10_000): OtlpLog {
  let last = -Infinity;
  let suppressed = 0;
  return (msg, fields) => {
    if (log === undefined) return;
    const now = Date.now();
    if (now - last < intervalMs) {
      suppressed++;
      return;
    }
    last = now;
    log(msg, suppressed > 0 ? { ...fields, suppressed } : fields);
    suppressed = 0;
  };
}
