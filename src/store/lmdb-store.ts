import { LmdbAppender, type RejectCounter } from './appender.js';
import { ChunkWriter } from './chunk-writer.js';
import { Compactor } from './compactor.js';
import { LmdbDigests } from './digests.js';
import type { StoreDbs } from './dbs.js';
import type { Appender, Querier, StateTable, Store, TierStats } from './interface.js';
import { LmdbQuerier } from './querier.js';
import { SeriesIndex } from './series-index.js';
import { LmdbStateTable } from './state-table.js';
import { TierCounters, readTierTotals } from './tier-counters.js';
import { TierWriter } from './tier-writer.js';
import type { Tier } from './tier.js';

/**
 * LmdbStore is one thread's handle on a data directory: a series index with its caches, the
 * head chunks this handle writes, and read access for queriers. Open one per thread.
 */
export class LmdbStore implements Store {
  readonly rawResolutionMs: number;
  readonly tiers: readonly Tier[];
  readonly digests: LmdbDigests;
  private readonly dbs: StoreDbs;
  private readonly index: SeriesIndex;
  private readonly writer: ChunkWriter;
  private readonly querierInstance: LmdbQuerier;
  private readonly tierWriter: TierWriter;
  private readonly compactor: Compactor;
  private readonly now: () => number;
  private readonly rejects: RejectCounter;
  private compacting: Promise<void> | null;
  private closed: boolean;

  constructor(dbs: StoreDbs, tiers: readonly Tier[], now: () => number) {
    this.dbs = dbs;
    this.tiers = tiers;
    this.now = now;
    this.rawResolutionMs = tiers[0]!.resolutionMs;
    this.index = new SeriesIndex(dbs);
    const page = (dbs.chunks.getStats() as DbStats).pageSize;
    this.writer = new ChunkWriter(dbs, new TierCounters(dbs, page));
    this.tierWriter = new TierWriter(tiers, this.writer);
    this.compactor = new Compactor(dbs, this.index, tiers, this.writer, this.tierWriter);
    this.digests = new LmdbDigests(dbs, tiers, now);
    this.querierInstance = new LmdbQuerier(dbs, this.index, tiers, now, this.digests);
    this.rejects = { rejected: 0 };
    this.compacting = null;
    this.closed = false;
  }

  appender(): Appender {
    return new LmdbAppender(this.dbs, this.index, this.writer, this.tiers, this.tierWriter, this.now, this.rejects);
  }

  /** rejectedWindows counts windows this handle refused because no tier covers their time. */
  get rejectedWindows(): number {
    return this.rejects.rejected;
  }

  /** compact runs compaction and retention; concurrent calls on one handle share one run. */
  compact(nowMs?: number): Promise<void> {
    if (this.compacting !== null) return this.compacting;
    const run = this.compactor.run(nowMs ?? this.now()).finally(() => {
      this.compacting = null;
    });
    this.compacting = run;
    return run;
  }

  querier(): Querier {
    // lmdb-js keeps a thread's read snapshot until its next timer turn; a query worker can run
    // several jobs before that, so each new querier starts from the latest commit of any thread.
    this.dbs.env.resetReadTxn();
    return this.querierInstance;
  }

  state(table: string): StateTable {
    return new LmdbStateTable(this.dbs.state, table);
  }

  /**
   * stats reads the per-tier totals every write keeps in the `meta` table (series, points, chunk
   * page bytes, oldest and newest window), so it costs a few lookups whatever the data size.
   * `bytes` is the environment's used pages: every table's branch, leaf and overflow pages.
   */
  stats(): { series: number; tiers: TierStats[]; bytes: number } {
    const series = this.dbs.records.getStats() as DbStats;
    const rows: TierStats[] = this.tiers.map((t) => {
      const v = readTierTotals(this.dbs, t.ordinal);
      return { name: t.name, resolutionMs: t.resolutionMs, retentionMs: t.retentionMs, series: v.series, points: v.points, bytes: v.bytes, minTimeMs: v.minTimeMs, maxTimeMs: v.maxTimeMs };
    });
    return { series: series.entryCount, tiers: rows, bytes: this.usedBytes() };
  }

  /** usedBytes is the sum of used pages over every table, in bytes. */
  usedBytes(): number {
    let total = 0;
    for (const db of [this.dbs.series, this.dbs.records, this.dbs.postings, this.dbs.chunks, this.dbs.retired, this.dbs.meta, this.dbs.state, this.dbs.digests]) {
      total += dbBytes(db.getStats() as DbStats);
    }
    return total;
  }

  /** tableBytes reports used bytes per table (for benchmarks). */
  tableBytes(): Record<string, number> {
    const d = this.dbs;
    return {
      series: dbBytes(d.series.getStats() as DbStats),
      records: dbBytes(d.records.getStats() as DbStats),
      postings: dbBytes(d.postings.getStats() as DbStats),
      chunks: dbBytes(d.chunks.getStats() as DbStats),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.compacting !== null) await this.compacting.catch(() => undefined);
    await this.dbs.env.committed;
    await this.dbs.env.close();
  }
}

interface DbStats {
  pageSize: number;
  treeBranchPageCount: number;
  treeLeafPageCount: number;
  overflowPages: number;
  entryCount: number;
}

function dbBytes(s: DbStats): number {
  return (s.treeBranchPageCount + s.treeLeafPageCount + s.overflowPages) * s.pageSize;
}

