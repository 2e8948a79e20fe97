import type { Labels } from '../model/labels.js';
import type { Matcher } from '../model/matcher.js';
import type { MetricKind } from '../model/metric-kind.js';
import type { SparseHistogram } from '../model/hdr.js';

/**
 * The storage contract. The pipeline writes closed windows through an Appender; the query engine
 * reads through a Querier and never sees LMDB. All times are unix milliseconds; ranges are
 * inclusive at both ends.
 */

/** SeriesMeta is stored once per series. */
export interface SeriesMeta {
  /** Classic bucket upper bounds for a histogram series (without +Inf). */
  readonly bounds?: readonly number[];
  readonly help?: string;
  readonly unit?: string;
}

/**
 * Appender is a transaction: collect points, then commit (durable when the promise resolves) or
 * roll back, then discard it. One commit is one LMDB batch.
 * A point is one closed window of one series, keyed by the window's start (aligned to the raw
 * resolution), with `lastMs`, the time of the last point that went into it (reads stamp the
 * window's sample there; absent: the window's start). Writing the same (series, window) twice in
 * later commits merges the aggregates (late points) and keeps the later time; it never double
 * counts within one commit's own data. A value that is Prometheus' stale marker (see
 * model/stale.ts: a gauge's `last`, a counter's `raw`) ends the series at `lastMs`.
 */
export interface Appender {
  /** seriesId returns the stable id of a series, creating it (with meta) when new. */
  seriesId(tenant: string, labels: Labels, kind: MetricKind, meta?: SeriesMeta): number;
  /**
   * counter stores a window's increment; `raw` is the sender's own cumulative value at lastMs
   * when the counter arrived cumulative (reads then return the sender's values, resets
   * included), NaN or absent when it arrived as increments (reads return totals since creation).
   */
  counter(id: number, windowStartMs: number, increment: number, lastMs?: number, raw?: number): void;
  gauge(id: number, windowStartMs: number, last: number, min: number, max: number, sum: number, count: number, lastMs?: number): void;
  /** histogram stores a window's histogram; the appender may keep `h` until commit returns. */
  histogram(id: number, windowStartMs: number, h: SparseHistogram, lastMs?: number): void;
  commit(): Promise<void>;
  rollback(): void;
}

/** SelectHints tell the querier what range is needed and at what step, so it picks a tier. */
export interface SelectHints {
  readonly startMs: number;
  readonly endMs: number;
  /** Range query step (0 or absent for instant queries). */
  readonly stepMs?: number;
  /**
   * The look-back before the first evaluated time: the range selector's or subquery's window, or
   * the look-back delta of an instant selector. The tier is chosen for `startMs + rangeMs`.
   */
  readonly rangeMs?: number;
  /**
   * thin says the caller takes from each float series only what rate(), increase(), delta() and
   * resets() take from a window holding all of it: the first and the last sample, how many
   * samples there are, and the two samples around every drop (a counter reset). A querier MAY
   * then return a float series thinned to those samples, in order, with `count` set to how many
   * samples it had. A series holding a NaN is never thinned.
   */
  readonly thin?: boolean;
  /**
   * extremes says the caller takes from each float series only its greatest ('max') or least
   * ('min') sample and how many samples there are (max_over_time, min_over_time over a window
   * holding all of it). A querier MAY then return in place of a run of samples that holds no
   * NaN one sample of that run's extreme, stamped inside it, with `count` set to how many
   * samples the series had. Such a series holds no stale marker.
   */
  readonly extremes?: 'max' | 'min';
  /**
   * leadFrom (after startMs) says the caller takes of each float series' samples before leadFrom
   * only the last one, as the baseline of what follows (analytics reading increments reach back
   * for it). A querier MAY then return, before leadFrom, that sample alone: a short read then
   * skips building the samples of its look-back (720 raw windows per series for 2 hours at 10 s).
   */
  readonly leadFrom?: number;
}

/** FloatSeries is a series of float samples in ascending time order. */
export interface FloatSeries {
  readonly labels: Labels;
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
  /** count is set on a series thinned for SelectHints.thin or .extremes: how many samples it had. */
  readonly count?: number;
}

