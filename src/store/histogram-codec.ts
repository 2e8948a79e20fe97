import { HDR_SCALE, PROMETHEUS_DEFAULT_BUCKETS, SparseHistogram, hdrIndex, hdrLowest, hdrScale } from '../model/hdr.js';
import { ByteReader, ByteWriter } from './byte-io.js';
import { decimalExponent } from './float-column.js';
import { BitReader, BitWriter, RiceState } from './rice.js';

/**
 * Compact, mergeable encoding of one histogram window. A window of a few observations costs
 * tens of bytes and decodes in well under a microsecond per bucket: bucket indices as varint
 * gaps, counts as varints (or nothing when every count is 1), count omitted when it equals the
 * bucket total, min and max as integer offsets inside their HDR bucket when the value survives
 * that exactly (true for values with up to 6 decimals, the HDR scale), sum as a decimal when it
 * round-trips. Every shortcut is checked on encode, so the codec is lossless.
 *
 * Rollup tiers fold (encodeHistogram with `splits`): FOLD adjacent HDR sub-buckets share one
 * stored bucket (1/64 to 1/128 relative width instead of 1/1024 to 1/2048), decoded at the middle
 * sub-bucket of the group, so a quantile read from a rollup is within 9 sub-buckets of the exact
 * one: under 9/1040 = 0.87 % (measured in test/store/histogram-codec.test.ts). Folding never
 * moves an observation across a classic bound (`splits`, the last HDR index counted as `<= le`
 * for each of the series' bounds): a group that straddles one is stored as its parts, each at its
 * own middle, so `_bucket{le}`, count, sum, min and max read the same from a rollup as from the
 * raw windows under it. Folding is idempotent and a FOLD group is a union of format-3 groups (8
 * wide, same origin), so a rollup of rollups, old or new, loses nothing more. The raw tier stays
 * lossless.
 *
 * A folded window's group keys and counts are bit coded (M_BITS, rice.ts): key gaps and counts
 * with an adaptive Rice parameter, which follows the distribution's shape (dense middle, sparse
 * tails). Format-3 data (FOLD_V3 groups, byte varints, M_PACKED) still decodes as it was written.
 */

const F_COUNTS_ONE = 1;
const F_COUNTS_INT = 2;
const F_COUNT_IMPLIED = 4;
const F_MINMAX_REL = 8;
const F_SUM_DEC = 16;
const F_CLASSIC = 32;
const F_CLASSIC_SAME = 64;
const F_CLASSIC_INT = 128;
/** F_FOLDED: F_COUNTS_ONE and F_COUNTS_INT together (never written otherwise); a mode byte follows. */
const F_FOLDED = F_COUNTS_ONE | F_COUNTS_INT;
const M_ONES = 1;
const M_INT = 2;
const M_EXCEPTIONS = 4;
/** M_PACKED (format 3): each bucket is one uvarint (key gap << 1 | count is not 1), then the count if not 1. */
const M_PACKED = 8;
/** M_BITS: FOLD-wide groups, key gaps and (with M_INT, all >= 1) counts Rice coded (see encodeBits). */
const M_BITS = 16;
/** M_REPEATS (with M_BITS): some group keys repeat (a group split at a bound); their positions follow. */
const M_REPEATS = 32;
/** M_SUM_NEAR (with M_BITS): the sum is a decimal plus a few units in the last place (see nearDecimal). */
const M_SUM_NEAR = 64;
/**
 * M_SEGMENTS (with M_BITS, whole counts; format 6): before the buckets, the window's `<= split`
 * counts at each of its fold splits and its total, so a read that only wants `_bucket{le}`,
 * `_count` and `_sum` (decodeWindowRow) steps over the buckets, and a full read over the
 * segments: each part is preceded by its byte length. The splits are named by a code
 * (SPLITS_*): Prometheus' default bounds', the previous window's in the same block, or listed.
 */
const M_SEGMENTS = 128;
const SPLITS_LISTED = 0;
const SPLITS_SAME = 1;
const SPLITS_DEFAULT = 2;

/** FOLD is how many HDR sub-buckets a rollup tier stores as one. */
export const FOLD = 16;
/** FOLD_V3 is the group width of format-3 folded windows (decoded as written). */
const FOLD_V3 = 8;
/** Indices below FOLD_FROM (scaled values under 1024, where HDR buckets are 1 wide) are not folded. */
const FOLD_FROM = 1024;

