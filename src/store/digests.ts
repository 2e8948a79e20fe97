import type { StoreDbs } from './dbs.js';
import type { DigestStore, StoredDigest } from './interface.js';
import { decodePosting, prefixEnd } from './keys.js';
import { DAY_STAMPS_SINCE_KEY, HOUR_STAMPS_SINCE_KEY } from './format.js';
import { readTierState } from './tier-state.js';
import { boundaries, chooseTier } from './tier-select.js';
import type { Tier } from './tier.js';
import { seriesLabels, writeLogKeysBefore, writtenSince } from './write-log.js';
import type { Labels } from '../model/labels.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const SEP = '\u0000';

/** Span is what a stamp covers: a UTC day or a UTC hour. */
export type StampSpan = 'day' | 'hour';

/** stampKey names the stamp of a UTC day or hour (its start, ms) in the `meta` table. */
const stampKey = (span: StampSpan, startMs: number): string => `${span}:${startMs}`;

/**
 * bumpStamps changes the stamp of every UTC day (hour) in `units` (day or hour numbers since
 * 1970), inside the caller's write transaction: a digest built from it before this commit is
 * stale from now on. Returns each unit's new stamp.
 */
export function bumpStamps(dbs: StoreDbs, span: StampSpan, units: ReadonlySet<number>): Map<number, number> {
  const unitMs = span === 'day' ? DAY : HOUR;
  const out = new Map<number, number>();
  for (const u of units) {
    const k = stampKey(span, u * unitMs);
    const stamp = ((dbs.meta.get(k) as number | undefined) ?? 0) + 1;
    void dbs.meta.put(k, stamp);
    out.set(u, stamp);
  }
  return out;
}

/**
 * LmdbDigests keeps digests in the `digests` table, keyed `tenant \0 key`, each value an 8-byte
 * stamp followed by the caller's bytes. The stamp check is the caller's (it compares `stamp` with
 * `dayStamp` or `hourStamp`); the store only keeps the stamps current (every commit bumps the
 * days and hours it writes).
 */
export class LmdbDigests implements DigestStore {
  private readonly dbs: StoreDbs;
  private readonly tiers: readonly Tier[];
  private readonly now: () => number;
  private stampsSince: number | undefined;
  private hourStampsSince: number | undefined;

  constructor(dbs: StoreDbs, tiers: readonly Tier[], now: () => number) {
    this.dbs = dbs;
    this.tiers = tiers;
    this.now = now;
  }

  get(tenant: string, key: string): StoredDigest | undefined {
    // Not copied out: a digest can be a megabyte, read many times per answer (see DigestReader.get).
    const v = this.dbs.digests.getBinaryFast(tenant + SEP + key);
    if (v === undefined || v.length < 8) return undefined;
    const stamp = v.readDoubleLE(0);
    return { stamp, bytes: v.subarray(8) };
  }

  dayStamp(dayMs: number): number {
    return (this.dbs.meta.get(stampKey('day', dayMs)) as number | undefined) ?? 0;
  }

  dayEmpty(dayMs: number): boolean {
    // Recorded when the store was opened (format.ts) and never changed after.
    this.stampsSince ??= (this.dbs.meta.get(DAY_STAMPS_SINCE_KEY) as number | undefined) ?? Infinity;
    return dayMs >= this.stampsSince && this.dayStamp(dayMs) === 0;
  }

  hourStamp(hourMs: number): number {
    return (this.dbs.meta.get(stampKey('hour', hourMs)) as number | undefined) ?? 0;
  }

  hourEmpty(hourMs: number): boolean {
    this.hourStampsSince ??= (this.dbs.meta.get(HOUR_STAMPS_SINCE_KEY) as number | undefined) ?? Infinity;
    return hourMs >= this.hourStampsSince && this.hourStamp(hourMs) === 0;
  }

  /**
   * settledDays: the tier a read at 1 h steps takes (the coarsest fixed tier of at most 1 h) holds
   * every point of a settled day, rolled up (its compaction watermark is past the day's end), and
   * keeps it (the day starts inside its retention). Before that a day still changes tier; after it,
   * such a read takes the day from a coarser tier, so a digest of it would no longer match.
   */
  settledDays(): { fromMs: number; toMs: number; keptFromMs: number } {
    return this.settled(DAY);
  }

  /**
   * edgeReadTier says which tier a read at step hint 1 (analytics' edge reads: the partial hours
   * of a range) of [startMs, endMs] takes, after a look-back from `leadStartMs` (the querier's
   * tier choice, tier-select.ts, for a range query whose first step is at startMs), when that
   * one tier serves the whole read and keeps it from leadStartMs on; -1 otherwise (the read
   * stitches tiers, or the look-back reaches past the tier's retention, which may drop it). While
   * the result and the hour stamps of [leadStartMs, endMs] stay the same, such a read returns the
   * same samples: analytics keep its result between answers (src/cost/edge-cache.ts).
   */
  edgeReadTier(leadStartMs: number, startMs: number, endMs: number): number {
    const now = this.now();
    const j = chooseTier(this.tiers, { startMs, endMs, stepMs: 1 }, now);
    const t = this.tiers[j]!;
    if (t.monthly || t.end(t.index(leadStartMs)) <= now - t.retentionMs) return -1;
    if (j > 0 && boundaries(this.dbs, this.tiers)[j]! <= endMs) return -1;
    return j;
  }

