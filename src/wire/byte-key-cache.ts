import { fnv1aStep } from './fnv1a.js';

/**
 * ByteKeyCache interns values by a byte range plus two small integers (the resource and metric
 * ids of an OTLP data point; the tenant id of a remote-write series), so a known series is found
 * by hashing and comparing the attribute bytes the sender wrote, with no string built. A hit allocates nothing; a miss copies the key once.
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

  constructor(maxEntries = 500_000) {
    this.maxEntries = maxEntries;
  }

  /** size is the number of interned keys. */
  get size(): number {
    return this.count;
  }

  /** get looks a key up; it remembers the hash for a `set` of the same key. */
  get(buf: Uint8Array, start: number, end: number, a: number, b: number): V | undefined {
    const h = hashBytes(buf, start, end, Math.imul(a, 0x9e3779b1) ^ Math.imul(b, 0x85ebca6b));
    this.lastHash = h;
    let n = this.map.get(h);
    while (n !== undefined) {
      if (n.a === a && n.b === b && bytesEqual(buf, start, end, n.key)) return n.value;
      n = n.next;
    }
    return undefined;
  }

  /** set stores a value for the key of the immediately preceding `get` miss. */
  set(buf: Uint8Array, start: number, end: number, a: number, b: number, value: V): void {
    if (this.count >= this.maxEntries) this.clear();
    const h = this.lastHash;
    const node = new CacheNode(buf.slice(start, end), a, b, value, this.map.get(h));
    this.map.set(h, node);
    this.count++;
  }

  /** clear forgets every key. */
  clear(): void {
    this.map.clear();
    this.count = 0;
  }
}

class CacheNode<V> {
  readonly key: Uint8Array;
  readonly a: number;
  readonly b: number;
  readonly value: V;
  readonly next: CacheNode<V> | undefined;

  constructor(key: Uint8Array, a: number, b: number, value: V, next: CacheNode<V> | undefined) {
    this.key = key;
    this.a = a;
    this.b = b;
    this.value = value;
    this.next = next;
  }
}

/**
 * hashBytes hashes a byte range four bytes per step (murmur3-style mixing; the last 0-3 bytes
 * take FNV-1a steps), seeded so several keys can share one table. It is not FNV-1a over the whole
 * range because attribute runs are ~150 bytes a point on the OTLP hot path, where a chain of one
 * dependent multiply per byte is the slower hash. It only spreads keys: equality is always
 * checked with bytesEqual.
 */
export function hashBytes(buf: Uint8Array, start: number, end: number, seed: number): number {
  let h = (seed ^ (end - start)) | 0;
  let i = start;
  for (const last = end - 3; i < last; i += 4) {
    let k = buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  for (; i < end; i++) h = fnv1aStep(h, buf[i]!);
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
