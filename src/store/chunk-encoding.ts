import { SparseHistogram } from '../model/hdr.js';
import { MetricKind } from '../model/metric-kind.js';
import { ByteReader, ByteWriter, bitWidth } from './byte-io.js';
import { decodeFloatColumn, encodeFloatColumn, skipFloatColumn } from './float-column.js';
import { decodeHistogram, decodeWindowRow, encodeHistogram, foldSplits, startBlock } from './histogram-codec.js';
import { HistSummary } from './hist-summary.js';
import { PointBuf } from './point-buf.js';
import { isStaleNaN } from '../model/stale.js';

/**
 * Chunk layout: one LMDB value per (tier, series, chunk start), holding a run of windows.
 *
 *   header: u8 (version << 4 | flags | kind), uvarint points, aggregate
 *           (counter: f64 increment sum; histogram: a HistSummary; gauge: with H_EXTREMES,
 *           f64 min and f64 max of its windows' last values, else nothing)
 *   blocks: u8 points, window column, time column, value columns
 *
 * The aggregate lets a reader compute a counter's (or a histogram's count, sum and buckets)
 * cumulative value at any time from chunk headers alone, without decoding earlier chunks. Blocks are independent given the
 * window index before them, so an appender can cache the encoded full blocks of a head chunk
 * and only re-encode its tail. The window column stores gaps between window indices (0 for
 * consecutive windows), frame-of-reference bit packed: a gapless block costs two bytes. The time
 * column stores each window's last point time as its millisecond offset from the window's start,
 * frame-of-reference bit packed too: a sender on a regular grid costs two or three bytes a
 * block, scrape jitter of a few ms a few bits a point.
 *
 * Counter blocks start with a flags byte: C_RAW when the windows carry the sender's cumulative
 * value (remote write, OTLP cumulative; column `b`), C_DERIVED when every increment after the
 * block's first equals what the sender's values imply (difference, or the value itself after a
 * reset), so only the first increment is stored.
 *
 * Version 3 chunks (counters and gauges of rollup tiers, whose chunks hold months of windows)
 * start each block with a skip prefix: u16 LE length of the block after the prefix, uvarint span
 * (its last window index minus the one before it) and, for counters, f64 sum of its increments. A
 * read that starts late in such a chunk steps over the blocks before its start instead of
 * decoding them (a range of a day at the end of a 90-day hour chunk decodes one block, not 17),
 * and a counter's cumulative base still counts their increments.
 */

/**
 * H_EXTREMES (format 6), in the kind nibble of a gauge chunk's first byte: the header holds the
 * least and greatest of its windows' last values (none is NaN), so an instant max_over_time or
 * min_over_time over a long range takes a chunk inside it from its header (SelectHints.extremes).
 */
const H_EXTREMES = 8;
const KIND_MASK = 7;

/**
 * GaugeExtremes gathers the least and greatest of gauge windows' last values for a chunk header;
 * a NaN (a stale marker among them) leaves the header without them.
 */
export class GaugeExtremes {
  lo = Infinity;
  hi = -Infinity;
  nan = false;

  add(v: number): void {
    if (v !== v) this.nan = true;
    else {
      if (v < this.lo) this.lo = v;
      if (v > this.hi) this.hi = v;
    }
  }

  addColumn(a: Float64Array, from: number, to: number): void {
    for (let i = from; i < to; i++) this.add(a[i]!);
  }

  clone(): GaugeExtremes {
    const c = new GaugeExtremes();
    c.lo = this.lo;
    c.hi = this.hi;
    c.nan = this.nan;
    return c;
  }

  /** usable says whether a header can carry them (some window, no NaN). */
  usable(): boolean {
    return !this.nan && this.lo <= this.hi;
  }
}

/** CHUNK_VERSION 2 added the time column and the counter flags (version 1 is refused). */
const CHUNK_VERSION = 2;
/** SKIP_VERSION is version 2 with a skip prefix on every block (see above). */
const SKIP_VERSION = 3;

/** skippable says whether chunks of `kind` in the tier of `clock` are written as version 3. */
function skippable(kind: MetricKind, clock: WindowClock): boolean {
  return kind !== MetricKind.Histogram && (clock.ordinal ?? 0) > 0;
}

