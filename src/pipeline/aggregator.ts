import { SparseHistogram } from '../model/hdr.js';
import { Matcher } from '../model/matcher.js';
import { labelsEqual, type Labels } from '../model/labels.js';
import { MetricKind } from '../model/metric-kind.js';
import type { SelectResult, Store } from '../store/interface.js';
import type { BatchMessage, FlushStats } from './protocol.js';
import { Op, RECORD_STRIDE, readHistogram } from './records.js';
import { SeriesFlag, SeriesSlot, SeriesTable } from './series-slot.js';
import { CumulativeStream, type StreamJSON } from './temporality.js';
import { GaugeStats, WindowTable, type WindowView } from './window-agg.js';
import { STALE_NAN } from '../model/stale.js';
import { writeWindow } from './window-write.js';

/** AggregatorConfig is what an Aggregator needs besides its store. */
export interface AggregatorConfig {
  readonly seriesTtlMs: number;
  readonly restoreLookbackMs: number;
}

const RECENT_MS = 3_600_000;
const NO_WINDOWS: readonly WindowView[] = [];

/** TEMPORALITY_TABLE is the state table holding cumulative-stream baselines. */
export const TEMPORALITY_TABLE = 'temporality';

/**
 * Aggregator is the body of one aggregation worker, free of thread plumbing: it applies batches
 * to its series' open windows, closes windows into one Appender transaction per flush, and
 * answers the live view for /metrics. Everything here runs on the worker thread. Series and
 * windows live in column tables (SeriesTable, WindowTable) indexed by the router's dense slot
 * number and by window row, so 100k idle or counting series hold no per-series objects.
 */
export class Aggregator {
  /** The worker's series by worker-local slot number (dense, assigned by the router). */
  readonly series = new SeriesTable();
  /** Open windows of those series. */
  readonly windows = new WindowTable();
  /** Series with open windows, in the order they got their first one (flush writes in it). */
  private open = new Int32Array(1024);
  private openCount = 0;
  private dirtyStreams: number[] = [];
  private readonly res: number;
  private now = 0;
  /** The histogram a record is read into (or the delta a cumulative one yields); only valid within one record. */
  private readonly scratch = new SparseHistogram();

  constructor(private readonly store: Store, private readonly cfg: AggregatorConfig) {
    this.res = store.rawResolutionMs;
  }

