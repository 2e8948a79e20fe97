import { SparseHistogram } from '../model/hdr.js';
import { isStaleNaN, STALE_NAN } from '../model/stale.js';
import { grown } from './typed-arrays.js';

/**
 * GaugeStats are a gauge window's statistics: `last` (the value with the latest timestamp),
 * `min`, `max`, `sum` and `count`. Only gauge windows allocate one (in their WindowParts).
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
 * WindowParts are what an open window of a gauge, a histogram or a StatsD set holds besides the
 * WindowTable's numbers, created by the first value that needs them; counter windows have none:
 * - gauge: `gauge`;
 * - histogram: `h`;
 * - StatsD set: `members`, the distinct member hashes seen in the window.
 */
export class WindowParts {
  gauge: GaugeStats | null = null;
  h: SparseHistogram | null = null;
  members: Set<number> | null = null;

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

  /** merge folds another window's parts into these. */
  merge(o: WindowParts): void {
    if (o.gauge !== null) (this.gauge ?? (this.gauge = new GaugeStats())).merge(o.gauge);
    if (o.h !== null) this.histogram().add(o.h);
    if (o.members !== null) for (const m of o.members) this.addMember(m);
  }
}

/**
 * WindowTable holds the open aggregation windows of a worker's series, one row per window, one
 * column per field, so a counter window costs 44 bytes of typed arrays instead of an object, four
 * boxed doubles and an array. A window is keyed by its series and start
 * (floor(ts / resolution) * resolution): a series' windows are chained from its newest
 * (SeriesTable.win) through `prev`, by descending start. Rows of closed windows are reused, and
 * their parts dropped, so only series with an open window hold window state.
 * - counter: `sum` is the increment, `raw` the sender's value when it sends totals (NaN: it
 *   arrived as increments);
 * - every kind: `t` is the time of the window's last point (where reads stamp its sample).
 */
export class WindowTable {
  prev: Int32Array = new Int32Array(0);
  start: Float64Array = new Float64Array(0);
  t: Float64Array = new Float64Array(0);
  raw: Float64Array = new Float64Array(0);
  sum: Float64Array = new Float64Array(0);
  readonly parts: Array<WindowParts | null> = [];
  private free: number[] = [];
  private used = 0;

  /** open takes a row for a new window starting at `start`; the caller links it to its series (`prev`). */
  open(start: number): number {
    let w = this.free.pop();
    if (w === undefined) {
      w = this.used++;
      if (w >= this.start.length) this.grow(w + 1);
    }
    this.prev[w] = -1;
    this.start[w] = start;
    this.t[w] = -Infinity;
    this.raw[w] = NaN;
    this.sum[w] = 0;
    this.parts[w] = null;
    return w;
  }

  /** release returns a closed window's row, dropping its parts. */
  release(w: number): void {
    this.parts[w] = null;
    this.free.push(w);
  }

  /** partsOf returns a window's parts, creating them on first use. */
  partsOf(w: number): WindowParts {
    return this.parts[w] ?? (this.parts[w] = new WindowParts());
  }

  /** merge folds window `o` into window `w` with the same start (used when a commit failed). */
  merge(w: number, o: number): void {
    const ot = this.t[o]!, oraw = this.raw[o]!;
    if (ot >= this.t[w]!) {
      this.t[w] = ot;
      if (oraw === oraw || isStaleNaN(oraw)) this.raw[w] = oraw;
    }
    this.sum[w] = this.sum[w]! + this.sum[o]!;
    const op = this.parts[o];
    if (op) this.partsOf(w).merge(op);
  }

  /** view copies a window for the cold paths that want an object (benchmarks, tests). */
  view(w: number): WindowView {
    const p = this.parts[w];
    return { start: this.start[w]!, t: this.t[w]!, raw: this.raw[w]!, sum: this.sum[w]!, gauge: p?.gauge ?? null, h: p?.h ?? null, members: p?.members ?? null };
  }

  private grow(n: number): void {
    const cap = Math.max(n, this.start.length * 2, 64);
    this.prev = grown(this.prev, new Int32Array(cap));
    this.start = grown(this.start, new Float64Array(cap));
    this.t = grown(this.t, new Float64Array(cap));
    this.raw = grown(this.raw, new Float64Array(cap));
    this.sum = grown(this.sum, new Float64Array(cap));
  }
}

/** WindowView is one window as a plain object (see WindowTable.view). */
export interface WindowView {
  readonly start: number;
  readonly t: number;
  readonly raw: number;
  readonly sum: number;
  readonly gauge: GaugeStats | null;
  readonly h: SparseHistogram | null;
  readonly members: Set<number> | null;
}
