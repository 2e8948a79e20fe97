import { createRequire } from 'node:module';

/**
 * Snappy block format (not the framed format), which Prometheus remote read and write use for
 * request and SAMPLES response bodies. snappyjs ships no type declarations, so it is loaded
 * through createRequire and typed here rather than with an ambient module declaration.
 */
interface SnappyJs {
  compress(input: Uint8Array): Uint8Array;
  uncompress(input: Uint8Array, maxLength?: number): Uint8Array;
}

const snappy = createRequire(import.meta.url)('snappyjs') as SnappyJs;

/** snappyCompress compresses a whole buffer as one snappy block. */
export function snappyCompress(input: Uint8Array): Uint8Array {
  return snappy.compress(input);
}

/** snappyUncompress inflates one snappy block, refusing to produce more than `maxLength` bytes. */
export function snappyUncompress(input: Uint8Array, maxLength: number): Uint8Array {
  return snappy.uncompress(input, maxLength);
}
