import { MetricKind } from '../model/metric-kind.js';
import { decodeChunk, encodeChunk, readChunkHeader } from './chunk-encoding.js';
import type { ChunkWriter } from './chunk-writer.js';
import type { StoreDbs } from './dbs.js';
import { chunkKey, chunkKeyStart, seriesPrefix } from './keys.js';
import { PointBuf } from './point-buf.js';
import { addRetired } from './retired.js';
import type { SeriesIndex } from './series-index.js';
import { readTierTotals, setTierMin } from './tier-counters.js';
import { compactedUpTo, readTierState, writeTierState } from './tier-state.js';
import { TxnStates, rebucket, type TierWriter } from './tier-writer.js';
import type { Tier } from './tier.js';

/** Series per write transaction: small enough that ingest commits never wait long for the lock. */
const BATCH_SERIES = 128;
/** Source windows per write transaction, bounding a batch of dense series. */
const BATCH_POINTS = 100_000;
/** RETENTION_SLACK_MAX_MS caps how long past its retention a window may wait for deletion (see retentionSlack). */
const RETENTION_SLACK_MAX_MS = 30 * 60_000;

/**
 * retentionSlack is how long past the cutoff a tier's oldest window may stay before a retention
 * pass runs: 1/100 of the retention, at most 30 minutes. A pass reads and rewrites the first chunk
 * of every series; run each minute on a settled raw tier (2 days), it deleted six windows per
 * series each time (2,000 series: ~175 ms of CPU a minute). With the slack it runs about every half
 * hour and deletes what is due then at once. Reads are unchanged: they pick tiers by retention, not
 * by what a tier still holds, and a deleted window's increments move to the retired aggregate.
 */
export function retentionSlack(retentionMs: number): number {
  return Math.min(RETENTION_SLACK_MAX_MS, Math.floor(retentionMs / 100));
}

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Compactor rolls each tier up into the next coarser one and applies retention, in bounded
 * batches of series (one write transaction each, yielding to the event loop in between), so
 * ingest and queries never stall behind it.
 *
 * Compaction of tier k merges the tier k-1 windows starting in [wm, target) into tier k, where
 * target is the start of the tier k window holding "now" (start of the open raw window) for the
 * first rollup and the committed watermark of tier k-1 for the others: whole windows only. Each batch commits its rollup chunks together with the
 * pass's cursor (see CompactionState), so a crash resumes where the last batch ended.
 *
 * Retention of tier j deletes the windows that ended at or before now - retention, but only those
 * tier j+1 already holds (start before compactedUpTo), moving counter increments and histograms
 * into the series' retired aggregate in the same transaction, so cumulative values never drop.
 */
export class Compactor {
  private readonly dbs: StoreDbs;
  private readonly index: SeriesIndex;
  private readonly tiers: readonly Tier[];
  private readonly writer: ChunkWriter;
  private readonly tierWriter: TierWriter;

  constructor(dbs: StoreDbs, index: SeriesIndex, tiers: readonly Tier[], writer: ChunkWriter, tierWriter: TierWriter) {
    this.dbs = dbs;
    this.index = index;
    this.tiers = tiers;
    this.writer = writer;
    this.tierWriter = tierWriter;
  }

  /** run compacts every rollup tier (finest first), then applies every tier's retention. */
  async run(nowMs: number): Promise<void> {
    for (let k = 1; k < this.tiers.length; k++) await this.compactTier(k, nowMs);
    for (let j = 0; j < this.tiers.length; j++) await this.retain(j, nowMs);
  }

