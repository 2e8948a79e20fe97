/**
 * SeriesCache maps the raw key bytes of a StatsD line (type, name, tags, container) to a series
 * ref without building a string: an open-addressing hash table (linear probing) over entries
 * whose key bytes live in one growing byte arena. A hit compares the bytes, so hash collisions
 * never mix series. When `maxEntries` is reached the cache is cleared and refills from the sink,
 * whose `series` is idempotent: memory stays bounded under any tag churn.
 */

/** MISS is what `find` returns for a key not in the cache. */
export const MISS = -100;
/** CACHED_MALFORMED marks a key whose name (or container) cannot be decoded. */
export const CACHED_MALFORMED = -2;
/** CACHED_BAD_TAGS marks a key whose tags cannot become labels. */
export const CACHED_BAD_TAGS = -3;

export class SeriesCache {
  size: number;
  private readonly maxEntries: number;
  private slots: Int32Array;
  private mask: number;
  private hashes: Int32Array;
  private offs: Int32Array;
  private nameLens: Int32Array;
  private tagLens: Int32Array;
  private contLens: Int32Array;
  private types: Uint8Array;
  private refs: Int32Array;
  private arena: Uint8Array;
  private arenaLen: number;

  constructor(maxEntries: number) {
    this.size = 0;
    this.maxEntries = Math.max(16, maxEntries);
    this.slots = new Int32Array(1024);
    this.mask = 1023;
    this.hashes = new Int32Array(512);
    this.offs = new Int32Array(512);
    this.nameLens = new Int32Array(512);
    this.tagLens = new Int32Array(512);
    this.contLens = new Int32Array(512);
    this.types = new Uint8Array(512);
    this.refs = new Int32Array(512);
    this.arena = new Uint8Array(32768);
    this.arenaLen = 0;
  }

  /** find returns the cached ref (or negative code) of a key, or MISS. A range start < 0 is empty. */
  find(hash: number, type: number, b: Uint8Array, ns: number, ne: number, ts: number, te: number, cs: number, ce: number): number {
    const nl = ne - ns;
    const tl = ts < 0 ? 0 : te - ts;
    const cl = cs < 0 ? 0 : ce - cs;
    const slots = this.slots, mask = this.mask;
    let slot = hash & mask;
    for (;;) {
      const e1 = slots[slot]!;
      if (e1 === 0) return MISS;
      const e = e1 - 1;
      if (this.hashes[e] === hash && this.types[e] === type && this.nameLens[e] === nl && this.tagLens[e] === tl && this.contLens[e] === cl
        && this.same(this.offs[e]!, b, ns, nl, ts, tl, cs, cl)) {
        return this.refs[e]!;
      }
      slot = (slot + 1) & mask;
    }
  }

  /** insert adds a key (which MUST be absent) with its ref. */
  insert(hash: number, type: number, b: Uint8Array, ns: number, ne: number, ts: number, te: number, cs: number, ce: number, ref: number): void {
    if (this.size >= this.maxEntries) this.clear();
    const nl = ne - ns;
    const tl = ts < 0 ? 0 : te - ts;
    const cl = cs < 0 ? 0 : ce - cs;
    if ((this.size + 1) * 2 > this.slots.length) this.growSlots();
    if (this.size === this.hashes.length) this.growEntries();
    const need = this.arenaLen + nl + tl + cl;
    if (need > this.arena.length) {
      const a = new Uint8Array(Math.max(need, this.arena.length * 2));
      a.set(this.arena.subarray(0, this.arenaLen));
      this.arena = a;
    }
    const e = this.size++;
    const off = this.arenaLen;
    const arena = this.arena;
    arena.set(b.subarray(ns, ne), off);
    if (tl > 0) arena.set(b.subarray(ts, te), off + nl);
    if (cl > 0) arena.set(b.subarray(cs, ce), off + nl + tl);
    this.arenaLen = off + nl + tl + cl;
    this.hashes[e] = hash;
    this.offs[e] = off;
    this.nameLens[e] = nl;
    this.tagLens[e] = tl;
    this.contLens[e] = cl;
    this.types[e] = type;
    this.refs[e] = ref;
    this.place(hash, e);
  }

  /** clear forgets every key. */
  clear(): void {
    this.slots.fill(0);
    this.size = 0;
    this.arenaLen = 0;
  }

  private same(off: number, b: Uint8Array, ns: number, nl: number, ts: number, tl: number, cs: number, cl: number): boolean {
    const a = this.arena;
    for (let k = 0; k < nl; k++) if (a[off + k] !== b[ns + k]) return false;
    off += nl;
    for (let k = 0; k < tl; k++) if (a[off + k] !== b[ts + k]) return false;
    off += tl;
    for (let k = 0; k < cl; k++) if (a[off + k] !== b[cs + k]) return false;
    return true;
  }

  private place(hash: number, e: number): void {
    const slots = this.slots, mask = this.mask;
    let slot = hash & mask;
    while (slots[slot] !== 0) slot = (slot + 1) & mask;
    slots[slot] = e + 1;
  }

  private growSlots(): void {
    this.slots = new Int32Array(this.slots.length * 2);
    this.mask = this.slots.length - 1;
    for (let e = 0; e < this.size; e++) this.place(this.hashes[e]!, e);
  }

  private growEntries(): void {
    const n = this.hashes.length * 2;
    const grow = <T extends Int32Array | Uint8Array>(old: T, make: (n: number) => T): T => {
      const a = make(n);
      a.set(old);
      return a;
    };
    this.hashes = grow(this.hashes, (k) => new Int32Array(k));
    this.offs = grow(this.offs, (k) => new Int32Array(k));
    this.nameLens = grow(this.nameLens, (k) => new Int32Array(k));
    this.tagLens = grow(this.tagLens, (k) => new Int32Array(k));
    this.contLens = grow(this.contLens, (k) => new Int32Array(k));
    this.types = grow(this.types, (k) => new Uint8Array(k));
    this.refs = grow(this.refs, (k) => new Int32Array(k));
  }
}
