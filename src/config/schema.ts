import type { ListenAddress } from './address.js';
import type { TierConfig } from '../store/interface.js';

/** LOG_LEVELS are the accepted `--log-level` values, most verbose first. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** NotifierConfig is one `notifiers:` entry. */
export interface NotifierConfig {
  readonly type: 'alertmanager' | 'webhook';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** TokenConfig is one `auth.tokens:` entry (a plain token or its SHA-256 hex). */
export interface TokenConfig {
  readonly token?: string;
  readonly tokenSha256?: string;
  readonly scopes: readonly ('ingest' | 'query' | 'admin')[];
  readonly tenant?: string;
}

/** Limits are the per-tenant and per-request bounds of SPEC section 9. */
export interface Limits {
  readonly seriesPerTenant: number;
  readonly seriesPerMetric: number;
  readonly labelsPerSeries: number;
  readonly labelNameLength: number;
  readonly labelValueLength: number;
  readonly requestBodyBytes: number;
  readonly queryTimeoutMs: number;
  readonly queryMaxSamples: number;
  /** Most series one query may select (`limits.query_max_series`). */
  readonly queryMaxSeries: number;
  /** Most queries waiting for a query worker, per lane (`limits.query_queue`); more answer 503. */
  readonly queryQueue: number;
}

/** RemoteWriteConfig is one `remote_write:` target. */
export interface RemoteWriteConfig {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly basicAuth?: { readonly username: string; readonly password: string };
  readonly queue: { readonly maxBytes: number; readonly maxAgeMs: number };
}

/** Config is the validated, fully defaulted configuration of one tallyd process. */
export interface Config {
  readonly dataDir: string;
  readonly http: ListenAddress;
  readonly grpc: ListenAddress;
  readonly otlpGrpc: ListenAddress;
  readonly otlpHttp: ListenAddress;
  readonly statsd: ListenAddress;
  readonly flushIntervalMs: number;
  readonly rules: readonly string[];
  /** tenant_rules: rule files (paths or globs) per tenant other than `default`, which keeps `rules`. */
  readonly tenantRules: Readonly<Record<string, readonly string[]>>;
  readonly pricing: string | null;
  readonly configFile: string | null;
  readonly logLevel: LogLevel;
  readonly statsdAllow: readonly string[];
  /** statsdAllowExplicit: `statsd.allow` was configured, so it applies even without auth. */
  readonly statsdAllowExplicit: boolean;
  readonly statsdTenant: string;
  readonly promoteResourceAttributes: readonly string[];
  readonly seriesTtlMs: number;
  readonly evaluationIntervalMs: number;
  readonly externalLabels: Readonly<Record<string, string>>;
  readonly externalUrl: string;
  readonly histogramBuckets: Readonly<Record<string, readonly number[]>>;
  readonly notifiers: readonly NotifierConfig[];
  readonly tokens: readonly TokenConfig[];
  readonly tls: { readonly certFile: string; readonly keyFile: string } | null;
  readonly limits: Limits;
  readonly tiers: readonly TierConfig[];
  readonly remoteWrite: readonly RemoteWriteConfig[];
  /** Query worker threads (`query_workers`); default min(2, cores). */
  readonly queryWorkers: number;
  readonly cost: CostConfig;
}

/** CostConfig is the `cost:` section (SPEC section 7). */
export interface CostConfig {
  /** dimensions overrides, per dimension, the labels it reads (first present wins). */
  readonly dimensions: Readonly<Record<string, readonly string[]>>;
  /** traceAttributionWaitMs is how long an LLM call span waits for its ancestor spans. */
  readonly traceAttributionWaitMs: number;
}

/** OptionKind says how a command-line option's text is parsed. */
export type OptionKind = 'string' | 'address' | 'duration' | 'list' | 'level';

/** OptionSpec describes one option that exists as flag, environment variable and YAML key. */
export interface OptionSpec {
  readonly flag: string;
  readonly kind: OptionKind;
  readonly defaultText: string | null;
  /** noDefault is what --help shows as the default when defaultText is null. */
  readonly noDefault?: string;
  /** value names the flag's argument in --help (`--data-dir DIR`); derived from kind when absent. */
  readonly value?: string;
  readonly help: string;
}

/** OPTIONS is the table of SPEC section 1; the YAML key is the flag in snake_case. */
export const OPTIONS: readonly OptionSpec[] = [
  { flag: 'data-dir', kind: 'string', value: 'DIR', defaultText: './data', help: 'LMDB store, alert state, queues' },
  { flag: 'http', kind: 'address', value: 'ADDR', defaultText: '127.0.0.1:9477', help: 'HTTP: query API, remote read/write, analytics, dashboard, /metrics, health, admin (port 0 disables)' },
  { flag: 'grpc', kind: 'address', value: 'ADDR', defaultText: '127.0.0.1:9478', help: 'gRPC query API, tallyd.v1.QueryService (port 0 disables)' },
  { flag: 'otlp-grpc', kind: 'address', value: 'ADDR', defaultText: '127.0.0.1:4317', help: 'OTLP/gRPC receiver: metrics, traces (port 0 disables)' },
  { flag: 'otlp-http', kind: 'address', value: 'ADDR', defaultText: '127.0.0.1:4318', help: 'OTLP/HTTP receiver: POST /v1/metrics, /v1/traces; protobuf and JSON (port 0 disables)' },
  { flag: 'statsd', kind: 'address', value: 'ADDR', defaultText: '127.0.0.1:8125', help: 'StatsD/DogStatsD, UDP and TCP on the same port (port 0 disables)' },
  { flag: 'flush-interval', kind: 'duration', value: 'DUR', defaultText: '10s', help: 'aggregation window of the raw tier (Prometheus duration: 500ms, 10s, 1m)' },
  { flag: 'rules', kind: 'list', value: 'FILE', defaultText: null, noDefault: 'none', help: 'Prometheus rule files (repeatable, globs allowed)' },
  { flag: 'pricing', kind: 'string', value: 'FILE', defaultText: null, noDefault: 'built-in table', help: 'model price table (YAML)' },
  { flag: 'config', kind: 'string', value: 'FILE', defaultText: null, noDefault: 'none', help: 'YAML file with every option, plus notifiers, auth, limits, tiers, remote_write' },
  { flag: 'log-level', kind: 'level', value: 'LEVEL', defaultText: 'info', help: 'structured JSON logs on stdout: debug, info, warn or error' },
];

/** yamlKey maps a flag name to its YAML key. */
export function yamlKey(flag: string): string {
  return flag.replace(/-/g, '_');
}

/** envName maps a flag name to its environment variable. */
export function envName(flag: string): string {
  return 'TALLYD_' + flag.replace(/-/g, '_').toUpperCase();
}

/** DEFAULT_TIERS are SPEC section 4's tiers for a given raw resolution. */
export function defaultTiers(rawResolutionMs: number): TierConfig[] {
  const day = 86_400_000;
  return [
    { name: 'raw', resolutionMs: rawResolutionMs, retentionMs: 2 * day },
    { name: '5m', resolutionMs: 300_000, retentionMs: 90 * day },
    { name: '1h', resolutionMs: 3_600_000, retentionMs: 90 * day },
    { name: 'monthly', resolutionMs: 0, retentionMs: 5 * 365 * day, monthly: true },
  ];
}

/** DEFAULT_LIMITS are SPEC section 9's defaults. */
export const DEFAULT_LIMITS: Limits = {
  seriesPerTenant: 1_000_000,
  seriesPerMetric: 100_000,
  labelsPerSeries: 30,
  labelNameLength: 128,
  labelValueLength: 2048,
  requestBodyBytes: 4 * 1024 * 1024,
  queryTimeoutMs: 30_000,
  queryMaxSamples: 50_000_000,
  queryMaxSeries: 1_000_000,
  queryQueue: 64,
};
