import { grown } from './typed-arrays.js';

/** Entries (series) the columns hold before their first growth. */
const INITIAL_ENTRIES = 1024;

/**
 * SeriesRefs maps a series' identity key (tenant, kind and canonical labels, see Pipeline.series)
 * to its ref, on the main thread, without one heap object per series. A Map<string, number>
 * cost ~143 B of V8 heap per series (the key string, its entry), and because every new series'
 * key survives the young-generation collections of a burst of definitions, a burst of 100k series
 * also grew the main isolate's young generation to its maximum (~30 MB more committed, kept).
 * Here keys are copied into one byte arena (one byte per code unit when all are below 256, as
 * canonical keys are for Latin-1 labels; two otherwise) and found through an open-addressing
 * table of int32 entry numbers, with each entry's hash kept to skip most comparisons: ~100 B per
 * series, all in typed arrays, which V8 neither scans nor copies.
 *
 * The caller passes the key's hash (Pipeline already computes fnv1aString for sharding); equal
 * keys MUST come with equal hashes. Entries are never removed (refs live as long as the pipeline).
 */
export class SeriesRefs {
  /** Key bytes, entry after entry. */
  private bytes = new Uint8Array(INITIAL_ENTRIES * 64);
  private used = 0;
  /** Per entry: offset of its key in `bytes`, its length in code units (negative: stored as UTF-16 LE), hash and ref. */
  private start = new Int32Array(INITIAL_ENTRIES);
  private len = new Int32Array(INITIAL_ENTRIES);
  private hashOf = new Int32Array(INITIAL_ENTRIES);
  private refOf = new Int32Array(INITIAL_ENTRIES);
  /** Open addressing, linear probing: entry number + 1 per slot (0: empty); at most half full. */
  private table = new Int32Array(INITIAL_ENTRIES * 2);
  private n = 0;

  /** size is the number of keys held. */
  get size(): number {
    return this.n;
  }

  /** get returns the ref stored under `key` (whose hash is `hash`), or -1. */
  get(key: string, hash: number): number {
    const h = hash | 0;
    const t = this.table, mask = t.length - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const e = t[i]! - 1;
      if (e < 0) return -1;
      if (this.hashOf[e] === h && this.equals(e, key)) return this.refOf[e]!;
    }
  }

  /** set stores `ref` under `key`, which MUST not be held yet (get it first). */
  set(key: string, hash: number, ref: number): void {
    const e = this.n;
    if (e === this.start.length) this.growEntries();
    if ((e + 1) * 2 > this.table.length) this.rehash(this.table.length * 2);
    const h = hash | 0;
    let wide = false;
    for (let i = 0; i < key.length; i++) {
      if (key.charCodeAt(i) > 0xff) {
        wide = true;
        break;
      }
    }
    const need = wide ? key.length * 2 : key.length;
    if (this.used + need > this.bytes.length) this.bytes = grown(this.bytes, new Uint8Array(Math.max(this.bytes.length * 2, this.used + need)));
    const b = this.bytes;
    let at = this.used;
    if (wide) {
      for (let i = 0; i < key.length; i++, at += 2) {
        const c = key.charCodeAt(i);
        b[at] = c & 0xff;
        b[at + 1] = c >>> 8;
      }
    } else for (let i = 0; i < key.length; i++) b[at++] = key.charCodeAt(i);
    this.start[e] = this.used;
    this.len[e] = wide ? -key.length : key.length;
    this.used = at;
    this.hashOf[e] = h;
    this.refOf[e] = ref;
    this.n = e + 1;
    this.place(e, h);
  }

  private equals(e: number, key: string): boolean {
    const l = this.len[e]!, b = this.bytes;
    let at = this.start[e]!;
    if (l >= 0) {
      if (l !== key.length) return false;
      for (let i = 0; i < l; i++) if (b[at + i] !== key.charCodeAt(i)) return false;
      return true;
    }
    if (-l !== key.length) return false;
    for (let i = 0; i < key.length; i++, at += 2) if ((b[at]! | (b[at + 1]! << 8)) !== key.charCodeAt(i)) return false;
    return true;
  }

  private place(e: number, h: number): void {
    const t = this.table, mask = t.length - 1;
    let i = h & mask;
    while (t[i] !== 0) i = (i + 1) & mask;
    t[i] = e + 1;
  }

  private growEntries(): void {
    const cap = this.start.length * 2;
    this.start = grown(this.start, new Int32Array(cap));
    this.len = grown(this.len, new Int32Array(cap));
    this.hashOf = grown(this.hashOf, new Int32Array(cap));
    this.refOf = grown(this.refOf, new Int32Array(cap));
  }

  private rehash(size: number): void {
    this.table = new Int32Array(size);
    for (let e = 0; e < this.n; e++) this.place(e, this.hashOf[e]!);
  }
}