  /** apply defines the batch's new series, then aggregates its records in order. */
  apply(msg: BatchMessage): void {
    this.now = msg.now;
    const st = this.series, wt = this.windows;
    for (let i = 0; i < msg.defs.length; i++) {
      const def = msg.defs[i]!;
      if (st.defined(def.slot)) this.forget(def.slot);
      const s = st.define(def);
      if (def.kind !== MetricKind.Gauge) this.restoreTotal(s, def.labels);
    }
    const f = new Float64Array(msg.buf, 0, msg.n * RECORD_STRIDE);
    const side = msg.side === null ? null : new Float64Array(msg.side);
    const res = this.res, now = msg.now;
    for (let p = 0; p < f.length; p += RECORD_STRIDE) {
      // An int32 from here on, so passing it around boxes nothing.
      const x = f[p + 1]!, s = x | 0;
      if (s !== x || !st.defined(s)) continue;
      const a = f[p + 2]!, b = f[p + 3]!, ts = f[p + 4]!;
      const kind = st.kind[s]!;
      st.lastSeen[s] = now;
      // Histogram windows have no value a stale marker could replace: the marker is dropped.
      if (f[p] === Op.Stale && kind === MetricKind.Histogram) continue;
      const w = this.window(s, ts - (((ts % res) + res) % res));
      const later = ts >= wt.t[w]!;
      if (later) wt.t[w] = ts;
      switch (f[p]!) {
        case Op.Counter:
          wt.sum[w] = wt.sum[w]! + a;
          st.value[s] = st.value[s]! + a;
          break;
        case Op.CounterCumulative: {
          const inc = this.stream(s).counterIncrement(a, b, ts);
          this.markDirty(s);
          if (later) wt.raw[w] = a;
          wt.sum[w] = wt.sum[w]! + inc;
          st.value[s] = st.value[s]! + inc;
          break;
        }
        case Op.GaugeSet:
          st.value[s] = a;
          st.flags[s] = st.flags[s]! | SeriesFlag.HasCurrent;
          wt.partsOf(w).addGauge(a, ts);
          break;
        case Op.GaugeAdd: {
          const v = st.value[s]! + a;
          st.value[s] = v;
          st.flags[s] = st.flags[s]! | SeriesFlag.HasCurrent;
          wt.partsOf(w).addGauge(v, ts);
          break;
        }
        case Op.Observe:
          wt.partsOf(w).histogram().record(a, b);
          st.observeClassic(s, a, b);
          break;
        case Op.SetMember: {
          const n = wt.partsOf(w).addMember(a);
          if (w === st.win[s]) {
            st.value[s] = n;
            st.flags[s] = st.flags[s]! | SeriesFlag.HasCurrent;
          }
          break;
        }
        case Op.Histogram: {
          const h = readHistogram(this.scratch, side!, a, st.bounds(s));
          wt.partsOf(w).histogram().add(h);
          this.classicAdd(s, h);
          break;
        }
        case Op.Stale:
          if (kind === MetricKind.Gauge) {
            const parts = wt.partsOf(w);
            (parts.gauge ?? (parts.gauge = new GaugeStats())).addStale(ts);
            st.flags[s] = st.flags[s]! & ~SeriesFlag.HasCurrent;
          } else if (kind === MetricKind.Counter && later) wt.raw[w] = STALE_NAN;
          break;
        case Op.HistogramCumulative: {
          const delta = this.stream(s).histogramIncrement(side!, a, b, ts, this.scratch, st.bounds(s));
          this.markDirty(s);
          if (delta !== null) {
            wt.partsOf(w).histogram().add(delta);
            this.classicAdd(s, delta);
          }
          break;
        }
      }
    }
  }

  /** window finds or opens series `s`'s window starting at `start` (usually its newest one). */
  private window(s: number, start: number): number {
    const st = this.series, wt = this.windows;
    const head = st.win[s]!;
    for (let w = head; w >= 0; w = wt.prev[w]!) if (wt.start[w] === start) return w;
    const w = wt.open(start);
    this.link(s, w);
    return w;
  }

  /** link puts window row `w` into its series' chain, which stays ordered by descending start. */
  private link(s: number, w: number): void {
    const st = this.series, wt = this.windows, start = wt.start[w]!;
    const head = st.win[s]!;
    if (head < 0 || wt.start[head]! < start) {
      wt.prev[w] = head;
      st.win[s] = w;
    } else {
      let after = head;
      while (wt.prev[after]! >= 0 && wt.start[wt.prev[after]!]! > start) after = wt.prev[after]!;
      wt.prev[w] = wt.prev[after]!;
      wt.prev[after] = w;
    }
    this.listOpen(s);
  }

  /** listOpen puts a series on the list of series with open windows (once). */
  private listOpen(s: number): void {
    const st = this.series;
    if ((st.flags[s]! & SeriesFlag.Listed) === 0) {
      st.flags[s] = st.flags[s]! | SeriesFlag.Listed;
      if (this.openCount === this.open.length) {
        const o = new Int32Array(this.open.length * 2);
        o.set(this.open);
        this.open = o;
      }
      this.open[this.openCount++] = s;
    }
  }

  /** forget drops the open windows of a series about to be redefined (the router never reuses a number). */
  private forget(s: number): void {
    const st = this.series, wt = this.windows;
    for (let w = st.win[s]!; w >= 0;) {
      const prev = wt.prev[w]!;
      wt.release(w);
      w = prev;
    }
    st.win[s] = -1;
    let keep = 0;
    for (let i = 0; i < this.openCount; i++) if (this.open[i] !== s) this.open[keep++] = this.open[i]!;
    this.openCount = keep;
    this.dirtyStreams = this.dirtyStreams.filter((d) => d !== s);
  }

  private stream(s: number): CumulativeStream {
    const st = this.series;
    const have = st.streams[s];
    if (have) return have;
    const saved = this.store.state(TEMPORALITY_TABLE).get<StreamJSON>(st.stateKey(s));
    const stream = saved ? CumulativeStream.fromJSON(saved) : new CumulativeStream();
    st.streams[s] = stream;
    return stream;
  }

