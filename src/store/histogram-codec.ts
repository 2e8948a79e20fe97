import { HDR_SCALE, PROMETHEUS_DEFAULT_BUCKETS, SparseHistogram, hdrIndex, hdrLowest, hdrScale } from '../model/hdr.js';
import { ByteReader, ByteWriter } from './byte-io.js';
import { decimalExponent } from './float-column.js';

/**
 * Compact, mergeable encoding of one histogram window. A window of a few observations costs
 * tens of bytes and decodes in well under a microsecond per bucket: bucket indices as varint
 * gaps, counts as varints (or nothing when every count is 1), count omitted when it equals the
 * bucket total, min and max as integer offsets inside their HDR bucket when the value survives
 * that exactly (true for values with up to 6 decimals, the HDR scale), sum as a decimal when it
 * round-trips. Every shortcut is checked on encode, so the codec is lossless.
 *
 * Rollup tiers fold (encodeHistogram with `splits`): FOLD adjacent HDR sub-buckets share one
 * stored bucket (1/128 relative width instead of 1/1024), decoded at the middle sub-bucket of the
 * group, so a quantile read from a rollup is within about half a folded bucket (under 0.5 %) of
 * the exact one. Folding never moves an observation across a classic bound (`splits`, the last
 * HDR index counted as `<= le` for each of the series' bounds): a group that straddles one is
 * stored as its parts, each at its own middle, so `_bucket{le}`, count, sum, min and max read the
 * same from a rollup as from the raw windows under it. Folding is idempotent, so a rollup of
 * rollups loses nothing more. The raw tier stays lossless.
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
/** M_PACKED: each bucket is one uvarint (key gap << 1 | count is not 1), then the count if not 1. */
const M_PACKED = 8;

function uvarintLen(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** FOLD is how many HDR sub-buckets a rollup tier stores as one. */
export const FOLD = 8;
/** Indices below FOLD_FROM (scaled values under 1024, where HDR buckets are 1 wide) are not folded. */
const FOLD_FROM = 1024;

function foldKey(idx: number): number {
  return idx < FOLD_FROM ? idx : FOLD_FROM + Math.floor((idx - FOLD_FROM) / FOLD);
}

function foldBase(k: number): number {
  return k < FOLD_FROM ? k : FOLD_FROM + (k - FOLD_FROM) * FOLD;
}

function foldEnd(k: number): number {
  return k < FOLD_FROM ? k : foldBase(k) + FOLD - 1;
}

/** foldRep is the index a whole group decodes to (its middle sub-bucket). */
function foldRep(k: number): number {
  return (foldBase(k) + foldEnd(k)) >> 1;
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
    const k = foldKey(idx);
    let lo = foldBase(k), hi = foldEnd(k);
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

/**
 * encodeHistogram writes one window. `prevBounds` is the previous record's classic bounds in the
 * same block (or null), so repeated sender bounds cost one flag bit.
 */
export function encodeHistogram(w: ByteWriter, h: SparseHistogram, prevBounds: Float64Array | null, splits?: Int32Array): void {
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
  let packed = false;
  if (folded) {
    let exceptions = 0;
    for (let i = 0; i < n; i++) if (indices[i] !== foldRep(foldKey(indices[i]!))) exceptions++;
    // Group keys ascend but a group split at a bound repeats its key: gaps from the previous key.
    // Rollup windows hold many buckets of one observation, so counts pack with the gaps when
    // that is shorter.
    if (allInt && !allOne) {
      let plain = 0, packedLen = 0, prevK = -1;
      for (let i = 0; i < n; i++) {
        const k = foldKey(indices[i]!), c = counts[i]!, g = k - prevK;
        plain += uvarintLen(g) + uvarintLen(c);
        packedLen += uvarintLen(g * 2 + (c === 1 ? 0 : 1)) + (c === 1 ? 0 : uvarintLen(c));
        prevK = k;
      }
      packed = packedLen < plain;
    }
    w.u8((allOne ? M_ONES : allInt ? M_INT : 0) | (exceptions > 0 ? M_EXCEPTIONS : 0) | (packed ? M_PACKED : 0));
    w.uvarint(n);
    let prevK = -1;
    for (let i = 0; i < n; i++) {
      const k = foldKey(indices[i]!);
      if (packed) {
        const c = counts[i]!;
        w.uvarint((k - prevK) * 2 + (c === 1 ? 0 : 1));
        if (c !== 1) w.uvarint(c);
      } else {
        w.uvarint(k - prevK);
      }
      prevK = k;
    }
    if (exceptions > 0) {
      w.uvarint(exceptions);
      let prevI = -1;
      for (let i = 0; i < n; i++) {
        const idx = indices[i]!, k = foldKey(idx);
        if (idx === foldRep(k)) continue;
        w.uvarint(i - prevI - 1);
        w.uvarint(idx - foldBase(k));
        prevI = i;
      }
    }
  } else {
    let prev = -1;
    w.uvarint(n);
    for (let i = 0; i < n; i++) {
      const idx = indices[i]!;
      w.uvarint(idx - prev - 1);
      prev = idx;
    }
  }
  if (!allOne && !packed) {
    for (let i = 0; i < n; i++) {
      if (allInt) w.uvarint(counts[i]!);
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
  if (flags & F_SUM_DEC) {
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
}

/** decodeHistogram reads one window; `prevBounds` as given to encodeHistogram. */
export function decodeHistogram(r: ByteReader, prevBounds: Float64Array | null): SparseHistogram {
  const flags = r.u8();
  const folded = (flags & F_FOLDED) === F_FOLDED;
  const mode = folded ? r.u8() : flags & F_COUNTS_ONE ? M_ONES : flags & F_COUNTS_INT ? M_INT : 0;
  const n = r.uvarint();
  const h = new SparseHistogram(n > 0 ? n : 1);
  const packed = (mode & M_PACKED) !== 0;
  if (folded) {
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
    let e = mode & M_EXCEPTIONS ? r.uvarint() : 0;
    let next = e > 0 ? r.uvarint() : n;
    for (let i = 0; i < n; i++) {
      const key = h.indices[i]!;
      if (i !== next) {
        h.indices[i] = foldRep(key);
        continue;
      }
      h.indices[i] = foldBase(key) + r.uvarint();
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
  for (let i = 0; i < n; i++) {
    const c = packed ? h.counts[i]! : mode & M_ONES ? 1 : mode & M_INT ? r.uvarint() : r.f64();
    h.counts[i] = c;
    total += c;
  }
  h.size = n;
  h.count = flags & F_COUNT_IMPLIED ? total : r.f64();
  if (flags & F_MINMAX_REL) {
    h.min = (hdrLowest(h.indices[0]!) + r.svarint()) / HDR_SCALE;
    h.max = (hdrLowest(h.indices[n - 1]!) + r.svarint()) / HDR_SCALE;
  } else {
    h.min = r.f64();
    h.max = r.f64();
  }
  if (flags & F_SUM_DEC) {
    const p = POW10[r.u8()]!;
    h.sum = r.svarint() / p;
  } else {
    h.sum = r.f64();
  }
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

function sameBounds(a: Float64Array, b: Float64Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}