/**
 * WindowClock maps a window index to its first millisecond (a Tier). A rollup tier (ordinal > 0)
 * stores its histograms folded to rollup precision (see histogram-codec.ts).
 */
export interface WindowClock {
  start(idx: number): number;
  readonly ordinal?: number;
}

const C_RAW = 1;
const C_DERIVED = 2;

/** blockSize is how many windows a block holds for a kind (histogram records are larger). */
export function blockSize(kind: MetricKind): number {
  return kind === MetricKind.Histogram ? 8 : 128;
}

const G_MIN_IS_LAST = 1;
const G_MAX_IS_LAST = 2;
const G_COUNT_ONE = 4;
const G_SUM_IS_LAST_X_COUNT = 8;

const colScratch = new Float64Array(256);
/** histScratch is the window a read into BucketColumns decodes into (see decodeBlock). */
const histScratch = new SparseHistogram(64);

/**
 * encodeBlock writes points [from, from + n) of `buf`; `prevIdx` is the window before them.
 * `bounds` are the series' classic bounds, which a rollup's folded histograms keep exact.
 */
export function encodeBlock(w: ByteWriter, buf: PointBuf, from: number, n: number, prevIdx: number, clock: WindowClock, bounds?: ArrayLike<number> | null): void {
  if (!skippable(buf.kind, clock)) {
    encodeBlockBody(w, buf, from, n, prevIdx, clock, bounds);
    return;
  }
  const at = w.pos;
  w.u8(0);
  w.u8(0);
  w.uvarint(buf.idx[from + n - 1]! - prevIdx);
  if (buf.kind === MetricKind.Counter) {
    let sum = 0;
    for (let i = from; i < from + n; i++) sum += buf.a[i]!;
    w.f64(sum);
  }
  const body = w.pos;
  encodeBlockBody(w, buf, from, n, prevIdx, clock, bounds);
  const len = w.pos - body;
  if (len > 0xffff) throw new RangeError(`chunk block of ${len} bytes does not fit its skip prefix`);
  w.buf[at] = len & 0xff;
  w.buf[at + 1] = len >> 8;
}

/** encodeBlockBody writes a block without its skip prefix. */
function encodeBlockBody(w: ByteWriter, buf: PointBuf, from: number, n: number, prevIdx: number, clock: WindowClock, bounds?: ArrayLike<number> | null): void {
  w.u8(n);
  let minGap = Infinity, maxGap = 0;
  let prev = prevIdx;
  for (let i = 0; i < n; i++) {
    const g = buf.idx[from + i]! - prev - 1;
    if (g < minGap) minGap = g;
    if (g > maxGap) maxGap = g;
    prev = buf.idx[from + i]!;
  }
  const width = bitWidth(maxGap - minGap);
  w.uvarint(minGap);
  w.u8(width);
  if (width > 0) {
    prev = prevIdx;
    for (let i = 0; i < n; i++) {
      w.bits(buf.idx[from + i]! - prev - 1 - minGap, width);
      prev = buf.idx[from + i]!;
    }
    w.flushBits();
  }
  encodeTimes(w, buf, from, n, clock);
  switch (buf.kind) {
    case MetricKind.Counter: {
      let flags = 0;
      for (let i = from; i < from + n; i++) if (!Number.isNaN(buf.b[i]!) || isStaleNaN(buf.b[i]!)) flags = C_RAW;
      if (flags === C_RAW && derivable(buf, from, n)) flags |= C_DERIVED;
      w.u8(flags);
      if (flags & C_RAW) encodeFloatColumn(w, buf.b, from, n);
      encodeFloatColumn(w, buf.a, from, flags & C_DERIVED ? 1 : n);
      return;
    }
    case MetricKind.Gauge: {
      let flags = G_MIN_IS_LAST | G_MAX_IS_LAST | G_COUNT_ONE | G_SUM_IS_LAST_X_COUNT;
      for (let i = from; i < from + n; i++) {
        const last = buf.a[i]!;
        if (!Object.is(buf.b[i], last)) flags &= ~G_MIN_IS_LAST;
        if (!Object.is(buf.c[i], last)) flags &= ~G_MAX_IS_LAST;
        if (buf.e[i] !== 1) flags &= ~G_COUNT_ONE;
        if (!Object.is(buf.d[i], last * buf.e[i]!)) flags &= ~G_SUM_IS_LAST_X_COUNT;
      }
      w.u8(flags);
      encodeFloatColumn(w, buf.a, from, n);
      if (!(flags & G_MIN_IS_LAST)) encodeFloatColumn(w, buf.b, from, n);
      if (!(flags & G_MAX_IS_LAST)) encodeFloatColumn(w, buf.c, from, n);
      if (!(flags & G_COUNT_ONE)) encodeFloatColumn(w, buf.e, from, n);
      if (!(flags & G_SUM_IS_LAST_X_COUNT)) encodeFloatColumn(w, buf.d, from, n);
      return;
    }
    case MetricKind.Histogram: {
      let prevBounds: Float64Array | null = null, prevSplits: Int32Array | null = null;
      const splits = (clock.ordinal ?? 0) > 0 ? foldSplits(bounds) : undefined;
      for (let i = from; i < from + n; i++) {
        const h = buf.hists[i]!;
        prevSplits = encodeHistogram(w, h, prevBounds, splits, prevSplits) ?? prevSplits;
        if (h.bounds !== null) prevBounds = h.bounds;
      }
      return;
    }
  }
}

