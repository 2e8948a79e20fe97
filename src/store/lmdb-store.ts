import { LmdbAppender } from './appender.js';
import { readChunkHeader } from './chunk-encoding.js';
import { ChunkWriter } from './chunk-writer.js';
import type { StoreDbs } from './dbs.js';
import type { Appender, Querier, StateTable, Store, TierStats } from './interface.js';
import { chunkKeySeries, chunkKeyStart } from './keys.js';
import { LmdbQuerier } from './querier.js';
import { SeriesIndex } from './series-index.js';
import { LmdbStateTable } from './state-table.js';
import type { Tier } from './tier.js';

/**
 * LmdbStore is one thread's handle on a data directory: a series index with its caches, the
 * head chunks this handle writes, and read access for queriers. Open one per thread.
 */
export class LmdbStore implements Store {
  readonly rawResolutionMs: number;
  readonly tiers: readonly Tier[];
  private readonly dbs: StoreDbs;
  private readonly index: SeriesIndex;
  private readonly writer: ChunkWriter;
  private readonly querierInstance: LmdbQuerier;
  private closed: boolean;

  constructor(dbs: StoreDbs, tiers: readonly Tier[]) {
    this.dbs = dbs;
    this.tiers = tiers;
    this.rawResolutionMs = tiers[0]!.resolutionMs;
    this.index = new SeriesIndex(dbs);
    this.writer = new ChunkWriter(dbs);
    this.querierInstance = new LmdbQuerier(dbs, this.index, tiers);
    this.closed = false;
  }

  appender(): Appender {
    return new LmdbAppender(this.dbs, this.index, this.writer, this.tiers[0]!);
  }

  querier(): Querier {
    return this.querierInstance;
  }

  state(table: string): StateTable {
    return new LmdbStateTable(this.dbs.state, table);
  }

  /**
   * stats counts series, and per tier the points, chunk bytes and time span by scanning chunk
   * headers (meant for /api/v1/status/tsdb, not hot paths). `bytes` is the environment's used
   * pages: every table's branch, leaf and overflow pages times the page size.
   */
  stats(): { series: number; tiers: TierStats[]; bytes: number } {
    const series = this.dbs.records.getStats() as DbStats;
    const rows: TierStats[] = this.tiers.map((t) => {
      const ids = new Set<number>();
      let points = 0, bytes = 0;
      let minT: number | null = null, maxT: number | null = null;
      const page = (this.dbs.chunks.getStats() as DbStats).pageSize;
      for (const { key, value } of this.dbs.chunks.getRange({ start: Buffer.from([t.ordinal]), end: Buffer.from([t.ordinal + 1]) })) {
        const h = readChunkHeader(value);
        ids.add(chunkKeySeries(key));
        points += h.points;
        // A value above half a page lives on whole overflow pages.
        bytes += value.length > page / 2 ? Math.ceil((value.length + 24) / page) * page : value.length + key.length + 10;
        const s = chunkKeyStart(key);
        if (minT === null || s < minT) minT = s;
        if (maxT === null || s > maxT) maxT = s;
      }
      return { name: t.name, resolutionMs: t.resolutionMs, retentionMs: t.retentionMs, series: ids.size, points, bytes, minTimeMs: minT, maxTimeMs: maxT };
    });
    return { series: series.entryCount, tiers: rows, bytes: this.usedBytes() };
  }

  /** usedBytes is the sum of used pages over every table, in bytes. */
  usedBytes(): number {
    let total = 0;
    for (const db of [this.dbs.series, this.dbs.records, this.dbs.postings, this.dbs.chunks, this.dbs.retired, this.dbs.meta, this.dbs.state]) {
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

