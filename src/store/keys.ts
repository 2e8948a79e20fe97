import { createHash } from 'node:crypto';

/**
 * Binary LMDB keys, built so that LMDB's byte order is the order we read in:
 * - chunks:   [tier u8][series id u32 BE][chunk start ms u48 BE]: one series' chunks in one tier
 *   are one contiguous range, oldest first;
 * - series:   tenant 0x00 sha1(labels, kind): the tenant leads every index key, so no scan can
 *   cross tenants;
 * - postings: tenant 0x00 name 0x00 value 0x00 id u32 BE: all ids of one label pair are a range,
 *   all values of one name too.
 * String components escape 0x00 and 0x01 (as 0x01 0x01 / 0x01 0x02) so separators stay unique;
 * components longer than LONG_COMPONENT bytes are replaced by 0x01 0x03 + hex sha1, since LMDB keys
 * are limited to 1978 bytes.
 */

const LONG_COMPONENT = 900;
const enc = new TextEncoder();
const dec = new TextDecoder();

/** CHUNK_KEY_LEN is the byte length of a chunk key. */
export const CHUNK_KEY_LEN = 11;
const TWO32 = 4294967296;

/** chunkKey builds a chunk key. */
export function chunkKey(tier: number, id: number, startMs: number): Buffer {
  // Times past what a key holds (year 10889) clamp: nothing is stored there, and a query at
  // `@ 1e12` or `time=3e12` read as a range end must find nothing, not fail to build its key.
  return chunkKeyInto(Buffer.allocUnsafe(CHUNK_KEY_LEN), tier, id, startMs);
}

/** chunkKeyInto writes chunkKey(tier, id, startMs) into `k` (CHUNK_KEY_LEN bytes) and returns it. */
export function chunkKeyInto(k: Buffer, tier: number, id: number, startMs: number): Buffer {
  k[0] = tier;
  k.writeUInt32BE(id, 1);
  const s = startMs < 0 ? 0 : startMs > MAX_START ? MAX_START : startMs;
  k.writeUInt16BE(Math.floor(s / TWO32), 5);
  k.writeUInt32BE(s % TWO32, 7);
  return k;
}

/** seriesPrefixInto writes seriesPrefix(tier, id) into `k` (5 bytes) and returns it. */
export function seriesPrefixInto(k: Buffer, tier: number, id: number): Buffer {
  k[0] = tier;
  k.writeUInt32BE(id, 1);
  return k;
}

/** chunkKeyStart reads the chunk start from a chunk key. */
export function chunkKeyStart(k: Uint8Array): number {
  return ((k[5]! << 8) | k[6]!) * TWO32 + ((k[7]! << 24) >>> 0) + ((k[8]! << 16) | (k[9]! << 8) | k[10]!);
}

/** chunkKeySeries reads the series id from a chunk key. */
export function chunkKeySeries(k: Uint8Array): number {
  return ((k[1]! << 24) >>> 0) + ((k[2]! << 16) | (k[3]! << 8) | k[4]!);
}

/** MAX_START is the largest chunk start a key can hold. */
export const MAX_START = 2 ** 48 - 1;

/** seriesPrefix is the 5-byte prefix of every chunk key of (tier, id); it sorts before them. */
export function seriesPrefix(tier: number, id: number): Buffer {
  const k = Buffer.allocUnsafe(5);
  k[0] = tier;
  k.writeUInt32BE(id, 1);
  return k;
}

/** chunkKeyAfter is the first key after every chunk of (tier, id) starting at or before `ms`. */
export function chunkKeyAfter(tier: number, id: number, ms: number): Buffer {
  return chunkKey(tier, id, ms + 1);
}

function escape(s: string): Buffer {
  const raw = enc.encode(s);
  let extra = 0;
  for (let i = 0; i < raw.length; i++) if (raw[i]! <= 1) extra++;
  let out: Buffer;
  if (extra === 0) out = Buffer.from(raw.buffer, raw.byteOffset, raw.length);
  else {
    out = Buffer.allocUnsafe(raw.length + extra);
    let p = 0;
    for (let i = 0; i < raw.length; i++) {
      const b = raw[i]!;
      if (b <= 1) {
        out[p++] = 1;
        out[p++] = b + 1;
      } else out[p++] = b;
    }
  }
  if (out.length <= LONG_COMPONENT) return out;
  return Buffer.concat([Buffer.from([1, 3]), Buffer.from(createHash('sha1').update(out).digest('hex'))]);
}

/** KeyComponent is a decoded string component; `hashed` means the original was too long. */
export interface KeyComponent {
  readonly value: string;
  readonly hashed: boolean;
}

function unescape(b: Uint8Array): KeyComponent {
  if (b.length >= 2 && b[0] === 1 && b[1] === 3) return { value: '', hashed: true };
  let hasEsc = false;
  for (let i = 0; i < b.length; i++) if (b[i] === 1) hasEsc = true;
  if (!hasEsc) return { value: dec.decode(b), hashed: false };
  const out: number[] = [];
  for (let i = 0; i < b.length; i++) {
    if (b[i] === 1) out.push(b[++i]! - 1);
    else out.push(b[i]!);
  }
  return { value: dec.decode(Uint8Array.from(out)), hashed: false };
}

const ZERO = Buffer.from([0]);

/** seriesKey identifies (tenant, labels, kind) in the series table. */
export function seriesKey(tenant: string, labelsKey: string, kind: number): Buffer {
  const h = createHash('sha1').update(labelsKey).update(String(kind)).digest();
  return Buffer.concat([escape(tenant), ZERO, h]);
}

/** postingPrefix is the key prefix of a tenant, of a label name, or of a label pair. */
export function postingPrefix(tenant: string, name?: string, value?: string): Buffer {
  const parts: Buffer[] = [escape(tenant), ZERO];
  if (name !== undefined) parts.push(escape(name), ZERO);
  if (value !== undefined) parts.push(escape(value), ZERO);
  return Buffer.concat(parts);
}

/** postingKey is the key of one posting. */
export function postingKey(tenant: string, name: string, value: string, id: number): Buffer {
  const p = postingPrefix(tenant, name, value);
  const k = Buffer.allocUnsafe(p.length + 4);
  p.copy(k, 0);
  k.writeUInt32BE(id, p.length);
  return k;
}

/** prefixEnd returns the first key after every key starting with `prefix`. */
export function prefixEnd(prefix: Uint8Array): Buffer {
  const k = Buffer.from(prefix);
  for (let i = k.length - 1; i >= 0; i--) {
    if (k[i]! < 255) {
      k[i] = k[i]! + 1;
      return k.subarray(0, i + 1);
    }
  }
  return Buffer.from([255, 255, 255, 255]);
}

/** PostingParts is a decoded posting key. */
export interface PostingParts {
  readonly name: KeyComponent;
  readonly value: KeyComponent;
  readonly id: number;
}

/** decodePosting splits a posting key that starts with `tenantPrefix` (postingPrefix(tenant)). */
export function decodePosting(k: Uint8Array, tenantPrefixLen: number): PostingParts {
  const nameEnd = k.indexOf(0, tenantPrefixLen);
  const valueEnd = k.indexOf(0, nameEnd + 1);
  const id = ((k[valueEnd + 1]! << 24) >>> 0) + ((k[valueEnd + 2]! << 16) | (k[valueEnd + 3]! << 8) | k[valueEnd + 4]!);
  return { name: unescape(k.subarray(tenantPrefixLen, nameEnd)), value: unescape(k.subarray(nameEnd + 1, valueEnd)), id };
}
