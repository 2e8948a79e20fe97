import { SparseHistogram } from '../model/hdr.js';
import { MetricKind } from '../model/metric-kind.js';
import type { BucketColumns } from './bucket-columns.js';
import { addHistogram } from './hist-add.js';
import { isStaleNaN } from '../model/stale.js';

/** NONE and NONE_U8 stand for the columns a kind does not use (never written: grow keeps empty columns empty). */
const NONE = new Float64Array(0);
const NONE_U8 = new Uint8Array(0);

/** EMPTY is a placeholder for a histogram slot about to be assigned (never read or changed). */
const EMPTY = new SparseHistogram(1);

/**
 * PointBuf holds windows of one series in column form, ascending by window index: the tail of a
 * head chunk, a decoded chunk, or points pending in an appender. Columns by kind:
 * counter `a` = increment, `b` = the sender's own (cumulative) value at the window's last point,
 * NaN when the counter arrived as increments; gauge `a..e` = last, min, max, sum, count;
 * histogram `hists`. Every kind has `t`: the time (ms) of the last point that went into the
 * window, where reads stamp the window's sample. A stale marker is the value (`a` for gauges,
 * `b` for counters) being Prometheus' stale NaN.
 * Indices are tier window indices (see Tier), not milliseconds.
 */
export class PointBuf {
  readonly kind: MetricKind;
  n: number;
  idx: Float64Array;
  t: Float64Array;
  a: Float64Array;
  b: Float64Array;
  c: Float64Array;
  d: Float64Array;
  e: Float64Array;
  hists: SparseHistogram[];
  /**
   * own[i] is 1 when hists[i] was made by this buffer (a clone or a merge result) and has not
   * been handed out, so a merge may add into it in place; 0 when it is shared (pushed by a
   * caller, copied from another buffer, or copied out), so a merge clones it first.
   */
  private own: Uint8Array;
  /**
   * cols, when set (histograms read for their classic views only), hold each window's `<= le`
   * counts, count and sum instead of `hists`, which then stays empty (see bucket-columns.ts).
   */
  readonly cols: BucketColumns | null;
  /**
   * valuesOnly: a gauge buffer that keeps each window's last value only (`b..e` are not kept), for
   * reads that build samples; decoding steps over the other columns.
   */
  readonly valuesOnly: boolean;

  constructor(kind: MetricKind, capacity = 16, cols: BucketColumns | null = null, valuesOnly = false) {
    // A column of length 0 is one the kind does not use, and grow keeps it so.
    capacity = Math.max(1, capacity);
    this.kind = kind;
    this.n = 0;
    const gauge = kind === MetricKind.Gauge;
    const hist = kind === MetricKind.Histogram;
    this.idx = new Float64Array(capacity);
    this.t = new Float64Array(capacity);
    // A read allocates a buffer per series and tier: columns a kind does not use are shared.
    this.a = hist ? NONE : new Float64Array(capacity);
    this.valuesOnly = gauge && valuesOnly;
    this.b = hist || this.valuesOnly ? NONE : new Float64Array(capacity);
    const more = gauge && !valuesOnly;
    this.c = more ? new Float64Array(capacity) : NONE;
    this.d = more ? new Float64Array(capacity) : NONE;
    this.e = more ? new Float64Array(capacity) : NONE;
    this.hists = [];
    this.own = hist && cols === null ? new Uint8Array(capacity) : NONE_U8;
    this.cols = cols;
    if (cols !== null && cols.counts.length < capacity) cols.grow(capacity, 0);
  }

  clear(): void {
    this.n = 0;
    this.hists.length = 0;
    this.cols?.reuse();
  }

  /** truncate keeps the first `n` windows. */
  truncate(n: number): void {
    if (n >= this.n) return;
    this.n = n;
    if (this.kind === MetricKind.Histogram) this.hists.length = n;
  }

  /**
   * reserve makes room for `extra` more windows at once (a chunk about to be decoded knows its
   * point count): growing by doubling from 64 to a few thousand allocated and copied every
   * column seven times per chunk, a third of an analytics query's time.
   */
  reserve(extra: number): void {
    if (this.n + extra > this.idx.length) this.grow(this.n + extra);
  }

