import { SparseHistogram } from '../model/hdr.js';
import { MetricKind } from '../model/metric-kind.js';
import { ByteReader } from './byte-io.js';
import { decodeChunk, decodeChunkFrom, readChunkHeader } from './chunk-encoding.js';
import type { StoreDbs } from './dbs.js';
import { decodeHistogram } from './histogram-codec.js';
import { CHUNK_KEY_LEN, chunkKey, chunkKeyInto, chunkKeyStart, seriesPrefix, seriesPrefixInto } from './keys.js';
import type { BucketColumns } from './bucket-columns.js';
import { HistSummary } from './hist-summary.js';
import { PointBuf } from './point-buf.js';
import type { Tier } from './tier.js';

/**
 * SeriesWindows are one series' windows in [fromIdx, toIdx] plus what came before them:
 * `baseSum` (counters) or `baseSummary` (histogram count, sum and bucket counts) is the retired
 * aggregate plus every window before fromIdx, read from chunk headers without decoding those
 * chunks. `baseSummary` is null when earlier chunks disagree on bucket bounds. `fullBase()`
 * merges the full histograms before fromIdx, decoding every earlier chunk: only the bare-name
 * histogram's lazy base() needs it.
 */
export interface SeriesWindows {
  readonly pts: PointBuf;
  readonly baseSum: number;
  readonly baseSummary: HistSummary | null;
  /**
   * prev tells, for counters, what came before fromIdx in this tier: PREV_NONE (no window),
   * PREV_KNOWN (the last such window's time and sender value are prevT and prevB), PREV_UNKNOWN
   * (windows that were not decoded).
   */
  readonly prev: number;
  readonly prevT: number;
  readonly prevB: number;
  /**
   * Rows standing for whole chunks that were not decoded (readWindows' `summarize`), as pairs:
   * row position, then how many windows it stands for. Empty otherwise.
   */
  readonly summarized: readonly number[];
  fullBase(): SparseHistogram;
}

export const PREV_NONE = 0;
export const PREV_KNOWN = 1;
export const PREV_UNKNOWN = 2;

/** retiredKey is the key of a series' retired aggregate in one tier. */
export function retiredKey(tier: number, id: number): Buffer {
  return seriesPrefix(tier, id);
}

/**
 * SCRATCH holds, per kind, the chunk that covers a read's start while its windows are split into
 * those before the range and those in it: one buffer grown once, instead of one per series read
 * (reads are synchronous; nothing keeps the buffer, histograms it held are only referenced).
 */
const SCRATCH = [new PointBuf(MetricKind.Counter, 512), new PointBuf(MetricKind.Gauge, 512, null, true), new PointBuf(MetricKind.Histogram, 64)];

/** MAX_PRESIZE bounds the windows a reused buffer makes room for before it knows how many there are. */
const MAX_PRESIZE = 1 << 16;

/**
 * readWindows reads one series' windows of one tier into a new buffer, or into `into` (a buffer
 * of the same kind whose last reader is done with it; its windows are dropped). A histogram
 * buffer with BucketColumns (`into.cols`, a read for the classic views only) keeps its windows
 * as rows of those (see bucket-columns.ts). Reads build samples, so gauges keep their last
 * values only (PointBuf.valuesOnly).
 *
 * `summarize` (histograms read into columns, for `_bucket` series thinned to their first and
 * last samples and their count; see Windows.summarize): a chunk inside the range that holds every
 * window from the previous row up to the next chunk is one row taken from its header instead of
 * being decoded.
 *
 * `extremes` (gauges read for max_over_time or min_over_time of the whole range;
 * SelectHints.extremes): a chunk inside the range whose header holds its extremes is one row of
 * that extreme (see Windows.summarizeGauge).
 */