  private markDirty(s: number): void {
    const str = this.series.streams[s]!;
    if (str.dirty && !str.queued) {
      str.queued = true;
      this.dirtyStreams.push(s);
    }
  }

  /** classicAdd folds a histogram into the cumulative classic buckets /metrics shows. */
  private classicAdd(s: number, h: SparseHistogram): void {
    const st = this.series;
    const b = st.bounds(s), c = st.classic, at = st.classicAt[s]!;
    let below = 0;
    const hb = h.bounds;
    if (hb !== null && (hb === b || sameValues(hb, b))) {
      // The sender's buckets are the series' buckets: countLE(b[i]) is the running sum of h's
      // classic counts, summed in the same order, so this is the loop below without its search.
      const cc = h.classicCounts!;
      let le = 0;
      for (let i = 0; i < b.length; i++) {
        le += cc[i]!;
        c[at + i] = c[at + i]! + (le - below);
        below = le;
      }
      c[at + b.length] = c[at + b.length]! + (h.count - below);
      st.addSumCount(s, h.sum, h.count);
      return;
    }
    for (let i = 0; i < b.length; i++) {
      const le = h.countLE(b[i]!);
      c[at + i] = c[at + i]! + (le - below);
      below = le;
    }
    c[at + b.length] = c[at + b.length]! + (h.count - below);
    st.addSumCount(s, h.sum, h.count);
  }

  /**
   * restoreTotal continues a counter or histogram from its stored cumulative value, so /metrics
   * does not restart from zero after a restart. Reads the store once per series; `labels` are
   * its definition's.
   */
  private restoreTotal(s: number, labels: Labels): void {
    const st = this.series;
    const tenant = st.tenantOf(s);
    const matchers = labels.map((l) => new Matcher('=', l.name, l.value));
    // Any stored sample carries the cumulative total, so look at the last hour first and only
    // scan the whole lookback for a series that has been idle longer.
    let r: SelectResult | null = null;
    for (const back of [Math.min(RECENT_MS, this.cfg.restoreLookbackMs), this.cfg.restoreLookbackMs]) {
      try {
        r = this.store.querier().select(tenant, matchers, { startMs: this.now - back, endMs: this.now });
      } catch {
        return;
      }
      if (r.floats.length > 0 || r.histograms.length > 0) break;
    }
    if (r === null) return;
    if (st.kind[s] === MetricKind.Counter) {
      for (const x of r.floats) {
        if (x.values.length > 0 && labelsEqual(x.labels, labels)) st.value[s] = st.value[s]! + x.values[x.values.length - 1]!;
      }
      return;
    }
    for (const x of r.histograms) {
      if (x.deltas.length === 0 || !labelsEqual(x.labels, labels)) continue;
      const cum = x.base().clone();
      for (const d of x.deltas) cum.add(d);
      this.classicAdd(s, cum);
    }
  }

