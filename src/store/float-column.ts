import { ByteReader, ByteWriter, bitWidth } from './byte-io.js';

/**
 * Float column codec for one block of a chunk (up to a few hundred values).
 *
 * Metric values are mostly decimals in disguise: integer increments, gauges with a fixed number of
 * decimals. So a block first tries to write every value as `x / 10^e` with integer x (smallest e
 * that round-trips every value bit for bit), then packs the integers frame-of-reference style
 * (value - min, fixed bit width) or as deltas (for random walks), whichever is narrower. Anything
 * else (NaN, infinities, -0, full-precision floats) falls back to a byte-granular XOR against the
 * previous value, Gorilla's idea at byte resolution. Every mode is lossless.
 */

const MODE_CONST_DEC = 0;
const MODE_CONST_F64 = 1;
const MODE_FOR = 2;
const MODE_DELTA = 3;
const MODE_XOR = 4;

const MAX_EXP = 15;
const MAX_INT = 2 ** 52;
const POW10: number[] = [];
for (let e = 0; e <= MAX_EXP; e++) POW10.push(10 ** e);

const scratch = new Float64Array(1);
const scratchBytes = new Uint8Array(scratch.buffer);
const prevBytes = new Uint8Array(8);
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** decimalExponent returns the smallest e with Math.round(v*10^e)/10^e === v, or -1. */
export function decimalExponent(v: number): number {
  if (!Number.isFinite(v) || Object.is(v, -0)) return -1;
  for (let e = 0; e <= MAX_EXP; e++) {
    const p = POW10[e]!;
    const x = Math.round(v * p);
    if (Math.abs(x) > MAX_INT) return -1;
    if (x / p === v) return e;
  }
  return -1;
}

const ints = new Float64Array(4096);

/** encodeFloatColumn writes values[from..from+n) (n <= 4096). */
export function encodeFloatColumn(w: ByteWriter, values: ArrayLike<number>, from: number, n: number): void {
  let e = 0;
  let allSame = true;
  const first = values[from]!;
  for (let i = 0; i < n; i++) {
    const v = values[from + i]!;
    if (!Object.is(v, first)) allSame = false;
    if (e >= 0) {
      const ve = decimalExponent(v);
      if (ve < 0) e = -1;
      else if (ve > e) e = ve;
    }
  }
  if (e >= 0) {
    const p = POW10[e]!;
    for (let i = 0; i < n; i++) {
      const v = values[from + i]!;
      const x = Math.round(v * p);
      if (x / p !== v || Math.abs(x) > MAX_INT) {
        e = -1;
        break;
      }
      ints[i] = x;
    }
  }
  if (e < 0) {
    if (allSame) {
      w.u8(MODE_CONST_F64);
      w.f64(first);
      return;
    }
    encodeXor(w, values, from, n);
    return;
  }
  if (allSame) {
    w.u8(MODE_CONST_DEC);
    w.u8(e);
    w.svarint(ints[0]!);
    return;
  }
  let min = ints[0]!, max = min;
  let dmin = Infinity, dmax = -Infinity;
  for (let i = 1; i < n; i++) {
    const x = ints[i]!;
    if (x < min) min = x;
    if (x > max) max = x;
    const d = x - ints[i - 1]!;
    if (d < dmin) dmin = d;
    if (d > dmax) dmax = d;
  }
  const forWidth = bitWidth(max - min);
  const deltaOk = dmax - dmin <= MAX_INT;
  const deltaWidth = deltaOk ? bitWidth(dmax - dmin) : 64;
  if (deltaWidth < forWidth) {
    w.u8(MODE_DELTA);
    w.u8(e);
    w.svarint(ints[0]!);
    w.svarint(dmin);
    w.u8(deltaWidth);
    for (let i = 1; i < n; i++) w.bits(ints[i]! - ints[i - 1]! - dmin, deltaWidth);
  } else {
    w.u8(MODE_FOR);
    w.u8(e);
    w.svarint(min);
    w.u8(forWidth);
    for (let i = 0; i < n; i++) w.bits(ints[i]! - min, forWidth);
  }
  w.flushBits();
}

/** bigEndianBytes fills scratchBytes' big-endian view of v into out. */
function bigEndian(v: number, out: Uint8Array): void {
  scratch[0] = v;
  if (LITTLE) for (let i = 0; i < 8; i++) out[i] = scratchBytes[7 - i]!;
  else out.set(scratchBytes);
}

const curBytes = new Uint8Array(8);

