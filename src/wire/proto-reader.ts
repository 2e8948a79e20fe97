/**
 * Protobuf wire-format primitives for every hand-written decoder (OTLP metrics and traces,
 * Prometheus remote write and remote read). The reader works on a Uint8Array window [pos, end)
 * and never copies: message fields are returned as ranges, so a decoder can hash or compare the
 * bytes it saw without building strings.
 */

/**
 * DecodeError marks a malformed body; receivers answer INVALID_ARGUMENT / HTTP 400. OTLP counts it
 * in `tallyd_otlp_requests_refused_total{reason}` under `reason` (`malformed`, or a narrower word
 * such as `too_deep` for nesting past a limit).
 */
export class DecodeError extends Error {
  readonly reason: string;
  constructor(message: string, reason = 'malformed') {
    super(message);
    this.name = 'DecodeError';
    this.reason = reason;
  }
}

export const WT_VARINT = 0;
export const WT_I64 = 1;
export const WT_LEN = 2;
export const WT_I32 = 5;

const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);
const TWO32 = 4294967296;

/**
 * Reader is a cursor over one message. Field accessors advance `pos`; `lenEnd` holds the end of
 * the last length-delimited field read by `len()`. One instance is reused for a whole request.
 */
export class Reader {
  buf: Uint8Array;
  pos: number;
  end: number;

  constructor(buf: Uint8Array = new Uint8Array(0), pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  /** reset points the reader at a new window. */
  reset(buf: Uint8Array, pos: number, end: number): this {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
    return this;
  }

  /** more tells whether fields remain before `end`. */
  more(): boolean {
    return this.pos < this.end;
  }

  /** uint32 reads a varint that must fit 32 bits (tags, lengths, enums, small counts). */
  uint32(): number {
    const b = this.buf;
    let p = this.pos;
    if (p >= this.end) throw new DecodeError('truncated varint');
    let c = b[p++]!;
    let v = c & 0x7f;
    if (c >= 0x80) {
      c = b[p++]!; v |= (c & 0x7f) << 7;
      if (c >= 0x80) {
        c = b[p++]!; v |= (c & 0x7f) << 14;
        if (c >= 0x80) {
          c = b[p++]!; v |= (c & 0x7f) << 21;
          if (c >= 0x80) {
            c = b[p++]!; v = (v | ((c & 0x0f) << 28)) >>> 0;
            // Bytes past 32 bits (negative int32 enums are sign-extended to 10 bytes) are skipped.
            while (c >= 0x80) {
              if (p >= this.end) throw new DecodeError('truncated varint');
              c = b[p++]!;
            }
          }
        }
      }
    }
    if (p > this.end) throw new DecodeError('truncated varint');
    this.pos = p;
    return v;
  }

  /** uint64 reads a varint as a float64 (exact below 2^53, which covers every count we keep). */
  uint64(): number {
    const b = this.buf;
    let p = this.pos;
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (p >= this.end) throw new DecodeError('truncated varint');
      const c = b[p++]!;
      v += (c & 0x7f) * mul;
      if (c < 0x80) {
        this.pos = p;
        return v;
      }
      mul *= 128;
    }
    throw new DecodeError('varint longer than 10 bytes');
  }

  /**
   * int64 reads a two's-complement varint (proto int64) as a float64, exact within +-2^53. The
   * value is assembled in 32-bit halves: summing the ten 7-bit groups as floats would round a
   * negative value (2^64 - 5 is not a float64) before the sign is applied, so -5 read as 0.
   */
  int64(): number {
    const b = this.buf;
    let p = this.pos;
    let lo = 0, hi = 0;
    for (let shift = 0; ; shift += 7) {
      if (shift > 63) throw new DecodeError('varint longer than 10 bytes');
      if (p >= this.end) throw new DecodeError('truncated varint');
      const c = b[p++]!;
      if (shift < 28) lo |= (c & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (c & 0x0f) << 28;
        hi |= (c & 0x7f) >>> 4;
      } else hi |= (c & 0x7f) << (shift - 32);
      if (c < 0x80) break;
    }
    this.pos = p;
    return (hi | 0) * TWO32 + (lo >>> 0);
  }