  /**
   * writtenSeries lists the label sets of the tenant's series written into the hour starting at
   * `hourMs` by the commits that moved its stamp from `fromStamp` to `toStamp` (write-log.ts); null
   * when the store cannot tell (too long ago, a commit that wrote many series, or more than
   * `limit` series). A read of that hour kept at `fromStamp` differs from one now only in these
   * series (while its tier stays, see edgeReadTier).
   */
  writtenSeries(tenant: string, hourMs: number, fromStamp: number, toStamp: number, limit: number): Labels[] | null {
    const ids = writtenSince(this.dbs, hourMs, fromStamp, toStamp, limit);
    if (ids === null) return null;
    const out: Labels[] = [];
    for (const id of ids) {
      const s = seriesLabels(this.dbs, id);
      if (s !== undefined && s.tenant === tenant) out.push(s.labels);
    }
    return out;
  }

  /** settledHours: as settledDays, for whole UTC hours (the hour tier's watermark past the hour's end). */
  settledHours(): { fromMs: number; toMs: number; keptFromMs: number } {
    return this.settled(HOUR);
  }

  private settled(unit: number): { fromMs: number; toMs: number; keptFromMs: number } {
    let src: Tier | undefined;
    for (const t of this.tiers) if (!t.monthly && t.resolutionMs <= HOUR) src = t;
    if (src === undefined) return { fromMs: 0, toMs: 0, keptFromMs: Infinity };
    const now = this.now();
    const doneMs = src.ordinal === 0 ? now : readTierState(this.dbs, src.ordinal).wm;
    const keptFromMs = now - src.retentionMs;
    const fromMs = Math.ceil(keptFromMs / unit) * unit;
    const toMs = Math.floor(Math.min(doneMs, now) / unit) * unit;
    return { fromMs, toMs: Math.max(fromMs, toMs), keptFromMs };
  }

  async put(tenant: string, stamp: number, entries: ReadonlyArray<readonly [key: string, bytes: Uint8Array]>): Promise<void> {
    const values = entries.map(([key, bytes]) => {
      const v = Buffer.allocUnsafe(8 + bytes.length);
      v.writeDoubleLE(stamp, 0);
      v.set(bytes, 8);
      return [tenant + SEP + key, v] as const;
    });
    await this.dbs.digests.transaction(() => {
      for (const [k, v] of values) void this.dbs.digests.put(k, v);
    });
  }

  async pruneStamps(beforeMs: number): Promise<number> {
    const end = Math.floor(beforeMs / DAY) * DAY;
    const keys: string[] = [];
    for (const span of ['day', 'hour'] as const) {
      // Keys sort as numbers: every start of this millennium has 13 digits.
      for (const k of this.dbs.meta.getKeys({ start: `${span}:`, end: stampKey(span, end) })) {
        if (typeof k === 'string' && Number(k.slice(span.length + 1)) < end) keys.push(k);
      }
    }
    const stamps = keys.length;
    // The rows of which series wrote there go with the stamps they are filed under.
    keys.push(...writeLogKeysBefore(this.dbs, end));
    if (keys.length === 0) return 0;
    await this.dbs.meta.transaction(() => {
      for (const k of keys) void this.dbs.meta.remove(k);
    });
    return stamps;
  }

  async remove(tenant: string, key: string): Promise<void> {
    await this.dbs.digests.remove(tenant + SEP + key);
  }

  keys(tenant: string, prefix: string): string[] {
    const start = tenant + SEP + prefix;
    const out: string[] = [];
    for (const k of this.dbs.digests.getKeys({ start, end: start + '\uffff' })) out.push(k.slice(tenant.length + 1));
    return out;
  }

  /**
   * tenants lists the tenants that have series: one posting key per tenant (the tenant leads every
   * posting key), its series record naming the tenant (a long tenant is hashed in keys).
   */
  tenants(): string[] {
    const out: string[] = [];
    let start: Buffer = Buffer.alloc(0);
    for (;;) {
      let first: Buffer | undefined;
      for (const k of this.dbs.postings.getKeys({ start, limit: 1 })) first = Buffer.from(k);
      if (first === undefined) break;
      const tenantEnd = first.indexOf(0);
      const id = decodePosting(first, tenantEnd + 1).id;
      const rec = this.dbs.records.get(id);
      if (rec !== undefined) out.push(rec.t);
      start = prefixEnd(first.subarray(0, tenantEnd + 1));
    }
    return out;
  }
}
