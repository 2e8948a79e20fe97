import type { StoreDbs } from './dbs.js';
import { decodePosting, postingPrefix, prefixEnd, type KeyComponent } from './keys.js';

/**
 * Postings reads the inverted index: ids per (tenant, label name, value), and the distinct
 * names and values of a tenant. Distinct scans jump over each value's ids (one cursor seek per
 * value), so listing the values of a label costs the number of values, not of series.
 */
export class Postings {
  private readonly dbs: StoreDbs;

  constructor(dbs: StoreDbs) {
    this.dbs = dbs;
  }

  /** ids returns the ascending ids with label name=value in tenant. */
  ids(tenant: string, name: string, value: string): number[] {
    const p = postingPrefix(tenant, name, value);
    const out: number[] = [];
    for (const k of this.dbs.postings.getKeys({ start: p, end: prefixEnd(p) })) {
      const o = k.length - 4;
      out.push(((k[o]! << 24) >>> 0) + ((k[o + 1]! << 16) | (k[o + 2]! << 8) | k[o + 3]!));
    }
    return out;
  }

  /** idsRaw is ids() for a key component as read from a posting key (hashed or not). */
  idsOfKey(tenant: string, name: string, value: KeyComponent, sampleKey: Uint8Array): number[] {
    if (!value.hashed) return this.ids(tenant, name, value.value);
    const p = sampleKey.subarray(0, sampleKey.length - 4);
    const out: number[] = [];
    for (const k of this.dbs.postings.getKeys({ start: Buffer.from(p), end: prefixEnd(p) })) {
      const o = k.length - 4;
      out.push(((k[o]! << 24) >>> 0) + ((k[o + 1]! << 16) | (k[o + 2]! << 8) | k[o + 3]!));
    }
    return out;
  }

  /** values returns the distinct values of a label name (each with one sample key). */
  values(tenant: string, name: string): Array<{ value: KeyComponent; key: Buffer }> {
    const tp = postingPrefix(tenant).length;
    const p = postingPrefix(tenant, name);
    const end = prefixEnd(p);
    const out: Array<{ value: KeyComponent; key: Buffer }> = [];
    let start: Buffer = p;
    for (;;) {
      let key: Buffer | null = null;
      for (const k of this.dbs.postings.getKeys({ start, end, limit: 1 })) key = k;
      if (key === null) return out;
      const parts = decodePosting(key, tp);
      out.push({ value: parts.value, key });
      start = prefixEnd(key.subarray(0, key.length - 4));
    }
  }

  /** names returns the distinct label names of a tenant (including internal ones). */
  names(tenant: string): string[] {
    const p = postingPrefix(tenant);
    const end = prefixEnd(p);
    const out: string[] = [];
    let start: Buffer = p;
    for (;;) {
      let key: Buffer | null = null;
      for (const k of this.dbs.postings.getKeys({ start, end, limit: 1 })) key = k;
      if (key === null) return out;
      const parts = decodePosting(key, p.length);
      out.push(parts.name.value);
      const nameEnd = key.indexOf(0, p.length);
      start = prefixEnd(key.subarray(0, nameEnd + 1));
    }
  }
}