function foldKey(idx: number, f: number): number {
  return idx < FOLD_FROM ? idx : FOLD_FROM + Math.floor((idx - FOLD_FROM) / f);
}

function foldBase(k: number, f: number): number {
  return k < FOLD_FROM ? k : FOLD_FROM + (k - FOLD_FROM) * f;
}

function foldEnd(k: number, f: number): number {
  return k < FOLD_FROM ? k : foldBase(k, f) + f - 1;
}

/** foldRep is the index a whole group decodes to (its middle sub-bucket). */
function foldRep(k: number, f: number): number {
  return (foldBase(k, f) + foldEnd(k, f)) >> 1;
}

function splitsOf(bounds: ArrayLike<number>): Int32Array {
  const set = new Set<number>();
  for (let i = 0; i < bounds.length; i++) {
    const le = bounds[i]!;
    if (le >= 0 && le !== Infinity) set.add(hdrIndex(hdrScale(le)));
  }
  return Int32Array.from([...set].sort((a, b) => a - b));
}

const DEFAULT_SPLITS = splitsOf(PROMETHEUS_DEFAULT_BUCKETS);
const splitCache = new WeakMap<object, Int32Array>();

/**
 * foldSplits returns the ascending HDR indices that folding must not merge across for a series'
 * classic bounds (Prometheus' defaults when none): index s for each bound le >= 0, as countLE
 * counts the buckets up to the one holding le.
 */
export function foldSplits(bounds: ArrayLike<number> | null | undefined): Int32Array {
  if (!bounds || bounds.length === 0) return DEFAULT_SPLITS;
  const cached = splitCache.get(bounds as object);
  if (cached) return cached;
  const out = splitsOf(bounds);
  splitCache.set(bounds as object, out);
  return out;
}

let foldIdx = new Int32Array(256);
let foldCounts = new Float64Array(256);

/**
 * fold merges h's buckets into folded groups (parts of groups at splits) into foldIdx/foldCounts,
 * each at its decoded index; returns how many. Idempotent: a folded histogram folds to itself.
 */
function fold(h: SparseHistogram, splits: Int32Array): number {
  if (foldIdx.length < h.size) {
    foldIdx = new Int32Array(h.size * 2);
    foldCounts = new Float64Array(h.size * 2);
  }
  let m = 0, sp = 0, lastRep = -1;
  for (let i = 0; i < h.size; i++) {
    const idx = h.indices[i]!;
    const k = foldKey(idx, FOLD);
    let lo = foldBase(k, FOLD), hi = foldEnd(k, FOLD);
    if (lo !== hi) {
      while (sp < splits.length && splits[sp]! < idx) sp++;
      if (sp < splits.length && splits[sp]! < hi) hi = splits[sp]!;
      if (sp > 0 && splits[sp - 1]! >= lo) lo = splits[sp - 1]! + 1;
    }
    const rep = (lo + hi) >> 1;
    if (rep === lastRep) foldCounts[m - 1] = foldCounts[m - 1]! + h.counts[i]!;
    else {
      foldIdx[m] = rep;
      foldCounts[m++] = h.counts[i]!;
      lastRep = rep;
    }
  }
  return m;
}

const POW10: number[] = [];
for (let e = 0; e <= 15; e++) POW10.push(10 ** e);

function isCount(c: number): boolean {
  return Number.isInteger(c) && c >= 0 && c <= Number.MAX_SAFE_INTEGER;
}

function relOffset(v: number, index: number): number | null {
  if (!Number.isFinite(v) || Object.is(v, -0)) return null;
  const lo = hdrLowest(index);
  const o = Math.round(v * HDR_SCALE) - lo;
  if (!Number.isSafeInteger(o)) return null;
  return (lo + o) / HDR_SCALE === v ? o : null;
}

const f64Box = new Float64Array(1);
const u32Box = new Uint32Array(f64Box.buffer);
const LO = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1;
const HI = 1 - LO;
const TWO32 = 4294967296;
/** Largest distance in units in the last place nearDecimal accepts (a sum of thousands of terms stays far below). */
const MAX_ULPS = 1 << 20;

/** ulpDelta is how many representable doubles lie from b up to a (same sign; |result| < 2^31 where used). */
function ulpDelta(a: number, b: number): number {
  f64Box[0] = a;
  const ah = u32Box[HI]!, al = u32Box[LO]!;
  f64Box[0] = b;
  return (ah - u32Box[HI]!) * TWO32 + (al - u32Box[LO]!);
}

