/**
 * An independent XOR chunk decoder for tests, written from Prometheus' xorIterator with BigInt
 * arithmetic (the encoder under test uses uint32 halves), so the two share no code or tricks.
 */
export interface DecodedChunk {
  timestamps: number[];
  values: number[];
}

class BitReader {
  private readonly b: Uint8Array;
  private bit = 0;
  constructor(b: Uint8Array) {
    this.b = b;
  }
  readBit(): bigint {
    const byte = this.b[this.bit >> 3];
    if (byte === undefined) throw new Error('read past end of chunk');
    const v = (byte >> (7 - (this.bit & 7))) & 1;
    this.bit++;
    return BigInt(v);
  }
  readBits(n: number): bigint {
    let v = 0n;
    for (let i = 0; i < n; i++) v = (v << 1n) | this.readBit();
    return v;
  }
  readByte(): number {
    return Number(this.readBits(8));
  }
  readUvarint(): bigint {
    let x = 0n, s = 0n;
    for (let i = 0; i < 10; i++) {
      const b = this.readByte();
      if (b < 0x80) return x | (BigInt(b) << s);
      x |= BigInt(b & 0x7f) << s;
      s += 7n;
    }
    throw new Error('uvarint overflow');
  }
  readVarint(): bigint {
    const ux = this.readUvarint();
    let x = ux >> 1n;
    if (ux & 1n) x = ~x;
    return x;
  }
  /** bitsLeft is how many bits remain after the read position (padding included). */
  bitsLeft(): number {
    return this.b.length * 8 - this.bit;
  }
}

const MASK64 = (1n << 64n) - 1n;

// Typed-array reinterpretation keeps signalling NaN payloads (Prometheus' stale marker is one);
// DataView.getFloat64 would quiet them.
function floatFromBits(bits: bigint): number {
  return new Float64Array(new BigUint64Array([bits & MASK64]).buffer)[0]!;
}

function bitsFromFloat(v: number): bigint {
  return new BigUint64Array(new Float64Array([v]).buffer)[0]!;
}

/** decodeXorChunk decodes a Prometheus XOR chunk; it throws on truncated input or trailing samples. */
export function decodeXorChunk(chunk: Uint8Array): DecodedChunk {
  const total = (chunk[0]! << 8) | chunk[1]!;
  const r = new BitReader(chunk.subarray(2));
  const timestamps: number[] = [];
  const values: number[] = [];
  let t = 0n, tDelta = 0n, vbits = 0n, leading = 0, trailing = 0;
  const readValue = () => {
    if (r.readBit() === 0n) return;
    if (r.readBit() === 1n) {
      leading = Number(r.readBits(5));
      let sig = Number(r.readBits(6));
      if (sig === 0) sig = 64;
      trailing = 64 - leading - sig;
    }
    const sig = 64 - leading - trailing;
    vbits ^= r.readBits(sig) << BigInt(trailing);
  };
  for (let i = 0; i < total; i++) {
    if (i === 0) {
      t = r.readVarint();
      vbits = r.readBits(64);
    } else if (i === 1) {
      tDelta = r.readUvarint();
      t += tDelta;
      readValue();
    } else {
      let prefix = 0;
      let len = 0;
      while (len < 4) {
        const b = r.readBit();
        len++;
        prefix = (prefix << 1) | Number(b);
        if (b === 0n) break;
      }
      let dod = 0n;
      const sizes: Record<string, number> = { '0b10': 14, '0b110': 17, '0b1110': 20 };
      const key = '0b' + prefix.toString(2);
      if (prefix === 0) dod = 0n;
      else if (prefix === 0b1111) dod = BigInt.asIntN(64, r.readBits(64));
      else {
        const sz = sizes[key];
        if (sz === undefined) throw new Error(`bad dod prefix ${key}`);
        let bits = r.readBits(sz);
        if (bits > 1n << BigInt(sz - 1)) bits -= 1n << BigInt(sz);
        dod = bits;
      }
      tDelta += dod;
      t += tDelta;
      readValue();
    }
    timestamps.push(Number(t));
    values.push(floatFromBits(vbits));
  }
  if (r.bitsLeft() >= 8) throw new Error(`chunk has ${r.bitsLeft()} unread bits after ${total} samples`);
  return { timestamps, values };
}

/** sameFloat compares floats bit for bit (NaN payloads and -0 included). */
export function sameFloat(a: number, b: number): boolean {
  return bitsFromFloat(a) === bitsFromFloat(b);
}
