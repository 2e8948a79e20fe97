/**
 * CRC-32C for streamed remote-read frames. Prometheus' `storage/remote/chunked.go` puts the
 * big-endian Castagnoli checksum of each message between its uvarint length and its bytes.
 */

const CASTAGNOLI = 0x82f63b78;

const TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ CASTAGNOLI : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** crc32c computes CRC-32C (Castagnoli, as Go's crc32.MakeTable(crc32.Castagnoli)) of buf[start:end]. */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
