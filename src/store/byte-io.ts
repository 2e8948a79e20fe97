/**
 * Byte and bit level writers and readers for the chunk encodings. Varints are LEB128 over
 * non-negative safe integers (up to 2^53), so they cost 1 byte below 128 and never lose bits;
 * bit packing handles widths up to 53 bits with float arithmetic where 32-bit operators would
 * truncate.
 */

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const TWO32 = 4294967296;

/** ByteWriter is a growable output buffer; `reset()` lets one writer serve many encodes. */
export class ByteWriter {
  buf: Uint8Array;
  pos: number;
  private bitAcc: number;
  private bitCount: number;

  constructor(capacity = 256) {
    this.buf = new Uint8Array(capacity);
    this.pos = 0;
    this.bitAcc = 0;
    this.bitCount = 0;
  }

  reset(): void {
    this.pos = 0;
    this.bitAcc = 0;
    this.bitCount = 0;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** uvarint writes a non-negative integer up to 2^53. */
  uvarint(v: number): void {
    this.ensure(8);
    while (v >= 128) {
      this.buf[this.pos++] = (v % 128) | 128;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }

  /** svarint writes a signed safe integer zigzag-encoded. */
  svarint(v: number): void {
    this.uvarint(v < 0 ? -2 * v - 1 : 2 * v);
  }

  f64(v: number): void {
    this.ensure(8);
    f64[0] = v;
    this.buf.set(f64Bytes, this.pos);
    this.pos += 8;
  }

  /** bits appends the low `width` bits (0..53) of a non-negative integer, MSB first. */
  bits(v: number, width: number): void {
    while (width > 0) {
      const take = width > 24 ? 24 : width;
      width -= take;
      const part = width > 0 ? Math.floor(v / 2 ** width) % (1 << take) : v % (1 << take);
      this.bitAcc = (this.bitAcc << take) | part;
      this.bitCount += take;
      while (this.bitCount >= 8) {
        this.bitCount -= 8;
        this.u8((this.bitAcc >>> this.bitCount) & 255);
      }
      this.bitAcc &= (1 << this.bitCount) - 1;
    }
  }

  /** flushBits pads the pending bits to a byte boundary. */
  flushBits(): void {
    if (this.bitCount > 0) {
      this.u8((this.bitAcc << (8 - this.bitCount)) & 255);
      this.bitAcc = 0;
      this.bitCount = 0;
    }
  }

  /** finish returns a copy of the written bytes. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

/** ByteReader reads what ByteWriter wrote. */
export class ByteReader {
  readonly buf: Uint8Array;
  pos: number;
  private bitAcc: number;
  private bitCount: number;

  /** view reads f64s; made on the first (a histogram window's sum is one). */
  private view: DataView | null;

  constructor(buf: Uint8Array, pos = 0) {
    this.buf = buf;
    this.pos = pos;
    this.bitAcc = 0;
    this.bitCount = 0;
    this.view = null;
  }

  u8(): number {
    if (this.pos >= this.buf.length) throw new RangeError('chunk truncated');
    return this.buf[this.pos++]!;
  }

  uvarint(): number {
    let v = 0, mul = 1;
    for (;;) {
      const b = this.u8();
      v += (b & 127) * mul;
      if (b < 128) return v;
      mul *= 128;
    }
  }

  svarint(): number {
    const u = this.uvarint();
    // The parity of a small value by its low bit: `%` on a double is a division.
    if (u < 2147483648) return (u & 1) === 1 ? -(u + 1) / 2 : u / 2;
    return u % 2 === 1 ? -(u + 1) / 2 : u / 2;
  }

  f64(): number {
    if (this.pos + 8 > this.buf.length) throw new RangeError('chunk truncated');
    // Written in the platform's byte order (ByteWriter.f64 copies a Float64Array's bytes).
    const v = (this.view ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength)).getFloat64(this.pos, LITTLE_ENDIAN);
    this.pos += 8;
    return v;
  }

  bits(width: number): number {
    if (width <= 24) {
      // Fewer than 8 bits are pending between calls, so at most 31 are held here: integer
      // shifts and masks take the same bits the general loop below takes by division.
      let acc = this.bitAcc, cnt = this.bitCount;
      while (cnt < width) {
        acc = acc * 256 + this.u8();
        cnt += 8;
      }
      cnt -= width;
      const part = acc >>> cnt;
      this.bitAcc = acc & ((1 << cnt) - 1);
      this.bitCount = cnt;
      return part;
    }
    let v = 0;
    while (width > 0) {
      const take = width > 24 ? 24 : width;
      width -= take;
      while (this.bitCount < take) {
        this.bitAcc = this.bitAcc * 256 + this.u8();
        this.bitCount += 8;
      }
      this.bitCount -= take;
      const div = 2 ** this.bitCount;
      const part = Math.floor(this.bitAcc / div);
      this.bitAcc -= part * div;
      v = v * (1 << take) + part;
    }
    return v;
  }

  /**
   * unpack reads a whole packed run of `n` values of `width` bits (what `n` calls of bits() and
   * one alignBits() read, starting aligned) into out[at..at+n): one bounds check for the run and
   * local shifts instead of a method call and a check per byte, for the widths (<= 24) blocks use.
   */
  unpack(n: number, width: number, out: Float64Array, at: number): void {
    if (width === 0) {
      out.fill(0, at, at + n);
      return;
    }
    if (width > 24 || this.bitCount !== 0) {
      for (let i = 0; i < n; i++) out[at + i] = this.bits(width);
      this.alignBits();
      return;
    }
    const buf = this.buf;
    let pos = this.pos;
    if (pos + Math.ceil((n * width) / 8) > buf.length) throw new RangeError('chunk truncated');
    const mask = (1 << width) - 1;
    // At most 31 bits are held: fewer than `width` (<= 24) before a byte is shifted in.
    let acc = 0, cnt = 0;
    for (let i = 0; i < n; i++) {
      while (cnt < width) {
        acc = (acc << 8) | buf[pos++]!;
        cnt += 8;
      }
      cnt -= width;
      out[at + i] = (acc >>> cnt) & mask;
      acc &= (1 << cnt) - 1;
    }
    this.pos = pos;
    this.alignBits();
  }

  /** skipPacked steps over a packed run of `n` values of `width` bits, starting aligned, as unpack would read it. */
  skipPacked(n: number, width: number): void {
    if (this.bitCount !== 0) {
      for (let i = 0; i < n; i++) this.bits(width);
      this.alignBits();
      return;
    }
    const bytes = Math.ceil((n * width) / 8);
    if (this.pos + bytes > this.buf.length) throw new RangeError('chunk truncated');
    this.pos += bytes;
    this.alignBits();
  }

  /** alignBits drops the padding bits after a packed run. */
  alignBits(): void {
    this.bitAcc = 0;
    this.bitCount = 0;
  }
}

/** bitWidth returns how many bits an integer 0 <= v < 2^53 needs. */
export function bitWidth(v: number): number {
  if (v < TWO32) return v === 0 ? 0 : 32 - Math.clz32(v);
  return 32 + bitWidth(Math.floor(v / TWO32));
}
