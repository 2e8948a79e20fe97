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
 * A series' numbers live in one Float64Array (Recorder.num), STRIDE doubles per series, at these
 * offsets: a counter sums its increments in SUM; a histogram counts, sums and bounds its
 * observations in call order (so the sum is the per-call path's to the last bit) and parks the
 * values themselves in its PENDING-long run of Recorder.pend, at POFF, NP of them so far. LAST is
 * the time of the newest point (the drained batch carries it, as one sample per series stamped
 * with its last time) and DIRTY is 1 once the series holds a point. In place, between an
 * application's own work, an object per series with a field per number (each double a heap box of
 * its own) was a cache miss per field; here one call writes one series' few adjacent doubles.
 * Slot 0 is the recorder's own: WINDOW_END at offset 0.
 */
const STRIDE = 8;
const SUM = 0, LAST = 1, COUNT = 2, MIN = 3, MAX = 4, NP = 5, POFF = 6, DIRTY = 7;
const WINDOW_END = 0;

/** A code names a series in the lookup tables: its slot times 4 plus its MetricKind. */
const codeOf = (slot: number, kind: MetricKind): number => slot * 4 + kind;

/** SCAN_MAX is how many values a KeyNode scans by === before it indexes them in a Map. */
const SCAN_MAX = 16;