const offs = new Float64Array(256);

/** encodeTimes writes the block's last-point times as offsets from their window starts. */
function encodeTimes(w: ByteWriter, buf: PointBuf, from: number, n: number, clock: WindowClock): void {
  let min = Infinity, max = -Infinity;
  for (let i = 0; i < n; i++) {
    const o = Math.round(buf.t[from + i]! - clock.start(buf.idx[from + i]!));
    offs[i] = o;
    if (o < min) min = o;
    if (o > max) max = o;
  }
  const width = bitWidth(max - min);
  w.svarint(min);
  w.u8(width);
  if (width > 0) {
    for (let i = 0; i < n; i++) w.bits(offs[i]! - min, width);
    w.flushBits();
  }
}

const timeScratch = new Float64Array(256);

/** decodeTimes reads a block's times into timeScratch (its window indices are in colScratch). */
function decodeTimes(r: ByteReader, n: number, clock: WindowClock): void {
  const min = r.svarint();
  r.unpack(n, r.u8(), timeScratch, 0);
  for (let i = 0; i < n; i++) timeScratch[i] = clock.start(colScratch[i]!) + min + timeScratch[i]!;
}

/** derived is the increment a sender's value `cur` implies after `prev` (a drop is a reset). */
function derived(prev: number, cur: number): number {
  return cur >= prev ? cur - prev : cur;
}

/** derivable says whether every increment after the block's first follows from column `b`. */
function derivable(buf: PointBuf, from: number, n: number): boolean {
  for (let i = from + 1; i < from + n; i++) {
    const prev = buf.b[i - 1]!, cur = buf.b[i]!;
    if (!Number.isFinite(prev) || !Number.isFinite(cur) || !Object.is(buf.a[i], derived(prev, cur))) return false;
  }
  return true;
}

/** Columns of a block that a read keeps only part of (the block reaching past the read's end). */
const partA = new Float64Array(256), partB = new Float64Array(256), partC = new Float64Array(256), partD = new Float64Array(256), partE = new Float64Array(256);

/**
 * decodeBlock appends one block's points up to window `untilIdx` to `out`; returns the block's
 * last window index. A block that reaches past `untilIdx` is the read's last: its columns go
 * through scratch and only the kept points reach `out`, so a short read of a long chunk never
 * grows `out` for points it drops (the reader is then left inside the block).
 */
