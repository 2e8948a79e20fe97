import { ACCEPTED, type IngestSink, type SeriesOptions, type Verdict } from '../ingest/sink.js';
import { formatLabels, labelsFromRecord, labelsKey, metricName, METRIC_NAME, type Labels } from '../model/labels.js';
import { MetricKind } from '../model/metric-kind.js';
import type { SparseHistogram } from '../model/hdr.js';
import type { StateTable } from '../store/interface.js';
import { DIMENSIONS, dimensionValues, type DimensionMap, type DimensionValues } from './dimensions.js';
import type { PriceTable } from './prices.js';
import {
  CALLS_METRIC, COST_METRIC, COST_SOURCE, KIND_LABEL, KIND_NAMES, TOKENS_METRIC, TokenKind, UNPRICED_METRIC,
} from './series-names.js';
import { Measure, REPORTED_COST_METRIC, SourceRank, tokenSource } from './token-sources.js';

/**
 * cost-sink.ts prices LLM tokens as they arrive (SPEC section 7). CostSink decorates the pipeline's
 * IngestSink: every call passes through unchanged; series recognised as token series in `series()`
 * get an entry in a Map keyed by ref, so a non-token sample costs one Map miss. Token samples are
 * turned into increments (cumulative inputs are differenced per stream), collected per (cost
 * target, timestamp) and, at `flush()`, split into disjoint kinds, priced at the point's time and
 * written back into the pipeline as TOKENS_METRIC, COST_METRIC, CALLS_METRIC and UNPRICED_METRIC.
 * The differencing baselines of cumulative streams are kept in a state table, so a restarted
 * tallyd prices the first post-restart sample by its increase since the last one it saw; so is
 * the last time each token path reported a (tenant, model), so a metric arriving after a restart
 * is not costed for tokens a span already brought before it.
 */

/** DEDUP_WINDOW_MS: how long a better-ranked token path keeps a worse one from being costed. */
export const DEDUP_WINDOW_MS = 3_600_000;
/** MAX_TARGETS bounds the per-target state (carries); beyond it the map is recycled. */
const MAX_TARGETS = 200_000;
/** MAX_DEDUP_KEYS bounds the (tenant, model) → last-seen-per-rank map. */
const MAX_DEDUP_KEYS = 100_000;
/** A derived ref not asked for yet: below every refusedRef (-1 - Refusal) the sink can return. */
const NOT_ASKED = -1_000_000;
/** STREAM_PREFIX is the state-table key prefix of cumulative stream baselines. */
export const STREAM_PREFIX = 'stream/';
/** STREAM_TTL_MS: baselines not updated for this long are dropped when a CostSink starts. */
const STREAM_TTL_MS = 35 * 86_400_000;
/**
 * DEDUP_PREFIX is the state-table key prefix of the last time each token path reported a (tenant,
 * model): without it a restarted tallyd would cost a metric for tokens a span already brought
 * before the restart.
 */
export const DEDUP_PREFIX = 'dedup/';

/** DedupJSON is a (tenant, model)'s last-seen time per SourceRank as stored (null: never). */
type DedupJSON = Array<number | null>;

/** StreamJSON is a cumulative stream's baseline as stored: [total, count, startMs, updatedMs]. */
type StreamJSON = [number, number, number, number];

/** Target is one combination of tenant and dimension values: the identity of derived series. */
class Target {
  readonly key: string;
  readonly tenant: string;
  readonly dims: DimensionValues;
  readonly dedupKey: string;
  /** Refs of derived series, created lazily (NOT_ASKED until then; a refused one is the sink's negative refusedRef). */
  readonly tokenRefs: Int32Array;
  costRef = NOT_ASKED;
  reportedRef = NOT_ASKED;
  callsRef = NOT_ASKED;
  /** Negative balances: cache tokens seen before the input that contains them, reasoning before output. */
  inputCarry = 0;
  outputCarry = 0;