export function readWindows(dbs: StoreDbs, tier: Tier, id: number, kind: MetricKind, fromIdx: number, toIdx: number, bounds?: ArrayLike<number> | null, into: PointBuf | null = null, summarize = false, extremes: 'max' | 'min' | null = null): SeriesWindows {
  const span = toIdx - fromIdx + 1;
  let pts: PointBuf;
  if (into !== null) {
    // A buffer that serves series after series is sized for the whole range once, not doubled
    // for each (fresh memory for a day of raw windows was a third of a day-long read).
    if (into.kind !== kind) throw new RangeError(`a ${kind} read into a ${into.kind} buffer`);
    if (kind === MetricKind.Gauge && !into.valuesOnly) throw new RangeError('a gauge read into a buffer that keeps every column');
    pts = into;
    pts.clear();
    pts.reserve(Math.min(MAX_PRESIZE, span));
  } else {
    // Sized for the range when it is short (an analytics read of a few hour windows per series of
    // thousands allocated, and zero-filled, 64 windows of columns each); longer reads grow it.
    pts = new PointBuf(kind, Math.max(4, Math.min(64, span)), null, true);
  }
  const w = new Windows(dbs, tier, id, kind, fromIdx, toIdx, pts, bounds);
  // Keys, then each value read in place (valid until the next read, and every decode is done by
  // then): a range's values are copies of whole chunks, and a short read of a chunk holding
  // months of hour windows copied the months for every series. The keys a read asks for are
  // written into buffers it reuses (reads are synchronous and never nested inside one another).
  const fromMs = tier.start(fromIdx);
  const endKey = chunkKeyInto(END_KEY, tier.ordinal, id, tier.start(toIdx) + 1);
  if (kind !== MetricKind.Gauge) {
    // Read in place: decoded at once, and a read of many series copied each retired value.
    const retired = dbs.retired.getBinaryFast(seriesPrefixInto(RETIRED_KEY, tier.ordinal, id));
    if (retired !== undefined) w.retired(retired);
    // One pass from the series' first chunk: every chunk before the range counts in the base
    // anyway, and the covering chunk (the last starting at or before fromMs) is the one before the
    // first that starts after it; a separate lookup for it cost a cursor per series read.
    let coverStart = -1;
    // With `summarize`, an inside chunk waits for the next one's start (or the end) to be read.
    let held = -1;
    const summarizing = summarize && pts.cols !== null;
    for (const key of dbs.chunks.getKeys({ start: seriesPrefixInto(PREFIX_KEY, tier.ordinal, id), end: endKey })) {
      const start = chunkKeyStart(key);
      if (start <= fromMs) {
        if (coverStart >= 0) w.before(w.value(coverStart));
        coverStart = start;
        continue;
      }
      if (coverStart >= 0) {
        w.covering(w.value(coverStart), coverStart);
        coverStart = -1;
      }
      if (!summarizing) w.inside(dbs.chunks.getBinaryFast(key)!, start);
      else {
        if (held >= 0) w.insideOrSummary(held, start);
        held = start;
      }
    }
    if (coverStart >= 0) w.covering(w.value(coverStart), coverStart);
    if (held >= 0) w.inside(w.value(held), held);
  } else {
    // Gauges need nothing before the covering chunk: find it, then read forward from it.
    let firstStart = fromMs;
    for (const k of dbs.chunks.getKeys({ start: chunkKeyInto(START_KEY, tier.ordinal, id, fromMs), end: seriesPrefix(tier.ordinal, id), reverse: true, limit: 1 })) firstStart = chunkKeyStart(k);
    // With `extremes`, an inside chunk waits for the next one's start (or the end) to be read.
    let held = -1;
    for (const key of dbs.chunks.getKeys({ start: chunkKeyInto(START_KEY, tier.ordinal, id, firstStart), end: endKey })) {
      const start = chunkKeyStart(key);
      if (start < fromMs) w.covering(dbs.chunks.getBinaryFast(key)!, start);
      else if (extremes === null) w.inside(dbs.chunks.getBinaryFast(key)!, start);
      else {
        if (held >= 0) w.insideOrSummary(held, start, extremes);
        held = start;
      }
    }
    if (held >= 0) w.inside(w.value(held), held);
  }
  return w;
}

/** SUMMARY_IDX and SUMMARY_T hold the window and time of a summary row being appended. */
const SUMMARY_IDX = new Float64Array(1);
const SUMMARY_T = new Float64Array(1);

/** START_KEY, PREFIX_KEY, END_KEY, RETIRED_KEY and VALUE_KEY are the key buffers readWindows reuses. */
const START_KEY = Buffer.alloc(CHUNK_KEY_LEN);
const PREFIX_KEY = Buffer.alloc(5);
const END_KEY = Buffer.alloc(CHUNK_KEY_LEN);
const RETIRED_KEY = Buffer.alloc(5);
const VALUE_KEY = Buffer.alloc(CHUNK_KEY_LEN);

/**
 * Windows is what readWindows reads of one series while it reads it (the chunks before the
 * range into the base, the one covering its start split, those inside decoded), then its result.
 */
class Windows implements SeriesWindows {
  readonly pts: PointBuf;
  baseSum = 0;
  baseSummary: HistSummary | null;
  private readonly dbs: StoreDbs;
  private readonly tier: Tier;
  private readonly id: number;
  private readonly kind: MetricKind;
  private readonly fromIdx: number;
  private readonly toIdx: number;
  private readonly columns: BucketColumns | null;
  /** Where the summary's bounds are in the columns (windows before the range add into it). */
  private readonly summaryCols: Int32Array | null;
  private retiredHist: SparseHistogram | null = null;
  /** pre holds the covering chunk's histograms before the range (read without columns). */
  private readonly pre: SparseHistogram[] = [];
  /** firstStart is where the chunks read whole begin (those before it are in the base). */
  private firstStart: number;
  /** preStart is the coverStart of the chunk holding fromIdx, whose windows before the range fullBase adds. */
  private preStart = -1;
  private memo: SparseHistogram | null = null;
  prev = PREV_NONE;
  prevT = 0;
  prevB = NaN;
  readonly summarized: number[] = [];