/** addUlps steps `d` representable doubles from v (the inverse of ulpDelta). */
function addUlps(v: number, d: number): number {
  f64Box[0] = v;
  let lo = u32Box[LO]! + d;
  const carry = Math.floor(lo / TWO32);
  lo -= carry * TWO32;
  u32Box[LO] = lo;
  u32Box[HI] = u32Box[HI]! + carry;
  return f64Box[0]!;
}

/**
 * nearDecimal returns the smallest e <= 9 such that v lies within MAX_ULPS doubles of a decimal
 * x / 10^e of the same sign (v then costs e, x and the distance, about 5 bytes instead of 8),
 * or -1.
 */
function nearDecimal(v: number): number {
  if (!Number.isFinite(v) || v === 0) return -1;
  for (let e = 0; e <= 9; e++) {
    const x = Math.round(v * POW10[e]!);
    if (!Number.isSafeInteger(x) || x === 0) continue;
    const b = x / POW10[e]!;
    if (b < 0 !== v < 0) continue;
    const d = ulpDelta(v, b);
    if (Math.abs(d) <= MAX_ULPS && addUlps(b, d) === v) return e;
  }
  return -1;
}

/**
 * encodeBits writes a folded window's buckets (M_BITS): mode byte, bucket count, the first group
 * key, the positions whose key repeats the previous one (a group split at a bound), then in one
 * bit stream the other key gaps less one and, when every count is an integer >= 1, the counts
 * less one, both adaptive Rice codes; then the buckets not at their group's middle (split parts)
 * as (position gap, index in group). Returns whether the counts were written (else the caller
 * writes them as floats, or they are all 1).
 */
function encodeBits(w: ByteWriter, indices: Int32Array, counts: Float64Array, n: number, allOne: boolean, allInt: boolean, extraMode: number, segments: Int32Array | null, sameSegments: boolean): boolean {
  let exceptions = 0, repeats = 0, intCounts = !allOne && allInt, total = 0;
  for (let i = 0; i < n; i++) {
    const idx = indices[i]!, k = foldKey(idx, FOLD);
    if (idx !== foldRep(k, FOLD)) exceptions++;
    if (i > 0 && k === foldKey(indices[i - 1]!, FOLD)) repeats++;
    if (counts[i]! < 1) intCounts = false;
    total += counts[i]!;
  }
  const withSegments = segments !== null && n > 0 && (allOne || intCounts) && total <= Number.MAX_SAFE_INTEGER;
  wroteSegments = withSegments;
  w.u8(M_BITS | extraMode | (allOne ? M_ONES : intCounts ? M_INT : 0) | (exceptions > 0 ? M_EXCEPTIONS : 0) | (repeats > 0 ? M_REPEATS : 0) | (withSegments ? M_SEGMENTS : 0));
  w.uvarint(n);
  if (n === 0) return true;
  const out = w;
  if (withSegments) {
    // Both parts go through a scratch writer: each one's byte length comes first, so a full
    // read steps over the segments and a read into columns over the buckets.
    sectionWriter.reset();
    encodeSegments(sectionWriter, indices, counts, n, segments, sameSegments);
    out.uvarint(sectionWriter.pos);
    out.bytes(sectionWriter.buf.subarray(0, sectionWriter.pos));
    w = sectionWriter;
    w.reset();
  }
  w.uvarint(foldKey(indices[0]!, FOLD));
  if (repeats > 0) {
    w.uvarint(repeats);
    let prevI = 0;
    for (let i = 1; i < n; i++) {
      if (foldKey(indices[i]!, FOLD) !== foldKey(indices[i - 1]!, FOLD)) continue;
      w.uvarint(i - prevI - 1);
      prevI = i;
    }
  }
  const bw = new BitWriter(w);
  const gaps = new RiceState(4);
  let prevK = foldKey(indices[0]!, FOLD);
  for (let i = 1; i < n; i++) {
    const k = foldKey(indices[i]!, FOLD);
    if (k === prevK) continue;
    bw.adaptive(gaps, k - prevK - 1);
    prevK = k;
  }
  if (intCounts) {
    const cs = new RiceState(1);
    for (let i = 0; i < n; i++) bw.adaptive(cs, counts[i]! - 1);
  }
  bw.finish();
  if (exceptions > 0) {
    w.uvarint(exceptions);
    let prevI = -1;
    for (let i = 0; i < n; i++) {
      const idx = indices[i]!, k = foldKey(idx, FOLD);
      if (idx === foldRep(k, FOLD)) continue;
      w.uvarint(i - prevI - 1);
      w.uvarint(idx - foldBase(k, FOLD));
      prevI = i;
    }
  }
  if (withSegments) {
    out.uvarint(w.pos);
    out.bytes(w.buf.subarray(0, w.pos));
  }
  return allOne || intCounts;
}