  constructor(key: string, tenant: string, dims: DimensionValues) {
    this.key = key;
    this.tenant = tenant;
    this.dims = dims;
    this.dedupKey = tenant + '\u0000' + dims.model.toLowerCase();
    this.tokenRefs = new Int32Array(5).fill(NOT_ASKED);
  }
}

/** RefRole is what one recognised input series contributes. */
class RefRole {
  readonly target: Target;
  /** Token kind, or -1 for a reported cost series. */
  readonly kind: number;
  readonly rank: number;
  readonly measure: Measure;
  readonly calls: boolean;
  /** stateKey names the input series in the state table; unambiguous across tenants. */
  readonly stateKey: string;
  /** Last cumulative total (sum for histograms) and count per stream, for differencing. */
  lastTotal = NaN;
  lastCount = 0;
  lastStart = 0;
  /** dirty: the baseline changed since it was last written to the state table. */
  dirty = false;

  constructor(target: Target, kind: number, rank: number, measure: Measure, calls: boolean, stateKey: string) {
    this.target = target;
    this.kind = kind;
    this.rank = rank;
    this.measure = measure;
    this.calls = calls;
    this.stateKey = stateKey;
  }
}

/** Bundle collects one target's increments at one timestamp until flush. */
class Bundle {
  readonly target: Target;
  readonly tsMs: number;
  readonly amounts = new Float64Array(5);
  calls = 0;
  reported = 0;

  constructor(target: Target, tsMs: number) {
    this.target = target;
    this.tsMs = tsMs;
  }
}

/** CostSinkOptions configure a CostSink. */
export interface CostSinkOptions {
  readonly dimensions: DimensionMap;
  readonly prices: PriceTable;
  /** Wall clock (tests inject one). */
  readonly now?: () => number;
  /**
   * state keeps the baselines of cumulative streams across restarts (absent: in memory only, and
   * a restarted tallyd takes a stream's first sample as its baseline).
   */
  readonly state?: StateTable;
  /** onStateError hears of a baseline that could not be written (it is retried at the next flush). */
  readonly onStateError?: (err: unknown) => void;
}

/**
 * CostSink is an IngestSink decorator that derives LLM cost from token series. It keeps the
 * pipeline's contract: it never retains a buffer it is lent and never blocks.
 */
export class CostSink implements IngestSink {
  private readonly inner: IngestSink;
  private readonly dims: DimensionMap;
  private prices: PriceTable;
  private readonly now: () => number;
  /** Cumulative streams first seen after this time with a start time count in full. */
  private readonly bootMs: number;
  private readonly roles = new Map<number, RefRole>();
  /** tokenRef[ref] is 1 for refs with a role: a byte test keeps the Map off the path of every other sample. */
  private tokenRef = new Uint8Array(1024);
  private targets = new Map<string, Target>();
  private readonly pending = new Map<string, Bundle>();
  private dedup = new Map<string, Float64Array>();
  /** (tenant, model) keys whose last-seen times changed since the last flush. */
  private dirtyDedup = new Set<string>();
  private readonly unpricedRefs = new Map<string, number>();
  private readonly state: StateTable | null;
  private readonly onStateError: (err: unknown) => void;
  /** Roles whose baseline changed since the last flush. */
  private dirty: RefRole[] = [];
  /** stale passes staleness markers through (no tokens to price); offered only when the wrapped sink offers it. */
  readonly stale?: (ref: number, tsMs: number) => Verdict;

  constructor(inner: IngestSink, opts: CostSinkOptions) {
    this.inner = inner;
    if (inner.stale) this.stale = (ref, tsMs) => inner.stale!(ref, tsMs);
    this.dims = opts.dimensions;
    this.prices = opts.prices;
    this.now = opts.now ?? Date.now;
    this.bootMs = this.now();
    this.state = opts.state ?? null;
    this.onStateError = opts.onStateError ?? (() => undefined);
    if (this.state !== null) this.prune(this.state);
  }