  constructor(dbs: StoreDbs, tier: Tier, id: number, kind: MetricKind, fromIdx: number, toIdx: number, pts: PointBuf, bounds: ArrayLike<number> | null | undefined) {
    this.dbs = dbs;
    this.tier = tier;
    this.id = id;
    this.kind = kind;
    this.fromIdx = fromIdx;
    this.toIdx = toIdx;
    this.pts = pts;
    this.columns = pts.cols;
    this.firstStart = tier.start(fromIdx);
    let summary: HistSummary | null = kind === MetricKind.Histogram ? HistSummary.forBounds(bounds) : null;
    const summaryCols = this.columns !== null && summary !== null ? columnsOf(summary, this.columns) : null;
    if (this.columns !== null && summaryCols === null) summary = null;
    this.baseSummary = summary;
    this.summaryCols = summaryCols;
  }

  /** retired adds the tier's retired aggregate of a counter or histogram. */
  retired(bytes: Uint8Array): void {
    if (this.kind === MetricKind.Counter) this.baseSum = new ByteReader(bytes).f64();
    else {
      this.retiredHist = decodeHistogram(new ByteReader(bytes), null);
      this.baseSummary!.addWindow(this.retiredHist);
    }
  }

  /** value reads the chunk of this series starting at `start` in place. */
  value(start: number): Uint8Array {
    return this.dbs.chunks.getBinaryFast(chunkKeyInto(VALUE_KEY, this.tier.ordinal, this.id, start))!;
  }

  /** before adds a chunk wholly before the covering one: its header aggregate is all a read needs. */
  before(value: Uint8Array): void {
    const h = readChunkHeader(value);
    this.prev = PREV_UNKNOWN;
    if (this.kind === MetricKind.Counter) this.baseSum += h.sum;
    else if (this.baseSummary !== null && (h.agg === null || !this.baseSummary.add(h.agg))) this.baseSummary = null;
  }

  /** inside decodes a chunk whose every window is at or after fromIdx, dropping those past toIdx. */
  inside(value: Uint8Array, start: number): void {
    const pts = this.pts, toIdx = this.toIdx;
    decodeChunk(value, this.tier.index(start), pts, this.tier, toIdx);
    let n = pts.n;
    while (n > 0 && pts.idx[n - 1]! > toIdx) n--;
    pts.truncate(n);
  }

  /**
   * insideOrSummary reads the inside chunk starting at `start` (the next one starts at
   * `nextStart`) as one row when summarize (histograms) or summarizeGauge (gauges, for
   * `extremes`) allows it, else whole.
   */
  insideOrSummary(start: number, nextStart: number, extremes: 'max' | 'min' | null = null): void {
    const value = this.value(start);
    const one = extremes !== null ? this.summarizeGauge(value, start, nextStart, extremes) : this.summarize(value, start, nextStart);
    if (!one) this.inside(value, start);
  }

  /**
   * summarizeGauge appends, for a gauge chunk holding windows from s to before `next`, one row
   * holding its header's greatest or least last value, stamped at its first window's start,
   * when every sample it stands for lies inside the range: s is past the range's first window
   * and `next` at most its last (so the row is never the range's first or last sample, and its
   * stamp lies between the rows around it). Its header has extremes only when none of its
   * values is NaN.
   */
  private summarizeGauge(value: Uint8Array, start: number, nextStart: number, extremes: 'max' | 'min'): boolean {
    const pts = this.pts;
    const s = this.tier.index(start), next = this.tier.index(nextStart);
    if (s < this.fromIdx + 2 || next > this.toIdx) return false;
    const h = readChunkHeader(value);
    if (h.lo !== h.lo) return false;
    pts.reserve(1);
    SUMMARY_IDX[0] = s;
    SUMMARY_T[0] = start;
    const row = pts.appendWindows(SUMMARY_IDX, SUMMARY_T, 1);
    pts.a[row] = extremes === 'max' ? h.hi : h.lo;
    this.summarized.push(row, h.points);
    return true;
  }

