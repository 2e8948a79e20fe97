import { SparseHistogram } from '../model/hdr.js';
import { Matcher } from '../model/matcher.js';
import { labelsEqual } from '../model/labels.js';
import { MetricKind } from '../model/metric-kind.js';
import type { SelectResult, Store } from '../store/interface.js';
import type { BatchMessage, FlushStats } from './protocol.js';
import { Op, RECORD_STRIDE, readHistogram } from './records.js';
import { LabelPool } from './label-pool.js';
import { SeriesSlot } from './series-slot.js';
import { CumulativeStream, type StreamJSON } from './temporality.js';
import { GaugeStats, WindowAgg } from './window-agg.js';
import { STALE_NAN } from '../model/stale.js';
import { writeWindow } from './window-write.js';

/** AggregatorConfig is what an Aggregator needs besides its store. */
export interface AggregatorConfig {
  readonly seriesTtlMs: number;
  readonly restoreLookbackMs: number;
}

const RECENT_MS = 3_600_000;

/** TEMPORALITY_TABLE is the state table holding cumulative-stream baselines. */
export const TEMPORALITY_TABLE = 'temporality';

/**
 * Aggregator is the body of one aggregation worker, free of thread plumbing: it applies batches
 * to its series' open windows, closes windows into one Appender transaction per flush, and
 * answers the live view for /metrics. Everything here runs on the worker thread.
 */
export class Aggregator {
  /** slots by worker-local slot number (dense, assigned by the router). */
  readonly slots: Array<SeriesSlot | undefined> = [];
  private open: SeriesSlot[] = [];
  private dirtyStreams: SeriesSlot[] = [];
  private readonly res: number;
  private now = 0;
  private seriesCount = 0;
  /** The histogram a record is read into (or the delta a cumulative one yields); only valid within one record. */
  private readonly scratch = new SparseHistogram();
  /** Shares label pairs between this worker's series (definitions arrive as fresh copies). */
  private readonly labelPool = new LabelPool();

  constructor(private readonly store: Store, private readonly cfg: AggregatorConfig) {
    this.res = store.rawResolutionMs;
  }

  /** apply defines the batch's new series, then aggregates its records in order. */
  apply(msg: BatchMessage): void {
    this.now = msg.now;
    for (let i = 0; i < msg.defs.length; i++) {
      const def = msg.defs[i]!;
      const slot = new SeriesSlot(def, this.labelPool.intern(def.labels));
      if (this.slots[def.slot] === undefined) this.seriesCount++;
      this.slots[def.slot] = slot;
      if (slot.kind !== MetricKind.Gauge) this.restoreTotal(slot);
    }
    const f = new Float64Array(msg.buf, 0, msg.n * RECORD_STRIDE);
    const side = msg.side === null ? null : new Float64Array(msg.side);
    const res = this.res, now = msg.now;
    for (let p = 0; p < f.length; p += RECORD_STRIDE) {
      const slot = this.slots[f[p + 1]!];
      if (slot === undefined) continue;
      const a = f[p + 2]!, b = f[p + 3]!, ts = f[p + 4]!;
      slot.lastSeen = now;
      // Histogram windows have no value a stale marker could replace: the marker is dropped.
      if (f[p] === Op.Stale && slot.kind === MetricKind.Histogram) continue;
      const w = this.window(slot, ts - (((ts % res) + res) % res));
      const later = ts >= w.t;
      if (later) w.t = ts;
      switch (f[p]!) {
        case Op.Counter:
          w.sum += a;
          slot.total += a;
          break;
        case Op.CounterCumulative: {
          const inc = this.stream(slot).counterIncrement(a, b, ts);
          this.markDirty(slot);
          if (later) w.raw = a;
          w.sum += inc;
          slot.total += inc;
          break;
        }
        case Op.GaugeSet:
          slot.current = a;
          slot.hasCurrent = true;
          w.addGauge(a, ts);
          break;
        case Op.GaugeAdd:
          slot.current += a;
          slot.hasCurrent = true;
          w.addGauge(slot.current, ts);
          break;
        case Op.Observe:
          w.histogram().record(a, b);
          slot.observeClassic(a, b);
          break;
        case Op.SetMember: {
          const n = w.addMember(a);
          if (w === slot.windows[slot.windows.length - 1]) {
            slot.current = n;
            slot.hasCurrent = true;
          }
          break;
        }
        case Op.Histogram: {
          const h = readHistogram(this.scratch, side!, a, slot.bounds);
          w.histogram().add(h);
          this.classicAdd(slot, h);
          break;
        }
        case Op.Stale:
          if (slot.kind === MetricKind.Gauge) {
            (w.gauge ?? (w.gauge = new GaugeStats())).addStale(ts);
            slot.hasCurrent = false;
          } else if (slot.kind === MetricKind.Counter && later) w.raw = STALE_NAN;
          break;
        case Op.HistogramCumulative: {
          const delta = this.stream(slot).histogramIncrement(side!, a, b, ts, this.scratch, slot.bounds);
          this.markDirty(slot);
          if (delta !== null) {
            w.histogram().add(delta);
            this.classicAdd(slot, delta);
          }
          break;
        }
      }
    }
  }

