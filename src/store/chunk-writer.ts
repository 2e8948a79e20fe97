import { MetricKind } from '../model/metric-kind.js';
import { decodeChunk, encodeChunk, readChunkHeader } from './chunk-encoding.js';
import type { StoreDbs } from './dbs.js';
import { HeadChunk, type SealedChunk } from './head-chunk.js';
import { MAX_START, chunkKey, chunkKeyStart, seriesPrefix } from './keys.js';
import { PointBuf } from './point-buf.js';
import type { TierCounters } from './tier-counters.js';
import type { Tier } from './tier.js';

/** Values between PAD_FROM and PAD_TO bytes are padded to PAD_TO (see toValue). */
const PAD_FROM = 384;
const PAD_TO = 2048;
/** Most rollup-tier heads one writer keeps (each holds up to two page-sized copies). */
const ROLLUP_HEADS = 8192;

/**
 * toValue wraps chunk bytes as an LMDB value. A value of a few hundred bytes up to half a page
 * would sit inline in a leaf page, and as heads grow their leaves split and stay half empty
 * once the values move to overflow pages; padding such values (decoders stop at the point
 * count, so padding is ignored) sends them to an overflow page right away, which they would
 * need soon anyway, and keeps leaves dense. Small heads of sparse series stay inline.
 */
function toValue(bytes: Uint8Array): Buffer {
  if (bytes.length <= PAD_FROM || bytes.length >= PAD_TO) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const out = Buffer.alloc(PAD_TO);
  out.set(bytes, 0);
  return out;
}

/**
 * sameBytes compares a value we wrote with one read by getBinaryFast, whose `length` is the
 * value's but whose memory is lmdb-js' shared read buffer (so Buffer.equals would compare more).
 */
function sameBytes(written: Buffer | null, stored: Buffer): boolean {
  return written !== null && written.length === stored.length && written.compare(stored, 0, stored.length) === 0;
}

/**
 * ChunkWriter turns a commit's points of one series into chunk writes. It MUST run inside a
 * write transaction (the appender's one lmdb-js batch), because it reads the series' last
 * chunk to check its cached head: when another thread or an earlier process wrote the series,
 * the cached head no longer matches and is reloaded, so merges never lose stored windows.
 *
 * Points after the head's last window append; points inside the head's last block merge into
 * it (see HeadChunk.mergeRecent); points further back inside the head rebuild it; points older
 * than the head merge into the chunk that covers them (decode, merge, re-encode), the rare
 * late-window path.
 *
 * Heads are cached for every tier. A raw series is written by the one worker that owns it (and
 * trimmed by retention), so a raw head is checked by its chunk start, value length and point
 * count. Rollup tiers are also written by compaction and backfill from other handles, where a
 * merge into the last window keeps both (padded values share one length), so a rollup head keeps
 * the whole value it wrote and is reused only while LMDB holds exactly those bytes. Rollup heads
 * are bounded (least recently written dropped first), since compaction touches every series.
 * Every put and delete is reported to `counters` for the per-tier totals.
 */
export class ChunkWriter {
  private readonly dbs: StoreDbs;
  readonly counters: TierCounters;
  private readonly heads: Map<number, HeadChunk>;
  private readonly rollupHeads: Map<number, HeadChunk>;
  private readonly sealed: SealedChunk[];

  constructor(dbs: StoreDbs, counters: TierCounters) {
    this.dbs = dbs;
    this.counters = counters;
    this.heads = new Map();
    this.rollupHeads = new Map();
    this.sealed = [];
  }

  /** put stores one chunk value and reports the change to the tier totals. */
  private put(tier: Tier, id: number, startMs: number, value: Buffer, lastMs: number): void {
    const key = chunkKey(tier.ordinal, id, startMs);
    this.counters.replaced(tier.ordinal, this.dbs.chunks.getBinaryFast(key), value, startMs, lastMs);
    void this.dbs.chunks.put(key, value);
  }

  private headKey(tier: Tier, id: number): number {
    return id * 16 + tier.ordinal;
  }

