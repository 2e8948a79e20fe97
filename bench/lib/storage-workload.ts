/**
 * The storage benchmark's workload, generated the same way every time it is replayed (one
 * seeded generator per kind), so tallyd's Appender and the peers' remote-write receivers get the
 * same samples: counters with random integer increments, random-walk integer gauges, histograms
 * of 3 to 7 log-normal latency observations per window.
 */
import { PROMETHEUS_DEFAULT_BUCKETS, SparseHistogram } from '../../src/model/hdr.js';
import { MetricKind } from '../../src/model/metric-kind.js';

/** RES is the window (and tallyd flush) interval. */
export const RES = 10_000;

/** metricName is the benchmark's metric of one kind. */
export function metricName(kind: MetricKind): string {
  return kind === MetricKind.Counter ? 'bench_requests_total' : kind === MetricKind.Gauge ? 'bench_queue_depth' : 'bench_latency_seconds';
}

/** kindName is the kind's word in reports. */
export function kindName(kind: MetricKind): string {
  return kind === MetricKind.Counter ? 'counter' : kind === MetricKind.Gauge ? 'gauge' : 'histogram';
}

/** seriesLabels are one series' labels besides __name__ (50 instances share the series). */
export function seriesLabels(s: number): Record<string, string> {
  return { instance: `host-${s % 50}`, series: String(s) };
}

/**
 * jitterMs is how far series s' sample of window w lies past the 10 s grid in the jittered
 * workload (--jitter): 0 to 8 ms, as a scraper's timestamps drift by a few ms around its grid.
 */
export function jitterMs(s: number, w: number): number {
  // A hash, not an arithmetic pattern: a periodic jitter would flatter general-purpose compressors.
  let h = Math.imul(s + 1, 0x9e3779b1) ^ Math.imul(w + 1, 0x85ebca77);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h ^= h >>> 13;
  return (h >>> 0) % 9;
}

/** LES are the classic bucket bounds both tallyd (no configured bounds) and the peers see. */
export const LES: readonly number[] = PROMETHEUS_DEFAULT_BUCKETS;

/**
 * Workload replays one kind's windows. `next(s)` must be called for every series of a window in
 * series order, window after window: it advances the generator and returns the window's value.
 */
export class Workload {
  readonly kind: MetricKind;
  readonly series: number;
  private seed: number;
  private readonly gauges: Float64Array;

  constructor(kind: MetricKind, series: number) {
    this.kind = kind;
    this.series = series;
    this.seed = 12345 + kind;
    this.gauges = new Float64Array(series).fill(1000);
  }

  private rnd(): number {
    this.seed = (this.seed * 1664525 + 1013904223) >>> 0;
    return this.seed / 4294967296;
  }

  private normal(): number {
    return Math.sqrt(-2 * Math.log(this.rnd() + 1e-12)) * Math.cos(2 * Math.PI * this.rnd());
  }

  /** counter returns series s' increment in the next window. */
  counter(): number {
    return Math.floor(this.rnd() * 100);
  }

  /** gauge returns series s' value in the next window. */
  gauge(s: number): number {
    return (this.gauges[s] = this.gauges[s]! + Math.floor(this.rnd() * 21) - 10);
  }

  /** histogram returns the next window's observations of one series. */
  histogram(): SparseHistogram {
    const h = new SparseHistogram(8);
    const n = 3 + Math.floor(this.rnd() * 5);
    for (let i = 0; i < n; i++) h.record(Math.round(Math.exp(-3 + 0.8 * this.normal()) * 1e6) / 1e6);
    return h;
  }
}
