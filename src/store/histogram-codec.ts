import { HDR_SCALE, SparseHistogram, hdrLowest } from '../model/hdr.js';
import { ByteReader, ByteWriter } from './byte-io.js';
import { decimalExponent } from './float-column.js';

/**
 * Compact, mergeable encoding of one histogram window. A window of a few observations costs
 * tens of bytes and decodes in well under a microsecond per bucket: bucket indices as varint
 * gaps, counts as varints (or nothing when every count is 1), count omitted when it equals the
 * bucket total, min and max as integer offsets inside their HDR bucket when the value survives
 * that exactly (true for values with up to 6 decimals, the HDR scale), sum as a decimal when it
 * round-trips. Every shortcut is checked on encode, so the codec is lossless.
 */

const F_COUNTS_ONE = 1;
const F_COUNTS_INT = 2;
const F_COUNT_IMPLIED = 4;
const F_MINMAX_REL = 8;
const F_SUM_DEC = 16;
const F_CLASSIC = 32;
const F_CLASSIC_SAME = 64;
const F_CLASSIC_INT = 128;

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
export function encodeHistogram(w: ByteWriter, h: SparseHistogram, prevBounds: Float64Array | null): void {
  const n = h.size;
  let flags = 0;
  let allOne = true, allInt = true, total = 0;
  for (let i = 0; i < n; i++) {
    const c = h.counts[i]!;
    if (c !== 1) allOne = false;
    if (!isCount(c)) allInt = false;
    total += c;
  }
  if (allOne) flags |= F_COUNTS_ONE;
  else if (allInt) flags |= F_COUNTS_INT;
  if (Object.is(total, h.count) && allInt) flags |= F_COUNT_IMPLIED;
  let minO: number | null = null, maxO: number | null = null;
  if (n > 0) {
    minO = relOffset(h.min, h.indices[0]!);
    maxO = relOffset(h.max, h.indices[n - 1]!);
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
  w.uvarint(n);
  let prev = -1;
  for (let i = 0; i < n; i++) {
    const idx = h.indices[i]!;
    w.uvarint(idx - prev - 1);
    prev = idx;
  }
  if (!allOne) {
    for (let i = 0; i < n; i++) {
      if (allInt) w.uvarint(h.counts[i]!);
      else w.f64(h.counts[i]!);
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
  const n = r.uvarint();
  const h = new SparseHistogram(n > 0 ? n : 1);
  let prev = -1;
  for (let i = 0; i < n; i++) {
    prev += r.uvarint() + 1;
    h.indices[i] = prev;
  }
  let total = 0;
  for (let i = 0; i < n; i++) {
    const c = flags & F_COUNTS_ONE ? 1 : flags & F_COUNTS_INT ? r.uvarint() : r.f64();
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
