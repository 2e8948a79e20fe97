import { readChunkHeader } from './chunk-encoding.js';
import type { StoreDbs } from './dbs.js';
import { CHUNK_KEY_LEN } from './keys.js';

/** TierTotals is what `stats()` reports for one tier, kept up to date by every write. */
export interface TierTotals {
  series: number;
  points: number;
  bytes: number;
  minTimeMs: number | null;
  maxTimeMs: number | null;
}

const key = (ordinal: number): string => `stats:${ordinal}`;

/** readTierTotals returns a tier's stored totals (zeros when none). */
export function readTierTotals(dbs: StoreDbs, ordinal: number): TierTotals {
  const v = dbs.meta.get(key(ordinal)) as TierTotals | undefined;
  return v ?? { series: 0, points: 0, bytes: 0, minTimeMs: null, maxTimeMs: null };
}

/**
 * TierCounters accumulates one write transaction's changes to per-tier totals (series, points,
 * page bytes, time span) and folds them into the `meta` table at the end of that transaction, so
 * `/api/v1/status/tsdb` reads four small records instead of scanning every chunk. Writers run
 * serialised by LMDB, so the totals stay exact across threads and processes.
 */
export class TierCounters {
  private readonly dbs: StoreDbs;
  private readonly pageSize: number;
  private readonly deltas: Map<number, TierTotals>;

  constructor(dbs: StoreDbs, pageSize: number) {
    this.dbs = dbs;
    this.pageSize = pageSize;
    this.deltas = new Map();
  }

  private delta(ordinal: number): TierTotals {
    let d = this.deltas.get(ordinal);
    if (d === undefined) {
      d = { series: 0, points: 0, bytes: 0, minTimeMs: null, maxTimeMs: null };
      this.deltas.set(ordinal, d);
    }
    return d;
  }

  /** valueBytes is the page space a chunk value takes: whole overflow pages above half a page. */
  valueBytes(len: number): number {
    return len > this.pageSize / 2 ? Math.ceil((len + 24) / this.pageSize) * this.pageSize : len + CHUNK_KEY_LEN + 10;
  }

  /** replaced notes a chunk put over `old` (absent: a new key) holding windows up to `lastMs`. */
  replaced(ordinal: number, old: Uint8Array | undefined | null, value: Uint8Array, startMs: number, lastMs: number): void {
    const d = this.delta(ordinal);
    d.points += readChunkHeader(value).points - (old ? readChunkHeader(old).points : 0);
    d.bytes += this.valueBytes(value.length) - (old ? this.valueBytes(old.length) : 0);
    if (d.minTimeMs === null || startMs < d.minTimeMs) d.minTimeMs = startMs;
    if (d.maxTimeMs === null || lastMs > d.maxTimeMs) d.maxTimeMs = lastMs;
  }

  /** removed notes a deleted chunk. */
  removed(ordinal: number, old: Uint8Array): void {
    const d = this.delta(ordinal);
    d.points -= readChunkHeader(old).points;
    d.bytes -= this.valueBytes(old.length);
  }

  /** seriesAdded / seriesRemoved note a series gaining its first or losing its last chunk. */
  seriesChanged(ordinal: number, by: number): void {
    this.delta(ordinal).series += by;
  }

  /** flush folds the deltas into the stored totals; MUST run inside the same write transaction. */
  flush(): void {
    for (const [ord, d] of this.deltas) {
      const t = readTierTotals(this.dbs, ord);
      t.series += d.series;
      t.points += d.points;
      t.bytes += d.bytes;
      if (d.minTimeMs !== null && (t.minTimeMs === null || d.minTimeMs < t.minTimeMs)) t.minTimeMs = d.minTimeMs;
      if (d.maxTimeMs !== null && (t.maxTimeMs === null || d.maxTimeMs > t.maxTimeMs)) t.maxTimeMs = d.maxTimeMs;
      if (t.series <= 0) {
        t.minTimeMs = null;
        t.maxTimeMs = null;
      }
      void this.dbs.meta.put(key(ord), t);
    }
    this.deltas.clear();
  }

  /** forget drops the deltas of a failed transaction. */
  forget(): void {
    this.deltas.clear();
  }
}

/** setTierMin stores a tier's oldest window as measured by a pass over every series. */
export function setTierMin(dbs: StoreDbs, ordinal: number, minTimeMs: number | null): void {
  const t = readTierTotals(dbs, ordinal);
  t.minTimeMs = t.series > 0 ? minTimeMs : null;
  void dbs.meta.put(key(ordinal), t);
}
