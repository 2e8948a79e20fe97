import type { IngestSink } from '../sink.js';
import { ACCEPTED } from '../sink.js';
import { SparseHistogram, hdrIndexOf } from '../../model/hdr.js';
import { labelsFromRecord, labelsKey } from '../../model/labels.js';
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

/** PENDING is how many observations a histogram holds before it folds them into its buckets. */
const PENDING = 256;

/**
 * Accumulation is one series' points recorded since the last drain, updated in place: a counter
 * sums its increments, a histogram counts, sums and bounds its observations in call order (so
 * the sum is the per-call path's to the last bit) and keeps the values themselves in `pend`.
 * They go into the HDR and classic buckets together, sorted, at the drain (or when `pend` is
 * full): in place, between an application's own work, bucketing each value on its call was
 * cache misses and a sorted insert that moved the buckets after it; sorted, each value is an
 * append or a bump of the last bucket in a warm loop. The buckets are those the worker would
 * have filled. `lastMs` is the time of the newest point: the drained batch carries it, as one
 * sample per series stamped with its last time.
 */
class Accumulation {
  readonly ref: number;
  readonly kind: MetricKind;
  sum = 0;
  readonly h: SparseHistogram | null;
  /** Histogram observations not bucketed yet (see fold), and how many. */
  private readonly pend: Float64Array | null;
  private np = 0;
  private count = 0;
  private min = Infinity;
  private max = -Infinity;
  lastMs = 0;
  dirty = false;

  constructor(ref: number, kind: MetricKind, bounds: Float64Array | null) {
    this.ref = ref;
    this.kind = kind;
    if (bounds === null) {
      this.h = null;
      this.pend = null;
    } else {
      const h = new SparseHistogram(16);
      h.bounds = bounds;
      h.classicCounts = new Float64Array(bounds.length + 1);
      this.h = h;
      this.pend = new Float64Array(PENDING);
    }
  }

  /** observe adds one observation: its count, sum and bounds now, its buckets at the next fold. */
  observe(v: number): void {
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    this.pend![this.np++] = v;
    if (this.np === PENDING) this.fold();
  }

  /**
   * fold puts the pending observations into the HDR buckets and their classic buckets, as
   * SeriesSlot does per observation, in ascending order, and sets the histogram's count, sum,
   * min and max to the accumulated ones. The histogram is complete after it (drain calls it).
   */
  fold(): void {
    const h = this.h!;
    const n = this.np;
    if (n > 0) {
      this.np = 0;
      const vals = this.pend!.subarray(0, n).sort();
      const bounds = h.bounds!, cc = h.classicCounts!;
      for (let i = 0; i < n; i++) {
        const v = vals[i]!;
        h.addAtIndex(hdrIndexOf(v), 1);
        const b = classicBucket(bounds, v);
        cc[b] = cc[b]! + 1;
      }
    }
    h.count = this.count;
    h.sum = this.sum;
    h.min = this.min;
    h.max = this.max;
  }

  /** reset empties the accumulation for the next drain, keeping its arrays. */
  reset(): void {
    this.sum = 0;
    this.dirty = false;
    const h = this.h;
    if (h !== null) {
      this.np = 0;
      this.count = 0;
      this.min = Infinity;
      this.max = -Infinity;
      h.size = 0;
      h.count = 0;
      h.sum = 0;
      h.min = Infinity;
      h.max = -Infinity;
      h.classicCounts!.fill(0);
    }
  }
}

/** SCAN_MAX is how many values a KeyNode scans by === before it indexes them in a Map. */
const SCAN_MAX = 16;

/**
 * KeyNode is one step of the call-site lookup tree: from the metric name, each (label name,
 * label value) the caller's object lists leads to the next node, and the node reached last holds
 * the accumulation per metric kind in its own fields. A node expects one label name next (the one
 * its first caller listed: a call site lists the same keys in the same order every time) and keeps
 * that label's values and their children in two small arrays scanned with ===. Values are
 * usually string constants, so a hit is a pointer compare in one or two cache lines. In place,
 * between an application's own work, the old walk (two Map lookups per label: name, then value)
 * was mostly cache misses on hash tables; a tight loop hid that. Another label name at the same
 * step goes through `alt` (a node per name); a label with more than SCAN_MAX values through `big`.
 * Two objects listing the same labels in another order take two paths to the one accumulation.
 */
class KeyNode {
  /** The label name this node expects next (null until a caller went through it). */
  label: string | null = null;
  readonly vals: string[] = [];
  readonly kids: KeyNode[] = [];
  /** The values past SCAN_MAX, indexed. */
  big: Map<string, KeyNode> | null = null;
  /** Nodes for the same step when the caller's next label is another name than `label`. */
  alt: Map<string, KeyNode> | null = null;
  counter: Accumulation | undefined = undefined;
  gauge: Accumulation | undefined = undefined;
  histogram: Accumulation | undefined = undefined;

  /** child is the node the value `v` of this node's label leads to, or undefined. */
  child(v: string): KeyNode | undefined {
    const vals = this.vals;
    for (let j = 0; j < vals.length; j++) if (vals[j] === v) return this.kids[j];
    return this.big === null ? undefined : this.big.get(v);
  }

