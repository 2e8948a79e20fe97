import { PROMETHEUS_DEFAULT_BUCKETS } from '../model/hdr.js';
import { formatLabels, METRIC_NAME, type Label, type Labels } from '../model/labels.js';
import { MetricKind } from '../model/metric-kind.js';
import type { SeriesMeta } from '../store/interface.js';
import type { SeriesDef } from './protocol.js';
import { LabelPool } from './label-pool.js';
import { grown } from './typed-arrays.js';
import type { CumulativeStream } from './temporality.js';
import type { WindowView } from './window-agg.js';

/**
 * classicBucket is the index of the classic bucket `v` falls in: the first bound >= v (le), or
 * bounds.length (+Inf).
 */
export function classicBucket(bounds: Float64Array, v: number): number {
  let lo = 0, hi = bounds.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (bounds[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Flag bits of a series in SeriesTable.flags. */
export const enum SeriesFlag {
  /** On the aggregator's list of series with open windows. */
  Listed = 1,
  /** Gauge: `value` holds a current value (cleared by a stale marker). */
  HasCurrent = 2,
}

/** UNDEFINED_KIND marks a series number no definition has reached yet. */
const UNDEFINED_KIND = 255;

/**
 * SeriesTable is a worker's state for all its series, one column per field indexed by the
 * router's dense slot number, so a series costs a few typed-array cells instead of an object,
 * its boxed doubles and its arrays (500 B of heap per counter series before; 120 B of heap and
 * ~100 B of typed arrays now, at 100k series). Columns
 * grow by doubling. Label sets are runs of pair numbers in one int32 arena. What only some series
 * have stays out of the columns: classic buckets live in one arena (histograms only), baselines
 * and rendered label text in reference arrays.
 */
export class SeriesTable {
  /** MetricKind, or UNDEFINED_KIND. */
  kind = new Uint8Array(0).fill(UNDEFINED_KIND);
  flags = new Uint8Array(0);
  /** Index into `tenants`. */
  tenant = new Int32Array(0);
  storeId = new Float64Array(0);
  lastSeen = new Float64Array(0);
  /** Counter: cumulative total since creation; gauge: current value (gaugeAdd applies deltas to it). */
  value = new Float64Array(0);
  /** Newest open window (a WindowTable row), -1 when none. */
  win = new Int32Array(0);
  /**
   * Histogram: offset in `classic` of its cumulative per-bucket counts (+Inf bucket at
   * bounds.length), then the sum and the count of observations (at bounds.length + 1 and + 2).
   */
  classicAt = new Int32Array(0);
  classic = new Float64Array(0);
  private classicUsed = 0;
  /** Offset in `labelIds` of the series' label set: its length, then its pairs' numbers (see LabelPool). */
  labelsAt = new Int32Array(0);
  labelIds = new Int32Array(1024);
  private labelIdsUsed = 0;
  /** Shares label pairs between this worker's series (definitions arrive as fresh copies). */
  private readonly pool = new LabelPool();
  readonly metas: Array<SharedMeta | undefined> = [];
  readonly streams: Array<CumulativeStream | null | undefined> = [];
  /** The label pairs rendered for the text format, without braces and without the name. */
  readonly labelText: Array<string | null | undefined> = [];
  readonly tenants: string[] = [];
  private readonly tenantIds = new Map<string, number>();
  /** Number of defined series. */
  count = 0;

  /** define sets up series `def.slot` (replacing any earlier definition of that number). */
  define(def: SeriesDef): number {
    const s = def.slot;
    if (s >= this.kind.length) this.grow(s + 1);
    if (this.kind[s] === UNDEFINED_KIND) this.count++;
    let t = this.tenantIds.get(def.tenant);
    if (t === undefined) {
      t = this.tenants.length;
      this.tenants.push(def.tenant);
      this.tenantIds.set(def.tenant, t);
    }
    const meta = sharedMeta(def);
    this.kind[s] = def.kind;
    this.flags[s] = 0;
    this.tenant[s] = t;
    this.storeId[s] = -1;
    this.lastSeen[s] = -Infinity;
    this.value[s] = 0;
    this.win[s] = -1;
    const labels = def.labels, n = labels.length;
    if (this.labelIdsUsed + n + 1 > this.labelIds.length) {
      const ids = new Int32Array(Math.max(this.labelIdsUsed + n + 1, this.labelIds.length * 2));
      ids.set(this.labelIds.subarray(0, this.labelIdsUsed));
      this.labelIds = ids;
    }
    const at = this.labelIdsUsed, ids = this.labelIds;
    ids[at] = n;
    for (let i = 0; i < n; i++) ids[at + 1 + i] = this.pool.id(labels[i]!);
    this.labelsAt[s] = at;
    this.labelIdsUsed = at + n + 1;
    this.metas[s] = meta;
    this.streams[s] = null;
    this.labelText[s] = null;
    if (def.kind === MetricKind.Histogram) {
      const n = meta.bounds.length + 3;
      if (this.classicUsed + n > this.classic.length) {
        const c = new Float64Array(Math.max(this.classicUsed + n, this.classic.length * 2, 1024));
        c.set(this.classic.subarray(0, this.classicUsed));
        this.classic = c;
      }
      this.classicAt[s] = this.classicUsed;
      this.classicUsed += n;
    } else this.classicAt[s] = -1;
    return s;
  }

  private grow(n: number): void {
    const cap = Math.max(n, this.kind.length * 2, 64);
    const kind = new Uint8Array(cap).fill(UNDEFINED_KIND);
    kind.set(this.kind);
    this.kind = kind;
    this.flags = grown(this.flags, new Uint8Array(cap));
    this.tenant = grown(this.tenant, new Int32Array(cap));
    this.storeId = grown(this.storeId, new Float64Array(cap));
    this.lastSeen = grown(this.lastSeen, new Float64Array(cap));
    this.value = grown(this.value, new Float64Array(cap));
    this.win = grown(this.win, new Int32Array(cap));
    this.classicAt = grown(this.classicAt, new Int32Array(cap));
    this.labelsAt = grown(this.labelsAt, new Int32Array(cap));
  }

  /** labelsOf builds series `s`'s label set from its pairs' numbers (a fresh array of shared pairs). */
  labelsOf(s: number): Labels {
    const ids = this.labelIds, at = this.labelsAt[s]!, n = ids[at]!;
    const out = new Array<Label>(n);
    for (let i = 0; i < n; i++) out[i] = this.pool.pair(ids[at + 1 + i]!);
    return out;
  }

  /** defined says whether series `s` (any number) has had a definition. */
  defined(s: number): boolean {
    return s < this.kind.length && this.kind[s] !== UNDEFINED_KIND;
  }

  /** bounds are series `s`'s classic bucket upper bounds (histograms), without +Inf. */
  bounds(s: number): Float64Array {
    return this.kind[s] === MetricKind.Histogram ? this.metas[s]!.bounds : NO_BOUNDS;
  }

  tenantOf(s: number): string {
    return this.tenants[this.tenant[s]!]!;
  }

  /** stateKey names series `s` in the `temporality` state table; unambiguous across tenants. */
  stateKey(s: number): string {
    return JSON.stringify(this.tenantOf(s)) + formatLabels(this.labelsOf(s));
  }

  /** observeClassic adds `n` observations of `v` to a histogram's cumulative classic buckets. */
  observeClassic(s: number, v: number, n: number): void {
    const at = this.classicAt[s]!, c = this.classic;
    const i = at + classicBucket(this.metas[s]!.bounds, v);
    c[i] = c[i]! + n;
    this.addSumCount(s, v * n, n);
  }

  /** addSumCount adds to a histogram's cumulative sum and count. */
  addSumCount(s: number, sum: number, count: number): void {
    const c = this.classic, at = this.classicAt[s]! + this.metas[s]!.bounds.length + 1;
    c[at] = c[at]! + sum;
    c[at + 1] = c[at + 1]! + count;
  }
}

/**
 * SeriesSlot is a read view of one series of a SeriesTable, for the cold paths that want an
 * object per series (/metrics exposition, benchmarks): nothing keeps one, so it costs nothing
 * while the series only aggregates. `windows` are its open windows in ascending start when the
 * aggregator was asked for them (Aggregator.slot), empty in the views /metrics gets.
 */
export class SeriesSlot {
  readonly tenant: string;
  readonly labels: Labels;
  readonly kind: MetricKind;
  readonly name: string;
  readonly meta: SeriesMeta;
  /** Classic bucket upper bounds for exposition (histograms), without +Inf. */
  readonly bounds: Float64Array;
  readonly storeId: number;
  readonly lastSeen: number;
  /** Counter: cumulative total since creation (stored total + everything seen since). */
  readonly total: number;
  /** Gauge: current value. */
  readonly current: number;
  readonly hasCurrent: boolean;
  /** Histogram: cumulative per-bucket counts (+Inf at bounds.length), then sum and count. */
  readonly classic: Float64Array | null;
  readonly stream: CumulativeStream | null;
  readonly windows: readonly WindowView[];

  constructor(private readonly table: SeriesTable, private readonly s: number, windows: readonly WindowView[]) {
    const labels = table.labelsOf(s);
    this.tenant = table.tenantOf(s);
    this.labels = labels;
    this.kind = table.kind[s]! as MetricKind;
    let name = '';
    for (const l of labels) if (l.name === METRIC_NAME) name = l.value;
    this.name = name;
    this.meta = table.metas[s]!.meta;
    this.bounds = table.bounds(s);
    this.storeId = table.storeId[s]!;
    this.lastSeen = table.lastSeen[s]!;
    this.total = this.kind === MetricKind.Gauge ? 0 : table.value[s]!;
    this.current = this.kind === MetricKind.Gauge ? table.value[s]! : 0;
    this.hasCurrent = (table.flags[s]! & SeriesFlag.HasCurrent) !== 0;
    const at = table.classicAt[s]!;
    this.classic = at < 0 ? null : table.classic.subarray(at, at + this.bounds.length + 3);
    this.stream = table.streams[s] ?? null;
    this.windows = windows;
  }

  /** labelText is cached in the table, so a scrape renders each series' labels once. */
  get labelText(): string | null {
    return this.table.labelText[this.s] ?? null;
  }

  set labelText(v: string | null) {
    this.table.labelText[this.s] = v;
  }

  /** hSum is the histogram's cumulative sum of observations. */
  get hSum(): number {
    return this.classic![this.bounds.length + 1]!;
  }

  /** hCount is the histogram's cumulative count of observations. */
  get hCount(): number {
    return this.classic![this.bounds.length + 2]!;
  }
}

// Shared by every slot that has no meta or bounds of its own: 100k series, one copy.
const NO_META: SeriesMeta = {};
const NO_BOUNDS = new Float64Array(0);

/** cleanBounds sorts and dedupes bounds and drops +Inf (always added) and NaN. */
function cleanBounds(b: readonly number[]): Float64Array {
  const s = Array.from(new Set(b.filter((x) => Number.isFinite(x)))).sort((x, y) => x - y);
  return Float64Array.from(s);
}

const DEFAULT_BOUNDS = cleanBounds(PROMETHEUS_DEFAULT_BUCKETS);

/**
 * classicBounds is the classic bucket bounds a histogram series gets from the bounds its
 * definition carries (null: the Prometheus defaults), as SeriesTable computes them; a sender that
 * pre-aggregates classic counts in these bounds has them summed without a search.
 */
export function classicBounds(bounds: readonly number[] | null): Float64Array {
  return bounds ? cleanBounds(bounds) : DEFAULT_BOUNDS;
}

/** SharedMeta is what series with the same bounds, help and unit share (never mutated). */
export interface SharedMeta {
  readonly meta: SeriesMeta;
  /** Cleaned classic bounds (DEFAULT_BOUNDS when the series has none). */
  readonly bounds: Float64Array;
}

/** How many distinct (bounds, help, unit) are interned before slots get their own copies. */
const MAX_SHARED = 4096;
const shared = new Map<string, SharedMeta>();

/**
 * sharedMeta interns a definition's meta and cleaned bounds: a metric's thousands of series
 * usually share them, so a worker keeps one copy instead of one per series.
 */
function sharedMeta(def: SeriesDef): SharedMeta {
  let key = def.help + '\u0000' + def.unit + '\u0000';
  if (def.bounds) for (const b of def.bounds) key += (Object.is(b, -0) ? '-0' : String(b)) + ',';
  else key += '-';
  let m = shared.get(key);
  if (m === undefined) {
    m = {
      meta: def.bounds || def.help || def.unit ? {
        ...(def.bounds ? { bounds: def.bounds } : {}),
        ...(def.help ? { help: def.help } : {}),
        ...(def.unit ? { unit: def.unit } : {}),
      } : NO_META,
      bounds: def.bounds ? cleanBounds(def.bounds) : DEFAULT_BOUNDS,
    };
    if (shared.size < MAX_SHARED) shared.set(key, m);
  }
  return m;
}