function decodeBlock(r: ByteReader, out: PointBuf, prevIdx: number, clock: WindowClock, prefixed: boolean, untilIdx: number): number {
  if (prefixed) {
    r.pos += 2;
    r.uvarint();
    if (out.kind === MetricKind.Counter) r.pos += 8;
  }
  const n = r.u8();
  const minGap = r.uvarint();
  r.unpack(n, r.u8(), colScratch, 0);
  let prev = prevIdx;
  let keep = 0;
  for (let i = 0; i < n; i++) {
    prev = prev + 1 + minGap + colScratch[i]!;
    colScratch[i] = prev;
    if (prev <= untilIdx) keep++;
  }
  decodeTimes(r, n, clock);
  // Columns decode in place when the whole block is kept, else into the part scratch.
  const whole = keep === n;
  const start = out.kind === MetricKind.Histogram ? out.n : out.appendWindows(colScratch, timeScratch, keep);
  const o = whole ? start : 0;
  switch (out.kind) {
    case MetricKind.Counter: {
      const A = whole ? out.a : partA, B = whole ? out.b : partB;
      const flags = r.u8();
      // Increments that arrived as increments have no sender value.
      if (!(flags & C_RAW)) out.b.fill(NaN, start, start + keep);
      if (flags & C_RAW) decodeFloatColumn(r, n, B, o);
      if (flags & C_DERIVED) {
        decodeFloatColumn(r, 1, A, o);
        for (let i = o + 1; i < o + n; i++) A[i] = derived(B[i - 1]!, B[i]!);
      } else decodeFloatColumn(r, n, A, o);
      if (!whole) {
        out.a.set(A.subarray(0, keep), start);
        if (flags & C_RAW) out.b.set(B.subarray(0, keep), start);
      }
      break;
    }
    case MetricKind.Gauge: {
      const A = whole ? out.a : partA, B = whole ? out.b : partB, C = whole ? out.c : partC, D = whole ? out.d : partD, E = whole ? out.e : partE;
      const flags = r.u8();
      decodeFloatColumn(r, n, A, o);
      if (out.valuesOnly) {
        // A read for samples takes the last values: the other columns are stepped over.
        if (!whole) out.a.set(A.subarray(0, keep), start);
        if (!(flags & G_MIN_IS_LAST)) skipFloatColumn(r, n);
        if (!(flags & G_MAX_IS_LAST)) skipFloatColumn(r, n);
        if (!(flags & G_COUNT_ONE)) skipFloatColumn(r, n);
        if (!(flags & G_SUM_IS_LAST_X_COUNT)) skipFloatColumn(r, n);
        break;
      }
      if (flags & G_MIN_IS_LAST) B.set(A.subarray(o, o + n), o);
      else decodeFloatColumn(r, n, B, o);
      if (flags & G_MAX_IS_LAST) C.set(A.subarray(o, o + n), o);
      else decodeFloatColumn(r, n, C, o);
      if (flags & G_COUNT_ONE) E.fill(1, o, o + n);
      else decodeFloatColumn(r, n, E, o);
      if (flags & G_SUM_IS_LAST_X_COUNT) for (let i = o; i < o + n; i++) D[i] = A[i]! * E[i]!;
      else decodeFloatColumn(r, n, D, o);
      if (!whole) {
        out.a.set(A.subarray(0, keep), start);
        out.b.set(B.subarray(0, keep), start);
        out.c.set(C.subarray(0, keep), start);
        out.d.set(D.subarray(0, keep), start);
        out.e.set(E.subarray(0, keep), start);
      }
      break;
    }
    case MetricKind.Histogram: {
      let prevBounds: Float64Array | null = null;
      startBlock();
      const cols = out.cols;
      if (cols !== null) {
        // Columns take numbers out of each window: from its segment counts where it has them
        // (its buckets stepped over), else through one histogram that decodes them all.
        out.reserve(keep);
        for (let i = 0; i < keep; i++) {
          const row = out.pushWindow(colScratch[i]!, timeScratch[i]!);
          if (decodeWindowRow(r, cols, row)) continue;
          const h = decodeHistogram(r, prevBounds, histScratch);
          if (h.bounds !== null) prevBounds = h.bounds;
          cols.set(row, h);
        }
        break;
      }
      for (let i = 0; i < keep; i++) {
        const h = decodeHistogram(r, prevBounds);
        if (h.bounds !== null) prevBounds = h.bounds;
        out.pushHistogram(colScratch[i]!, h, timeScratch[i]!);
      }
      break;
    }
  }
  return prev;
}

