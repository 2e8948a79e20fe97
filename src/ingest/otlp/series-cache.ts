import { bytesEqual, hashBytes } from './wire.js';

/**
 * ByteKeyCache interns values by a byte range plus two small integers (the resource and metric
 * ids of a data point), so a known series is found by hashing and comparing the attribute bytes
 * the sender wrote, with no string built. A hit allocates nothing; a miss copies the key once.
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
