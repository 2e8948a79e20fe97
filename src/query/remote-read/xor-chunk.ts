import { isStaleNaN } from '../../model/stale.js';

/**
 * XOR chunks exactly as Prometheus' `tsdb/chunkenc/xor.go` writes them, so that a remote-read
 * client can hand our bytes straight to its chunk iterator:
 * - 2 bytes big-endian sample count;
 * - first sample: zig-zag varint timestamp, then the raw 64 float bits;
 * - second sample: uvarint timestamp delta, then the value XOR;
 * - later samples: delta-of-delta in buckets `0` | `10`+14 bits | `110`+17 | `1110`+20 | `1111`+64,
 *   then the value XOR (Gorilla: `0` same value, `10` reuse the previous leading/trailing window,
 *   `11` + 5 bits leading zeros + 6 bits significant-bit count + the bits).
 * 64-bit quantities are handled as two uint32 halves so encoding allocates nothing per sample.
 */

/** MAX_SAMPLES_PER_CHUNK is Prometheus' target of 120 samples per XOR chunk. */
export const MAX_SAMPLES_PER_CHUNK = 120;

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
// Which half of a float64 holds the high bits depends on the platform's byte order.
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
const LO = 1 - HI;
const TWO32 = 4294967296;

function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/**
 * XorChunkWriter builds one XOR chunk at a time into a reused buffer. Call `reset()`, `append()`
 * samples in ascending time order, then `bytes()`; the returned view is valid until the next
 * `reset()`.
 */
export class XorChunkWriter {
  private buf: Uint8Array;
  private bitPos: number;
  private num: number;
  private t: number;
  private tDelta: number;
  private vHi: number;
  private vLo: number;
  private leading: number;
  private trailing: number;
  /** minT and maxT are the first and last timestamps appended since the last reset. */
  minT: number;
  maxT: number;

  constructor(capacity = 256) {
    this.buf = new Uint8Array(capacity);
    this.bitPos = 16;
    this.num = 0;
    this.t = 0;
    this.tDelta = 0;
    this.vHi = 0;
    this.vLo = 0;
    this.leading = 0xff;
    this.trailing = 0;
    this.minT = 0;
    this.maxT = 0;
  }

  /** count is the number of samples in the current chunk. */
  get count(): number {
    return this.num;
  }

  /** reset starts a new, empty chunk. */
  reset(): void {
    this.buf.fill(0, 0, (this.bitPos + 7) >>> 3);
    this.bitPos = 16;
    this.num = 0;
    this.t = 0;
    this.tDelta = 0;
    this.vHi = 0;
    this.vLo = 0;
    this.leading = 0xff;
    this.trailing = 0;
    this.minT = 0;
    this.maxT = 0;
  }

  /** append adds one sample; `t` MUST NOT be before the previous sample's. */
  append(t: number, v: number): void {
    F64[0] = v;
    // A stale marker goes out with Prometheus' exact bits (JavaScript may have quieted it).
    const stale = v !== v && isStaleNaN(v);
    const hi = stale ? 0x7ff00000 : U32[HI]!, lo = stale ? 2 : U32[LO]!;
    const num = this.num;
    if (num === 0) {
      this.writeUvarint(t >= 0 ? 2 * t : -2 * t - 1);
      this.writeBits(hi, 32);
      this.writeBits(lo, 32);
      this.minT = t;
    } else if (num === 1) {
      this.tDelta = t - this.t;
      this.writeUvarint(this.tDelta);
      this.writeValue(hi, lo);
    } else {
      const tDelta = t - this.t;
      const dod = tDelta - this.tDelta;
      this.tDelta = tDelta;
      if (dod === 0) {
        this.writeBits(0, 1);
      } else if (dod >= -8191 && dod <= 8192) {
        this.writeBits(0b10, 2);
        this.writeBits(dod & 0x3fff, 14);
      } else if (dod >= -65535 && dod <= 65536) {
        this.writeBits(0b110, 3);
        this.writeBits(dod & 0x1ffff, 17);
      } else if (dod >= -524287 && dod <= 524288) {
        this.writeBits(0b1110, 4);
        this.writeBits(dod & 0xfffff, 20);
      } else {
        this.writeBits(0b1111, 4);
        const dHi = Math.floor(dod / TWO32);
        this.writeBits(dHi >>> 0, 32);
        this.writeBits((dod - dHi * TWO32) >>> 0, 32);
      }
      this.writeValue(hi, lo);
    }
    this.t = t;
    this.maxT = t;
    this.vHi = hi;
    this.vLo = lo;
    this.num = num + 1;
    this.buf[0] = this.num >>> 8;
    this.buf[1] = this.num & 0xff;
  }

  /** bytes returns the chunk encoded so far (a view into the reused buffer). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, (this.bitPos + 7) >>> 3);
  }

  private writeValue(hi: number, lo: number): void {
    const dHi = (hi ^ this.vHi) >>> 0, dLo = (lo ^ this.vLo) >>> 0;
    if (dHi === 0 && dLo === 0) {
      this.writeBits(0, 1);
      return;
    }
    let leading = dHi !== 0 ? Math.clz32(dHi) : 32 + Math.clz32(dLo);
    const trailing = dLo !== 0 ? ctz32(dLo) : 32 + ctz32(dHi);
    // Five bits hold the leading count, so Prometheus clamps it to 31.
    if (leading >= 32) leading = 31;
    if (this.leading !== 0xff && leading >= this.leading && trailing >= this.trailing) {
      this.writeBits(0b10, 2);
      this.writeShifted(dHi, dLo, this.trailing, 64 - this.leading - this.trailing);
    } else {
      this.leading = leading;
      this.trailing = trailing;
      this.writeBits(0b11, 2);
      this.writeBits(leading, 5);
      const sig = 64 - leading - trailing;
      // 64 significant bits do not fit in six bits; they are written as 0 and read back as 64.
      this.writeBits(sig & 63, 6);
      this.writeShifted(dHi, dLo, trailing, sig);
    }
  }

  /** writeShifted writes the low `n` bits of the 64-bit (hi, lo) shifted right by `shift`. */
  private writeShifted(hi: number, lo: number, shift: number, n: number): void {
    let sHi: number, sLo: number;
    if (shift === 0) {
      sHi = hi;
      sLo = lo;
    } else if (shift >= 32) {
      sHi = 0;
      sLo = hi >>> (shift - 32);
    } else {
      sHi = hi >>> shift;
      sLo = ((lo >>> shift) | (hi << (32 - shift))) >>> 0;
    }
    if (n > 32) {
      this.writeBits(sHi, n - 32);
      this.writeBits(sLo, 32);
    } else {
      this.writeBits(sLo, n);
    }
  }

  private writeUvarint(x: number): void {
    while (x >= 128) {
      this.writeBits((x % 128) | 0x80, 8);
      x = Math.floor(x / 128);
    }
    this.writeBits(x, 8);
  }

  /** writeBits appends the low `n` (1..32) bits of `v`, most significant first. */
  private writeBits(v: number, n: number): void {
    const need = ((this.bitPos + n + 7) >>> 3);
    if (need > this.buf.length) {
      const nb = new Uint8Array(Math.max(need, this.buf.length * 2));
      nb.set(this.buf);
      this.buf = nb;
    }
    const buf = this.buf;
    let pos = this.bitPos;
    while (n > 0) {
      const free = 8 - (pos & 7);
      const take = free < n ? free : n;
      const bits = (v >>> (n - take)) & ((1 << take) - 1);
      buf[pos >>> 3]! |= bits << (free - take);
      pos += take;
      n -= take;
    }
    this.bitPos = pos;
  }
}
