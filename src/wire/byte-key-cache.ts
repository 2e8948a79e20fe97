import { fnv1aStep } from './fnv1a.js';

/**
 * ByteKeyCache interns values by a byte range plus two small integers (the resource and metric
 * ids of an OTLP data point; the tenant id of a remote-write series), so a known series is found
 * by hashing and comparing the attribute bytes the sender wrote, with no string built. A hit
 * allocates nothing; a miss copies the key once.
 *
 * Hashing and comparing read the bytes four at a time through a DataView of the request buffer
 * (one per buffer, made when a new buffer is first looked up) against the key kept as an
 * Int32Array: for ~150-byte attribute runs both take about half the time of byte-wise reads or
 * of Buffer#compare, whose argument checks and native call dominate at that length.
 *
 * Memory is bounded: past `maxEntries` the cache is cleared and refilled on demand (the sink
 * returns the same ref when asked again for the same series).
 */
export class ByteKeyCache<V> {
  private readonly map = new Map<number, CacheNode<V>>();
  private count = 0;
  private readonly maxEntries: number;
  /** hash of the last lookup, reused by the following `set`. */
  private lastHash = 0;
  /** The buffer `dv` views. */
  private dvBuf: Uint8Array = EMPTY;
  private dv: DataView = new DataView(EMPTY.buffer);

  constructor(maxEntries = 500_000) {
    this.maxEntries = maxEntries;
  }

  /** size is the number of interned keys. */
  get size(): number {
    return this.count;
  }

  private view(buf: Uint8Array): DataView {
    if (buf !== this.dvBuf) {
      this.dvBuf = buf;
      this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    return this.dv;
  }

  /** get looks a key up; it remembers the hash for a `set` of the same key. */
  get(buf: Uint8Array, start: number, end: number, a: number, b: number): V | undefined {
    const dv = this.view(buf);
    const h = hashBytes(dv, start, end, Math.imul(a, 0x9e3779b1) ^ Math.imul(b, 0x85ebca6b));
    this.lastHash = h;
    let n = this.map.get(h);
    while (n !== undefined) {
      if (n.a === a && n.b === b && n.len === end - start && sameWords(dv, start, end, n.key)) return n.value;
      n = n.next;
    }
    return undefined;
  }

  /** set stores a value for the key of the immediately preceding `get` miss. */
  set(buf: Uint8Array, start: number, end: number, a: number, b: number, value: V): void {
    if (this.count >= this.maxEntries) this.clear();
    const h = this.lastHash;
    const n = end - start;
    // Little-endian words as the DataView reads them; the last word is zero-padded.
    const dv = this.view(buf);
    const words = n >> 2;
    const key = new Int32Array((n + 3) >> 2);
    for (let i = 0; i < words; i++) key[i] = dv.getInt32(start + 4 * i, true);
    let last = 0;
    for (let p = start + 4 * words, j = 0; p < end; p++, j += 8) last |= dv.getUint8(p) << j;
    if (words < key.length) key[words] = last;
    const node = new CacheNode(key, n, a, b, value, this.map.get(h));
    this.map.set(h, node);
    this.count++;
  }

  /** clear forgets every key. */
  clear(): void {
    this.map.clear();
    this.count = 0;
  }
}

const EMPTY = new Uint8Array(0);

class CacheNode<V> {
  readonly key: Int32Array;
  readonly len: number;
  readonly a: number;
  readonly b: number;
  readonly value: V;
  readonly next: CacheNode<V> | undefined;

  constructor(key: Int32Array, len: number, a: number, b: number, value: V, next: CacheNode<V> | undefined) {
    this.key = key;
    this.len = len;
    this.a = a;
    this.b = b;
    this.value = value;
    this.next = next;
  }
}

/**
 * sameWords compares the `end - start` bytes at `start` (the caller checked the length) with a
 * zero-padded word key: whole words through the DataView, then the 1-3 last bytes one by one.
 */
function sameWords(dv: DataView, start: number, end: number, key: Int32Array): boolean {
  const words = (end - start) >> 2;
  let p = start;
  for (let i = 0; i < words; i++, p += 4) if (dv.getInt32(p, true) !== key[i]) return false;
  if (p === end) return true;
  const last = key[words]!;
  for (let j = 0; p < end; p++, j += 8) if (dv.getUint8(p) !== ((last >>> j) & 0xff)) return false;
  return true;
}

/**
 * hashBytes hashes a byte range four bytes per step (murmur3-style mixing; the last 0-3 bytes
 * take FNV-1a steps), seeded so several keys can share one table. It is not FNV-1a over the whole
 * range because attribute runs are ~150 bytes a point on the OTLP hot path, where a chain of one
 * dependent multiply per byte is the slower hash. It only spreads keys: equality is always
 * checked byte for byte.
 */
export function hashBytes(dv: DataView, start: number, end: number, seed: number): number {
  let h = (seed ^ (end - start)) | 0;
  let i = start;
  for (const last = end - 3; i < last; i += 4) {
    let k = dv.getInt32(i, true);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  for (; i < end; i++) h = fnv1aStep(h, dv.getUint8(i));
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  // 30 bits: a small integer (Smi) in V8, so returning it and keying the Map by it box nothing.
  return h & 0x3fffffff;
}

const nativeCompare = Buffer.prototype.compare;

/** bytesEqual compares a range to a stored key (memcmp through Buffer#compare, no allocation). */
export function bytesEqual(buf: Uint8Array, start: number, end: number, key: Uint8Array): boolean {
  const n = end - start;
  if (n !== key.length) return false;
  if (n < 16) {
    for (let i = 0; i < n; i++) if (buf[start + i] !== key[i]) return false;
    return true;
  }
  return nativeCompare.call(buf, key, 0, n, start, end) === 0;
}
