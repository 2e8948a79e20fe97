import { createRequire } from 'node:module';

/**
 * Snappy block format (not framed), as Prometheus remote write 1.0 compresses bodies. snappyjs
 * has no type declarations, so it is loaded through createRequire and typed here.
 */
interface SnappyJs {
  compress(input: Uint8Array): Uint8Array;
  uncompress(input: Uint8Array, maxLength?: number): Uint8Array;
}

const snappy = createRequire(import.meta.url)('snappyjs') as SnappyJs;

/** snappyUncompress inflates one snappy block, throwing when it would exceed `maxLength` bytes. */
export function snappyUncompress(input: Uint8Array, maxLength: number): Uint8Array {
  return snappy.uncompress(input, maxLength);
}

/** snappyCompress compresses one snappy block (tests and senders). */
export function snappyCompress(input: Uint8Array): Uint8Array {
  return snappy.compress(input);
}
