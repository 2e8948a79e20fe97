/**
 * SeriesCache maps the raw key bytes of a StatsD line (type, name, tags, container) to a series
 * ref without building a string: an open-addressing hash table (linear probing) over entries
 * whose key bytes live in one growing word arena. A hit compares the bytes, so hash collisions
 * never mix series. When `maxEntries` is reached the cache is cleared and refills from the sink,
 * whose `series` is idempotent: memory stays bounded under any tag churn.
 *
 * Keys are read four bytes at a time through a DataView of the packet: `keyHash` mixes whole
 * little-endian words and the find compares them with the stored words. Each key part (name,
 * tags, container) is kept word-aligned in the arena with its last word zero-padded, so the
 * compare is one int32 equality per four bytes. A tagged line's key is ~80 bytes: byte-wise FNV-1a
 * (one dependent multiply a byte) and a byte compare were a third of the parser's time.
 */

/** MISS is what `find` returns for a key not in the cache. */
export const MISS = -100;
/** CACHED_MALFORMED marks a key whose name (or container) cannot be decoded. */
export const CACHED_MALFORMED = -2;
/** CACHED_BAD_TAGS marks a key whose tags cannot become labels. */
export const CACHED_BAD_TAGS = -3;

// An entry in the arena: a header of these fields, then the key words (name, tags, container).
// The slot holds the hash and the header's offset, so a hit reads two places in memory: the slot
// and the entry (its header and key share cache lines).
const E_HASH = 0, E_REF = 1, E_TYPE = 2, E_NAME = 3, E_TAGS = 4, E_CONT = 5;
const HEADER = 6;

/** TAIL_MASK[n] keeps the first n bytes of a little-endian word. */
const TAIL_MASK = Int32Array.of(0, 0xff, 0xffff, 0xffffff);

export class SeriesCache {
  size: number;
  private readonly maxEntries: number;
  /** Pairs (hash, entry offset + 1); offset + 1 === 0 is an empty slot. */
  private slots: Int32Array;
  /** Slot pairs minus one: `hash & mask` is a slot index. */
  private mask: number;
  /** Entries, each a header and its key words, one after the other. */
  private arena: Int32Array;
  private arenaLen: number;

  constructor(maxEntries: number) {
    this.size = 0;
    this.maxEntries = Math.max(16, maxEntries);
    this.slots = new Int32Array(2 * 1024);
    this.mask = 1023;
    this.arena = new Int32Array(16384);
    this.arenaLen = 0;
  }

  /**
   * find returns the cached ref (or negative code) of a key, or MISS. The key is the type and
   * the byte ranges [ns, ns + nl), [ts, ts + tl), [cs, cs + cl) of the DataView (lengths may be
   * 0); `hash` MUST be keyHash of the same key.
   */
  find(hash: number, type: number, dv: DataView, ns: number, nl: number, ts: number, tl: number, cs: number, cl: number): number {
    const slots = this.slots, mask = this.mask, a = this.arena;
    let slot = hash & mask;
    for (;;) {
      const x1 = slots[2 * slot + 1]!;
      if (x1 === 0) return MISS;
      if (slots[2 * slot] === hash) {
        const x = x1 - 1;
        if (a[x + E_TYPE] === type && a[x + E_NAME] === nl && a[x + E_TAGS] === tl && a[x + E_CONT] === cl) {
          let off = x + HEADER;
          if (sameWords(dv, ns, nl, a, off)) {
            off += (nl + 3) >> 2;
            if (tl === 0 || sameWords(dv, ts, tl, a, off)) {
              off += (tl + 3) >> 2;
              if (cl === 0 || sameWords(dv, cs, cl, a, off)) return a[x + E_REF]!;
            }
          }
        }
      }
      slot = (slot + 1) & mask;
    }
  }

  /** insert adds a key (which MUST be absent, hashed by keyHash) with its ref. */
  insert(hash: number, type: number, dv: DataView, ns: number, nl: number, ts: number, tl: number, cs: number, cl: number, ref: number): void {
    if (this.size >= this.maxEntries) this.clear();
    if ((this.size + 1) * 2 > this.mask + 1) this.growSlots();
    const words = HEADER + ((nl + 3) >> 2) + ((tl + 3) >> 2) + ((cl + 3) >> 2);
    if (this.arenaLen + words > this.arena.length) {
      const grown = new Int32Array(Math.max(this.arenaLen + words, this.arena.length * 2));
      grown.set(this.arena.subarray(0, this.arenaLen));
      this.arena = grown;
    }
    const a = this.arena;
    const x = this.arenaLen;
    a[x + E_HASH] = hash;
    a[x + E_REF] = ref;
    a[x + E_TYPE] = type;
    a[x + E_NAME] = nl;
    a[x + E_TAGS] = tl;
    a[x + E_CONT] = cl;
    let w = copyWords(dv, ns, nl, a, x + HEADER);
    w = copyWords(dv, ts, tl, a, w);
    this.arenaLen = copyWords(dv, cs, cl, a, w);
    this.size++;
    this.place(hash, x);
  }

