import type { IngestSink } from '../sink.js';
import { REFUSED } from '../sink.js';
import { SparseHistogram } from '../../model/hdr.js';
import { labelsFromRecord } from '../../model/labels.js';
import { MetricKind } from '../../model/metric-kind.js';
import { classicBucket } from '../../pipeline/series-slot.js';

/** RecorderOptions configure a Recorder. */
export interface RecorderOptions {
  /** Tenant every recorded series belongs to. */
  readonly tenant: string;
  /** Raw window length (ms): what is held never spans two windows, so every point keeps its window. */
  readonly resolutionMs: number;
  /** How long (ms) recorded points may wait on the calling thread before they reach the sink. */
  readonly drainIntervalMs: number;
  /**
   * Classic bucket bounds (ascending, without +Inf) the pipeline gives a histogram series of this
   * name, so the drained histogram carries the same per-bucket counts /metrics would have summed.
   */
  readonly boundsOf: (name: string) => Float64Array;
  /** Clock (ms); Date.now by default. */
  readonly now?: () => number;
}

/**
 * Accumulation is one series' points recorded since the last drain, updated in place: a counter
 * sums its increments, a histogram records every observation into its HDR buckets and classic
 * counts exactly as the aggregation worker would. `lastMs` is the time of the newest point: the
 * drained batch carries it, as one sample per series stamped with its last time.
 */
class Accumulation {
  readonly ref: number;
  readonly kind: MetricKind;
  sum = 0;
  readonly h: SparseHistogram | null;
  lastMs = 0;
  dirty = false;

  constructor(ref: number, kind: MetricKind, bounds: Float64Array | null) {
    this.ref = ref;
    this.kind = kind;
    if (bounds === null) this.h = null;
    else {
      const h = new SparseHistogram(16);
      h.bounds = bounds;
      h.classicCounts = new Float64Array(bounds.length + 1);
      this.h = h;
    }
  }

  /** observe adds one observation to the HDR buckets and to its classic bucket, as SeriesSlot does. */
  observe(v: number): void {
    const h = this.h!;
    h.record(v, 1);
    const cc = h.classicCounts!;
    const i = classicBucket(h.bounds!, v);
    cc[i] = cc[i]! + 1;
  }

  /** reset empties the accumulation for the next drain, keeping its arrays. */
  reset(): void {
    this.sum = 0;
    this.dirty = false;
    const h = this.h;
    if (h !== null) {
      h.size = 0;
      h.count = 0;
      h.sum = 0;
      h.min = Infinity;
      h.max = -Infinity;
      h.classicCounts!.fill(0);
    }
  }
}

/**
 * Recorder is the embedded `record()` path: it pre-aggregates counters and histograms on the
 * calling thread, in a map from the interned label set to its accumulation, and hands the sink
 * one sample per touched series per drain (every `drainIntervalMs`, at a window boundary, and on
 * drain()) instead of a record per call. A busy agent records the same few series thousands of
 * times a second; per call this costs a key lookup and an in-place update, no allocation beyond
 * the key string. Results are those of the per-call path: counters sum the same increments into
 * the same window, histograms hold the same observations in the same HDR and classic buckets.
 * Gauges keep their per-call path (a window keeps their min, max and last, not a sum).
 */
export class Recorder {
  private readonly sink: IngestSink;
  private readonly o: RecorderOptions;
  private readonly now: () => number;
  private readonly acc = new Map<string, Accumulation>();
  private readonly dirty: Accumulation[] = [];
  /** End (exclusive, ms) of the window the held points belong to. */
  private windowEnd = -Infinity;
  private timer: NodeJS.Timeout | null = null;
  private readonly onTimer = (): void => {
    this.timer = null;
    this.drain();
  };

  constructor(sink: IngestSink, opts: RecorderOptions) {
    this.sink = sink;
    this.o = opts;
    this.now = opts.now ?? Date.now;
  }

  /**
   * record adds one measurement now; false when refused (a bad value, or a limit refused the
   * series). Counter increments must be finite and >= 0, observations finite.
   */
  record(name: string, value: number, labels: Readonly<Record<string, string>>, kind: MetricKind): boolean {
    let key = name;
    for (const ln in labels) key += '\u0000' + ln + '\u0001' + labels[ln];
    key += '\u0002' + kind;
    let a = this.acc.get(key);
    if (a === undefined) {
      const ref = this.sink.series(this.o.tenant, labelsFromRecord({ ...labels, __name__: name }), kind);
      // Refused series are not cached: a limit may allow it later (series expire).
      if (ref === REFUSED) return false;
      a = new Accumulation(ref, kind, kind === MetricKind.Histogram ? this.o.boundsOf(name) : null);
      this.acc.set(key, a);
    }
    const now = this.now();
    if (kind === MetricKind.Gauge) {
      const ok = this.sink.gaugeSet(a.ref, value, now);
      this.sink.flush();
      return ok;
    }
    if (kind === MetricKind.Counter) {
      if (!(value >= 0 && value < Infinity)) return false;
    } else if (!Number.isFinite(value)) return false;
    // Held points never straddle a window boundary: each drained sample lands in its own window.
    if (now >= this.windowEnd) {
      if (this.dirty.length > 0) this.drain();
      const res = this.o.resolutionMs;
      this.windowEnd = now - (((now % res) + res) % res) + res;
    }
    if (kind === MetricKind.Counter) a.sum += value;
    else a.observe(value);
    a.lastMs = now;
    if (!a.dirty) {
      a.dirty = true;
      this.dirty.push(a);
      if (this.timer === null) {
        this.timer = setTimeout(this.onTimer, Math.max(1, Math.min(this.o.drainIntervalMs, this.windowEnd - now)));
        this.timer.unref();
      }
    }
    return true;
  }

  /** drain hands every held point to the sink (one sample per series) and flushes it. */
  drain(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const d = this.dirty;
    if (d.length === 0) return;
    const sink = this.sink;
    for (let i = 0; i < d.length; i++) {
      const a = d[i]!;
      if (a.kind === MetricKind.Counter) sink.counter(a.ref, a.sum, a.lastMs);
      else if (sink.histogramBorrowed) sink.histogramBorrowed(a.ref, a.h!, false, 0, a.lastMs);
      else sink.histogram(a.ref, a.h!.clone(), a.lastMs);
      a.reset();
    }
    d.length = 0;
    sink.flush();
  }
}
