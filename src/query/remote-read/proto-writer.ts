import { isStaleNaN } from '../../model/stale.js';

/**
 * ProtoWriter writes protobuf wire format into one growable buffer. Remote-read answers can hold
 * millions of samples; building protobufjs message objects for each would allocate per sample,
 * so the response messages are written field by field with their sizes computed up front.
 */
export class ProtoWriter {
  buf: Uint8Array;
  pos: number;

  constructor(capacity = 1024) {
    this.buf = new Uint8Array(capacity);
    this.pos = 0;
  }

  /** reset empties the writer, keeping its buffer. */
  reset(): void {
    this.pos = 0;
  }

  /** ensure makes room for `n` more bytes. */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    const nb = new Uint8Array(Math.max(need, this.buf.length * 2));
    nb.set(this.buf.subarray(0, this.pos));
    this.buf = nb;
  }

  /** tag writes a field key; wire types: 0 varint, 1 fixed64, 2 length-delimited. */
  tag(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  /** varint writes a non-negative integer below 2^53. */
  varint(x: number): void {
    this.ensure(10);
    const buf = this.buf;
    let p = this.pos;
    while (x >= 128) {
      buf[p++] = (x % 128) | 0x80;
      x = Math.floor(x / 128);
    }
    buf[p++] = x;
    this.pos = p;
  }

  /** int64 writes a signed integer as protobuf int64 (negatives take ten bytes). */
  int64(x: number): void {
    if (x >= 0) {
      this.varint(x);
      return;
    }
    // Two's complement over 64 bits, split into halves to stay exact.
    const hi = Math.floor(x / 4294967296);
    let h = hi >>> 0;
    let l = (x - hi * 4294967296) >>> 0;
    this.ensure(10);
    const buf = this.buf;
    let p = this.pos;
    while (h !== 0 || l >= 128) {
      buf[p++] = (l & 0x7f) | 0x80;
      l = ((l >>> 7) | (h << 25)) >>> 0;
      h = h >>> 7;
    }
    buf[p++] = l;
    this.pos = p;
  }

  /** double writes a little-endian float64. */
  double(v: number): void {
    this.ensure(8);
    F64[0] = v;
    // A stale marker goes out with Prometheus' exact bits (JavaScript may have quieted it).
    if (v !== v && isStaleNaN(v)) F64_RAW.set(STALE_BYTES);
    const buf = this.buf, p = this.pos;
    if (LITTLE) buf.set(F64_RAW, p);
    else for (let i = 0; i < 8; i++) buf[p + i] = F64_RAW[7 - i]!;
    this.pos = p + 8;
  }

  /** raw writes bytes as they are (the caller wrote the tag and length). */
  raw(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** lenBytes writes a length-delimited field holding `b`. */
  lenBytes(field: number, b: Uint8Array): void {
    this.tag(field, 2);
    this.varint(b.length);
    this.raw(b);
  }

  /** finish returns a copy of what was written. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

const F64 = new Float64Array(1);
// Protobuf doubles are little-endian; flip when the platform is not.
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const F64_RAW = new Uint8Array(F64.buffer);
/** Prometheus' stale marker 0x7ff0000000000002 in this platform's byte order (as F64_RAW). */
const STALE_BYTES = new Uint8Array(8);
new DataView(STALE_BYTES.buffer).setBigUint64(0, 0x7ff0000000000002n, LITTLE);

/** varintSize is the encoded size of a non-negative integer below 2^53. */
export function varintSize(x: number): number {
  let n = 1;
  while (x >= 128) {
    x = Math.floor(x / 128);
    n++;
  }
  return n;
}

/** int64Size is the encoded size of a protobuf int64. */
export function int64Size(x: number): number {
  return x < 0 ? 10 : varintSize(x);
}

/** lenFieldSize is the size of a length-delimited field (1-byte tag) whose payload is `n` bytes. */
export function lenFieldSize(n: number): number {
  return 1 + varintSize(n) + n;
}