/** ChunkHeader is what a chunk says about itself before its blocks. */
export interface ChunkHeader {
  readonly kind: MetricKind;
  readonly points: number;
  /** Counter: the sum of the chunk's increments (0 for other kinds). */
  readonly sum: number;
  /** Histogram: count, sum and bucket counts of the chunk's windows (null for other kinds). */
  readonly agg: HistSummary | null;
  /** Gauge with H_EXTREMES: the least and greatest of its windows' last values (NaN otherwise). */
  readonly lo: number;
  readonly hi: number;
  /** Byte offset of the first block. */
  readonly bodyOffset: number;
  /** Whether blocks carry a skip prefix (version 3). */
  readonly skippable: boolean;
}

/** readChunkHeader decodes a chunk's header only. */
export function readChunkHeader(bytes: Uint8Array): ChunkHeader {
  const r = new ByteReader(bytes);
  const b0 = r.u8();
  if (b0 >> 4 !== CHUNK_VERSION && b0 >> 4 !== SKIP_VERSION) throw new RangeError(`unknown chunk version ${b0 >> 4}`);
  const kind = (b0 & KIND_MASK) as MetricKind;
  const points = r.uvarint();
  let sum = 0, lo = NaN, hi = NaN;
  let agg: HistSummary | null = null;
  if (kind === MetricKind.Counter) sum = r.f64();
  else if (kind === MetricKind.Histogram) agg = HistSummary.decode(r);
  else if (b0 & H_EXTREMES) {
    lo = r.f64();
    hi = r.f64();
  }
  return { kind, points, sum, agg, lo, hi, bodyOffset: r.pos, skippable: b0 >> 4 === SKIP_VERSION };
}

/**
 * decodeChunk appends the windows of a chunk whose first window index is `baseIdx` to `out`: every
 * window, or with `untilIdx` those up to it (a read that ends inside a chunk does not decode the
 * blocks after the one holding its end).
 */
export function decodeChunk(bytes: Uint8Array, baseIdx: number, out: PointBuf, clock: WindowClock, untilIdx = Infinity): ChunkHeader {
  const h = readChunkHeader(bytes);
  decodeBlocks(bytes, h, baseIdx, out, clock, -Infinity, untilIdx);
  return h;
}

/**
 * decodeChunkFrom is decodeChunk for a read that starts at `fromIdx`: a version 3 chunk's blocks
 * that end before it are stepped over, not decoded (other chunks decode from their start; the
 * caller drops windows before its start). Returns the sum of the increments of the blocks stepped
 * over (counters; 0 otherwise), which the caller's cumulative base must count.
 */
export function decodeChunkFrom(bytes: Uint8Array, baseIdx: number, out: PointBuf, clock: WindowClock, fromIdx: number, untilIdx = Infinity): number {
  return decodeBlocks(bytes, readChunkHeader(bytes), baseIdx, out, clock, fromIdx, untilIdx);
}

function decodeBlocks(bytes: Uint8Array, h: ChunkHeader, baseIdx: number, out: PointBuf, clock: WindowClock, fromIdx: number, untilIdx: number): number {
  if (h.kind !== out.kind) throw new RangeError(`chunk kind ${h.kind} read as ${out.kind}`);
  const r = new ByteReader(bytes, h.bodyOffset);
  let prev = baseIdx - 1;
  let left = h.points;
  let skipped = 0;
  if (h.skippable && fromIdx > baseIdx) {
    const counter = h.kind === MetricKind.Counter;
    while (left > 0) {
      const at = r.pos;
      const len = r.u8() | (r.u8() << 8);
      const span = r.uvarint();
      const sum = counter ? r.f64() : 0;
      if (prev + span >= fromIdx) {
        r.pos = at;
        break;
      }
      left -= bytes[r.pos]!;
      if (r.pos + len > bytes.length) throw new RangeError('chunk truncated');
      r.pos += len;
      prev += span;
      skipped += sum;
    }
  }
  // Room for the windows this read keeps, not the whole chunk's: window indices rise by at least
  // one a point, so at most untilIdx - prev points are kept (a 12-hour read of a chunk holding
  // months of hour windows reserved, and zero-filled, the months for every series).
  out.reserve(Math.min(left, untilIdx - prev));
  while (left > 0 && prev < untilIdx) {
    const before = out.n;
    prev = decodeBlock(r, out, prev, clock, h.skippable, untilIdx);
    left -= out.n - before;
  }
  return skipped;
}

