import { SparseHistogram } from '../model/hdr.js';
import { isStaleNaN, STALE_NAN } from '../model/stale.js';

/**
 * GaugeStats are a gauge window's statistics: `last` (the value with the latest timestamp),
 * `min`, `max`, `sum` and `count`. Only gauge windows allocate one, so counter and histogram
 * windows do not carry (and V8 does not box) five numbers they never use.
 */
export class GaugeStats {
  // Initialised where declared: a bare ES2022 field starts as undefined, and V8 then allocates
  // a heap number for every double stored into it.
  last = 0;
  lastTs = -Infinity;
  min = Infinity;
  max = -Infinity;
  sum = 0;
  count = 0;

  /** addStale ends the series at ts: the window's last value becomes the stale marker. */
  addStale(ts: number): void {
    if (ts >= this.lastTs) {
      this.last = STALE_NAN;
      this.lastTs = ts;
    }
  }

  /** add records one value observed at ts. */
  add(v: number, ts: number): void {
    if (ts >= this.lastTs) {
      this.last = v;
      this.lastTs = ts;
    }
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    this.sum += v;
    this.count++;
  }

  /** merge folds another window's statistics into these. */
  merge(o: GaugeStats): void {
    if (o.lastTs >= this.lastTs) {
      this.last = o.last;
      this.lastTs = o.lastTs;
    }
    if (o.min < this.min) this.min = o.min;
    if (o.max > this.max) this.max = o.max;
    this.sum += o.sum;
    this.count += o.count;
  }
}

/**
 * WindowAgg is one open aggregation window of one series, keyed by its start
 * (floor(ts / resolution) * resolution). One class serves every kind so the hot loop stays
 * monomorphic; the fields a kind does not use stay at their initial values:
 * - counter: `sum` is the increment, `raw` the sender's value when it sends totals;
 * - gauge: `gauge`, created by the first value;
 * - histogram: `h`;
 * - StatsD set: `members`, the distinct member hashes seen in the window.
 */
export class WindowAgg {
  readonly start: number;
  /** Time of the window's last point (where reads stamp its sample). */
  t = -Infinity;
  /** Counter that arrived cumulative: the sender's value at `t` (NaN: arrived as increments). */
  raw = NaN;
  sum = 0;
  gauge: GaugeStats | null = null;
  h: SparseHistogram | null = null;
  members: Set<number> | null = null;

  constructor(start: number) {
    this.start = start;
  }

  /** addGauge records one gauge value observed at ts. */
  addGauge(v: number, ts: number): void {
    (this.gauge ?? (this.gauge = new GaugeStats())).add(v, ts);
  }

  /** histogram returns the window's histogram, creating it on first use. */
  histogram(): SparseHistogram {
    return this.h ?? (this.h = new SparseHistogram());
  }

  /** addMember records a set member and returns the window's distinct count. */
  addMember(hash: number): number {
    const m = this.members ?? (this.members = new Set<number>());
    m.add(hash);
    return m.size;
  }

  /** merge folds another window with the same start into this one (used when a commit failed). */
  merge(o: WindowAgg): void {
    if (o.t >= this.t) {
      this.t = o.t;
      if (o.raw === o.raw || isStaleNaN(o.raw)) this.raw = o.raw;
    }
    this.sum += o.sum;
    if (o.gauge !== null) (this.gauge ?? (this.gauge = new GaugeStats())).merge(o.gauge);
    if (o.h !== null) this.histogram().add(o.h);
    if (o.members !== null) for (const m of o.members) this.addMember(m);
  }
}
