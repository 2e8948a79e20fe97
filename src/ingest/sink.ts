import type { Labels } from '../model/labels.js';
import type { MetricKind } from '../model/metric-kind.js';
import type { SparseHistogram } from '../model/hdr.js';

/** SeriesOptions carries what a sender knows about a series beyond its labels. */
export interface SeriesOptions {
  /** Upper bounds of the classic `_bucket` series (the sender's explicit buckets for OTLP). */
  readonly bounds?: readonly number[];
  readonly help?: string;
  readonly unit?: string;
  /**
   * origin says the series was derived from spans rather than sent as a metric; cost derivation
   * (src/cost) uses it to rank token paths so a call reported both ways counts once.
   */
  readonly origin?: 'span';
}

/** REFUSED is the ref `IngestSink.series` returns when a limit refuses a new series. */
export const REFUSED = -1;

/**
 * IngestSink is what every protocol parser pushes into; the pipeline implements it.
 *
 * Contract:
 * - `series` MUST be called once per distinct (tenant, labels, kind) a parser meets, not per sample;
 *   the returned ref stays valid for the sink's lifetime and parsers SHOULD cache it (keyed by the
 *   bytes they saw, so the hot path builds no strings). It returns REFUSED when a limit refuses the
 *   series; the parser counts the sample as refused.
 * - Sample methods take the point's own timestamp in ms; the pipeline puts it in that window.
 *   They return false when the point is refused for its timestamp (older than every tier, or
 *   more than 10 minutes in the future; counted by the pipeline), so OTLP can report it.
 *   They MUST NOT retain any buffer passed in after returning; `histogram` takes ownership of `h`.
 * - Samples are buffered; `flush` hands the buffered batch to the workers (call it at the end of
 *   a packet or request; the pipeline may coalesce the flushes of one event-loop turn). Nothing blocks: when `accepting()` is false the caller refuses new
 *   work (OTLP answers UNAVAILABLE / 503) instead of growing memory.
 */
export interface IngestSink {
  series(tenant: string, labels: Labels, kind: MetricKind, opts?: SeriesOptions): number;
  /** counter adds a (delta) increment; negative or non-finite increments are the caller's error. */
  counter(ref: number, increment: number, tsMs: number): boolean;
  /** counterCumulative feeds a cumulative total of the stream started at startMs (0 = unknown). */
  counterCumulative(ref: number, total: number, startMs: number, tsMs: number): boolean;
  gaugeSet(ref: number, value: number, tsMs: number): boolean;
  gaugeAdd(ref: number, delta: number, tsMs: number): boolean;
  /** observe records `count` observations of `value` into a histogram series (count = 1/rate). */
  observe(ref: number, value: number, count: number, tsMs: number): boolean;
  /** setMember records a member of a StatsD set by its hash; the window keeps the distinct count. */
  setMember(ref: number, memberHash: number, tsMs: number): boolean;
  /** histogram merges a pre-aggregated (delta) histogram. */
  histogram(ref: number, h: SparseHistogram, tsMs: number): boolean;
  /** histogramCumulative feeds a cumulative histogram of the stream started at startMs. */
  histogramCumulative(ref: number, h: SparseHistogram, startMs: number, tsMs: number): boolean;
  /**
   * Optional. histogramBorrowed is `histogramCumulative(ref, h, startMs, tsMs)` when `cumulative`,
   * else `histogram(ref, h, tsMs)`, except that the sink does NOT take ownership of `h`: it copies
   * what it keeps before returning, so a parser may refill one scratch histogram for every point.
   * Parsers call the owning methods with a fresh histogram when a sink does not offer it.
   */
  histogramBorrowed?(ref: number, h: SparseHistogram, cumulative: boolean, startMs: number, tsMs: number): boolean;
  flush(): void;
  accepting(): boolean;
}
