import { PROMETHEUS_DEFAULT_BUCKETS } from '../model/hdr.js';
import { formatLabels, METRIC_NAME, type Labels } from '../model/labels.js';
import { MetricKind } from '../model/metric-kind.js';
import type { SeriesMeta } from '../store/interface.js';
import type { SeriesDef } from './protocol.js';
import type { CumulativeStream } from './temporality.js';
import type { WindowAgg } from './window-agg.js';

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

/**
 * SeriesSlot is a worker's state for one series: its open windows, its store id once known, the
 * live values /metrics shows (counter total, gauge value, cumulative classic buckets) and the
 * cumulative-stream baseline. Every field is assigned at construction so all slots share one shape.
 */
export class SeriesSlot {
  readonly tenant: string;
  readonly labels: Labels;
  readonly kind: MetricKind;
  readonly name: string;
  readonly meta: SeriesMeta;
  /** Classic bucket upper bounds for exposition (histograms), without +Inf. */
  readonly bounds: Float64Array;
  // Mutable fields are initialised where declared: a bare ES2022 field starts as undefined, and
  // V8 then allocates a heap number for every double stored into it (per sample, here).
  storeId = -1;
  windows: WindowAgg[] = [];
  /** Set while the slot is on the aggregator's list of slots with open windows. */
  listed = false;
  lastSeen = -Infinity;
  /** Counter: cumulative total since creation (stored total + everything seen since). */
  total = 0;
  /** Gauge: current value (gaugeAdd applies deltas to it). */
  current = 0;
  hasCurrent = false;
  /**
   * Histogram: cumulative per-bucket counts (+Inf bucket at bounds.length), then the sum and the
   * count of observations (at bounds.length + 1 and + 2: one array instead of two boxed fields).
   */
  classic: Float64Array | null;
  stream: CumulativeStream | null = null;
  /** The label pairs rendered for the text format, without braces and without the name. */
  labelText: string | null = null;

  /** `labels` are def.labels or an interned copy of them (see LabelPool). */
  constructor(def: SeriesDef, labels: Labels = def.labels) {
    this.tenant = def.tenant;
    this.labels = labels;
    this.kind = def.kind;
    let name = '';
    for (const l of labels) if (l.name === METRIC_NAME) name = l.value;
    this.name = name;
    const shared = sharedMeta(def);
    this.meta = shared.meta;
    this.bounds = def.kind !== MetricKind.Histogram ? NO_BOUNDS : shared.bounds;
    this.classic = def.kind === MetricKind.Histogram ? new Float64Array(this.bounds.length + 3) : null;
  }

  /** stateKey names the series in the `temporality` state table; unambiguous across tenants. */
  stateKey(): string {
    return JSON.stringify(this.tenant) + formatLabels(this.labels);
  }

  /** observeClassic adds `n` observations of `v` to the cumulative classic buckets. */
  observeClassic(v: number, n: number): void {
    const i = classicBucket(this.bounds, v);
    this.classic![i] = this.classic![i]! + n;
    this.addSumCount(v * n, n);
  }

  /** addSumCount adds to the histogram's cumulative sum and count. */
  addSumCount(sum: number, count: number): void {
    const c = this.classic!, at = this.bounds.length + 1;
    c[at] = c[at]! + sum;
    c[at + 1] = c[at + 1]! + count;
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
 * definition carries (null: the Prometheus defaults), as SeriesSlot computes them; a sender that
 * pre-aggregates classic counts in these bounds has them summed without a search.
 */
export function classicBounds(bounds: readonly number[] | null): Float64Array {
  return bounds ? cleanBounds(bounds) : DEFAULT_BOUNDS;
}

/** SharedMeta is what series with the same bounds, help and unit share (never mutated). */
interface SharedMeta {
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