  /** branch is the node of this step that expects label `ln` next, created when `make`. */
  branch(ln: string, make: boolean): KeyNode | undefined {
    if (this.label === ln) return this;
    if (this.label === null) {
      if (!make) return undefined;
      this.label = ln;
      return this;
    }
    let b = this.alt?.get(ln);
    if (b === undefined && make) {
      b = new KeyNode();
      b.label = ln;
      (this.alt ??= new Map()).set(ln, b);
    }
    return b;
  }

  /** at returns the accumulation of `kind` held here. */
  at(kind: MetricKind): Accumulation | undefined {
    return kind === MetricKind.Counter ? this.counter : kind === MetricKind.Histogram ? this.histogram : this.gauge;
  }

  /** hold makes `a` the accumulation of `kind` here; the kind's accumulations of other nodes are the same objects. */
  hold(kind: MetricKind, a: Accumulation): void {
    if (kind === MetricKind.Counter) this.counter = a;
    else if (kind === MetricKind.Histogram) this.histogram = a;
    else this.gauge = a;
  }

  /** grow adds the child of value `v` and returns it. */
  grow(v: string): KeyNode {
    const c = new KeyNode();
    if (this.vals.length < SCAN_MAX) {
      this.vals.push(v);
      this.kids.push(c);
    } else (this.big ??= new Map()).set(v, c);
    return c;
  }
}

/**
 * Recorder is the embedded `record()` path: it pre-aggregates counters and histograms on the
 * calling thread, in a map from the interned label set to its accumulation, and hands the sink
 * one sample per touched series per drain (every `drainIntervalMs`, at a window boundary, and on
 * drain()) instead of a record per call. A busy agent records the same few series thousands of
 * times a second; per call this costs a walk of the lookup tree (see KeyNode), a clock read
 * and an in-place update, with no allocation. Results are those of the per-call path: counters sum the same increments into
 * the same window, histograms hold the same observations in the same HDR and classic buckets.
 * Gauges keep their per-call path (a window keeps their min, max and last, not a sum).
 */
export class Recorder {
  private readonly sink: IngestSink;
  private readonly o: RecorderOptions;
  private readonly now: () => number;
  /** Accumulations by canonical key (name, sorted labels, kind): one per series. */
  private readonly acc = new Map<string, Accumulation>();
  /** Call-site lookup tree by metric name (see KeyNode). */
  private readonly roots = new Map<string, KeyNode>();
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
    let a: Accumulation | undefined;
    let n: KeyNode | undefined = this.roots.get(name);
    if (n !== undefined) {
      for (const ln in labels) {
        if (n.label !== ln) n = n.alt === null ? undefined : n.alt.get(ln);
        if (n === undefined) break;
        n = n.child(labels[ln]!);
        if (n === undefined) break;
      }
      if (n !== undefined) a = n.at(kind);
    }
    if (a === undefined) {
      a = this.admit(name, labels, kind);
      if (a === undefined) return false;
    }
    return this.add(a, value);
  }

  /**
   * bind resolves a series once and returns its recording function: each call is record()
   * without the lookup. The labels are copied now. A series a limit refuses is looked up again
   * on the next call (as record() does), so the handle works once the limit allows it.
   */
  bind(name: string, labels: Readonly<Record<string, string>>, kind: MetricKind): (value: number) => boolean {
    const own = { ...labels };
    let a: Accumulation | undefined;
    return (value: number): boolean => {
      if (a === undefined) {
        a = this.admit(name, own, kind);
        if (a === undefined) return false;
      }
      return this.add(a, value);
    };
  }

  /** add records one value into a resolved series now. */
  private add(a: Accumulation, value: number): boolean {
    const kind = a.kind;
    const now = this.now();
    if (kind === MetricKind.Gauge) {
      const v = this.sink.gaugeSet(a.ref, value, now);
      this.sink.flush();
      return v === ACCEPTED;
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

  /**
   * admit finds or creates the accumulation of a series the lookup tree does not lead to yet and
   * adds the caller's path to the tree. A refused series is neither cached nor added (a limit may
   * allow it later, as series expire), so refused label values do not grow the tree.
   */
  private admit(name: string, labels: Readonly<Record<string, string>>, kind: MetricKind): Accumulation | undefined {
    const ls = labelsFromRecord({ ...labels, __name__: name });
    const key = labelsKey(ls) + '\u0002' + kind;
    let a = this.acc.get(key);
    if (a === undefined) {
      const ref = this.sink.series(this.o.tenant, ls, kind);
      if (ref < 0) return undefined; // refused by a limit (the sink's refusedRef)
      a = new Accumulation(ref, kind, kind === MetricKind.Histogram ? this.o.boundsOf(name) : null);
      this.acc.set(key, a);
    }
    let n: KeyNode | undefined = this.roots.get(name);
    if (n === undefined) this.roots.set(name, (n = new KeyNode()));
    for (const ln in labels) {
      n = n.branch(ln, true)!;
      const v = labels[ln]!;
      n = n.child(v) ?? n.grow(v);
    }
    n.hold(kind, a);
    return a;
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
      else {
        a.fold();
        if (sink.histogramBorrowed) sink.histogramBorrowed(a.ref, a.h!, false, 0, a.lastMs);
        else sink.histogram(a.ref, a.h!.clone(), a.lastMs);
      }
      a.reset();
    }
    d.length = 0;
    sink.flush();
  }
}