  /** compactTier runs (or resumes) one pass of tier k until its watermark reaches its target. */
  async compactTier(k: number, nowMs: number): Promise<void> {
    const raw = this.tiers[0]!;
    if (this.rolledUp(k, nowMs)) return;
    for (;;) {
      let finished = false;
      await this.txn(() => {
        const states = new TxnStates(this.dbs);
        let st = states.get(k);
        if (st.target === null) {
          // Only whole tier-k windows are rolled up: reads serve a rollup tier only up to the
          // start of its window holding the watermark (tier-select.ts boundaries), so a partial
          // window rolled up early was merged and re-encoded again at every later run (each
          // minute for 5 m windows, each 5 m for hour windows: most of an idle-ish daemon's CPU)
          // and read by no query.
          const below = k === 1 ? raw.start(raw.index(nowMs)) : states.get(k - 1).wm;
          const tk = this.tiers[k]!;
          const target = tk.start(tk.index(below));
          if (target <= st.wm) {
            finished = true;
            return;
          }
          st = { wm: st.wm, target, cursor: 0 };
        }
        let last = st.cursor, points = 0, series = 0, exhausted = true;
        for (const id of this.dbs.records.getKeys({ start: st.cursor + 1 })) {
          if (series >= BATCH_SERIES || points >= BATCH_POINTS) {
            exhausted = false;
            break;
          }
          points += this.rollSeries(states, k, id as number, st.wm, st.target!);
          last = id as number;
          series++;
        }
        if (exhausted) {
          writeTierState(this.dbs, k, { wm: st.target!, target: null, cursor: 0 });
          finished = true;
        } else {
          writeTierState(this.dbs, k, { wm: st.wm, target: st.target, cursor: last });
        }
      });
      if (finished) return;
      await yieldToLoop();
    }
  }

  /**
   * rolledUp says, from committed state read outside any transaction, that tier k has no whole
   * window to roll up: most passes (every minute, for windows of 5 minutes and more) then cost a
   * few reads instead of a write transaction. State only moves forward, so a stale read errs
   * towards the transaction, which checks again (another process's pass that moved tier k-1 on
   * meanwhile is picked up by the next run).
   */
  private rolledUp(k: number, nowMs: number): boolean {
    const st = readTierState(this.dbs, k);
    if (st.target !== null) return false;
    const raw = this.tiers[0]!;
    const below = k === 1 ? raw.start(raw.index(nowMs)) : readTierState(this.dbs, k - 1).wm;
    const tk = this.tiers[k]!;
    return tk.start(tk.index(below)) <= st.wm;
  }

  /** rollSeries merges series `id`'s tier k-1 windows starting in [fromMs, toMs) into tier k. */
  private rollSeries(states: TxnStates, k: number, id: number, fromMs: number, toMs: number): number {
    const src = this.tiers[k - 1]!;
    const chunks = this.dbs.chunks;
    let firstStart = fromMs;
    for (const key of chunks.getKeys({ start: chunkKey(src.ordinal, id, fromMs), end: seriesPrefix(src.ordinal, id), reverse: true, limit: 1 })) firstStart = chunkKeyStart(key);
    let buf: PointBuf | null = null;
    const fromIdx = src.index(fromMs - 1) + 1;
    for (const { key, value } of chunks.getRange({ start: chunkKey(src.ordinal, id, firstStart), end: chunkKey(src.ordinal, id, toMs) })) {
      const kind = readChunkHeader(value).kind;
      const tmp = new PointBuf(kind, 64);
      decodeChunk(value, src.index(chunkKeyStart(key)), tmp, src);
      buf ??= new PointBuf(kind, tmp.n);
      for (let j = 0; j < tmp.n; j++) {
        const w = tmp.idx[j]!;
        if (w >= fromIdx && src.start(w) < toMs) buf.copyFrom(tmp, j);
      }
    }
    if (buf === null || buf.n === 0) return 0;
    const rolled = rebucket(buf, src, this.tiers[k]!);
    const bounds = this.index.record(id)?.meta.bounds ?? null;
    this.tierWriter.write(states, k, id, buf.kind, rolled, bounds);
    return buf.n;
  }

  /**
   * retain applies tier j's retention to every series, in batches; the last batch stores the
   * tier's oldest remaining window. A tier whose oldest window has not ended by the cutoff is
   * skipped without a transaction (see expiring).
   */
  async retain(j: number, nowMs: number): Promise<void> {
    const tier = this.tiers[j]!;
    const cutoff = nowMs - tier.retentionMs;
    if (!this.expiring(tier, cutoff)) return;
    let cursor = 0;
    let minStart: number | null = null;
    for (;;) {
      let done = true;
      await this.txn(() => {
        const states = new TxnStates(this.dbs);
        let series = 0;
        for (const id of this.dbs.records.getKeys({ start: cursor + 1 })) {
          if (series >= BATCH_SERIES) {
            done = false;
            break;
          }
          const mark = j + 1 < this.tiers.length ? compactedUpTo(states.get(j + 1), id as number) : Infinity;
          const first = this.trimSeries(tier, id as number, cutoff, mark);
          if (first !== null && (minStart === null || first < minStart)) minStart = first;
          cursor = id as number;
          series++;
        }
        if (done) setTierMin(this.dbs, j, minStart);
      });
      if (done) break;
      await yieldToLoop();
    }
  }

