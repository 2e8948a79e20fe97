import type { SparseHistogram } from '../model/hdr.js';
import type { Labels } from '../model/labels.js';
import { MetricKind } from '../model/metric-kind.js';
import type { ChunkWriter } from './chunk-writer.js';
import type { StoreDbs } from './dbs.js';
import type { Appender, SeriesMeta } from './interface.js';
import { PointBuf } from './point-buf.js';
import type { SeriesIndex } from './series-index.js';
import { bumpStamps } from './digests.js';
import { logWrites } from './write-log.js';
import { addRetired } from './retired.js';
import { TxnStates, type TierWriter } from './tier-writer.js';
import type { Tier } from './tier.js';

/** Pending holds one kind's points of an open appender in arrival order. */
class Pending {
  readonly pts: PointBuf;
  ids: Float64Array;

  constructor(kind: MetricKind) {
    this.pts = new PointBuf(kind, 64);
    this.ids = new Float64Array(64);
  }

  noteId(id: number): void {
    const i = this.pts.n - 1;
    if (i >= this.ids.length) {
      const next = new Float64Array(this.ids.length * 2);
      next.set(this.ids);
      this.ids = next;
    }
    this.ids[i] = id;
  }
}

/** Part is the share of one series' points bound for one tier (backfill splits a series). */
interface Part {
  readonly ordinal: number;
  /** Points in the tier's own window indices. */
  readonly pts: PointBuf;
  /** The same points at raw indices, added to the retired aggregate of every finer tier. */
  readonly retire: PointBuf | null;
}

/** RejectCounter counts windows refused because no tier still covers their time. */
export interface RejectCounter {
  rejected: number;
}

/**
 * LmdbAppender collects closed windows, then writes them in one lmdb-js transaction: new series
 * first (so an id clash with another thread turns into an alias before points land), then each
 * series' points through the TierWriter. Several writes of one (series, window) in one commit
 * merge like writes in later commits do: each call is a distinct partial aggregate.
 *
 * Backfill: a window is routed at commit to the finest tier whose retention still covers it
 * (the raw tier for live data), merging into that tier's window; its counter increment or
 * histogram is also added to the retired aggregate of every finer tier, so cumulative totals
 * read from any tier agree. Windows older than every tier are dropped and counted.
 */
export class LmdbAppender implements Appender {
  private readonly dbs: StoreDbs;
  private readonly index: SeriesIndex;
  private readonly writer: ChunkWriter;
  private readonly tiers: readonly Tier[];
  private readonly tier: Tier;
  private readonly tierWriter: TierWriter;
  private readonly now: () => number;
  private readonly rejects: RejectCounter;
  private readonly pending: Pending[];
  private readonly resolved: Set<number>;
  private done: boolean;

  constructor(dbs: StoreDbs, index: SeriesIndex, writer: ChunkWriter, tiers: readonly Tier[], tierWriter: TierWriter, now: () => number, rejects: RejectCounter) {
    this.dbs = dbs;
    this.index = index;
    this.writer = writer;
    this.tiers = tiers;
    this.tier = tiers[0]!;
    this.tierWriter = tierWriter;
    this.now = now;
    this.rejects = rejects;
    this.pending = [new Pending(MetricKind.Counter), new Pending(MetricKind.Gauge), new Pending(MetricKind.Histogram)];
    this.resolved = new Set();
    this.done = false;
  }

  seriesId(tenant: string, labels: Labels, kind: MetricKind, meta?: SeriesMeta): number {
    const id = this.index.resolve(tenant, labels, kind, meta);
    if (this.index.isPending(id)) this.resolved.add(id);
    return id;
  }

  private check(id: number, kind: MetricKind): void {
    if (this.done) throw new Error('appender already committed or rolled back');
    const rec = this.index.record(this.index.canonical(id));
    if (rec === undefined) throw new Error(`unknown series id ${id}`);
    if (rec.kind !== kind) throw new Error(`series ${id} is not a ${kind === MetricKind.Counter ? 'counter' : kind === MetricKind.Gauge ? 'gauge' : 'histogram'}`);
    if (this.index.isPending(id)) this.resolved.add(id);
  }

  counter(id: number, windowStartMs: number, increment: number, lastMs?: number, raw = NaN): void {
    this.check(id, MetricKind.Counter);
    const p = this.pending[MetricKind.Counter]!;
    const w = this.tier.index(windowStartMs);
    p.pts.pushCounter(w, increment, this.lastTime(w, lastMs), raw);
    p.noteId(id);
  }

  gauge(id: number, windowStartMs: number, last: number, min: number, max: number, sum: number, count: number, lastMs?: number): void {
    this.check(id, MetricKind.Gauge);
    const p = this.pending[MetricKind.Gauge]!;
    const w = this.tier.index(windowStartMs);
    p.pts.pushGauge(w, last, min, max, sum, count, this.lastTime(w, lastMs));
    p.noteId(id);
  }

  histogram(id: number, windowStartMs: number, h: SparseHistogram, lastMs?: number): void {
    this.check(id, MetricKind.Histogram);
    const p = this.pending[MetricKind.Histogram]!;
    const w = this.tier.index(windowStartMs);
    p.pts.pushHistogram(w, h, this.lastTime(w, lastMs));
    p.noteId(id);
  }

  /**
   * lastTime is a window's last point time in whole ms, kept inside the window; without one
   * (a caller that does not know it) the window's start, which is never after any of its points.
   */
  private lastTime(w: number, lastMs: number | undefined): number {
    const start = this.tier.start(w);
    if (lastMs === undefined || !Number.isFinite(lastMs)) return start;
    return Math.min(Math.max(Math.floor(lastMs), start), this.tier.end(w) - 1);
  }