  /**
   * flush closes every window that ended at or before `now` (every window when `all`) and writes
   * them, together with the changed stream baselines, in one transaction. On failure the windows
   * go back to their series, so nothing is lost; the error is rethrown.
   */
  async flush(now: number, all: boolean): Promise<FlushStats> {
    const t0 = performance.now();
    const st = this.series, wt = this.windows;
    // Closed windows by series in list order, each series' in ascending start.
    const closed: number[] = [];
    const closedSeries: number[] = [];
    const chain: number[] = [];
    const res = this.res;
    let stillOpen = 0;
    for (let i = 0; i < this.openCount; i++) {
      const s = this.open[i]!;
      chain.length = 0;
      for (let w = st.win[s]!; w >= 0; w = wt.prev[w]!) chain.push(w);
      // Rebuild the chain from the oldest window up, without the closed ones.
      let head = -1;
      for (let j = chain.length - 1; j >= 0; j--) {
        const w = chain[j]!;
        if (all || wt.start[w]! + res <= now) {
          closed.push(w);
          closedSeries.push(s);
        } else {
          wt.prev[w] = head;
          head = w;
        }
      }
      st.win[s] = head;
      if (head >= 0) this.open[stillOpen++] = s;
      else st.flags[s] = st.flags[s]! & ~SeriesFlag.Listed;
    }
    this.openCount = stillOpen;
    const dirty = this.dirtyStreams;
    this.dirtyStreams = [];
    if (closed.length > 0 || dirty.length > 0) {
      const app = this.store.appender();
      const created: number[] = [];
      try {
        for (let i = 0; i < closed.length; i++) {
          const w = closed[i]!, s = closedSeries[i]!;
          if (st.storeId[s]! < 0) {
            st.storeId[s] = app.seriesId(st.tenantOf(s), st.labelsOf(s), st.kind[s]! as MetricKind, st.metas[s]!.meta);
            created.push(s);
          }
          writeWindow(app, st.kind[s]! as MetricKind, st.storeId[s]!, wt, w);
        }
        const table = this.store.state(TEMPORALITY_TABLE);
        const puts: Promise<void>[] = [];
        for (const s of dirty) {
          const str = st.streams[s]!;
          str.dirty = false;
          str.queued = false;
          puts.push(table.put(st.stateKey(s), str.toJSON()));
        }
        puts.push(app.commit());
        await Promise.all(puts);
      } catch (err) {
        try {
          app.rollback();
        } catch {
          // Rolling back a transaction whose commit failed may throw; the data is requeued below.
        }
        for (const s of created) st.storeId[s] = -1;
        for (let i = 0; i < closed.length; i++) this.requeue(closedSeries[i]!, closed[i]!);
        for (const s of dirty) {
          st.streams[s]!.dirty = true;
          this.markDirty(s);
        }
        throw err;
      }
      for (let i = 0; i < closed.length; i++) wt.release(closed[i]!);
    }
    return { windows: closed.length, activeSeries: this.activeSeries(now), totalSeries: st.count, durationMs: performance.now() - t0 };
  }

  /** requeue puts a closed window back on its series, merged into a window opened since with the same start. */
  private requeue(s: number, w: number): void {
    const st = this.series, wt = this.windows, start = wt.start[w]!;
    for (let o = st.win[s]!; o >= 0; o = wt.prev[o]!) {
      if (wt.start[o] === start) {
        wt.merge(o, w);
        wt.release(w);
        return;
      }
    }
    this.link(s, w);
  }

  /** activeSeries counts series updated within the TTL. */
  activeSeries(now: number): number {
    let n = 0;
    const cutoff = now - this.cfg.seriesTtlMs, st = this.series, seen = st.lastSeen;
    for (let s = 0; s < seen.length; s++) if (st.defined(s) && seen[s]! >= cutoff) n++;
    return n;
  }

  /**
   * liveSlots lists a tenant's series updated within the TTL, for /metrics: views without their
   * windows (exposition shows live values only), so a scrape builds one object per series.
   */
  liveSlots(tenant: string, now: number): SeriesSlot[] {
    const out: SeriesSlot[] = [];
    const cutoff = now - this.cfg.seriesTtlMs, st = this.series;
    for (let s = 0; s < st.lastSeen.length; s++) {
      if (st.defined(s) && st.lastSeen[s]! >= cutoff && st.tenantOf(s) === tenant) out.push(new SeriesSlot(st, s, NO_WINDOWS));
    }
    return out;
  }

  /** slot is a read view of series `s` with its open windows (ascending start). */
  slot(s: number): SeriesSlot {
    const wins: WindowView[] = [];
    for (let w = this.series.win[s]!; w >= 0; w = this.windows.prev[w]!) wins.unshift(this.windows.view(w));
    return new SeriesSlot(this.series, s, wins);
  }

  /** slots are read views of every series by slot number (undefined where none is defined), for benchmarks. */
  get slots(): Array<SeriesSlot | undefined> {
    const out: Array<SeriesSlot | undefined> = [];
    for (let s = 0; s < this.series.kind.length; s++) if (this.series.defined(s)) out[s] = this.slot(s);
    return out;
  }
}

/** sameValues says whether two bound arrays hold the same numbers. */
function sameValues(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