/** wroteSegments says whether the last encodeBits wrote M_SEGMENTS (encodeHistogram's answer). */
let wroteSegments = false;
const sectionWriter = new ByteWriter(1024);

function sameSplits(a: Int32Array, b: Int32Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * encodeSegments writes the splits' code (and list), then in one bit stream the count of the
 * buckets at or below each split less the one before it, and the total less the last: whole
 * numbers, added in bucket order as BucketColumns.set adds them.
 */
function encodeSegments(w: ByteWriter, indices: Int32Array, counts: Float64Array, n: number, splits: Int32Array, same: boolean): void {
  if (same) w.u8(SPLITS_SAME);
  else if (sameSplits(splits, DEFAULT_SPLITS)) w.u8(SPLITS_DEFAULT);
  else {
    w.u8(SPLITS_LISTED);
    w.uvarint(splits.length);
    let prev = -1;
    for (let j = 0; j < splits.length; j++) {
      w.uvarint(splits[j]! - prev - 1);
      prev = splits[j]!;
    }
  }
  const bw = new BitWriter(w);
  const rs = new RiceState(4);
  let b = 0, acc = 0, prev = 0;
  for (let j = 0; j < splits.length; j++) {
    const s = splits[j]!;
    while (b < n && indices[b]! <= s) acc += counts[b++]!;
    bw.adaptive(rs, acc - prev);
    prev = acc;
  }
  while (b < n) acc += counts[b++]!;
  bw.adaptive(rs, acc - prev);
  bw.finish();
}

/**
 * decodeSplits is the split list a window's code names; `decodedSplits` is the last one read in
 * the block (SPLITS_SAME refers to it; decodeBlock clears it at each block's start).
 */
let decodedSplits: Int32Array | null = null;

/** startBlock readies the window decoder for a new block (SPLITS_SAME never reaches back past one). */
export function startBlock(): void {
  decodedSplits = null;
}

function decodeSplits(r: ByteReader): Int32Array {
  const code = r.u8();
  if (code === SPLITS_DEFAULT) decodedSplits = DEFAULT_SPLITS;
  else if (code === SPLITS_LISTED) {
    const out = new Int32Array(r.uvarint());
    let prev = -1;
    for (let j = 0; j < out.length; j++) out[j] = prev = prev + 1 + r.uvarint();
    decodedSplits = out;
  } else if (code !== SPLITS_SAME || decodedSplits === null) throw new RangeError(`corrupt histogram window: splits code ${code}`);
  return decodedSplits;
}

/** segScratch holds a window's segment counts while they are read (reads are synchronous). */
let segScratch = new Float64Array(64);

/** readSegments reads the splits and the segment counts into segScratch (running totals; the last is the total); returns the splits. */
function readSegments(r: ByteReader): Int32Array {
  const splits = decodeSplits(r);
  const m = splits.length + 1;
  if (segScratch.length < m) segScratch = new Float64Array(m * 2);
  const br = new BitReader(r);
  br.adaptiveRun(new RiceState(4), segScratch, m, 0);
  br.finish();
  for (let j = 1; j < m; j++) segScratch[j] = segScratch[j - 1]! + segScratch[j]!;
  return splits;
}

/** ColumnRow is where decodeWindowRow puts a window's numbers (BucketColumns). */
export interface ColumnRow {
  /** segmentsOf maps each bound to its split's position among `splits`, -1 for the total (+Inf), or null when a bound has no split. */
  segmentsOf(splits: Int32Array): Int32Array | null;
  setRow(i: number, count: number, sum: number, segments: Float64Array, map: Int32Array): void;
}

/**
 * decodeWindowRow reads one window into row `i` of `cols` from its segment counts, stepping over
 * its buckets, and returns true; or returns false with the reader where it was (the window has
 * no segments, classic buckets of its own, or splits that miss a bound), for decodeHistogram.
 */
export function decodeWindowRow(r: ByteReader, cols: ColumnRow, i: number): boolean {
  const p0 = r.pos;
  const flags = r.u8();
  if ((flags & F_FOLDED) !== F_FOLDED || (flags & F_CLASSIC) !== 0) {
    r.pos = p0;
    return false;
  }
  const mode = r.u8();
  if ((mode & M_SEGMENTS) === 0) {
    r.pos = p0;
    return false;
  }
  r.uvarint(); // the bucket count
  r.uvarint(); // the segments' byte length: they are read
  const splits = readSegments(r);
  const map = cols.segmentsOf(splits);
  if (map === null) {
    r.pos = p0;
    return false;
  }
  // (`r.pos += r.uvarint()` would add to the position before the length was read.)
  const bucketBytes = r.uvarint();
  r.pos += bucketBytes;
  const count = flags & F_COUNT_IMPLIED ? segScratch[splits.length]! : r.f64();
  if (flags & F_MINMAX_REL) {
    r.svarint();
    r.svarint();
  } else r.pos += 16;
  cols.setRow(i, count, readSum(r, flags, mode), segScratch, map);
  return true;
}

/** readSum reads a window's sum as encodeHistogram wrote it. */
function readSum(r: ByteReader, flags: number, mode: number): number {
  if (mode & M_SUM_NEAR) {
    const p = POW10[r.u8()]!;
    const x = r.svarint();
    return addUlps(x / p, r.svarint());
  }
  if (flags & F_SUM_DEC) {
    const p = POW10[r.u8()]!;
    return r.svarint() / p;
  }
  return r.f64();
}

/** gapScratch and repeatScratch hold a window's key gaps and repeat positions while decodeBits reads them (reads are synchronous). */
let gapScratch = new Float64Array(256);
let repeatScratch = new Int32Array(16);

/** REP_OFFSET is how far a FOLD group's middle sub-bucket lies from its first (foldRep - foldBase). */
const REP_OFFSET = (FOLD - 1) >> 1;

/** decodeBits reads what encodeBits wrote into h (after the mode byte); true when counts were read. */
function decodeBits(r: ByteReader, mode: number, h: SparseHistogram, n: number): boolean {
  if (n === 0) return true;
  const keys = h.indices;
  if (mode & M_SEGMENTS) {
    // A full read needs none of the segments: step over them, and take the buckets' length.
    const segmentBytes = r.uvarint();
    r.pos += segmentBytes;
    r.uvarint();
  }
  let key = r.uvarint();
  // Repeat positions come before the bit stream.
  const repeats = mode & M_REPEATS ? r.uvarint() : 0;
  if (repeatScratch.length < repeats) repeatScratch = new Int32Array(repeats * 2);
  for (let j = 0, p = 0; j < repeats; j++) repeatScratch[j] = p = p + 1 + r.uvarint();
  const br = new BitReader(r);
  const nGaps = n - 1 - repeats;
  if (gapScratch.length < nGaps) gapScratch = new Float64Array(nGaps * 2);
  br.adaptiveRun(new RiceState(4), gapScratch, nGaps, 0);
  // Each bucket decodes at its group's middle (foldRep); exceptions below move split parts.
  keys[0] = key < FOLD_FROM ? key : FOLD_FROM + (key - FOLD_FROM) * FOLD + REP_OFFSET;
  for (let i = 1, g = 0, rj = 0; i < n; i++) {
    if (rj < repeats && repeatScratch[rj] === i) rj++;
    else key += 1 + gapScratch[g++]!;
    keys[i] = key < FOLD_FROM ? key : FOLD_FROM + (key - FOLD_FROM) * FOLD + REP_OFFSET;
  }
  const intCounts = (mode & M_INT) !== 0;
  if (intCounts) br.adaptiveRun(new RiceState(1), h.counts, n, 1);
  br.finish();
  let e = mode & M_EXCEPTIONS ? r.uvarint() : 0;
  for (let i = e > 0 ? r.uvarint() : n; e > 0; i += 1 + r.uvarint()) {
    // A middle at or past FOLD_FROM is its group's first sub-bucket plus REP_OFFSET.
    const rep = keys[i]!;
    keys[i] = (rep < FOLD_FROM ? rep : rep - REP_OFFSET) + r.uvarint();
    if (--e === 0) break;
  }
  if (mode & M_ONES) h.counts.fill(1, 0, n);
  return intCounts || (mode & M_ONES) !== 0;
}

/**
 * encodeHistogram writes one window. `prevBounds` is the previous record's classic bounds in the
 * same block (or null), so repeated sender bounds cost one flag bit. With `splits` (a rollup
 * tier) the window is folded and, when its counts are whole, carries its segment counts
 * (M_SEGMENTS); `prevSplits` is what the block's last window with segments returned, so equal
 * splits cost one byte. Returns the splits its segments were written for, or null.
 */
export function encodeHistogram(w: ByteWriter, h: SparseHistogram, prevBounds: Float64Array | null, splits?: Int32Array, prevSplits: Int32Array | null = null): Int32Array | null {
  const folded = splits !== undefined;
  const n = folded ? fold(h, splits) : h.size;
  const indices = folded ? foldIdx : h.indices, counts = folded ? foldCounts : h.counts;
  let flags = 0;
  let allOne = true, allInt = true, total = 0;
  for (let i = 0; i < n; i++) {
    const c = counts[i]!;
    if (c !== 1) allOne = false;
    if (!isCount(c)) allInt = false;
    total += c;
  }
  if (folded) flags |= F_FOLDED;
  else if (allOne) flags |= F_COUNTS_ONE;
  else if (allInt) flags |= F_COUNTS_INT;
  if (Object.is(total, h.count) && allInt) flags |= F_COUNT_IMPLIED;
  let minO: number | null = null, maxO: number | null = null;
  if (n > 0) {
    minO = relOffset(h.min, indices[0]!);
    maxO = relOffset(h.max, indices[n - 1]!);
    if (minO !== null && maxO !== null) flags |= F_MINMAX_REL;
  }
  const sumE = decimalExponent(h.sum);
  if (sumE >= 0) flags |= F_SUM_DEC;
  // A rollup's sum adds many decimal sums in floating point and rarely stays a short decimal.
  const near = folded && sumE < 0 ? nearDecimal(h.sum) : -1;
  const classic = h.bounds !== null && h.classicCounts !== null;
  let classicInt = true;
  if (classic) {
    flags |= F_CLASSIC;
    if (prevBounds !== null && sameBounds(prevBounds, h.bounds!)) flags |= F_CLASSIC_SAME;
    const cc = h.classicCounts!;
    for (let i = 0; i < cc.length; i++) if (!isCount(cc[i]!)) classicInt = false;
    if (classicInt) flags |= F_CLASSIC_INT;
  }
  w.u8(flags);
  let countsWritten = allOne;
  wroteSegments = false;
  // Segments serve reads into columns, which take a window's own classic buckets otherwise.
  if (folded) countsWritten = encodeBits(w, indices, counts, n, allOne, allInt, near >= 0 ? M_SUM_NEAR : 0, classic ? null : splits, prevSplits !== null && sameSplits(prevSplits, splits));
  else {
    let prev = -1;
    w.uvarint(n);
    for (let i = 0; i < n; i++) {
      const idx = indices[i]!;
      w.uvarint(idx - prev - 1);
      prev = idx;
    }
  }
  if (!countsWritten) {
    // A folded window's integer counts are all Rice coded unless one is 0: then floats, as M_INT is unset.
    for (let i = 0; i < n; i++) {
      if (allInt && !folded) w.uvarint(counts[i]!);
      else w.f64(counts[i]!);
    }
  }
  if (!(flags & F_COUNT_IMPLIED)) w.f64(h.count);
  if (flags & F_MINMAX_REL) {
    w.svarint(minO!);
    w.svarint(maxO!);
  } else {
    w.f64(h.min);
    w.f64(h.max);
  }
  if (near >= 0) {
    const x = Math.round(h.sum * POW10[near]!);
    w.u8(near);
    w.svarint(x);
    w.svarint(ulpDelta(h.sum, x / POW10[near]!));
  } else if (flags & F_SUM_DEC) {
    w.u8(sumE);
    w.svarint(Math.round(h.sum * POW10[sumE]!));
  } else {
    w.f64(h.sum);
  }
  if (classic) {
    const b = h.bounds!, cc = h.classicCounts!;
    if (!(flags & F_CLASSIC_SAME)) {
      w.uvarint(b.length);
      for (let i = 0; i < b.length; i++) w.f64(b[i]!);
    }
    for (let i = 0; i < cc.length; i++) {
      if (classicInt) w.uvarint(cc[i]!);
      else w.f64(cc[i]!);
    }
  }
  return wroteSegments ? splits! : null;
}

/**
 * decodeHistogram reads one window; `prevBounds` as given to encodeHistogram. With `into`, the
 * window is decoded into that histogram (emptied first, its buffer reused and grown as needed)
 * instead of a new one: a reader that only takes numbers out of each window allocates nothing
 * per window.
 */
export function decodeHistogram(r: ByteReader, prevBounds: Float64Array | null, into: SparseHistogram | null = null): SparseHistogram {
  const flags = r.u8();
  const folded = (flags & F_FOLDED) === F_FOLDED;
  const mode = folded ? r.u8() : flags & F_COUNTS_ONE ? M_ONES : flags & F_COUNTS_INT ? M_INT : 0;
  const n = r.uvarint();
  let h: SparseHistogram;
  if (into === null) h = new SparseHistogram(n > 0 ? n : 1);
  else {
    h = into;
    h.size = 0;
    h.reserve(n);
    h.bounds = null;
    h.classicCounts = null;
  }
  const packed = (mode & M_PACKED) !== 0;
  let countsRead = false;
  if (mode & M_BITS) countsRead = decodeBits(r, mode, h, n);
  else if (folded) {
    // Format 3: FOLD_V3 groups, byte varints.
    let k = -1;
    for (let i = 0; i < n; i++) {
      if (packed) {
        const v = r.uvarint();
        k += Math.floor(v / 2);
        h.counts[i] = v % 2 === 1 ? r.uvarint() : 1;
      } else {
        k += r.uvarint();
      }
      h.indices[i] = k;
    }
    countsRead = packed;
    let e = mode & M_EXCEPTIONS ? r.uvarint() : 0;
    let next = e > 0 ? r.uvarint() : n;
    for (let i = 0; i < n; i++) {
      const key = h.indices[i]!;
      if (i !== next) {
        h.indices[i] = foldRep(key, FOLD_V3);
        continue;
      }
      h.indices[i] = foldBase(key, FOLD_V3) + r.uvarint();
      next = --e > 0 ? i + 1 + r.uvarint() : n;
    }
  } else {
    let prev = -1;
    for (let i = 0; i < n; i++) {
      prev += r.uvarint() + 1;
      h.indices[i] = prev;
    }
  }
  let total = 0;
  const counts = h.counts;
  if (countsRead) for (let i = 0; i < n; i++) total += counts[i]!;
  else {
    for (let i = 0; i < n; i++) {
      const c = mode & M_ONES ? 1 : mode & M_INT ? r.uvarint() : r.f64();
      counts[i] = c;
      total += c;
    }
  }
  h.size = n;
  h.count = flags & F_COUNT_IMPLIED ? total : r.f64();
  if (flags & F_MINMAX_REL) {
    h.min = (lowest(h.indices[0]!) + r.svarint()) / HDR_SCALE;
    h.max = (lowest(h.indices[n - 1]!) + r.svarint()) / HDR_SCALE;
  } else {
    h.min = r.f64();
    h.max = r.f64();
  }
  h.sum = readSum(r, flags, mode);
  if (flags & F_CLASSIC) {
    let bounds: Float64Array;
    if (flags & F_CLASSIC_SAME) bounds = prevBounds!;
    else {
      bounds = new Float64Array(r.uvarint());
      for (let i = 0; i < bounds.length; i++) bounds[i] = r.f64();
    }
    const cc = new Float64Array(bounds.length + 1);
    for (let i = 0; i < cc.length; i++) cc[i] = flags & F_CLASSIC_INT ? r.uvarint() : r.f64();
    h.bounds = bounds;
    h.classicCounts = cc;
  }
  return h;
}

const POW2 = new Float64Array(64).map((_, i) => 2 ** i);

/**
 * lowest is hdrLowest (the same numbers) by a table of powers of two: every decoded window takes
 * it twice (min and max), and `2 ** bucket` was a tenth of a long `_bucket` read.
 */
function lowest(index: number): number {
  let bucket = Math.floor(index / 1024) - 1;
  let sub = (index % 1024) + 1024;
  if (bucket < 0) {
    sub -= 1024;
    bucket = 0;
  }
  return sub * (bucket < 64 ? POW2[bucket]! : 2 ** bucket);
}

function sameBounds(a: Float64Array, b: Float64Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}