  /** write stores `pts` (ascending windows, one entry per window) for series `id`. */
  write(tier: Tier, id: number, kind: MetricKind, pts: PointBuf, bounds: ArrayLike<number> | null = null): void {
    const chunks = this.dbs.chunks;
    const raw = tier.ordinal === 0;
    const hk = this.headKey(tier, id);
    let head = (raw ? this.heads.get(hk) : this.rollupHeads.get(hk)) ?? null;
    // Verify the cached head against the series' last stored chunk.
    const sealed = this.sealed;
    sealed.length = 0;
    let lastKey: Buffer | null = null;
    for (const k of chunks.getKeys({ start: chunkKey(tier.ordinal, id, MAX_START), end: seriesPrefix(tier.ordinal, id), reverse: true, limit: 1 })) lastKey = k;
    if (head !== null) {
      const stored = lastKey === null ? null : chunks.getBinaryFast(lastKey);
      if (lastKey === null || stored === undefined || stored === null || chunkKeyStart(lastKey) !== head.startMs) head = null;
      else if (raw ? stored.length !== head.writtenLength || readChunkHeader(stored).points !== head.writtenPoints : !sameBytes(head.written, stored)) head = null;
    }
    if (lastKey === null && pts.n > 0) this.counters.seriesChanged(tier.ordinal, 1);
    if (head === null && lastKey !== null) head = this.load(tier, kind, lastKey, sealed, bounds);

    let cold: PointBuf | null = null;
    let rebuild: PointBuf | null = null;
    let rebuildBase = 0;
    for (let j = 0; j < pts.n; j++) {
      const w = pts.idx[j]!;
      if (head === null) head = new HeadChunk(kind, tier, w, bounds);
      if (rebuild === null && w > head.lastIdx) {
        head.append(pts, j, sealed);
      } else if (rebuild !== null && w >= rebuildBase) {
        rebuild.mergeFrom(pts, j);
      } else if (rebuild === null && w >= head.baseIdx && head.mergeRecent(pts, j, sealed)) {
        // Merged into the head's last block.
      } else if (rebuild === null && w >= head.baseIdx) {
        rebuild = this.decodeHead(head, kind, sealed);
        rebuildBase = head.baseIdx;
        if (w >= rebuildBase) rebuild.mergeFrom(pts, j);
        else (cold ??= new PointBuf(kind, 8)).mergeFrom(pts, j);
      } else {
        (cold ??= new PointBuf(kind, 8)).mergeFrom(pts, j);
      }
    }
    if (rebuild !== null) {
      head = new HeadChunk(kind, tier, rebuildBase, bounds);
      for (let j = 0; j < rebuild.n; j++) head.append(rebuild, j, sealed);
    }
    if (head !== null) {
      const bytes = head.encode(sealed);
      const lastMs = tier.start(head.lastIdx);
      for (const s of sealed) this.put(tier, id, s.startMs, toValue(s.bytes), lastMs);
      const value = toValue(bytes);
      this.put(tier, id, head.startMs, value, lastMs);
      head.writtenLength = value.length;
      head.writtenPoints = head.points;
      if (raw) this.heads.set(hk, head);
      else {
        head.written = value;
        // Re-inserting moves the head to the back of the map's order (most recently written).
        this.rollupHeads.delete(hk);
        this.rollupHeads.set(hk, head);
        if (this.rollupHeads.size > ROLLUP_HEADS) this.rollupHeads.delete(this.rollupHeads.keys().next().value!);
      }
    }
    if (cold !== null) this.mergeCold(tier, id, kind, cold, head!.baseIdx, bounds);
  }

  private load(tier: Tier, kind: MetricKind, key: Buffer, sealed: SealedChunk[], bounds: ArrayLike<number> | null): HeadChunk | null {
    const bytes = this.dbs.chunks.getBinary(key);
    if (bytes === undefined) return null;
    const buf = new PointBuf(kind, 64);
    const base = tier.index(chunkKeyStart(key));
    decodeChunk(bytes, base, buf, tier);
    const head = new HeadChunk(kind, tier, base, bounds);
    // A chunk grown past the budget by a cold merge seals here (same key, then a new head).
    for (let j = 0; j < buf.n; j++) head.append(buf, j, sealed);
    head.writtenLength = sealed.length > 0 ? -1 : bytes.length;
    head.writtenPoints = head.points;
    return head;
  }

  /** decodeHead returns the head's windows (sealing first if its tail outgrew the budget). */
  private decodeHead(head: HeadChunk, kind: MetricKind, sealed: SealedChunk[]): PointBuf {
    const bytes = head.encode(sealed);
    const buf = new PointBuf(kind, Math.max(16, head.points));
    decodeChunk(bytes, head.baseIdx, buf, head.tier);
    return buf;
  }

  /** mergeCold merges windows older than the head into the chunks that cover them. */
  private mergeCold(tier: Tier, id: number, kind: MetricKind, cold: PointBuf, headBase: number, bounds: ArrayLike<number> | null): void {
    const chunks = this.dbs.chunks;
    let j = 0;
    while (j < cold.n) {
      const w = cold.idx[j]!;
      const wMs = tier.start(w);
      let key: Buffer | null = null;
      for (const k of chunks.getKeys({ start: chunkKey(tier.ordinal, id, wMs), end: seriesPrefix(tier.ordinal, id), reverse: true, limit: 1 })) key = k;
      // The covering chunk ends where the next one starts (or at the head).
      let endIdx = headBase;
      let base: number;
      const buf = new PointBuf(kind, 64);
      if (key !== null) {
        base = tier.index(chunkKeyStart(key));
        decodeChunk(chunks.getBinary(key)!, base, buf, tier);
      } else {
        base = w;
      }
      for (const k of chunks.getKeys({ start: chunkKey(tier.ordinal, id, tier.start(base) + 1), end: chunkKey(tier.ordinal, id, MAX_START), limit: 1 })) endIdx = Math.min(endIdx, tier.index(chunkKeyStart(k)));
      while (j < cold.n && cold.idx[j]! < endIdx) buf.mergeFrom(cold, j++);
      const bytes = encodeChunk(buf, base, tier, bounds);
      this.put(tier, id, tier.start(base), toValue(bytes), tier.start(buf.idx[buf.n - 1]!));
    }
  }

  /** forget drops every cached head (after a failed commit, so the next write reloads). */
  forget(): void {
    this.heads.clear();
    this.rollupHeads.clear();
    this.counters.forget();
  }
}