  /**
   * expiring says whether the oldest window of `tier` ended by `cutoffMs` less the tier's
   * retentionSlack, from the tier's stored oldest chunk start (every chunk write lowers it, a
   * retention pass sets it): until then a pass would read every series (each minute, for every
   * tier) to delete nothing, or a few windows per series.
   */
  private expiring(tier: Tier, cutoffMs: number): boolean {
    const t = readTierTotals(this.dbs, tier.ordinal);
    if (t.minTimeMs === null) return t.series > 0;
    return tier.end(tier.index(t.minTimeMs)) <= cutoffMs - retentionSlack(tier.retentionMs);
  }

  /**
   * trimSeries deletes series `id`'s windows in `tier` that ended by `cutoffMs` and start before
   * `markMs`; returns the start of its first remaining chunk (null when none is left).
   */
  private trimSeries(tier: Tier, id: number, cutoffMs: number, markMs: number): number | null {
    const chunks = this.dbs.chunks;
    const ord = tier.ordinal;
    const entries: Array<{ key: Buffer; value: Buffer }> = [];
    let next = Infinity;
    for (const { key, value } of chunks.getRange({ start: seriesPrefix(ord, id), end: seriesPrefix(ord, id + 1) })) {
      const s = chunkKeyStart(key);
      if (s >= cutoffMs) {
        next = s;
        break;
      }
      entries.push({ key: Buffer.from(key), value: Buffer.from(value) });
    }
    if (entries.length === 0) return next === Infinity ? null : next;
    let firstLeft: number | null = null;
    let removedAll = next === Infinity;
    for (let e = 0; e < entries.length; e++) {
      const { key, value } = entries[e]!;
      const kind = readChunkHeader(value).kind as MetricKind;
      const buf = new PointBuf(kind, 64);
      decodeChunk(value, tier.index(chunkKeyStart(key)), buf, tier);
      let drop = 0;
      while (drop < buf.n && tier.end(buf.idx[drop]!) <= cutoffMs && tier.start(buf.idx[drop]!) < markMs) drop++;
      if (drop === 0) {
        firstLeft = chunkKeyStart(key);
        removedAll = false;
        break;
      }
      addRetired(this.dbs, ord, id, buf, 0, drop);
      this.writer.counters.removed(ord, value);
      void chunks.remove(key);
      if (drop < buf.n) {
        const keep = new PointBuf(kind, buf.n - drop);
        for (let i = drop; i < buf.n; i++) keep.copyFrom(buf, i);
        const startMs = tier.start(keep.idx[0]!);
        const bytes = encodeKeep(keep, tier, this.index.record(id)?.meta.bounds ?? null);
        this.writer.counters.replaced(ord, undefined, bytes, startMs, tier.start(keep.idx[keep.n - 1]!));
        void chunks.put(chunkKey(ord, id, startMs), bytes);
        firstLeft = startMs;
        removedAll = false;
        break;
      }
    }
    if (firstLeft === null && next !== Infinity) firstLeft = next;
    if (removedAll && firstLeft === null) this.writer.counters.seriesChanged(ord, -1);
    return firstLeft;
  }

  private async txn(fn: () => void): Promise<void> {
    try {
      await this.dbs.env.transaction(() => {
        fn();
        this.writer.counters.flush();
      });
    } catch (err) {
      this.writer.forget();
      throw err;
    }
  }
}

function encodeKeep(buf: PointBuf, tier: Tier, bounds: ArrayLike<number> | null): Buffer {
  const bytes = encodeChunk(buf, buf.idx[0]!, tier, bounds);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}