/**
 * HistogramSeries is a histogram-valued series (the bare histogram name), cumulative like a
 * Prometheus native histogram, represented by per-point deltas so that rate() never has to
 * materialise cumulative buckets: cumulative(i) = base() + deltas[0] + ... + deltas[i].
 * Callers MUST NOT mutate the returned histograms.
 */
export interface HistogramSeries {
  readonly labels: Labels;
  readonly timestamps: Float64Array;
  readonly deltas: readonly SparseHistogram[];
  base(): SparseHistogram;
}

/** SelectResult holds the series a selection matched, floats and histograms apart. */
export interface SelectResult {
  readonly floats: FloatSeries[];
  readonly histograms: HistogramSeries[];
}

/** MetricMetadata is one entry of /api/v1/metadata. */
export interface MetricMetadata {
  readonly metric: string;
  readonly type: 'counter' | 'gauge' | 'histogram' | 'unknown';
  readonly help: string;
  readonly unit: string;
}

/**
 * Querier reads the Prometheus view of stored series for one tenant:
 * - counters that arrived cumulative as the sender's values (resets included); counters that
 *   arrived as increments as totals since series creation;
 * - gauges as the last value of each window;
 * - histograms as `<name>_bucket{le}`, `<name>_sum`, `<name>_count` float series and as
 *   histogram-valued samples under `<name>`.
 * A window's sample carries the time of the last point that went into it, so no sample is
 * stamped after the moment it was measured. A total-since-creation window that follows a gap
 * (or is a series' first) is preceded by a sample at the window's start holding the previous
 * total (0 at creation), so increase() over one window sees two samples. Stale markers
 * (model/stale.ts) are returned as values.
 * Reads are synchronous and see only committed data.
 */
export interface Querier {
  select(tenant: string, matchers: readonly Matcher[], hints: SelectHints): SelectResult;
  /**
   * selectEach hands over what `select` would return, one stored series at a time (each series'
   * float views, then its histogram view, series in label order): a caller walking a long range
   * holds one series' samples at a time and reads each chunk once, instead of slicing the range
   * into selects that each decode the chunks they touch. Optional: callers fall back to select.
   */
  selectEach?(tenant: string, matchers: readonly Matcher[], hints: SelectHints, fn: (r: SelectResult) => void): void;
  series(tenant: string, matchers: readonly Matcher[], startMs: number, endMs: number): Labels[];
  labelNames(tenant: string, matchers: readonly Matcher[], startMs: number, endMs: number): string[];
  labelValues(tenant: string, name: string, matchers: readonly Matcher[], startMs: number, endMs: number): string[];
  metadata(tenant: string, metric?: string): MetricMetadata[];
  /** digests reads the derived day summaries kept beside the series; absent where none are kept. */
  readonly digests?: DigestReader;
}

/** StoredDigest is a digest as stored: the day stamp it was built from and the caller's bytes. */
export interface StoredDigest {
  readonly stamp: number;
  readonly bytes: Uint8Array;
}

/**
 * DigestReader reads digests: summaries of one UTC day (or hour) of a tenant's series that a
 * caller (cost analytics) builds from committed data and keeps beside it, so that a long-range
 * answer reads one digest a day instead of every window of every series. The store keeps a stamp
 * per UTC day and per UTC hour that every commit writing a point into that day or hour changes; a
 * digest records the stamp it was built from and is stale once the two differ. What a digest
 * holds is the caller's business.
 */
export interface DigestReader {
  /** get reads a digest; its bytes are valid only until the next call on any digest reader. */
  get(tenant: string, key: string): StoredDigest | undefined;
  /** dayStamp is the current stamp of the UTC day starting at `dayMs` (0 when no commit wrote there). */
  dayStamp(dayMs: number): number;
  /**
   * dayEmpty says that no point was ever written into the UTC day starting at `dayMs`: its stamp
   * is 0 and the store has kept day stamps since before it (false when it cannot tell).
   */
  dayEmpty(dayMs: number): boolean;
  /**
   * settledDays is [fromMs, toMs): the whole UTC days that reads at 1 h steps take from one tier,
   * wholly rolled up into it and inside its retention (which starts at `keptFromMs`). Only those
   * days change by writes alone.
   */
  settledDays(): { fromMs: number; toMs: number; keptFromMs: number };
  /**
   * hourStamp is dayStamp for the UTC hour starting at `hourMs`: every commit writing a point into
   * that hour changes it. 0 when no commit wrote there since the store keeps hour stamps (a
   * caller MUST NOT take a digest built at stamp 0 for current).
   */
  hourStamp(hourMs: number): number;
  /** hourEmpty is dayEmpty for the UTC hour starting at `hourMs`. */
  hourEmpty(hourMs: number): boolean;
  /**
   * settledHours is settledDays for whole UTC hours: [fromMs, toMs) are the hours that reads at
   * 1 h steps take from one tier, wholly rolled up into it (its watermark past the hour's end)
   * and inside its retention. The hours of days not settled yet change by writes alone from here.
   */
  settledHours(): { fromMs: number; toMs: number; keptFromMs: number };
}