/**
 * KeyNode is one step of the call-site lookup tree, the general path behind the Site tables (see
 * Site): from the metric name, each (label name, label value) the caller's object lists leads to
 * the next node, and the node reached last holds the series' code per metric kind (-1: none). A
 * node expects one label name next (the one its first caller listed: a call site lists the same
 * keys in the same order every time) and keeps that label's values and their children in two
 * small arrays scanned with ===. Another label name at the same step goes through `alt` (a node
 * per name); a label with more than SCAN_MAX values through `big`. Two objects listing the same
 * labels in another order take two paths to the one series.
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
  counter = -1;
  gauge = -1;
  histogram = -1;

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

  /** at returns the code of the series of `kind` held here, or -1. */
  at(kind: MetricKind): number {
    return kind === MetricKind.Counter ? this.counter : kind === MetricKind.Histogram ? this.histogram : this.gauge;
  }

  /** hold makes `code` the series of its kind here; other nodes may hold the same code. */
  hold(code: number): void {
    const kind = code & 3;
    if (kind === MetricKind.Counter) this.counter = code;
    else if (kind === MetricKind.Histogram) this.histogram = code;
    else this.gauge = code;
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
 * A Site is the fast path of record(): for one metric name and one list of label names in the
 * caller's order, one flat array `[next, nk, key_1..key_nk, (value_1..value_nk, code)...]` of at
 * most SITE_ROWS series. A call walks its label object once (the names must be the site's, in
 * order), then scans the rows comparing values with ===: label values are usually string
 * constants, so a hit is pointer compares in two or three adjacent cache lines. In place, between
 * an application's own work, the tree walk (a node, two arrays and their elements per label) cost a
 * cache miss per object; this is the fewest objects a lookup by name and values can touch. `next`
 * is the site of another label-name list of the same metric (or null). A site that fills up stops
 * taking rows and its metric's other series are found through the tree.
 */
type Site = unknown[];
const SITE_ROWS = 16;
/** MAX_KEYS: label objects with more names than this skip the sites (the tree handles any number). */
const MAX_KEYS = 8;

/**
 * Recorder is the embedded `record()` path: it pre-aggregates counters and histograms on the
 * calling thread, per series in place, and hands the sink one sample per touched series per drain
 * (every `drainIntervalMs`, at a window boundary, and on drain()) instead of a record per call. A
 * busy agent records the same few series thousands of times a second; per call this costs a Site
 * lookup (see Site; the KeyNode tree past it), a clock read and an in-place update of a few
 * doubles, with no allocation. Results are those of the per-call path: counters sum the same
 * increments into the same window, histograms hold the same observations in the same HDR and
 * classic buckets. Gauges keep their per-call path (a window keeps their min, max and last, not a
 * sum).
 */
export class Recorder {
  private readonly sink: IngestSink;
  private readonly o: RecorderOptions;
  private readonly now: () => number;
  /** Series codes by canonical key (name, sorted labels, kind): one per series. */
  private readonly codes = new Map<string, number>();
  /** Site tables by metric name (see Site). */
  private readonly sites = new Map<string, Site>();
  /** Call-site lookup tree by metric name (see KeyNode). */
  private readonly roots = new Map<string, KeyNode>();
  /** The label values of the call being looked up (see record). */
  private readonly scratch: unknown[] = ['', '', '', '', '', '', '', ''];
  /** Each series' numbers (see STRIDE); slot 0 is the recorder's. */
  private num = new Float64Array(STRIDE * 16);
  /** Each histogram's parked observations (see POFF). */
  private pend = new Float64Array(0);
  private pendUsed = 0;
  /** Per slot: the sink's series ref, and the histogram its drain fills (null for other kinds). */
  private readonly refs: number[] = [-1];
  private readonly hs: Array<SparseHistogram | null> = [null];
  private readonly kinds: MetricKind[] = [MetricKind.Gauge];
  private readonly dirty: number[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly onTimer = (): void => {
    this.timer = null;
    this.drain();
  };

  constructor(sink: IngestSink, opts: RecorderOptions) {
    this.sink = sink;
    this.o = opts;
    this.now = opts.now ?? Date.now;
    this.num[WINDOW_END] = -Infinity;
  }

  /**
   * record adds one measurement now; false when refused (a bad value, or a limit refused the
   * series). Counter increments must be finite and >= 0, observations finite.
   */
  record(name: string, value: number, labels: Readonly<Record<string, string>>, kind: MetricKind): boolean {
    const vals = this.scratch;
    let s = this.sites.get(name);
    while (s !== undefined) {
      const nk = s[1] as number;
      let j = 0;
      for (const ln in labels) {
        if (j === nk || s[2 + j] !== ln) {
          j = -1;
          break;
        }
        vals[j++] = labels[ln];
      }
      if (j === nk) {
        const w = nk + 1;
        for (let r = 2 + nk; r < s.length; r += w) {
          let k = 0;
          while (k < nk && s[r + k] === vals[k]) k++;
          if (k === nk) {
            const code = s[r + nk] as number;
            if ((code & 3) === kind) return this.add(code >> 2, kind, value);
          }
        }
        break;
      }
      s = s[0] as Site | null ?? undefined;
    }
    let code = -1;
    let n: KeyNode | undefined = this.roots.get(name);
    if (n !== undefined) {
      for (const ln in labels) {
        if (n.label !== ln) n = n.alt === null ? undefined : n.alt.get(ln);
        if (n === undefined) break;
        n = n.child(labels[ln]!);
        if (n === undefined) break;
      }
      if (n !== undefined) code = n.at(kind);
    }
    if (code < 0) {
      code = this.admit(name, labels, kind);
      if (code < 0) return false;
    }
    return this.add(code >> 2, kind, value);
  }

  /**
   * bind resolves a series once and returns its recording function: each call is record()
   * without the lookup. The labels are copied now. A series a limit refuses is looked up again
   * on the next call (as record() does), so the handle works once the limit allows it.
   */
  bind(name: string, labels: Readonly<Record<string, string>>, kind: MetricKind): (value: number) => boolean {
    const own = { ...labels };
    let slot = -1;
    return (value: number): boolean => {
      if (slot < 0) {
        const code = this.admit(name, own, kind);
        if (code < 0) return false;
        slot = code >> 2;
      }
      return this.add(slot, kind, value);
    };
  }

  /** add records one value into the series in `slot` now. */
  private add(slot: number, kind: MetricKind, value: number): boolean {
    const now = this.now();
    if (kind === MetricKind.Gauge) {
      const v = this.sink.gaugeSet(this.refs[slot]!, value, now);
      this.sink.flush();
      return v === ACCEPTED;
    }
    if (kind === MetricKind.Counter) {
      if (!(value >= 0 && value < Infinity)) return false;
    } else if (!Number.isFinite(value)) return false;
    let num = this.num;
    // Held points never straddle a window boundary: each drained sample lands in its own window.
    if (now >= num[WINDOW_END]!) {
      if (this.dirty.length > 0) this.drain();
      const res = this.o.resolutionMs;
      num[WINDOW_END] = now - (((now % res) + res) % res) + res;
    }
    const b = slot * STRIDE;
    if (kind === MetricKind.Counter) num[b + SUM] = num[b + SUM]! + value;
    else {
      num[b + COUNT] = num[b + COUNT]! + 1;
      num[b + SUM] = num[b + SUM]! + value;
      if (value < num[b + MIN]!) num[b + MIN] = value;
      if (value > num[b + MAX]!) num[b + MAX] = value;
      const np = num[b + NP]!;
      this.pend[num[b + POFF]! + np] = value;
      num[b + NP] = np + 1;
      if (np + 1 === PENDING) {
        this.fold(slot);
        num = this.num;
      }
    }
    num[b + LAST] = now;
    if (num[b + DIRTY] === 0) {
      num[b + DIRTY] = 1;
      this.dirty.push(slot);
      if (this.timer === null) {
        this.timer = setTimeout(this.onTimer, Math.max(1, Math.min(this.o.drainIntervalMs, num[WINDOW_END]! - now)));
        this.timer.unref();
      }
    }
    return true;
  }

  /**
   * fold puts a histogram's parked observations into its HDR buckets and their classic buckets,
   * as SeriesSlot does per observation, in ascending order (in place, between an application's own
   * work, bucketing each value on its call was cache misses and a sorted insert that moved the
   * buckets after it; sorted, each value is an append or a bump of the last bucket in a warm
   * loop), and sets the histogram's count, sum, min and max to the accumulated ones. The
   * histogram is complete after it (drain calls it).
   */
  private fold(slot: number): void {
    const h = this.hs[slot]!;
    const num = this.num;
    const b = slot * STRIDE;
    const n = num[b + NP]!;
    if (n > 0) {
      num[b + NP] = 0;
      const off = num[b + POFF]!;
      const vals = this.pend.subarray(off, off + n).sort();
      const bounds = h.bounds!, cc = h.classicCounts!;
      for (let i = 0; i < n; i++) {
        const v = vals[i]!;
        h.addAtIndex(hdrIndexOf(v), 1);
        const k = classicBucket(bounds, v);
        cc[k] = cc[k]! + 1;
      }
    }
    h.count = num[b + COUNT]!;
    h.sum = num[b + SUM]!;
    h.min = num[b + MIN]!;
    h.max = num[b + MAX]!;
  }

  /** reset empties a series for the next drain, keeping its buffers. */
  private reset(slot: number): void {
    const num = this.num;
    const b = slot * STRIDE;
    num[b + SUM] = 0;
    num[b + DIRTY] = 0;
    const h = this.hs[slot]!;
    if (h !== null) {
      num[b + NP] = 0;
      num[b + COUNT] = 0;
      num[b + MIN] = Infinity;
      num[b + MAX] = -Infinity;
      h.clear();
    }
  }

  /** newSlot gives a series admitted by the sink as `ref` its numbers (and a histogram's buffers). */
  private newSlot(ref: number, kind: MetricKind, name: string): number {
    const slot = this.refs.length;
    if ((slot + 1) * STRIDE > this.num.length) {
      const num = new Float64Array(this.num.length * 2);
      num.set(this.num);
      this.num = num;
    }
    const b = slot * STRIDE;
    this.refs.push(ref);
    this.kinds.push(kind);
    if (kind === MetricKind.Histogram) {
      const h = new SparseHistogram(16);
      const bounds = this.o.boundsOf(name);
      h.bounds = bounds;
      h.classicCounts = new Float64Array(bounds.length + 1);
      this.hs.push(h);
      const off = this.pendUsed;
      this.pendUsed += PENDING;
      if (this.pendUsed > this.pend.length) {
        const pend = new Float64Array(Math.max(PENDING * 4, this.pend.length * 2));
        pend.set(this.pend);
        this.pend = pend;
      }
      this.num[b + POFF] = off;
      this.num[b + MIN] = Infinity;
      this.num[b + MAX] = -Infinity;
    } else this.hs.push(null);
    return slot;
  }

  /**
   * admit finds or creates the series a lookup did not lead to and adds the caller's path to the
   * tree and, while it has room, the caller's site; returns its code, or -1 when refused. A refused
   * series is neither cached nor added (a limit may allow it later, as series expire), so refused
   * label values do not grow the lookup tables.
   */
  private admit(name: string, labels: Readonly<Record<string, string>>, kind: MetricKind): number {
    const ls = labelsFromRecord({ ...labels, __name__: name });
    const key = labelsKey(ls) + '\u0002' + kind;
    let code = this.codes.get(key);
    if (code === undefined) {
      const ref = this.sink.series(this.o.tenant, ls, kind);
      if (ref < 0) return -1; // refused by a limit (the sink's refusedRef)
      code = codeOf(this.newSlot(ref, kind, name), kind);
      this.codes.set(key, code);
    }
    let n: KeyNode | undefined = this.roots.get(name);
    if (n === undefined) this.roots.set(name, (n = new KeyNode()));
    const keys: string[] = [];
    for (const ln in labels) {
      keys.push(ln);
      n = n.branch(ln, true)!;
      const v = labels[ln]!;
      n = n.child(v) ?? n.grow(v);
    }
    n.hold(code);
    if (keys.length <= MAX_KEYS) this.addToSite(name, keys, labels, code);
    return code;
  }

  /** addToSite adds a series' row to the site of its name and label names, if it has room. */
  private addToSite(name: string, keys: readonly string[], labels: Readonly<Record<string, string>>, code: number): void {
    let s = this.sites.get(name);
    let last: Site | undefined;
    while (s !== undefined && !(s[1] === keys.length && keys.every((k, i) => s![2 + i] === k))) {
      last = s;
      s = (s[0] as Site | null) ?? undefined;
    }
    if (s === undefined) {
      s = [null, keys.length, ...keys];
      if (last === undefined) this.sites.set(name, s);
      else last[0] = s;
    }
    if ((s.length - 2 - keys.length) / (keys.length + 1) >= SITE_ROWS) return;
    for (const k of keys) s.push(labels[k]);
    s.push(code);
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
      const slot = d[i]!;
      const b = slot * STRIDE;
      const ref = this.refs[slot]!;
      if (this.kinds[slot] === MetricKind.Counter) sink.counter(ref, this.num[b + SUM]!, this.num[b + LAST]!);
      else {
        this.fold(slot);
        const h = this.hs[slot]!;
        if (sink.histogramBorrowed) sink.histogramBorrowed(ref, h, false, 0, this.num[b + LAST]!);
        else sink.histogram(ref, h.clone(), this.num[b + LAST]!);
      }
      this.reset(slot);
    }
    d.length = 0;
    sink.flush();
  }
}
