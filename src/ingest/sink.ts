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

/**
 * Refusal is the one vocabulary every ingest path uses to say why a series or a point was not
 * taken: the `reason` label of `tallyd_*_refused_total`, the words of OTLP partial_success
 * messages and of remote write answers. `SeriesLimit` and `Pipeline` are the generic reasons of a
 * sink that does not say which limit it applied.
 */
export const enum Refusal {
  BadValue = 0,
  SeriesLimit = 1,
  Pipeline = 2,
  LabelsPerSeries = 3,
  LabelNameLength = 4,
  LabelValueLength = 5,
  SeriesPerTenant = 6,
  SeriesPerMetric = 7,
  TooOld = 8,
  TooNew = 9,
  KindMismatch = 10,
  ShuttingDown = 11,
  Unsupported = 12,
}

/** REFUSAL_NAMES[r] is the label value of Refusal r. */
export const REFUSAL_NAMES: readonly string[] = [
  'bad_value', 'series_limit', 'pipeline', 'labels_per_series', 'label_name_length', 'label_value_length',
  'series_per_tenant', 'series_per_metric', 'too_old', 'too_new', 'kind_mismatch', 'shutting_down', 'unsupported',
];

/** REFUSAL_TEXT[r] explains Refusal r to a sender. */
export const REFUSAL_TEXT: readonly string[] = [
  'NaN, infinite or negative counter values, or inconsistent histograms',
  'series refused by a limit',
  'refused by the pipeline',
  'more labels per series than limits.labels_per_series',
  'a label name longer than limits.label_name_length bytes',
  'a label value longer than limits.label_value_length bytes',
  'the tenant has limits.series_per_tenant series',
  'the metric has limits.series_per_metric series',
  'timestamp older than every tier\'s retention',
  'timestamp more than 10 minutes in the future',
  'the series exists with another metric kind',
  'tallyd is shutting down',
  'a data type tallyd does not store',
];

/**
 * ACCEPTED is what a sample method returns when it took the point; any other value is the
 * Refusal that refused it. A small int, so answering allocates nothing on the hot path.
 */
export const ACCEPTED = -1;

/** Verdict is a sample method's answer: ACCEPTED or the Refusal of the point. */
export type Verdict = Refusal | typeof ACCEPTED;

/**
 * A refused series: `series` returns `-1 - r` for Refusal r (always negative; a ref is >= 0), so
 * a parser caching the ref of a refused key caches its reason with it.
 */
export function refusedRef(r: Refusal): number {
  return -1 - r;
}

/** refRefusal is the Refusal encoded in a negative ref from `series` (see refusedRef). */
export function refRefusal(ref: number): Refusal {
  return (-1 - ref) as Refusal;
}

/**
 * IngestSink is what every protocol parser pushes into; the pipeline implements it.
 *
 * Contract:
 * - `series` MUST be called once per distinct (tenant, labels, kind) a parser meets, not per sample;
 *   the returned ref stays valid for the sink's lifetime and parsers SHOULD cache it (keyed by the
 *   bytes they saw, so the hot path builds no strings). When a limit refuses the series it returns
 *   a negative number, `refusedRef(r)` = `-1 - r` for the Refusal r (decode it with refRefusal);
 *   the parser counts the sample as refused for r. A ref the sink gave is always >= 0.
 * - Sample methods take the point's own timestamp in ms; the pipeline puts it in that window.
 *   They return ACCEPTED (-1) when they took the point, else the Refusal code that refused it
 *   (bad value, too old, too new, kind mismatch, shutting down; counted by the pipeline), so every
 *   path can tell the sender which rule refused which point. Test with `!== ACCEPTED`, never for
 *   truthiness: BadValue is 0.
 *   They MUST NOT retain any buffer passed in after returning; `histogram` takes ownership of `h`.
 * - Samples are buffered; `flush` hands the buffered batch to the workers (call it at the end of
 *   a packet or request; the pipeline may coalesce flushes, up to its next flush of windows, which
 *   always delivers them first). Nothing blocks: when `accepting()` is false the caller refuses new
 *   work (OTLP answers UNAVAILABLE / 503) instead of growing memory.
 */
export interface IngestSink {
  series(tenant: string, labels: Labels, kind: MetricKind, opts?: SeriesOptions): number;
  /** counter adds a (delta) increment; negative or non-finite increments are the caller's error. */
  counter(ref: number, increment: number, tsMs: number): Verdict;
  /** counterCumulative feeds a cumulative total of the stream started at startMs (0 = unknown). */
  counterCumulative(ref: number, total: number, startMs: number, tsMs: number): Verdict;
  gaugeSet(ref: number, value: number, tsMs: number): Verdict;
  gaugeAdd(ref: number, delta: number, tsMs: number): Verdict;
  /** observe records `count` observations of `value` into a histogram series (count = 1/rate). */
  observe(ref: number, value: number, count: number, tsMs: number): Verdict;
  /** setMember records a member of a StatsD set by its hash; the window keeps the distinct count. */
  setMember(ref: number, memberHash: number, tsMs: number): Verdict;
  /** histogram merges a pre-aggregated (delta) histogram. */
  histogram(ref: number, h: SparseHistogram, tsMs: number): Verdict;
  /** histogramCumulative feeds a cumulative histogram of the stream started at startMs. */
  histogramCumulative(ref: number, h: SparseHistogram, startMs: number, tsMs: number): Verdict;
  /**
   * Optional. histogramBorrowed is `histogramCumulative(ref, h, startMs, tsMs)` when `cumulative`,
   * else `histogram(ref, h, tsMs)`, except that the sink does NOT take ownership of `h`: it copies
   * what it keeps before returning, so a parser may refill one scratch histogram for every point.
   * Parsers call the owning methods with a fresh histogram when a sink does not offer it.
   */
  histogramBorrowed?(ref: number, h: SparseHistogram, cumulative: boolean, startMs: number, tsMs: number): Verdict;
  /**
   * Optional. stale ends the series at tsMs, as a Prometheus stale marker does (remote write's
   * stale NaN, OTLP's "no recorded value" flag): reads find no value for it after tsMs until a new
   * sample arrives. Parsers drop the marker when a sink does not offer it.
   */
  stale?(ref: number, tsMs: number): Verdict;
  flush(): void;
  accepting(): boolean;
}
