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
  readonly pricing: string | null;
  readonly configFile: string | null;
  readonly logLevel: LogLevel;
  readonly statsdAllow: readonly string[];
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
  readonly help: string;
}

/** OPTIONS is the table of SPEC section 1; the YAML key is the flag in snake_case. */
export const OPTIONS: readonly OptionSpec[] = [
  { flag: 'data-dir', kind: 'string', defaultText: './data', help: 'LMDB store, alert state, queues' },
  { flag: 'http', kind: 'address', defaultText: '127.0.0.1:9477', help: 'HTTP API, remote read/write, dashboard, /metrics, health, admin' },
  { flag: 'grpc', kind: 'address', defaultText: '127.0.0.1:9478', help: 'gRPC query API (tallyd.v1.QueryService)' },
  { flag: 'otlp-grpc', kind: 'address', defaultText: '127.0.0.1:4317', help: 'OTLP/gRPC receiver' },
  { flag: 'otlp-http', kind: 'address', defaultText: '127.0.0.1:4318', help: 'OTLP/HTTP receiver' },
  { flag: 'statsd', kind: 'address', defaultText: '127.0.0.1:8125', help: 'StatsD/DogStatsD, UDP and TCP' },
  { flag: 'flush-interval', kind: 'duration', defaultText: '10s', help: 'aggregation window of the raw tier' },
  { flag: 'rules', kind: 'list', defaultText: null, help: 'Prometheus rule files (repeatable, globs allowed)' },
  { flag: 'pricing', kind: 'string', defaultText: null, help: 'model price table (YAML)' },
  { flag: 'config', kind: 'string', defaultText: null, help: 'YAML configuration file' },
  { flag: 'log-level', kind: 'level', defaultText: 'info', help: 'debug, info, warn or error' },
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
};