function encodeXor(w: ByteWriter, values: ArrayLike<number>, from: number, n: number): void {
  w.u8(MODE_XOR);
  prevBytes.fill(0);
  for (let i = 0; i < n; i++) {
    bigEndian(values[from + i]!, curBytes);
    let lead = 0;
    while (lead < 8 && curBytes[lead] === prevBytes[lead]) lead++;
    if (lead === 8) {
      w.u8(0x80);
      continue;
    }
    let trail = 0;
    while (curBytes[7 - trail] === prevBytes[7 - trail]) trail++;
    w.u8((lead << 4) | trail);
    for (let k = lead; k < 8 - trail; k++) w.u8(curBytes[k]! ^ prevBytes[k]!);
    prevBytes.set(curBytes);
  }
}

/** decodeFloatColumn reads n values into out[at..at+n). */
export function decodeFloatColumn(r: ByteReader, n: number, out: Float64Array, at: number): void {
  const mode = r.u8();
  switch (mode) {
    case MODE_CONST_DEC: {
      const p = POW10[r.u8()]!;
      const v = r.svarint() / p;
      for (let i = 0; i < n; i++) out[at + i] = v;
      return;
    }
    case MODE_CONST_F64: {
      const v = r.f64();
      for (let i = 0; i < n; i++) out[at + i] = v;
      return;
    }
    case MODE_FOR: {
      const p = POW10[r.u8()]!;
      const min = r.svarint();
      const width = r.u8();
      r.unpack(n, width, out, at);
      for (let i = at; i < at + n; i++) out[i] = (min + out[i]!) / p;
      return;
    }
    case MODE_DELTA: {
      const p = POW10[r.u8()]!;
      let x = r.svarint();
      const dmin = r.svarint();
      const width = r.u8();
      r.unpack(n - 1, width, out, at + 1);
      out[at] = x / p;
      for (let i = at + 1; i < at + n; i++) {
        x += dmin + out[i]!;
        out[i] = x / p;
      }
      return;
    }
    case MODE_XOR: {
      if (LITTLE) {
        decodeXorLE(r, n, out, at);
        return;
      }
      prevBytes.fill(0);
      for (let i = 0; i < n; i++) {
        const h = r.u8();
        if (h !== 0x80) {
          const lead = h >> 4, trail = h & 15;
          for (let k = lead; k < 8 - trail; k++) prevBytes[k] = prevBytes[k]! ^ r.u8();
        }
        if (LITTLE) for (let k = 0; k < 8; k++) scratchBytes[k] = prevBytes[7 - k]!;
        else scratchBytes.set(prevBytes);
        out[at + i] = scratch[0]!;
      }
      return;
    }
    default:
      throw new RangeError(`unknown float column mode ${mode}`);
  }
}

/** skipFloatColumn steps over a column of n values that decodeFloatColumn would read. */
export function skipFloatColumn(r: ByteReader, n: number): void {
  const mode = r.u8();
  switch (mode) {
    case MODE_CONST_DEC:
      r.u8();
      r.svarint();
      return;
    case MODE_CONST_F64:
      r.f64();
      return;
    case MODE_FOR:
      r.u8();
      r.svarint();
      r.skipPacked(n, r.u8());
      return;
    case MODE_DELTA:
      r.u8();
      r.svarint();
      r.svarint();
      r.skipPacked(n - 1, r.u8());
      return;
    case MODE_XOR: {
      const buf = r.buf;
      let pos = r.pos;
      for (let i = 0; i < n; i++) {
        if (pos >= buf.length) throw new RangeError('chunk truncated');
        const h = buf[pos++]!;
        if (h !== 0x80) pos += 8 - (h & 15) - (h >> 4);
      }
      if (pos > buf.length) throw new RangeError('chunk truncated');
      r.pos = pos;
      return;
    }
    default:
      throw new RangeError(`unknown float column mode ${mode}`);
  }
}

/** xorValue holds the previous value while decodeXorLE reads; xorBytes are its bytes, least significant first. */
const xorValue = new Float64Array(1);
const xorBytes = new Uint8Array(xorValue.buffer);

/**
 * decodeXorLE is decodeFloatColumn's XOR mode on a little-endian platform: each value's changed
 * bytes (big-endian `lead` to `8 - trail`) are XORed straight into the previous value's bytes
 * where a Float64Array sees them, read from the buffer with one bounds check per value (a method
 * call per byte and an 8-byte reversal per value were nearly half of a dense raw-tier read).
 */
function decodeXorLE(r: ByteReader, n: number, out: Float64Array, at: number): void {
  const buf = r.buf, len = buf.length;
  let pos = r.pos;
  xorValue[0] = 0;
  for (let i = 0; i < n; i++) {
    if (pos >= len) throw new RangeError('chunk truncated');
    const h = buf[pos++]!;
    if (h !== 0x80) {
      const lead = h >> 4, end = 8 - (h & 15);
      if (pos + end - lead > len) throw new RangeError('chunk truncated');
      for (let k = lead; k < end; k++) xorBytes[7 - k] = xorBytes[7 - k]! ^ buf[pos++]!;
    }
    out[at + i] = xorValue[0]!;
  }
  r.pos = pos;
}