  /**
   * prune drops baselines of streams not seen for STREAM_TTL_MS (series that went away) and
   * last-seen times older than DEDUP_WINDOW_MS (they can no longer keep a path from being costed).
   */
  private prune(state: StateTable): void {
    for (const [key, v] of state.entries<StreamJSON>(STREAM_PREFIX)) {
      if (!Array.isArray(v) || !(v[3]! >= this.bootMs - STREAM_TTL_MS)) {
        state.remove(key).catch((err) => this.onStateError(err));
      }
    }
    for (const [key, v] of state.entries<DedupJSON>(DEDUP_PREFIX)) {
      const newest = Array.isArray(v) ? Math.max(...v.map((x) => (typeof x === 'number' ? x : -Infinity))) : -Infinity;
      if (!(newest > this.bootMs - DEDUP_WINDOW_MS)) state.remove(key).catch((err) => this.onStateError(err));
    }
  }

  /** setPrices swaps the price table (SIGHUP); tokens arriving from now on use it. */
  setPrices(prices: PriceTable): void {
    this.prices = prices;
  }

  /** priceTable is the table in force. */
  priceTable(): PriceTable {
    return this.prices;
  }

  series(tenant: string, labels: Labels, kind: MetricKind, opts?: SeriesOptions): number {
    const ref = this.inner.series(tenant, labels, kind, opts);
    if (ref < 0 || this.roles.has(ref)) return ref; // refused: the inner sink's refusedRef
    const src = tokenSource(labels, kind, opts?.origin === 'span');
    if (src !== null) {
      this.setRole(ref, this.restore(new RefRole(this.target(tenant, labels), src.kind, src.rank, src.measure, src.calls, streamKey(tenant, labels))));
    } else if (kind === MetricKind.Counter && metricName(labels) === REPORTED_COST_METRIC) {
      this.setRole(ref, this.restore(new RefRole(this.target(tenant, labels), -1, SourceRank.Count, Measure.Counter, false, streamKey(tenant, labels))));
    }
    return ref;
  }

  /** restore loads a stream's saved baseline (one read per new token series). */
  private restore(role: RefRole): RefRole {
    const v = this.state?.get<StreamJSON>(role.stateKey);
    if (Array.isArray(v) && v.length === 4 && Number.isFinite(v[0])) {
      role.lastTotal = v[0];
      role.lastCount = v[1];
      role.lastStart = v[2];
    }
    return role;
  }

  private setRole(ref: number, role: RefRole): void {
    if (ref >= this.tokenRef.length) {
      const next = new Uint8Array(Math.max(ref + 1, this.tokenRef.length * 2));
      next.set(this.tokenRef);
      this.tokenRef = next;
    }
    this.tokenRef[ref] = 1;
    this.roles.set(ref, role);
  }

  /** role returns the role of a token ref; undefined (after one byte test) for every other series. */
  private role(ref: number): RefRole | undefined {
    return ref < this.tokenRef.length && this.tokenRef[ref] === 1 ? this.roles.get(ref) : undefined;
  }

  counter(ref: number, increment: number, tsMs: number): Verdict {
    const ok = this.inner.counter(ref, increment, tsMs);
    const role = this.role(ref);
    if (role !== undefined && ok === ACCEPTED) this.add(role, increment, role.calls ? 1 : 0, tsMs);
    return ok;
  }

  counterCumulative(ref: number, total: number, startMs: number, tsMs: number): Verdict {
    const ok = this.inner.counterCumulative(ref, total, startMs, tsMs);
    const role = this.role(ref);
    if (role !== undefined && ok === ACCEPTED) {
      const [d] = this.delta(role, total, 0, startMs);
      if (d > 0) this.add(role, d, 0, tsMs);
    }
    return ok;
  }

  gaugeSet(ref: number, value: number, tsMs: number): Verdict {
    return this.inner.gaugeSet(ref, value, tsMs);
  }

  gaugeAdd(ref: number, delta: number, tsMs: number): Verdict {
    return this.inner.gaugeAdd(ref, delta, tsMs);
  }

  observe(ref: number, value: number, count: number, tsMs: number): Verdict {
    const ok = this.inner.observe(ref, value, count, tsMs);
    const role = this.role(ref);
    if (role !== undefined && ok === ACCEPTED && role.measure === Measure.Histogram) this.add(role, value * count, role.calls ? count : 0, tsMs);
    return ok;
  }