  /**
   * summarize appends, for a chunk holding windows s..nextIdx-1, one row at window nextIdx-1
   * holding its header's count, sum and `<= le` counts, when that stands exactly for its windows
   * in a `_bucket` series thinned to its ends and count (histogramBucketEnds):
   * - it holds every window of [s, next): as many points as windows (indices rise), so no gap
   *   sample falls inside it, and the row before it is window s-1 (none falls at its start);
   * - that row is past the range's first window and `next` is at most its last, so every
   *   sample it stands for is in range, and the first sample in range lies before it;
   * - its counts are whole numbers (below 2^53), so adding their total gives the running sums
   *   that adding window by window gives.
   * Not decoded, its windows cannot tell whether one carried its sender's own bounds: a series
   * without configured bounds whose windows begin to carry them inside such a chunk is read
   * with the bounds the decoded windows show.
   */
  private summarize(value: Uint8Array, start: number, nextStart: number): boolean {
    const pts = this.pts, cols = this.columns, n = pts.n;
    const s = this.tier.index(start), next = this.tier.index(nextStart);
    if (cols === null || n === 0 || pts.idx[n - 1] !== s - 1 || s - 1 < this.fromIdx + 2 || next > this.toIdx) return false;
    const h = readChunkHeader(value);
    if (h.points !== next - s || h.agg === null) return false;
    pts.reserve(1);
    if (!cols.setSummary(n, h.agg)) return false;
    SUMMARY_IDX[0] = next - 1;
    SUMMARY_T[0] = this.tier.start(next - 1);
    pts.appendWindows(SUMMARY_IDX, SUMMARY_T, 1);
    this.summarized.push(n, h.points);
    return true;
  }

  /** covering splits the chunk holding fromIdx into the windows before the range and those in it. */
  covering(value: Uint8Array, start: number): void {
    const { kind, columns, fromIdx, toIdx, pts } = this;
    this.firstStart = start;
    const tmp = columns === null ? SCRATCH[kind]! : new PointBuf(kind, 64, columns.like(64));
    tmp.clear();
    // Blocks before fromIdx are stepped over where the chunk allows it, their increments counted.
    this.baseSum += decodeChunkFrom(value, this.tier.index(start), tmp, this.tier, fromIdx, toIdx);
    // Room for the windows copied below at once (those inside the range: tmp is in window order),
    // not by doubling one copy at a time.
    let first = tmp.find(fromIdx);
    if (first < 0) first = -first - 1;
    let end = tmp.find(toIdx + 1);
    if (end < 0) end = -end - 1;
    pts.reserve(end - first);
    // Blocks stepped over hold windows before those decoded.
    if (kind === MetricKind.Counter && first === 0 && this.tier.index(start) < fromIdx && readChunkHeader(value).skippable) this.prev = PREV_UNKNOWN;
    for (let j = 0; j < tmp.n; j++) {
      const w = tmp.idx[j]!;
      if (w < fromIdx) {
        if (kind === MetricKind.Counter) {
          this.baseSum += tmp.a[j]!;
          this.prev = PREV_KNOWN;
          this.prevT = tmp.t[j]!;
          this.prevB = tmp.b[j]!;
        }
        else if (columns !== null) {
          this.preStart = start;
          this.baseSummary?.addRow(tmp.cols!, j, this.summaryCols!);
        } else if (kind === MetricKind.Histogram) {
          this.pre.push(tmp.hists[j]!);
          this.baseSummary?.addWindow(tmp.hists[j]!);
        }
      } else if (w <= toIdx) {
        pts.copyFrom(tmp, j);
      }
    }
  }

  fullBase(): SparseHistogram {
    if (this.memo !== null) return this.memo;
    const { dbs, tier, id, kind, fromIdx } = this;
    const h = (this.memo = this.retiredHist !== null ? this.retiredHist.clone() : new SparseHistogram(16));
    if (kind !== MetricKind.Histogram) return h;
    const buf = new PointBuf(kind, 64);
    for (const { key, value } of dbs.chunks.getRange({ start: seriesPrefix(tier.ordinal, id), end: chunkKey(tier.ordinal, id, this.firstStart) })) {
      buf.clear();
      decodeChunk(value, tier.index(chunkKeyStart(key)), buf, tier);
      for (let j = 0; j < buf.n; j++) h.add(buf.hists[j]!);
    }
    for (const x of this.pre) h.add(x);
    if (this.preStart >= 0) {
      // Read into columns: the covering chunk's windows before the range, decoded again whole.
      buf.clear();
      decodeChunk(dbs.chunks.getBinaryFast(chunkKey(tier.ordinal, id, this.preStart))!, tier.index(this.preStart), buf, tier, fromIdx - 1);
      for (let j = 0; j < buf.n; j++) if (buf.idx[j]! < fromIdx) h.add(buf.hists[j]!);
    }
    return h;
  }
}

/** columnsOf maps each bound of `summary` to its column, or null when one has none. */
function columnsOf(summary: HistSummary, cols: BucketColumns): Int32Array | null {
  const out = new Int32Array(summary.les.length);
  for (let i = 0; i < out.length; i++) {
    const l = cols.column(summary.les[i]!);
    if (l < 0) return null;
    out[i] = l;
  }
  return out;
}
