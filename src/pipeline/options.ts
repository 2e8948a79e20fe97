import { availableParallelism } from 'node:os';
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Logger } from '../self/log.js';
import type { TierConfig } from '../store/interface.js';

/** SeriesLimits are the cardinality limits of SPEC section 9, checked when a series is created. */
export interface SeriesLimits {
  /** Labels per series, `__name__` included (default 30). */
  readonly maxLabelsPerSeries: number;
  /** Label name length in UTF-8 bytes (default 128). */
  readonly maxLabelNameBytes: number;
  /** Label value length in UTF-8 bytes (default 2048). */
  readonly maxLabelValueBytes: number;
  /** Series per tenant (default 1,000,000). */
  readonly maxSeriesPerTenant: number;
  /** Series per metric name within a tenant (default 100,000). */
  readonly maxSeriesPerMetric: number;
}

/** DEFAULT_LIMITS are SPEC section 9's defaults. */
export const DEFAULT_LIMITS: SeriesLimits = {
  maxLabelsPerSeries: 30,
  maxLabelNameBytes: 128,
  maxLabelValueBytes: 2048,
  maxSeriesPerTenant: 1_000_000,
  maxSeriesPerMetric: 100_000,
};

/** PipelineStoreOptions are the StoreOptions each worker opens its Store with (no functions: they cross threads). */
export interface PipelineStoreOptions {
  readonly dataDir: string;
  /** The raw tier's resolution, which is also the aggregation window. */
  readonly rawResolutionMs: number;
  readonly tiers?: readonly TierConfig[];
}

/** PipelineOptions configure a Pipeline; only `store` is required. */
export interface PipelineOptions {
  readonly store: PipelineStoreOptions;
  /** Module exporting `openStore(opts): Promise<Store>`, as a file URL or absolute path (default: src/store/open.js). */
  readonly storeModule?: string;
  /** Aggregation worker threads (default: cores - 1, at least 1, at most 4). */
  readonly workers?: number;
  /** Period of the flush timer; 0 disables it (tests drive flushes). Default: the raw resolution. */
  readonly flushIntervalMs?: number;
  /** Clock for timestamp checks, window closing and series TTL (default Date.now). */
  readonly now?: () => number;
  /** Points older than this are refused as too_old (default 5 years, the longest default tier). */
  readonly maxAgeMs?: number;
  /** Points further ahead than this are refused as too_new (default 10 minutes). */
  readonly maxFutureMs?: number;
  /** Series idle this long leave the /metrics exposition (default 5 minutes). */
  readonly seriesTtlMs?: number;
  readonly limits?: Partial<SeriesLimits>;
  /** Records per batch before it is posted on its own (default 4096). */
  readonly batchRecords?: number;
  /** Batches posted to one worker and not yet consumed above which accepting() is false (default 32). */
  readonly maxInFlightBatches?: number;
  /** Least time between two posts of flushed, not yet full batches, and so the longest a flushed sample waits (default: the flush interval, so the flush timer posts them; 20 ms without a flush timer; 0: every event-loop turn). */
  readonly postDelayMs?: number;
  /** Per-metric classic bucket bounds for histograms whose sender gave none. */
  readonly buckets?: Readonly<Record<string, readonly number[]>>;
  /** How far back a worker looks for a series' stored total on first sight (default: raw tier retention, else 2 days). */
  readonly restoreLookbackMs?: number;
  /** Logger for flush failures and worker errors (default: warnings and errors to stdout). */
  readonly logger?: Logger;
  /** Young generation of each aggregation worker's V8 heap, in MB (default WORKER_YOUNG_GENERATION_MB; 0: V8's own, up to ~48 MB). */
  readonly workerYoungGenerationMb?: number;
}

/** ResolvedOptions are PipelineOptions with every default applied. */
export interface ResolvedOptions {
  readonly store: PipelineStoreOptions;
  readonly storeModule: string;
  readonly workers: number;
  readonly flushIntervalMs: number;
  readonly now: () => number;
  readonly maxAgeMs: number;
  readonly maxFutureMs: number;
  readonly seriesTtlMs: number;
  readonly limits: SeriesLimits;
  readonly batchRecords: number;
  readonly maxInFlightBatches: number;
  readonly postDelayMs: number;
  readonly buckets: Readonly<Record<string, readonly number[]>>;
  readonly restoreLookbackMs: number;
  readonly logger: Logger;
  readonly workerYoungGenerationMb: number;
}

const DAY = 86_400_000;

/**
 * WORKER_YOUNG_GENERATION_MB caps each aggregation worker's young generation. V8 grows a young
 * generation whenever the bytes surviving its collections add up past its size, and never takes
 * it back while the isolate keeps allocating; a burst of new series (each definition outlives a
 * few collections while it is applied) grew a worker's to V8's maximum, ~34 MB committed for
 * good, 280 B per series at 100k. A worker's garbage is short-lived (batches are typed arrays
 * it hands back; definitions are applied at once), so a small nursery costs it little.
 */
export const WORKER_YOUNG_GENERATION_MB = 4;

/** resolveOptions applies defaults. */
export function resolveOptions(o: PipelineOptions): ResolvedOptions {
  const raw = o.store.tiers?.[0];
  const flushIntervalMs = o.flushIntervalMs ?? o.store.rawResolutionMs;
  return {
    store: { dataDir: o.store.dataDir, rawResolutionMs: o.store.rawResolutionMs, ...(o.store.tiers ? { tiers: o.store.tiers } : {}) },
    storeModule: o.storeModule === undefined ? new URL('../store/open.js', import.meta.url).href : isAbsolute(o.storeModule) ? pathToFileURL(o.storeModule).href : o.storeModule,
    workers: Math.max(1, o.workers ?? Math.min(4, availableParallelism() - 1)),
    flushIntervalMs,
    now: o.now ?? Date.now,
    maxAgeMs: o.maxAgeMs ?? 5 * 365 * DAY,
    maxFutureMs: o.maxFutureMs ?? 10 * 60_000,
    seriesTtlMs: o.seriesTtlMs ?? 5 * 60_000,
    limits: { ...DEFAULT_LIMITS, ...o.limits },
    batchRecords: Math.max(16, o.batchRecords ?? 4096),
    maxInFlightBatches: Math.max(1, o.maxInFlightBatches ?? 32),
    postDelayMs: Math.max(0, o.postDelayMs ?? (flushIntervalMs > 0 ? flushIntervalMs : 20)),
    buckets: o.buckets ?? {},
    restoreLookbackMs: o.restoreLookbackMs ?? (raw && !raw.monthly ? raw.retentionMs : 2 * DAY),
    logger: o.logger ?? new Logger('warn', { component: 'pipeline' }),
    workerYoungGenerationMb: Math.max(0, o.workerYoungGenerationMb ?? WORKER_YOUNG_GENERATION_MB),
  };
}