  setMember(ref: number, memberHash: number, tsMs: number): Verdict {
    return this.inner.setMember(ref, memberHash, tsMs);
  }

  histogram(ref: number, h: SparseHistogram, tsMs: number): Verdict {
    const role = this.role(ref);
    // Read before handing over: the pipeline owns `h` once called.
    const sum = h.sum, count = h.count;
    const ok = this.inner.histogram(ref, h, tsMs);
    if (role !== undefined && ok === ACCEPTED) this.add(role, sum, role.calls ? count : 0, tsMs);
    return ok;
  }

  histogramCumulative(ref: number, h: SparseHistogram, startMs: number, tsMs: number): Verdict {
    const role = this.role(ref);
    const sum = h.sum, count = h.count;
    const ok = this.inner.histogramCumulative(ref, h, startMs, tsMs);
    if (role !== undefined && ok === ACCEPTED) this.addCumulativeHistogram(role, sum, count, startMs, tsMs);
    return ok;
  }

  histogramBorrowed(ref: number, h: SparseHistogram, cumulative: boolean, startMs: number, tsMs: number): Verdict {
    const role = this.role(ref);
    const sum = h.sum, count = h.count;
    let ok: Verdict;
    if (this.inner.histogramBorrowed) ok = this.inner.histogramBorrowed(ref, h, cumulative, startMs, tsMs);
    else ok = cumulative ? this.inner.histogramCumulative(ref, h.clone(), startMs, tsMs) : this.inner.histogram(ref, h.clone(), tsMs);
    if (role !== undefined && ok === ACCEPTED) {
      if (cumulative) this.addCumulativeHistogram(role, sum, count, startMs, tsMs);
      else this.add(role, sum, role.calls ? count : 0, tsMs);
    }
    return ok;
  }

  flush(): void {
    if (this.pending.size > 0) this.emit();
    if (this.dirty.length > 0) this.persist();
    if (this.dirtyDedup.size > 0) this.persistDedup();
    this.inner.flush();
  }

  /**
   * persist writes the changed baselines. lmdb-js batches the puts into one transaction that
   * commits within milliseconds, well before the pipeline commits the window holding the derived
   * cost, and the store's close waits for it; a put that fails is retried at the next flush.
   */
  private persist(): void {
    const roles = this.dirty;
    this.dirty = [];
    if (this.state === null) {
      for (const r of roles) r.dirty = false;
      return;
    }
    const now = this.now();
    for (const r of roles) {
      r.dirty = false;
      const v: StreamJSON = [r.lastTotal, r.lastCount, r.lastStart, now];
      this.state.put(r.stateKey, v).catch((err) => {
        this.markDirty(r);
        this.onStateError(err);
      });
    }
  }

  /**
   * persistDedup writes the last-seen times that changed (one put per (tenant, model) that had
   * tokens since the last flush), in the same lmdb batch as the baselines.
   */
  private persistDedup(): void {
    const keys = this.dirtyDedup;
    this.dirtyDedup = new Set();
    if (this.state === null) return;
    for (const key of keys) {
      const seen = this.dedup.get(key);
      if (seen === undefined) continue;
      const v: DedupJSON = Array.from(seen, (x) => (Number.isFinite(x) ? x : null));
      this.state.put(dedupStateKey(key), v).catch((err) => {
        this.dirtyDedup.add(key);
        this.onStateError(err);
      });
    }
  }

  private markDirty(role: RefRole): void {
    if (!role.dirty) {
      role.dirty = true;
      this.dirty.push(role);
    }
  }

  accepting(): boolean {
    return this.inner.accepting();
  }

  private addCumulativeHistogram(role: RefRole, sum: number, count: number, startMs: number, tsMs: number): void {
    const [ds, dc] = this.delta(role, sum, count, startMs);
    if (ds > 0 || dc > 0) this.add(role, ds, role.calls ? dc : 0, tsMs);
  }

