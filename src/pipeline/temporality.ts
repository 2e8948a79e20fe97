import { SparseHistogram } from '../model/hdr.js';
import { histogramCount, readHistogram } from './records.js';

/**
 * Cumulative-to-delta conversion per (series, stream start), as the OpenTelemetry Collector's
 * cumulativetodelta processor does, with the reset rules of SPEC section 3:
 * - the first point ever seen of a series counts in full when it carries a start time (it is the
 *   increment since that start); without one it only sets the baseline;
 * - a new start time, or a total lower than the previous one, starts a new stream whose first
 *   point counts in full (after a reset the counter restarted from zero);
 * - a point older than the last one seen is stale (a retry or reordering) and counts nothing.
 * The baseline lives in CumulativeStream and is persisted with each flush (StreamJSON), so a
 * restarted worker resumes the stream instead of re-counting or dropping it.
 */
export class CumulativeStream {
  // Fields are initialised where declared: a bare ES2022 field starts as undefined, and V8 then
  // allocates a heap number for every double stored into it.
  /** Start time of the current stream (0 when the sender gives none). */
  start = 0;
  lastTs = -Infinity;
  /** Last cumulative total (counters). */
  value = 0;
  /** Last cumulative histogram (histograms). */
  h: SparseHistogram | null = null;
  /** Set when the baseline changed since it was last persisted. */
  dirty = false;
  /** Set once a baseline exists (seen here or loaded from the store). */
  known = false;
  /** Set while the stream waits on the aggregator's list of baselines to persist. */
  queued = false;

  /** counterIncrement advances the stream with a cumulative total and returns the increment to count. */
  counterIncrement(total: number, startMs: number, ts: number): number {
    if (!this.known) {
      this.reset(startMs, ts);
      this.value = total;
      return startMs > 0 ? total : 0;
    }
    if (ts < this.lastTs) return 0;
    const newStream = (startMs > 0 && startMs !== this.start) || total < this.value;
    const inc = newStream ? total : total - this.value;
    if (startMs > 0) this.start = startMs;
    this.value = total;
    this.lastTs = ts;
    this.dirty = true;
    return inc;
  }

  /**
   * histogramIncrement advances the stream with the cumulative histogram encoded at buf[off]
   * (see records.ts) and returns the delta to record, written into `out`, or null when nothing
   * counts. The baseline is overwritten in place, so a known stream allocates nothing. `bounds`
   * are the series' classic bounds, shared instead of copied when the point carries the same.
   */
  histogramIncrement(buf: Float64Array, off: number, startMs: number, ts: number, out: SparseHistogram, bounds: Float64Array | null): SparseHistogram | null {
    // The steady state (a known stream, a later point of the baseline's layout) stays small
    // enough to inline into the worker's apply loop, so ts and the start time reach it unboxed.
    const base = this.h;
    if (base !== null && this.known && ts >= this.lastTs && !(startMs > 0 && startMs !== this.start) && histogramCount(buf, off) >= base.count && sameLayout(base, buf, off)) {
      subtractInto(out, base, buf, off);
      this.lastTs = ts;
      this.dirty = true;
      return out;
    }
    return this.histogramChange(buf, off, startMs, ts, out, bounds);
  }

  /** histogramChange is histogramIncrement for a first point, an older one, a reset or a new layout. */
  private histogramChange(buf: Float64Array, off: number, startMs: number, ts: number, out: SparseHistogram, bounds: Float64Array | null): SparseHistogram | null {
    if (!this.known || this.h === null) {
      this.reset(startMs, ts);
      this.h = readHistogram(new SparseHistogram(), buf, off, bounds);
      return startMs > 0 ? readHistogram(out, buf, off, this.h.bounds) : null;
    }
    if (ts < this.lastTs) return null;
    const base = this.h;
    const newStream = (startMs > 0 && startMs !== this.start) || histogramCount(buf, off) < base.count;
    const delta = readHistogram(out, buf, off, base.bounds);
    if (!newStream) delta.sub(base);
    if (startMs > 0) this.start = startMs;
    readHistogram(base, buf, off, delta.bounds);
    this.lastTs = ts;
    this.dirty = true;
    return delta.count > 0 || delta.size > 0 ? delta : null;
  }

  private reset(startMs: number, ts: number): void {
    this.known = true;
    this.start = startMs;
    this.lastTs = ts;
    this.dirty = true;
  }