  /** sint32 reads a zigzag varint. */
  sint32(): number {
    const v = this.uint32();
    return (v >>> 1) ^ -(v & 1);
  }

  // The returning readers go through the *Out ones: a value returned from a call is boxed anyway,
  // and one body per wire type is kept.

  /** fixed64 reads an unsigned little-endian 64-bit value as a float64. */
  fixed64(): number {
    this.fixed64Out();
    return this.out[0]!;
  }

  /** sfixed64 reads a signed little-endian 64-bit value as a float64. */
  sfixed64(): number {
    this.sfixed64Out();
    return this.out[0]!;
  }

  /** fixed64Ms reads a fixed64 nanosecond timestamp as integer milliseconds. */
  fixed64Ms(): number {
    this.fixed64MsOut();
    return this.out[0]!;
  }

  /** double reads a little-endian float64. */
  double(): number {
    this.doubleOut();
    return this.out[0]!;
  }

  /**
   * out receives the value of the `*Out` readers. A float64 returned from a call V8 did not
   * inline is boxed in a fresh HeapNumber (and so is any integer past 2^30, e.g. a ms
   * timestamp); written to a typed array it is not. The OTLP point walkers are too large for
   * V8 to inline every reader into them, and the returned doubles were ~48 of the ~95 bytes a
   * point allocated on the main thread (sampled heap profile, bench payload).
   */
  readonly out = new Float64Array(1);

  /** doubleOut reads a little-endian float64 into out[0]. */
  doubleOut(): void {
    const p = this.pos;
    if (p + 8 > this.end) throw new DecodeError('truncated double');
    const b = this.buf;
    F64_BYTES[0] = b[p]!; F64_BYTES[1] = b[p + 1]!; F64_BYTES[2] = b[p + 2]!; F64_BYTES[3] = b[p + 3]!;
    F64_BYTES[4] = b[p + 4]!; F64_BYTES[5] = b[p + 5]!; F64_BYTES[6] = b[p + 6]!; F64_BYTES[7] = b[p + 7]!;
    this.pos = p + 8;
    this.out[0] = F64[0]!;
  }