  /**
   * delta turns a cumulative (total, count) of the stream started at startMs into increments,
   * with reset detection. The baseline survives restarts (state table). A stream without one
   * counts its first point in full only when it carries a start time after tallyd started (the
   * stream is new); otherwise the point sets the baseline, because tallyd cannot know how much of
   * the stream's history it already counted.
   */
  private delta(role: RefRole, total: number, count: number, startMs: number): [number, number] {
    let d: number, c: number;
    if (Number.isNaN(role.lastTotal) || startMs !== role.lastStart) {
      const fresh = startMs > 0 && (startMs >= this.bootMs || !Number.isNaN(role.lastTotal));
      d = fresh ? total : 0;
      c = fresh ? count : 0;
    } else if (total < role.lastTotal || count < role.lastCount) {
      d = total;
      c = count;
    } else {
      d = total - role.lastTotal;
      c = count - role.lastCount;
    }
    role.lastTotal = total;
    role.lastCount = count;
    role.lastStart = startMs;
    this.markDirty(role);
    return [d, c];
  }

  private add(role: RefRole, tokens: number, calls: number, tsMs: number): void {
    if (!(tokens >= 0) || !Number.isFinite(tokens)) return;
    const t = role.target;
    if (role.kind >= 0 && !this.admit(t.dedupKey, role.rank)) return;
    const bkey = t.key + '\u0001' + tsMs;
    let b = this.pending.get(bkey);
    if (b === undefined) this.pending.set(bkey, (b = new Bundle(t, tsMs)));
    if (role.kind < 0) b.reported += tokens;
    else {
      b.amounts[role.kind]! += tokens;
      b.calls += calls;
    }
  }

  /**
   * admit records that `rank` reported tokens for (tenant, model) now, and says whether they are
   * costed: only when no better-ranked path reported within DEDUP_WINDOW_MS.
   */
  private admit(key: string, rank: number): boolean {
    const now = this.now();
    let seen = this.dedup.get(key);
    if (seen === undefined) {
      if (this.dedup.size >= MAX_DEDUP_KEYS) this.dedup = new Map();
      seen = this.restoreDedup(key);
      this.dedup.set(key, seen);
    }
    if (seen[rank] !== now) {
      seen[rank] = now;
      this.dirtyDedup.add(key);
    }
    for (let r = 0; r < rank; r++) if (now - seen[r]! < DEDUP_WINDOW_MS) return false;
    return true;
  }

  /** restoreDedup loads a (tenant, model)'s saved last-seen times (one read per key first seen). */
  private restoreDedup(key: string): Float64Array {
    const seen = new Float64Array(SourceRank.Count).fill(-Infinity);
    const v = this.state?.get<DedupJSON>(dedupStateKey(key));
    if (Array.isArray(v)) {
      for (let r = 0; r < seen.length && r < v.length; r++) {
        const x = v[r];
        if (typeof x === 'number' && Number.isFinite(x)) seen[r] = x;
      }
    }
    return seen;
  }

  private target(tenant: string, labels: Labels): Target {
    const dims = dimensionValues(labels, this.dims);
    let key = tenant;
    for (const d of DIMENSIONS) key += '\u0000' + dims[d];
    let t = this.targets.get(key);
    if (t === undefined) {
      if (this.targets.size >= MAX_TARGETS) this.targets = new Map();
      this.targets.set(key, (t = new Target(key, tenant, dims)));
    }
    return t;
  }