  async commit(): Promise<void> {
    if (this.done) throw new Error('appender already committed or rolled back');
    this.done = true;
    const newIds = [...this.resolved];
    const groups = this.group();
    if (newIds.length === 0 && groups.length === 0) return;
    const nowMs = this.now();
    const routed = groups.map((g) => ({ id: g.id, parts: this.route(g.pts, nowMs) }));
    const { days, hours, idsByHour } = this.stamped(groups);
    const { index, writer, tierWriter, dbs } = this;
    try {
      await dbs.env.transaction(() => {
        const states = new TxnStates(dbs);
        for (const id of newIds) index.persist(id);
        // A series another thread created meanwhile is written under that thread's id.
        const stored = new Map<number, number>();
        for (const g of routed) {
          const id = index.persist(g.id);
          if (id !== g.id) stored.set(g.id, id);
          const bounds = index.record(id)?.meta.bounds ?? null;
          for (const p of g.parts) {
            if (p.retire !== null) for (let m = 0; m < p.ordinal; m++) addRetired(dbs, m, id, p.retire);
            tierWriter.write(states, p.ordinal, id, p.pts.kind, p.pts, bounds);
          }
        }
        bumpStamps(dbs, 'day', days);
        // Which series each hour's commit wrote (write-log.ts): readers that kept an hour re-read only those.
        if (stored.size > 0) for (const ids of idsByHour.values()) for (const [from, to] of stored) if (ids.delete(from)) ids.add(to);
        logWrites(dbs, idsByHour, bumpStamps(dbs, 'hour', hours));
        writer.counters.flush();
      });
    } catch (err) {
      writer.forget();
      for (const id of newIds) index.forget(id);
      throw err;
    }
  }

  /** route splits one series' points (raw indices, ascending) by the tier that takes them. */
  private route(pts: PointBuf, nowMs: number): Part[] {
    const raw = this.tier;
    // Live data: even the oldest window is inside the raw tier's retention.
    if (pts.n === 0 || raw.end(pts.idx[0]!) > nowMs - raw.retentionMs) return [{ ordinal: 0, pts, retire: null }];
    const parts: Array<{ ordinal: number; pts: PointBuf; retire: PointBuf | null }> = [];
    let cur: { ordinal: number; pts: PointBuf; retire: PointBuf | null } | null = null;
    for (let i = 0; i < pts.n; i++) {
      const ms = raw.start(pts.idx[i]!);
      let f = -1;
      for (let j = 0; j < this.tiers.length; j++) {
        const t = this.tiers[j]!;
        if (t.end(t.index(ms)) > nowMs - t.retentionMs) {
          f = j;
          break;
        }
      }
      if (f < 0) {
        this.rejects.rejected++;
        continue;
      }
      if (cur === null || cur.ordinal !== f) {
        cur = { ordinal: f, pts: new PointBuf(pts.kind, 8), retire: f > 0 ? new PointBuf(pts.kind, 8) : null };
        parts.push(cur);
      }
      cur.pts.mergeAt(this.tiers[f]!.index(ms), pts, i);
      cur.retire?.mergeFrom(pts, i);
    }
    return parts;
  }

  /**
   * stamped lists the UTC days and hours (numbers since 1970) the points fall in: their stamps
   * change with this commit. idsByHour holds, per hour, the series that wrote there.
   */
  private stamped(groups: ReadonlyArray<{ id: number; pts: PointBuf }>): { days: Set<number>; hours: Set<number>; idsByHour: Map<number, Set<number>> } {
    const idsByHour = new Map<number, Set<number>>();
    const raw = this.tier;
    const note = (h: number, id: number): void => {
      let ids = idsByHour.get(h);
      if (ids === undefined) idsByHour.set(h, (ids = new Set()));
      ids.add(id);
    };
    for (const g of groups) {
      const idx = g.pts.idx;
      let last = NaN;
      for (let i = 0; i < g.pts.n; i++) {
        const h = Math.floor(raw.start(idx[i]!) / 3_600_000);
        if (h !== last) note((last = h), g.id);
        // A raw window that does not divide the hour may straddle two: its points may sit in either.
        const e = Math.floor((raw.end(idx[i]!) - 1) / 3_600_000);
        if (e !== h) note((last = e), g.id);
      }
    }
    const hours = new Set(idsByHour.keys());
    const days = new Set<number>();
    for (const h of hours) days.add(Math.floor(h / 24));
    return { days, hours, idsByHour };
  }

  rollback(): void {
    this.done = true;
    for (const p of this.pending) p.pts.clear();
  }

  /** group sorts pending points by (series, window) and merges duplicates per series. */
  private group(): Array<{ id: number; pts: PointBuf }> {
    const out: Array<{ id: number; pts: PointBuf }> = [];
    for (const p of this.pending) {
      const n = p.pts.n;
      if (n === 0) continue;
      const order = new Uint32Array(n);
      for (let i = 0; i < n; i++) order[i] = i;
      const ids = p.ids, idx = p.pts.idx;
      order.sort((x, y) => {
        const a = this.index.canonical(ids[x]!), b = this.index.canonical(ids[y]!);
        return a !== b ? a - b : idx[x]! !== idx[y]! ? idx[x]! - idx[y]! : x - y;
      });
      let cur: { id: number; pts: PointBuf } | null = null;
      for (let k = 0; k < n; k++) {
        const i = order[k]!;
        const id = this.index.canonical(ids[i]!);
        if (cur === null || cur.id !== id) {
          cur = { id, pts: new PointBuf(p.pts.kind, 8) };
          out.push(cur);
        }
        // The caller's histograms stay valid until commit returns; whatever outlives it clones.
        cur.pts.mergeShared(p.pts, i);
      }
      p.pts.clear();
    }
    return out;
  }
}