  /** fixed64Out reads an unsigned little-endian 64-bit value into out[0] (as a float64). */
  fixed64Out(): void {
    const p = this.pos;
    if (p + 8 > this.end) throw new DecodeError('truncated fixed64');
    const b = this.buf;
    const lo = (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
    const hi = (b[p + 4]! | (b[p + 5]! << 8) | (b[p + 6]! << 16) | (b[p + 7]! << 24)) >>> 0;
    this.pos = p + 8;
    this.out[0] = hi * TWO32 + lo;
  }

  /** sfixed64Out reads a signed little-endian 64-bit value into out[0] (as a float64). */
  sfixed64Out(): void {
    const p = this.pos;
    if (p + 8 > this.end) throw new DecodeError('truncated sfixed64');
    const b = this.buf;
    const lo = (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
    const hi = b[p + 4]! | (b[p + 5]! << 8) | (b[p + 6]! << 16) | (b[p + 7]! << 24);
    this.pos = p + 8;
    this.out[0] = hi * TWO32 + lo;
  }

  /** fixed64MsOut reads a fixed64 nanosecond timestamp into out[0] as integer milliseconds. */
  fixed64MsOut(): void {
    const p = this.pos;
    if (p + 8 > this.end) throw new DecodeError('truncated fixed64');
    const b = this.buf;
    const lo = (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
    const hi = (b[p + 4]! | (b[p + 5]! << 8) | (b[p + 6]! << 16) | (b[p + 7]! << 24)) >>> 0;
    this.pos = p + 8;
    // nanosToMs, written out: a nested call V8 does not inline would box the value.
    this.out[0] = hi * 4294 + Math.floor((hi * 967296 + lo) / 1e6);
  }

  /** fixed64sInto reads `k` little-endian fixed64 values into dst[at..] (float64, exact below 2^53). */
  fixed64sInto(dst: Float64Array, at: number, k: number): void {
    const p = this.pos;
    if (p + 8 * k > this.end) throw new DecodeError('truncated fixed64');
    const b = this.buf;
    for (let i = 0, q = p; i < k; i++, q += 8) {
      const lo = (b[q]! | (b[q + 1]! << 8) | (b[q + 2]! << 16) | (b[q + 3]! << 24)) >>> 0;
      const hi = (b[q + 4]! | (b[q + 5]! << 8) | (b[q + 6]! << 16) | (b[q + 7]! << 24)) >>> 0;
      dst[at + i] = hi * TWO32 + lo;
    }
    this.pos = p + 8 * k;
  }

  /** len reads a length prefix and returns the end of the field; `pos` is left at its start. */
  len(): number {
    const n = this.uint32();
    const e = this.pos + n;
    if (e > this.end) throw new DecodeError('field length past end of message');
    return e;
  }

  /** skip skips a field of the given wire type. */
  skip(wt: number): void {
    switch (wt) {
      case WT_VARINT: {
        const b = this.buf;
        let p = this.pos;
        for (let i = 0; ; i++) {
          if (p >= this.end || i >= 10) throw new DecodeError('truncated varint');
          if (b[p++]! < 0x80) break;
        }
        this.pos = p;
        return;
      }
      case WT_I64:
        if (this.pos + 8 > this.end) throw new DecodeError('truncated fixed64');
        this.pos += 8;
        return;
      case WT_LEN:
        this.pos = this.len();
        return;
      case WT_I32:
        if (this.pos + 4 > this.end) throw new DecodeError('truncated fixed32');
        this.pos += 4;
        return;
      default:
        throw new DecodeError(`unsupported wire type ${wt}`);
    }
  }
}

/** readDoubles decodes `k` little-endian float64s at buf[pos..] into dst[at..]; the caller checked the range. */
export function readDoubles(buf: Uint8Array, pos: number, k: number, dst: Float64Array, at: number): void {
  for (let i = 0, q = pos; i < k; i++, q += 8) {
    F64_BYTES[0] = buf[q]!; F64_BYTES[1] = buf[q + 1]!; F64_BYTES[2] = buf[q + 2]!; F64_BYTES[3] = buf[q + 3]!;
    F64_BYTES[4] = buf[q + 4]!; F64_BYTES[5] = buf[q + 5]!; F64_BYTES[6] = buf[q + 6]!; F64_BYTES[7] = buf[q + 7]!;
    dst[at + i] = F64[0]!;
  }
}

/** doubleBytes encodes float64s little-endian, as protobuf writes a packed double field. */
export function doubleBytes(values: Float64Array): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) dv.setFloat64(i * 8, values[i]!, true);
  return out;
}

/**
 * nanosToMs floors a 64-bit nanosecond count (hi, lo halves) to ms exactly, with no float
 * rounding: 2^32 = 4294 * 1e6 + 967296, so every intermediate stays below 2^53.
 */
export function nanosToMs(hi: number, lo: number): number {
  return hi * 4294 + Math.floor((hi * 967296 + lo) / 1e6);
}

const utf8 = new TextDecoder('utf-8');

/** utf8String decodes a byte range (slow path: only on a cache miss). */
export function utf8String(buf: Uint8Array, start: number, end: number): string {
  if (end - start < 32) {
    let ascii = true;
    for (let i = start; i < end; i++) if (buf[i]! >= 0x80) { ascii = false; break; }
    if (ascii) {
      let s = '';
      for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]!);
      return s;
    }
  }
  return utf8.decode(buf.subarray(start, end));
}