  private grow(min = 0): void {
    const cap = Math.max(this.idx.length * 2 || 16, min);
    const g = (x: Float64Array): Float64Array => {
      if (x.length === 0) return x;
      const y = new Float64Array(cap);
      y.set(x);
      return y;
    };
    const idx = new Float64Array(cap);
    idx.set(this.idx);
    this.idx = idx;
    this.t = g(this.t);
    this.a = g(this.a);
    this.b = g(this.b);
    this.c = g(this.c);
    this.d = g(this.d);
    this.e = g(this.e);
    if (this.own.length > 0) {
      const own = new Uint8Array(cap);
      own.set(this.own);
      this.own = own;
    }
    this.cols?.grow(cap, this.n);
  }

  /** lastIdx is the last window index, or -Infinity when empty. */
  lastIdx(): number {
    return this.n > 0 ? this.idx[this.n - 1]! : -Infinity;
  }

  /** find returns the position of window `w`, or -(insertion point) - 1. */
  find(w: number): number {
    let lo = 0, hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.idx[mid]! < w) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.n && this.idx[lo] === w ? lo : -lo - 1;
  }

  /** copyFrom appends point j of `src` (same kind); histograms are shared, not copied. */
  copyFrom(src: PointBuf, j: number): void {
    this.insertAt(this.n, src.idx[j]!);
    const i = this.n - 1;
    this.setFrom(i, src, j);
  }

  private setFrom(i: number, src: PointBuf, j: number): void {
    this.t[i] = src.t[j]!;
    switch (this.kind) {
      case MetricKind.Counter:
        this.a[i] = src.a[j]!;
        this.b[i] = src.b[j]!;
        return;
      case MetricKind.Gauge:
        this.a[i] = src.a[j]!;
        if (this.valuesOnly) return;
        this.b[i] = src.b[j]!;
        this.c[i] = src.c[j]!;
        this.d[i] = src.d[j]!;
        this.e[i] = src.e[j]!;
        return;
      case MetricKind.Histogram:
        if (this.cols !== null) {
          this.cols.copyRow(i, src.cols!, j);
          return;
        }
        this.hists[i] = src.hists[j]!;
        this.own[i] = 0;
        // Shared from now on: neither buffer may change it in place.
        src.own[j] = 0;
        return;
    }
  }

  private insertAt(pos: number, w: number): void {
    if (this.n === this.idx.length) this.grow();
    const n = this.n;
    if (pos < n) {
      this.idx.copyWithin(pos + 1, pos, n);
      this.t.copyWithin(pos + 1, pos, n);
      if (this.a.length) this.a.copyWithin(pos + 1, pos, n);
      if (this.b.length) this.b.copyWithin(pos + 1, pos, n);
      if (this.c.length) {
        this.c.copyWithin(pos + 1, pos, n);
        this.d.copyWithin(pos + 1, pos, n);
        this.e.copyWithin(pos + 1, pos, n);
      }
      if (this.cols !== null) this.cols.shift(pos, n);
      else if (this.kind === MetricKind.Histogram) {
        this.hists.splice(pos, 0, EMPTY);
        this.own.copyWithin(pos + 1, pos, n);
      }
    } else if (this.kind === MetricKind.Histogram && this.cols === null) {
      this.hists.push(EMPTY);
    }
    if (this.own.length > 0) this.own[pos] = 0;
    this.idx[pos] = w;
    this.n = n + 1;
  }

  /**
   * mergeFrom merges point j of `src` into this buffer: a new window is inserted in order, an
   * existing one merges (counters add, and keep the sender's value of the later point; gauges
   * keep the later last and merge min/max/sum/count; histograms add; the window's time is the
   * later of the two). Histograms from `src` are cloned before being kept or modified.
   */
  mergeFrom(src: PointBuf, j: number): void {
    this.mergeAt(src.idx[j]!, src, j);
  }

  /**
   * mergeShared is mergeFrom that keeps a new window's histogram by reference instead of cloning
   * it (it is cloned before any merge changes it): for buffers that live only while the
   * histograms' owner does, such as one commit's grouped points.
   */
  mergeShared(src: PointBuf, j: number): void {
    const w = src.idx[j]!;
    if (this.kind === MetricKind.Histogram && (this.n === 0 || this.idx[this.n - 1]! < w)) {
      this.insertAt(this.n, w);
      this.t[this.n - 1] = src.t[j]!;
      this.hists[this.n - 1] = src.hists[j]!;
      return;
    }
    this.mergeAt(w, src, j);
  }

  /** mergeAt is mergeFrom into window `w` (a rollup's index for the point's time). */
  mergeAt(w: number, src: PointBuf, j: number): void {
    let pos = this.n > 0 && this.idx[this.n - 1]! < w ? -this.n - 1 : this.find(w);
    if (pos < 0) {
      pos = -pos - 1;
      this.insertAt(pos, w);
      if (this.kind === MetricKind.Histogram) {
        this.t[pos] = src.t[j]!;
        this.hists[pos] = src.hists[j]!.clone();
        this.own[pos] = 1;
      } else this.setFrom(pos, src, j);
      return;
    }
    const later = src.t[j]! >= this.t[pos]!;
    if (later) this.t[pos] = src.t[j]!;
    switch (this.kind) {
      case MetricKind.Counter:
        this.a[pos] = this.a[pos]! + src.a[j]!;
        if (later && (src.b[j]! === src.b[j]! || isStaleNaN(src.b[j]!))) this.b[pos] = src.b[j]!;
        return;
      case MetricKind.Gauge:
        if (later) this.a[pos] = src.a[j]!;
        if (this.valuesOnly) return;
        if (src.b[j]! < this.b[pos]!) this.b[pos] = src.b[j]!;
        if (src.c[j]! > this.c[pos]!) this.c[pos] = src.c[j]!;
        this.d[pos] = this.d[pos]! + src.d[j]!;
        this.e[pos] = this.e[pos]! + src.e[j]!;
        return;
      case MetricKind.Histogram: {
        if (this.own[pos] === 1) {
          addHistogram(this.hists[pos]!, src.hists[j]!);
          return;
        }
        const merged = this.hists[pos]!.clone();
        addHistogram(merged, src.hists[j]!);
        this.hists[pos] = merged;
        this.own[pos] = 1;
        return;
      }
    }
  }

  /**
   * pushCounter appends a counter window (caller keeps ascending order or uses merge): `t` is
   * its last point's time, `raw` the sender's cumulative value there (NaN: none).
   */
  pushCounter(w: number, inc: number, t: number, raw = NaN): void {
    this.insertAt(this.n, w);
    this.t[this.n - 1] = t;
    this.a[this.n - 1] = inc;
    this.b[this.n - 1] = raw;
  }

  /**
   * appendWindows appends `count` windows (ascending, after the last) with their times and returns
   * where they start; their value columns are left for the caller to write (a decoder fills them
   * in place, a column at a time, instead of a push per window).
   */
  appendWindows(idx: Float64Array, t: Float64Array, count: number): number {
    this.reserve(count);
    const start = this.n;
    for (let i = 0; i < count; i++) {
      this.idx[start + i] = idx[i]!;
      this.t[start + i] = t[i]!;
    }
    this.n = start + count;
    return start;
  }

  pushGauge(w: number, last: number, min: number, max: number, sum: number, count: number, t: number): void {
    this.insertAt(this.n, w);
    const i = this.n - 1;
    this.t[i] = t;
    this.a[i] = last;
    if (this.valuesOnly) return;
    this.b[i] = min;
    this.c[i] = max;
    this.d[i] = sum;
    this.e[i] = count;
  }

  /**
   * pushRow appends a histogram window to `cols` (a buffer read into BucketColumns, with room
   * reserved): the window's numbers are taken out of `h`, which the caller may reuse.
   */
  pushRow(w: number, h: SparseHistogram, t: number): void {
    this.cols!.set(this.pushWindow(w, t), h);
  }

  /** pushWindow appends a window's index and time (room reserved) and returns its row, which the caller fills in `cols`. */
  pushWindow(w: number, t: number): number {
    const i = this.n++;
    this.idx[i] = w;
    this.t[i] = t;
    return i;
  }

  /** pushHistogram appends a histogram window: kept by reference, or into `cols` (then `h` may be reused). */
  pushHistogram(w: number, h: SparseHistogram, t: number): void {
    this.insertAt(this.n, w);
    this.t[this.n - 1] = t;
    if (this.cols !== null) this.cols.set(this.n - 1, h);
    else this.hists[this.n - 1] = h;
  }
}