  /** emit prices every pending bundle and writes the derived series into the pipeline. */
  private emit(): void {
    for (const b of this.pending.values()) {
      const t = b.target;
      const a = b.amounts;
      // Disjoint kinds: input counts include cached input, output counts include reasoning.
      let uncached = a[TokenKind.Input]! - a[TokenKind.CacheRead]! - a[TokenKind.CacheWrite]! + t.inputCarry;
      if (uncached < 0) {
        t.inputCarry = uncached;
        uncached = 0;
      } else t.inputCarry = 0;
      let visible = a[TokenKind.Output]! - a[TokenKind.Reasoning]! + t.outputCarry;
      if (visible < 0) {
        t.outputCarry = visible;
        visible = 0;
      } else t.outputCarry = 0;
      const kinds = [uncached, a[TokenKind.CacheRead]!, a[TokenKind.CacheWrite]!, visible, a[TokenKind.Reasoning]!];
      let total = 0;
      for (let k = 0; k < 5; k++) {
        const n = kinds[k]!;
        if (n <= 0) continue;
        total += n;
        if (t.tokenRefs[k] === NOT_ASKED) t.tokenRefs[k] = this.derived(t, TOKENS_METRIC, KIND_LABEL, KIND_NAMES[k]!, 'LLM tokens by disjoint kind (input = uncached input, output = output without reasoning).');
        const ref = t.tokenRefs[k]!;
        if (ref >= 0) this.inner.counter(ref, n, b.tsMs);
      }
      if (total > 0) {
        const p = this.prices.lookup(t.dims.provider, t.dims.model, b.tsMs);
        if (p !== null) {
          const cost = kinds[0]! * p.input + kinds[1]! * p.cacheRead + kinds[2]! * p.cacheWrite + kinds[3]! * p.output + kinds[4]! * p.reasoning;
          if (t.costRef === NOT_ASKED) t.costRef = this.derived(t, COST_METRIC, COST_SOURCE, 'computed', 'LLM cost in USD computed from tokens and the price table.');
          // Written even when zero (a free model): analytics tells priced windows from unpriced ones by it.
          if (t.costRef >= 0) this.inner.counter(t.costRef, cost, b.tsMs);
        } else {
          const ref = this.unpricedRef(t);
          if (ref >= 0) this.inner.counter(ref, total, b.tsMs);
        }
      }
      if (b.calls > 0) {
        if (t.callsRef === NOT_ASKED) t.callsRef = this.derived(t, CALLS_METRIC, '', '', 'LLM calls seen with their token usage.');
        if (t.callsRef >= 0) this.inner.counter(t.callsRef, b.calls, b.tsMs);
      }
      if (b.reported > 0) {
        if (t.reportedRef === NOT_ASKED) t.reportedRef = this.derived(t, COST_METRIC, COST_SOURCE, 'reported', 'LLM cost in USD as reported by the sender.');
        if (t.reportedRef >= 0) this.inner.counter(t.reportedRef, b.reported, b.tsMs);
      }
    }
    this.pending.clear();
  }

  private derived(t: Target, name: string, extraName: string, extraValue: string, help: string): number {
    const rec: Record<string, string> = { [METRIC_NAME]: name };
    for (const d of DIMENSIONS) if (t.dims[d] !== '') rec[d] = t.dims[d];
    if (extraName !== '') rec[extraName] = extraValue;
    return this.inner.series(t.tenant, labelsFromRecord(rec), MetricKind.Counter, { help, unit: name === COST_METRIC ? 'USD' : '' });
  }

  private unpricedRef(t: Target): number {
    const labels = labelsFromRecord({ [METRIC_NAME]: UNPRICED_METRIC, provider: t.dims.provider, model: t.dims.model });
    const key = t.tenant + '\u0000' + labelsKey(labels);
    let ref = this.unpricedRefs.get(key);
    if (ref === undefined) {
      if (this.unpricedRefs.size >= MAX_DEDUP_KEYS) this.unpricedRefs.clear();
      ref = this.inner.series(t.tenant, labels, MetricKind.Counter, { help: 'LLM tokens that no price row covered (never costed at $0 in silence).' });
      this.unpricedRefs.set(key, ref);
    }
    return ref;
  }
}

/** streamKey names an input series in the state table, as the pipeline's temporality table does. */
function streamKey(tenant: string, labels: Labels): string {
  return STREAM_PREFIX + JSON.stringify(tenant) + formatLabels(labels);
}

/** dedupStateKey names a (tenant, model) dedup key ("tenant\0model") in the state table. */
function dedupStateKey(key: string): string {
  const i = key.indexOf('\u0000');
  return DEDUP_PREFIX + JSON.stringify([key.slice(0, i), key.slice(i + 1)]);
}