  /** clear forgets every key. */
  clear(): void {
    this.slots.fill(0);
    this.size = 0;
    this.arenaLen = 0;
  }

  /** maxProbe is the longest probe sequence of a present key (for tests of the hash spread). */
  maxProbe(): number {
    let worst = 0;
    for (let x = 0; x < this.arenaLen; x = next(this.arena, x)) {
      let slot = this.arena[x + E_HASH]! & this.mask, probes = 1;
      while (this.slots[2 * slot + 1] !== x + 1) {
        slot = (slot + 1) & this.mask;
        probes++;
      }
      if (probes > worst) worst = probes;
    }
    return worst;
  }

  private place(hash: number, x: number): void {
    const slots = this.slots, mask = this.mask;
    let slot = hash & mask;
    while (slots[2 * slot + 1] !== 0) slot = (slot + 1) & mask;
    slots[2 * slot] = hash;
    slots[2 * slot + 1] = x + 1;
  }

  private growSlots(): void {
    const n = 2 * (this.mask + 1);
    this.slots = new Int32Array(2 * n);
    this.mask = n - 1;
    for (let x = 0; x < this.arenaLen; x = next(this.arena, x)) this.place(this.arena[x + E_HASH]!, x);
  }
}

/** next is the offset of the entry after the one at x. */
function next(a: Int32Array, x: number): number {
  return x + HEADER + ((a[x + E_NAME]! + 3) >> 2) + ((a[x + E_TAGS]! + 3) >> 2) + ((a[x + E_CONT]! + 3) >> 2);
}

/**
 * keyHash hashes a key as `find` and `insert` take it: the type, then each byte range as whole
 * little-endian words and a zero-padded last word, then the lengths, so bytes moved from one part
 * to another change the hash. Words go alternately into two xxHash32-style lanes (multiply,
 * rotate, multiply), so the two dependent chains overlap in the CPU. It only spreads keys:
 * equality is always checked word for word. It returns a small integer (30 bits).
 */
export function keyHash(type: number, dv: DataView, ns: number, nl: number, ts: number, tl: number, cs: number, cl: number): number {
  LANES[0] = type;
  LANES[1] = 0x61c88647;
  hashWords(dv, ns, nl);
  if (tl > 0) hashWords(dv, ts, tl);
  if (cl > 0) hashWords(dv, cs, cl);
  let h = LANES[0]! ^ ((LANES[1]! << 7) | (LANES[1]! >>> 25)) ^ nl ^ (tl << 10) ^ (cl << 20);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h & 0x3fffffff;
}

/** The two lanes of keyHash (a typed array keeps them int32, with no allocation). */
const LANES = new Int32Array(2);

function hashWords(dv: DataView, p: number, len: number): void {
  let a = LANES[0]!, b = LANES[1]!;
  const end = p + (len & ~3);
  for (; p + 8 <= end; p += 8) {
    a = (a + Math.imul(dv.getInt32(p, true), 0x85ebca77)) | 0;
    a = Math.imul((a << 13) | (a >>> 19), 0x9e3779b1);
    b = (b + Math.imul(dv.getInt32(p + 4, true), 0x85ebca77)) | 0;
    b = Math.imul((b << 13) | (b >>> 19), 0x9e3779b1);
  }
  if (p < end) {
    a = (a + Math.imul(dv.getInt32(p, true), 0x85ebca77)) | 0;
    a = Math.imul((a << 13) | (a >>> 19), 0x9e3779b1);
    p += 4;
  }
  const rem = len & 3;
  if (rem !== 0) {
    b = (b + Math.imul(tailWord(dv, p, rem), 0x85ebca77)) | 0;
    b = Math.imul((b << 13) | (b >>> 19), 0x9e3779b1);
  }
  LANES[0] = a;
  LANES[1] = b;
}

/** tailWord packs the last 1-3 bytes at p into a zero-padded little-endian word. */
function tailWord(dv: DataView, p: number, rem: number): number {
  if (p + 4 <= dv.byteLength) return dv.getInt32(p, true) & TAIL_MASK[rem]!;
  return tailBytes(dv, p, rem);
}

function tailBytes(dv: DataView, p: number, rem: number): number {
  let w = dv.getUint8(p);
  if (rem > 1) w |= dv.getUint8(p + 1) << 8;
  if (rem > 2) w |= dv.getUint8(p + 2) << 16;
  return w;
}

/** sameWords compares len bytes at p with the words stored at arena[off]. */
function sameWords(dv: DataView, p: number, len: number, arena: Int32Array, off: number): boolean {
  const end = p + (len & ~3);
  for (; p < end; p += 4, off++) if (dv.getInt32(p, true) !== arena[off]) return false;
  const rem = len & 3;
  return rem === 0 || tailWord(dv, p, rem) === arena[off];
}

/** copyWords stores len bytes at p as words at arena[off]; it returns the next free word. */
function copyWords(dv: DataView, p: number, len: number, arena: Int32Array, off: number): number {
  const end = p + (len & ~3);
  for (; p < end; p += 4) arena[off++] = dv.getInt32(p, true);
  const rem = len & 3;
  if (rem !== 0) arena[off++] = tailWord(dv, p, rem);
  return off;
}