  /** window finds or opens the slot's window starting at `start` (usually the newest one). */
  private window(slot: SeriesSlot, start: number): WindowAgg {
    const ws = slot.windows;
    for (let i = ws.length - 1; i >= 0; i--) if (ws[i]!.start === start) return ws[i]!;
    const w = new WindowAgg(start);
    if (ws.length === 0) {
      // Most series have one open window: an exact one-slot array, not a grown one of 17.
      slot.windows = [w];
      this.listOpen(slot);
      return w;
    }
    // Keep windows ordered by start so the newest is last (set exposition reads it).
    let i = ws.length;
    while (i > 0 && ws[i - 1]!.start > start) i--;
    ws.splice(i, 0, w);
    this.listOpen(slot);
    return w;
  }

  /** listOpen puts a slot on the list of slots with open windows (once). */
  private listOpen(slot: SeriesSlot): void {
    if (!slot.listed) {
      slot.listed = true;
      this.open.push(slot);
    }
  }

  private stream(slot: SeriesSlot): CumulativeStream {
    if (slot.stream !== null) return slot.stream;
    const saved = this.store.state(TEMPORALITY_TABLE).get<StreamJSON>(slot.stateKey());
    return (slot.stream = saved ? CumulativeStream.fromJSON(saved) : new CumulativeStream());
  }

  private markDirty(slot: SeriesSlot): void {
    const s = slot.stream!;
    if (s.dirty && !s.queued) {
      s.queued = true;
      this.dirtyStreams.push(slot);
    }
  }

  /** classicAdd folds a histogram into the cumulative classic buckets /metrics shows. */
  private classicAdd(slot: SeriesSlot, h: SparseHistogram): void {
    const b = slot.bounds, c = slot.classic!;
    let below = 0;
    const hb = h.bounds;
    if (hb !== null && (hb === b || sameValues(hb, b))) {
      // The sender's buckets are the series' buckets: countLE(b[i]) is the running sum of h's
      // classic counts, summed in the same order, so this is the loop below without its search.
      const cc = h.classicCounts!;
      let le = 0;
      for (let i = 0; i < b.length; i++) {
        le += cc[i]!;
        c[i] = c[i]! + (le - below);
        below = le;
      }
      c[b.length] = c[b.length]! + (h.count - below);
      slot.addSumCount(h.sum, h.count);
      return;
    }
    for (let i = 0; i < b.length; i++) {
      const le = h.countLE(b[i]!);
      c[i] = c[i]! + (le - below);
      below = le;
    }
    c[b.length] = c[b.length]! + (h.count - below);
    slot.addSumCount(h.sum, h.count);
  }

  /**
   * restoreTotal continues a counter or histogram from its stored cumulative value, so /metrics
   * does not restart from zero after a restart. Reads the store once per series.
   */
  private restoreTotal(slot: SeriesSlot): void {
    const matchers = slot.labels.map((l) => new Matcher('=', l.name, l.value));
    // Any stored sample carries the cumulative total, so look at the last hour first and only
    // scan the whole lookback for a series that has been idle longer.
    let r: SelectResult | null = null;
    for (const back of [Math.min(RECENT_MS, this.cfg.restoreLookbackMs), this.cfg.restoreLookbackMs]) {
      try {
        r = this.store.querier().select(slot.tenant, matchers, { startMs: this.now - back, endMs: this.now });
      } catch {
        return;
      }
      if (r.floats.length > 0 || r.histograms.length > 0) break;
    }
    if (r === null) return;
    if (slot.kind === MetricKind.Counter) {
      for (const s of r.floats) {
        if (s.values.length > 0 && labelsEqual(s.labels, slot.labels)) slot.total += s.values[s.values.length - 1]!;
      }
      return;
    }
    for (const s of r.histograms) {
      if (s.deltas.length === 0 || !labelsEqual(s.labels, slot.labels)) continue;
      const cum = s.base().clone();
      for (const d of s.deltas) cum.add(d);
      this.classicAdd(slot, cum);
    }
  }