  /** toJSON is the persisted form (JSON has no Infinity, so empty min/max become null). */
  toJSON(): StreamJSON {
    const out: StreamJSON = { s: this.start, t: this.lastTs, v: this.value };
    const h = this.h;
    if (h !== null) {
      out.h = {
        i: Array.from(h.indices.subarray(0, h.size)),
        c: Array.from(h.counts.subarray(0, h.size)),
        n: h.count,
        sum: h.sum,
        min: Number.isFinite(h.min) ? h.min : null,
        max: Number.isFinite(h.max) ? h.max : null,
        ...(h.bounds ? { b: Array.from(h.bounds), cc: Array.from(h.classicCounts!) } : {}),
      };
    }
    return out;
  }

  /** fromJSON restores a persisted baseline. */
  static fromJSON(j: StreamJSON): CumulativeStream {
    const s = new CumulativeStream();
    s.known = true;
    s.start = j.s;
    s.lastTs = j.t ?? -Infinity;
    s.value = j.v;
    if (j.h) {
      const h = SparseHistogram.fromBuckets(j.h.i, j.h.c, j.h.n, j.h.sum, j.h.min ?? Infinity, j.h.max ?? -Infinity);
      if (j.h.b && j.h.cc) {
        h.bounds = Float64Array.from(j.h.b);
        h.classicCounts = Float64Array.from(j.h.cc);
      }
      s.h = h;
    }
    return s;
  }
}

/**
 * sameLayout says whether the histogram encoded at buf[off] has the baseline's non-empty bucket
 * indices and classic bounds: the steady state of a stream, where the point only moves counts.
 */
function sameLayout(base: SparseHistogram, buf: Float64Array, off: number): boolean {
  const n = base.size, nb = buf[off + 5]!;
  if (buf[off] !== n || n === 0) return false;
  const bounds = base.bounds;
  const cc = base.classicCounts;
  if (nb < 0 || bounds === null || bounds.length !== nb || cc === null || cc.length !== nb + 1) return false;
  const idx = base.indices;
  let p = off + 6;
  for (let i = 0; i < n; i++) if (buf[p + i] !== idx[i]) return false;
  p += 2 * n;
  for (let i = 0; i < nb; i++) if (buf[p + i] !== bounds[i]) return false;
  return true;
}

/**
 * subtractInto writes into `out` the point at buf[off] minus the baseline, and makes the point
 * the baseline, in one pass: what readHistogram, sub and readHistogram again compute for a point
 * of the baseline's layout (sameLayout), with sub's arithmetic (a + b * -1), so the delta and the
 * new baseline are bit for bit the same. `out` gets the baseline's bounds, as readHistogram gives it.
 */
function subtractInto(out: SparseHistogram, base: SparseHistogram, buf: Float64Array, off: number): void {
  const n = base.size, nb = buf[off + 5]!;
  if (out.indices.length < n) {
    out.size = 0;
    out.reserve(n);
  }
  const oi = out.indices, oc = out.counts, bi = base.indices, bc = base.counts;
  let p = off + 6 + n;
  for (let i = 0; i < n; i++) {
    const c = buf[p + i]!;
    oi[i] = bi[i]!;
    oc[i] = c + bc[i]! * -1;
    bc[i] = c;
  }
  out.size = n;
  const count = buf[off + 1]!, sum = buf[off + 2]!;
  out.count = count + base.count * -1;
  out.sum = sum + base.sum * -1;
  out.min = buf[off + 3]!;
  out.max = buf[off + 4]!;
  base.count = count;
  base.sum = sum;
  base.min = out.min;
  base.max = out.max;
  out.bounds = base.bounds;
  let occ = out.classicCounts;
  if (occ === null || occ.length !== nb + 1) occ = out.classicCounts = new Float64Array(nb + 1);
  const bcc = base.classicCounts!;
  p += n + nb;
  for (let i = 0; i <= nb; i++) {
    const c = buf[p + i]!;
    occ[i] = c + bcc[i]! * -1;
    bcc[i] = c;
  }
}

/** StreamJSON is a baseline as stored in the `temporality` state table. */
export interface StreamJSON {
  s: number;
  t: number | null;
  v: number;
  h?: { i: number[]; c: number[]; n: number; sum: number; min: number | null; max: number | null; b?: number[]; cc?: number[] };
}