/** DigestStore writes digests too (one thread builds them; every thread may read them). */
export interface DigestStore extends DigestReader {
  /** put stores digests under their keys, all in one transaction, each with `stamp`. */
  put(tenant: string, stamp: number, entries: ReadonlyArray<readonly [key: string, bytes: Uint8Array]>): Promise<void>;
  remove(tenant: string, key: string): Promise<void>;
  /** keys lists a tenant's digest keys that start with `prefix`, sorted. */
  keys(tenant: string, prefix: string): string[];
  /** tenants lists every tenant that has series. */
  tenants(): string[];
  /**
   * pruneStamps removes the day and hour stamps of the days that end at or before `beforeMs`
   * (whole UTC days); returns how many it removed. A caller prunes only what no reader asks
   * about any more: days before the settled days' tier keeps them, which answers read live.
   */
  pruneStamps(beforeMs: number): Promise<number>;
}

/**
 * StateTable is a small durable key/value table for state other than points: OTLP temporality
 * baselines, alert state, notification outboxes, remote-write queues. Values are JSON-compatible.
 * `put`/`remove` are part of the next commit of `Store.commitState`, or durable on their own
 * promise.
 */
export interface StateTable {
  get<T = unknown>(key: string): T | undefined;
  put(key: string, value: unknown): Promise<void>;
  remove(key: string): Promise<void>;
  /** entries lists keys in sorted order with an optional prefix. */
  entries<T = unknown>(prefix?: string): Array<[string, T]>;
}

/** TierStats is one row of /api/v1/status/tsdb. */
export interface TierStats {
  readonly name: string;
  readonly resolutionMs: number;
  readonly retentionMs: number;
  readonly series: number;
  readonly points: number;
  readonly bytes: number;
  readonly minTimeMs: number | null;
  readonly maxTimeMs: number | null;
}

/** Store is an open data directory. One Store per thread; many threads may open one directory. */
export interface Store {
  readonly rawResolutionMs: number;
  appender(): Appender;
  /** querier reads what any thread had committed when it was called (a fresh snapshot). */
  querier(): Querier;
  state(table: string): StateTable;
  /** digests holds derived day summaries (absent on stores that keep none). */
  readonly digests?: DigestStore;
  stats(): { series: number; tiers: TierStats[]; bytes: number };
  /**
   * compact rolls every tier up into the next coarser one and applies retention now (`nowMs`
   * defaults to the store's clock), in bounded batches that never stall ingest or queries.
   * Safe to interrupt at any point (a crash counts nothing twice) and to call concurrently.
   */
  compact(nowMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** TierConfig is one storage tier; `resolutionMs` 0 with `monthly` means calendar months (UTC). */
export interface TierConfig {
  readonly name: string;
  readonly resolutionMs: number;
  readonly retentionMs: number;
  readonly monthly?: boolean;
}

/**
 * StoreOptions open a data directory. The implementation lives in `src/store/open.ts` as
 * `openStore(opts: StoreOptions): Promise<Store>`; every thread that writes or reads opens its own.
 */
export interface StoreOptions {
  readonly dataDir: string;
  /** The raw tier's resolution: the flush interval. */
  readonly rawResolutionMs: number;
  /** Tiers from finest to coarsest; default: raw 2 d, 5 m 90 d, 1 h 90 d, monthly 5 y. */
  readonly tiers?: readonly TierConfig[];
  /** Injectable clock for retention and tests. */
  readonly now?: () => number;
}