  /**
   * flush closes every window that ended at or before `now` (every window when `all`) and writes
   * them, together with the changed stream baselines, in one transaction. On failure the windows
   * go back to their series, so nothing is lost; the error is rethrown.
   */
  async flush(now: number, all: boolean): Promise<FlushStats> {
    const t0 = performance.now();
    const closedSlots: SeriesSlot[] = [];
    const closed: WindowAgg[] = [];
    const stillOpen: SeriesSlot[] = [];
    const res = this.res;
    for (const slot of this.open) {
      const ws = slot.windows;
      let keep = 0;
      for (let i = 0; i < ws.length; i++) {
        const w = ws[i]!;
        if (all || w.start + res <= now) {
          closedSlots.push(slot);
          closed.push(w);
        } else ws[keep++] = w;
      }
      ws.length = keep;
      if (keep > 0) stillOpen.push(slot);
      else {
        slot.listed = false;
        // Drop the array's backing store; the next window gets an exact one again.
        slot.windows = [];
      }
    }
    this.open = stillOpen;
    const dirty = this.dirtyStreams;
    this.dirtyStreams = [];
    if (closed.length > 0 || dirty.length > 0) {
      const app = this.store.appender();
      const created: SeriesSlot[] = [];
      try {
        for (let i = 0; i < closed.length; i++) {
          const slot = closedSlots[i]!;
          if (slot.storeId < 0) {
            slot.storeId = app.seriesId(slot.tenant, slot.labels, slot.kind, slot.meta);
            created.push(slot);
          }
          writeWindow(app, slot, closed[i]!);
        }
        const table = this.store.state(TEMPORALITY_TABLE);
        const puts: Promise<void>[] = [];
        for (const slot of dirty) {
          slot.stream!.dirty = false;
          slot.stream!.queued = false;
          puts.push(table.put(slot.stateKey(), slot.stream!.toJSON()));
        }
        puts.push(app.commit());
        await Promise.all(puts);
      } catch (err) {
        try {
          app.rollback();
        } catch {
          // Rolling back a transaction whose commit failed may throw; the data is requeued below.
        }
        for (const slot of created) slot.storeId = -1;
        for (let i = 0; i < closed.length; i++) this.requeue(closedSlots[i]!, closed[i]!);
        for (const slot of dirty) {
          slot.stream!.dirty = true;
          this.markDirty(slot);
        }
        throw err;
      }
    }
    return { windows: closed.length, activeSeries: this.activeSeries(now), totalSeries: this.seriesCount, durationMs: performance.now() - t0 };
  }

  private requeue(slot: SeriesSlot, w: WindowAgg): void {
    for (const o of slot.windows) {
      if (o.start === w.start) {
        o.merge(w);
        return;
      }
    }
    const ws = slot.windows;
    let i = ws.length;
    while (i > 0 && ws[i - 1]!.start > w.start) i--;
    ws.splice(i, 0, w);
    this.listOpen(slot);
  }

  /** activeSeries counts series updated within the TTL. */
  activeSeries(now: number): number {
    let n = 0;
    const cutoff = now - this.cfg.seriesTtlMs;
    for (const s of this.slots) if (s !== undefined && s.lastSeen >= cutoff) n++;
    return n;
  }

  /** liveSlots lists a tenant's series updated within the TTL, for /metrics. */
  liveSlots(tenant: string, now: number): SeriesSlot[] {
    const out: SeriesSlot[] = [];
    const cutoff = now - this.cfg.seriesTtlMs;
    for (const s of this.slots) if (s !== undefined && s.tenant === tenant && s.lastSeen >= cutoff) out.push(s);
    return out;
  }
}

/** sameValues says whether two bound arrays hold the same numbers. */
function sameValues(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