const headerWriter = new ByteWriter(64);

/**
 * assembleChunk concatenates a header and encoded blocks into one chunk value. `sum` is used for
 * counters, `agg` for histograms. `clock` is the tier the blocks were encoded for (its version).
 */
export function assembleChunk(kind: MetricKind, clock: WindowClock, points: number, sum: number, agg: HistSummary | null, blocks: readonly Uint8Array[], blockCount = blocks.length, extremes: GaugeExtremes | null = null): Uint8Array {
  headerWriter.reset();
  const withExtremes = kind === MetricKind.Gauge && extremes !== null && extremes.usable();
  headerWriter.u8(((skippable(kind, clock) ? SKIP_VERSION : CHUNK_VERSION) << 4) | (withExtremes ? H_EXTREMES : 0) | kind);
  headerWriter.uvarint(points);
  if (kind === MetricKind.Counter) headerWriter.f64(sum);
  else if (kind === MetricKind.Histogram) (agg ?? HistSummary.forBounds(null)).encode(headerWriter);
  else if (withExtremes) {
    headerWriter.f64(extremes.lo);
    headerWriter.f64(extremes.hi);
  }
  let len = headerWriter.pos;
  for (let i = 0; i < blockCount; i++) len += blocks[i]!.length;
  const out = new Uint8Array(len);
  out.set(headerWriter.buf.subarray(0, headerWriter.pos), 0);
  let p = headerWriter.pos;
  for (let i = 0; i < blockCount; i++) {
    out.set(blocks[i]!, p);
    p += blocks[i]!.length;
  }
  return out;
}

const blockWriter = new ByteWriter(4096);

/** encodeBlockBytes is encodeBlock into a fresh byte array. */
export function encodeBlockBytes(buf: PointBuf, from: number, n: number, prevIdx: number, clock: WindowClock, bounds?: ArrayLike<number> | null): Uint8Array {
  blockWriter.reset();
  encodeBlock(blockWriter, buf, from, n, prevIdx, clock, bounds);
  return blockWriter.finish();
}

/** decodeBlockBytes appends the points of one encoded block to `out`; returns the last index. */
export function decodeBlockBytes(bytes: Uint8Array, out: PointBuf, prevIdx: number, clock: WindowClock): number {
  return decodeBlock(new ByteReader(bytes), out, prevIdx, clock, skippable(out.kind, clock), Infinity);
}

/** encodeChunk encodes a whole PointBuf as one chunk (used for cold merges and rollups). */
export function encodeChunk(buf: PointBuf, baseIdx: number, clock: WindowClock, bounds?: ArrayLike<number> | null): Uint8Array {
  const bs = blockSize(buf.kind);
  const blocks: Uint8Array[] = [];
  let sum = 0;
  let agg: HistSummary | null = null;
  let extremes: GaugeExtremes | null = null;
  if (buf.kind === MetricKind.Counter) for (let i = 0; i < buf.n; i++) sum += buf.a[i]!;
  if (buf.kind === MetricKind.Gauge) (extremes = new GaugeExtremes()).addColumn(buf.a, 0, buf.n);
  if (buf.kind === MetricKind.Histogram) {
    agg = HistSummary.forBounds(bounds);
    for (let i = 0; i < buf.n; i++) agg.addWindow(buf.hists[i]!);
  }
  let prev = baseIdx - 1;
  for (let from = 0; from < buf.n; from += bs) {
    const n = Math.min(bs, buf.n - from);
    blocks.push(encodeBlockBytes(buf, from, n, prev, clock, bounds));
    prev = buf.idx[from + n - 1]!;
  }
  return assembleChunk(buf.kind, clock, buf.n, sum, agg, blocks, blocks.length, extremes);
}
