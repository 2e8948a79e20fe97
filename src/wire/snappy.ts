import { createRequire } from 'node:module';

/**
 * Snappy block format (not the framed format), which Prometheus remote read and write use for
 * request and SAMPLES response bodies. snappyjs ships no type declarations, so it is loaded
 * through createRequire and typed here rather than with an ambient module declaration.
 */
interface SnappyJs {
  compress(input: Uint8Array): Uint8Array;
}

const snappy = createRequire(import.meta.url)('snappyjs') as SnappyJs;

/** snappyCompress compresses a whole buffer as one snappy block. */
export function snappyCompress(input: Uint8Array): Uint8Array {
  return snappy.compress(input);
}

/**
 * snappyUncompress inflates one snappy block, refusing to produce more than `maxLength` bytes.
 * It is our own strict decoder rather than snappyjs': a hostile block with a literal length whose
 * top bit is set sends snappyjs' read position backwards and loops (found by test/fuzz), and it
 * writes copies past the declared length without complaint. Every length, offset and bound is
 * checked here, so a bad block throws at once and the work is linear in the output.
 */
export function snappyUncompress(input: Uint8Array, maxLength: number): Uint8Array {
  let pos = 0;
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    if (pos >= input.length || shift > 28) throw new Error('snappy: malformed size header');
    const c = input[pos++]!;
    length += (c & 0x7f) * 2 ** shift;
    if (c < 0x80) break;
  }
  if (length > maxLength) throw new Error(`snappy: the uncompressed length of ${length} is too big, expect at most ${maxLength}`);
  const out = new Uint8Array(length);
  let o = 0;
  const n = input.length;
  while (pos < n) {
    const tag = input[pos++]!;
    const type = tag & 3;
    if (type === 0) {
      let len = (tag >>> 2) + 1;
      if (len > 60) {
        const extra = len - 60;
        if (pos + extra > n) throw new Error('snappy: truncated literal');
        len = 0;
        for (let i = 0; i < extra; i++) len += input[pos + i]! * 2 ** (8 * i);
        len += 1;
        pos += extra;
      }
      if (pos + len > n || o + len > length) throw new Error('snappy: literal out of bounds');
      out.set(input.subarray(pos, pos + len), o);
      pos += len;
      o += len;
      continue;
    }
    let len: number, offset: number;
    if (type === 1) {
      if (pos >= n) throw new Error('snappy: truncated copy');
      len = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | input[pos++]!;
    } else if (type === 2) {
      if (pos + 2 > n) throw new Error('snappy: truncated copy');
      len = (tag >>> 2) + 1;
      offset = input[pos]! | (input[pos + 1]! << 8);
      pos += 2;
    } else {
      if (pos + 4 > n) throw new Error('snappy: truncated copy');
      len = (tag >>> 2) + 1;
      offset = (input[pos]! | (input[pos + 1]! << 8) | (input[pos + 2]! << 16)) + input[pos + 3]! * 2 ** 24;
      pos += 4;
    }
    if (offset === 0 || offset > o || o + len > length) throw new Error('snappy: copy out of bounds');
    if (offset >= len) out.copyWithin(o, o - offset, o - offset + len);
    else for (let i = 0; i < len; i++) out[o + i] = out[o + i - offset]!;
    o += len;
  }
  if (o !== length) throw new Error(`snappy: block holds ${o} bytes, its header says ${length}`);
  return out;
}
