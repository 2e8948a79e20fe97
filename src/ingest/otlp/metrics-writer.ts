import { ACCEPTED, refRefusal, refusedRef, Refusal, type IngestSink, type SeriesOptions, type Verdict } from '../sink.js';
import { labelsFromRecord, METRIC_NAME, type Labels } from '../../model/labels.js';
import { MetricKind } from '../../model/metric-kind.js';
import { hdrIndexOf, SparseHistogram } from '../../model/hdr.js';
import { forEachAttribute } from './attributes.js';
import {
  FLAG_NO_RECORDED_VALUE, MetricType, Temporality,
  type ExpHistogramPoint, type HistogramPoint, type MetricInfo, type MetricsVisitor, type NumberPoint, type PointBase, type SummaryPoint,
} from './decode.js';
import { BucketLayouts, type BucketLayout } from './bucket-layout.js';
import { ByteKeyCache, bytesEqual } from '../../wire/byte-key-cache.js';
import { ResourceCache, type ResourceInfo } from './resource.js';
import { LabelAccumulator, labelName, metricName, NameShape } from './translate.js';
import { Reason, Refusals } from './refusals.js';
import { utf8String } from '../../wire/proto-reader.js';

/** The ref of a summary's own entry (its points go to the _sum, _count and quantile refs) and of refs not made yet. */
const NO_REF = refusedRef(Refusal.Unsupported);

/** How a metric's points reach the sink. */
const enum Route {
  CounterDelta = 0,
  CounterCumulative = 1,
  GaugeSet = 2,
  GaugeAdd = 3,
  Histogram = 4,
  ExpHistogram = 5,
  Summary = 6,
}

/** MetricEntry is an interned metric descriptor with its translated name and route. */
class MetricEntry {
  readonly id: number;
  readonly name: string;
  readonly route: Route;
  readonly kind: MetricKind;
  readonly cumulative: boolean;
  readonly help: string;
  readonly unit: string;

  constructor(id: number, name: string, route: Route, kind: MetricKind, cumulative: boolean, help: string, unit: string) {
    this.id = id;
    this.name = name;
    this.route = route;
    this.kind = kind;
    this.cumulative = cumulative;
    this.help = help;
    this.unit = unit;
  }
}

/**
 * SeriesEntry is an interned data-point series: the sink ref, and for explicit histograms the
 * (shared) layout of the sender's bounds. Summaries keep one ref per quantile plus `_sum` and
 * `_count`.
 */
class SeriesEntry {
  /** The sink's ref; negative when the sink refused the series (refusedRef: the reason rides in it). */
  ref: number;
  labels: Labels;
  layout: BucketLayout | null = null;
  sumRef = NO_REF;
  countRef = NO_REF;
  quantileRefs: Map<number, number> | null = null;

  constructor(ref: number, labels: Labels) {
    this.ref = ref;
    this.labels = labels;
  }
}

/**
 * MetricsWriter is the decoder's visitor: it resolves each point's series through byte-keyed
 * caches and pushes samples into the sink, tallying what was accepted and refused. One writer
 * serves every request of a receiver (requests are decoded synchronously, one at a time).
 */
export class MetricsWriter implements MetricsVisitor {
  private readonly sink: IngestSink;
  private readonly resources: ResourceCache;
  private readonly series: ByteKeyCache<SeriesEntry>;
  private readonly layouts = new BucketLayouts();
  private readonly metrics = new Map<string, MetricEntry>();
  private readonly tenants = new Map<string, number>();
  private nextMetricId = 1;
  private tenant = '';
  private tenantId = 0;
  private res: ResourceInfo | null = null;
  private metricEntry: MetricEntry | null = null;
  private nowMs = 0;
  /** points seen in the current request (NO_RECORDED_VALUE markers excluded). */
  received = 0;
  readonly refused = new Refusals();

  /** Whether the sink copies histograms it is lent (histogramBorrowed), so `scratch` serves every point. */
  private readonly borrow: boolean;
  private readonly scratch = new SparseHistogram(16);

  constructor(sink: IngestSink, promoteResourceAttributes: Iterable<string>, maxSeries = 500_000) {
    this.sink = sink;
    this.borrow = typeof sink.histogramBorrowed === 'function';
    this.resources = new ResourceCache(promoteResourceAttributes);
    this.series = new ByteKeyCache(maxSeries);
  }

  /** begin starts a request for a tenant. */
  begin(tenant: string): void {
    this.tenant = tenant;
    let id = this.tenants.get(tenant);
    if (id === undefined) {
      id = this.tenants.size + 1;
      this.tenants.set(tenant, id);
    }
    this.tenantId = id;
    this.received = 0;
    this.refused.reset();
    this.res = null;
    this.metricEntry = null;
    this.nowMs = Date.now();
  }

  resource(buf: Uint8Array, start: number, end: number): void {
    this.res = this.resources.intern(buf, start, end, this.tenantId);
  }

  metric(m: MetricInfo): void {
    const name = utf8String(m.buf, m.nameStart, m.nameEnd);
    const unit = utf8String(m.buf, m.unitStart, m.unitEnd);
    const key = `${m.type}|${m.temporality}|${m.monotonic ? 1 : 0}|${name}|${unit}`;
    let e = this.metrics.get(key);
    if (e === undefined) {
      e = newMetricEntry(this.nextMetricId++, m, name, unit);
      if (this.metrics.size >= 100_000) this.metrics.clear();
      this.metrics.set(key, e);
    }
    this.metricEntry = e;
  }

  private ts(p: PointBase): number {
    return p.timeMs > 0 ? p.timeMs : this.nowMs;
  }

  /** lookup finds or creates the series of a point (its ref is negative when the sink refused it). */
  private lookup(p: PointBase, m: MetricEntry): SeriesEntry {
    const res = this.res!;
    let e = this.series.get(p.attrBuf, p.attrStart, p.attrEnd, res.id, m.id);
    if (e === undefined) {
      const labels = this.labelsOf(p, res, m.name);
      const opts: SeriesOptions = { help: m.help, unit: m.unit };
      const ref = m.route === Route.Summary ? NO_REF : this.sink.series(this.tenant, labels, m.kind, opts);
      e = new SeriesEntry(ref, labels);
      this.series.set(p.attrBuf, p.attrStart, p.attrEnd, res.id, m.id, e);
    }
    return e;
  }

  private labelsOf(p: PointBase, res: ResourceInfo, name: string): Labels {
    const acc = new LabelAccumulator();
    forEachAttribute(p.attrBuf, p.attrStart, p.attrEnd, (k, v) => acc.add(k, v));
    const rl = res.labels;
    for (let i = 0; i < rl.promoted.length; i++) {
      const [k, v] = rl.promoted[i]!;
      if (!acc.has(labelName(k))) acc.add(k, v);
    }
    if (rl.job !== '') acc.set('job', rl.job);
    if (rl.instance !== '') acc.set('instance', rl.instance);
    acc.set(METRIC_NAME, name);
    return labelsFromRecord(acc.record());
  }

  numberPoint(p: NumberPoint): void {
    const m = this.metricEntry!;
    if ((p.flags & FLAG_NO_RECORDED_VALUE) !== 0) {
      // "No recorded value" ends the series at the point's time, as a Prometheus stale marker.
      this.received++;
      const e = this.lookup(p, m);
      if (e.ref >= 0 && this.sink.stale !== undefined) {
        const r = this.sink.stale(e.ref, this.ts(p));
        if (r !== ACCEPTED) this.refused.add(r);
      }
      return;
    }
    if (!p.hasValue) return;
    this.received++;
    const v = p.value;
    const counter = m.route === Route.CounterDelta || m.route === Route.CounterCumulative;
    if (v !== v || v === Infinity || v === -Infinity || (counter && v < 0)) {
      this.refused.add(Reason.BadValue);
      return;
    }
    const e = this.lookup(p, m);
    if (e.ref < 0) {
      this.refused.add(refRefusal(e.ref));
      return;
    }
    const ts = this.ts(p);
    let r: Verdict;
    switch (m.route) {
      case Route.CounterDelta: r = this.sink.counter(e.ref, v, ts); break;
      case Route.CounterCumulative: r = this.sink.counterCumulative(e.ref, v, p.startMs, ts); break;
      case Route.GaugeAdd: r = this.sink.gaugeAdd(e.ref, v, ts); break;
      default: r = this.sink.gaugeSet(e.ref, v, ts); break;
    }
    if (r !== ACCEPTED) this.refused.add(r);
  }

  histogramPoint(p: HistogramPoint): void {
    const m = this.metricEntry!;
    if ((p.flags & FLAG_NO_RECORDED_VALUE) !== 0) return;
    this.received++;
    if (!validCounts(p)) {
      this.refused.add(Reason.BadValue);
      return;
    }
    const res = this.res!;
    let e = this.series.get(p.attrBuf, p.attrStart, p.attrEnd, res.id, m.id);
    // Fast path: the point's packed bounds are byte for byte those of the series' layout, which
    // were validated when it was made; otherwise decode, validate and compare the values.
    if (e === undefined || !sameBoundBytes(e, p)) {
      p.decodeBounds();
      if (!validBounds(p)) {
        this.refused.add(Reason.BadValue);
        return;
      }
      if (e === undefined || !sameBounds(e, p)) {
        // A new series, or the sender changed its bounds: (re)declare with the bounds it sends now.
        const labels = e?.labels ?? this.labelsOf(p, res, m.name);
        const layout = this.layouts.get(p.bounds, p.nBounds);
        const ref = this.sink.series(this.tenant, labels, MetricKind.Histogram, { help: m.help, unit: m.unit, bounds: layout.boundsList });
        if (e === undefined) {
          e = new SeriesEntry(ref, labels);
          this.series.set(p.attrBuf, p.attrStart, p.attrEnd, res.id, m.id, e);
        }
        e.ref = ref;
        e.layout = layout;
      }
    }
    if (e.ref < 0) {
      this.refused.add(refRefusal(e.ref));
      return;
    }
    const h = toSparse(p, e, this.borrow ? this.scratch : null);
    this.sendHistogram(m, e.ref, h, p.startMs, this.ts(p));
  }

  /** sendHistogram hands a histogram point to the sink, lending the scratch when the sink allows. */
  private sendHistogram(m: MetricEntry, ref: number, h: SparseHistogram, startMs: number, ts: number): void {
    const sink = this.sink;
    let r: Verdict;
    if (h === this.scratch) r = sink.histogramBorrowed!(ref, h, m.cumulative, startMs, ts);
    else r = m.cumulative ? sink.histogramCumulative(ref, h, startMs, ts) : sink.histogram(ref, h, ts);
    if (r !== ACCEPTED) this.refused.add(r);
  }

  expHistogramPoint(p: ExpHistogramPoint): void {
    const m = this.metricEntry!;
    if ((p.flags & FLAG_NO_RECORDED_VALUE) !== 0) return;
    this.received++;
    const h = expToSparse(p, this.borrow ? this.scratch : null);
    if (h === null) {
      this.refused.add(Reason.BadValue);
      return;
    }
    const e = this.lookup(p, m);
    if (e.ref < 0) {
      this.refused.add(refRefusal(e.ref));
      return;
    }
    this.sendHistogram(m, e.ref, h, p.startMs, this.ts(p));
  }

  summaryPoint(p: SummaryPoint): void {
    const m = this.metricEntry!;
    if ((p.flags & FLAG_NO_RECORDED_VALUE) !== 0) return;
    this.received++;
    if (!Number.isFinite(p.sum) || !Number.isFinite(p.count) || p.count < 0) {
      this.refused.add(Reason.BadValue);
      return;
    }
    const e = this.lookup(p, m);
    if (e.quantileRefs === null) {
      e.quantileRefs = new Map();
      e.sumRef = this.sink.series(this.tenant, renamed(e.labels, m.name + '_sum'), MetricKind.Counter, { help: m.help, unit: m.unit });
      e.countRef = this.sink.series(this.tenant, renamed(e.labels, m.name + '_count'), MetricKind.Counter, { help: m.help });
    }
    const ts = this.ts(p);
    // A point refused by a series limit counts under that limit; else under the last sample refusal.
    let limited: Verdict = ACCEPTED;
    let failed: Verdict = ACCEPTED;
    if (e.sumRef < 0) limited = refRefusal(e.sumRef);
    else if (e.countRef < 0) limited = refRefusal(e.countRef);
    else {
      let r = this.sink.counterCumulative(e.sumRef, p.sum, p.startMs, ts);
      if (r !== ACCEPTED) failed = r;
      r = this.sink.counterCumulative(e.countRef, p.count, p.startMs, ts);
      if (r !== ACCEPTED) failed = r;
    }
    for (let i = 0; i < p.nQuantiles; i++) {
      const q = p.quantiles[i]!;
      const v = p.values[i]!;
      if (v !== v) continue;
      let ref = e.quantileRefs.get(q);
      if (ref === undefined) {
        const labels = labelsFromRecord({ ...recordOf(e.labels), quantile: String(q) });
        ref = this.sink.series(this.tenant, labels, MetricKind.Gauge, { help: m.help, unit: m.unit });
        e.quantileRefs.set(q, ref);
      }
      if (ref < 0) limited = refRefusal(ref);
      else {
        const r = this.sink.gaugeSet(ref, v, ts);
        if (r !== ACCEPTED) failed = r;
      }
    }
    if (limited !== ACCEPTED) this.refused.add(limited);
    else if (failed !== ACCEPTED) this.refused.add(failed);
  }
}

function newMetricEntry(id: number, m: MetricInfo, name: string, unit: string): MetricEntry {
  const help = utf8String(m.buf, m.descStart, m.descEnd);
  const cumulative = m.temporality === Temporality.Cumulative;
  switch (m.type) {
    case MetricType.Sum:
      if (m.monotonic) return new MetricEntry(id, metricName(name, unit, NameShape.MonotonicSum), cumulative ? Route.CounterCumulative : Route.CounterDelta, MetricKind.Counter, cumulative, help, unit);
      // A non-monotonic sum is a gauge: a delta one moves it, a cumulative one sets it.
      return new MetricEntry(id, metricName(name, unit, NameShape.Other), m.temporality === Temporality.Delta ? Route.GaugeAdd : Route.GaugeSet, MetricKind.Gauge, cumulative, help, unit);
    case MetricType.Gauge:
      return new MetricEntry(id, metricName(name, unit, NameShape.Gauge), Route.GaugeSet, MetricKind.Gauge, false, help, unit);
    case MetricType.Histogram:
      return new MetricEntry(id, metricName(name, unit, NameShape.Other), Route.Histogram, MetricKind.Histogram, cumulative, help, unit);
    case MetricType.ExponentialHistogram:
      return new MetricEntry(id, metricName(name, unit, NameShape.Other), Route.ExpHistogram, MetricKind.Histogram, cumulative, help, unit);
    default:
      return new MetricEntry(id, metricName(name, unit, NameShape.Other), Route.Summary, MetricKind.Gauge, true, help, unit);
  }
}

function recordOf(labels: Labels): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of labels) out[l.name] = l.value;
  return out;
}

function renamed(labels: Labels, name: string): Labels {
  return labelsFromRecord({ ...recordOf(labels), [METRIC_NAME]: name });
}

/** validCounts checks count, sum and the number of buckets against the number of bounds. */
function validCounts(p: HistogramPoint): boolean {
  if (!Number.isFinite(p.count) || (p.hasSum && !Number.isFinite(p.sum))) return false;
  return p.nBuckets === 0 || p.nBuckets === p.nBounds + 1;
}

/** validBounds checks that decoded bounds are finite and strictly increasing. */
function validBounds(p: HistogramPoint): boolean {
  for (let i = 0; i < p.nBounds; i++) {
    const b = p.bounds[i]!;
    if (!Number.isFinite(b) || (i > 0 && !(b > p.bounds[i - 1]!))) return false;
  }
  return true;
}

/** sameBoundBytes says whether the point's undecoded bounds are the bytes of the series' layout. */
function sameBoundBytes(e: SeriesEntry, p: HistogramPoint): boolean {
  return e.layout !== null && p.boundsStart >= 0 && bytesEqual(p.boundsBuf, p.boundsStart, p.boundsEnd, e.layout.raw);
}

/** sameBounds compares decoded bounds with the series' layout by value (0 equals -0). */
function sameBounds(e: SeriesEntry, p: HistogramPoint): boolean {
  if (e.layout === null) return false;
  const b = e.layout.bounds;
  if (p.nBuckets === 0) return true;
  if (b.length !== p.nBounds) return false;
  for (let i = 0; i < b.length; i++) if (b[i] !== p.bounds[i]) return false;
  return true;
}

/** reuse empties a lent scratch histogram, or returns a fresh one to hand over. */
function reuse(into: SparseHistogram | null, capacity: number): SparseHistogram {
  if (into === null) return new SparseHistogram(capacity);
  into.size = 0;
  into.bounds = null;
  return into;
}

/** toSparse converts an explicit-bucket point, into `into` (a lent scratch) or a new histogram. */
function toSparse(p: HistogramPoint, e: SeriesEntry, into: SparseHistogram | null): SparseHistogram {
  const n = p.nBuckets;
  const cc = into?.classicCounts ?? null;
  const h = reuse(into, n > 0 ? n : 1);
  h.classicCounts = null;
  const layout = e.layout!;
  const idx = layout.index, val = layout.value;
  let estSum = 0, lo = Infinity, hi = -Infinity;
  if (n > 0) {
    const classic = cc !== null && cc.length === n ? cc : new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const c = p.bucketCounts[i]!;
      classic[i] = c;
      if (c > 0) {
        h.addAtIndex(idx[i]!, c);
        estSum += val[i]! * c;
        if (val[i]! < lo) lo = val[i]!;
        if (val[i]! > hi) hi = val[i]!;
      }
    }
    h.bounds = layout.bounds;
    h.classicCounts = classic;
  } else if (p.count > 0) {
    const avg = p.hasSum ? p.sum / p.count : 0;
    h.addAtIndex(hdrIndexOf(avg), p.count);
    lo = hi = avg;
    estSum = avg * p.count;
  }
  h.count = p.count;
  h.sum = p.hasSum ? p.sum : estSum;
  h.min = p.hasMin ? p.min : lo;
  h.max = p.hasMax ? p.max : hi;
  return h;
}

/**
 * expToSparse maps base-2 exponential buckets into HDR: bucket k covers (b^k, b^(k+1)] with
 * b = 2^(2^-scale), and its count lands at the bucket's log-midpoint. At scale >= 10 a bucket is
 * narrower than an HDR bucket (3 significant digits), so nothing is lost; at lower scales the
 * error stays inside the sender's own bucket. Negative values and the zero bucket land at 0.
 */
function expToSparse(p: ExpHistogramPoint, into: SparseHistogram | null): SparseHistogram | null {
  if (!Number.isFinite(p.count) || (p.hasSum && !Number.isFinite(p.sum)) || p.scale < -10 || p.scale > 20) return null;
  const pos = p.positive, neg = p.negative;
  const h = reuse(into, Math.max(1, pos.n + 1));
  h.classicCounts = null;
  let zero = p.zeroCount;
  for (let i = 0; i < neg.n; i++) zero += neg.counts[i]!;
  if (zero > 0) h.addAtIndex(0, zero);
  const width = Math.pow(2, -p.scale);
  let estSum = 0, lo = Infinity, hi = -Infinity;
  for (let i = 0; i < pos.n; i++) {
    const c = pos.counts[i]!;
    if (c <= 0) continue;
    const v = Math.pow(2, (pos.offset + i + 0.5) * width);
    h.addAtIndex(hdrIndexOf(v), c);
    estSum += v * c;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (zero > 0) lo = Math.min(lo, 0);
  h.count = p.count;
  h.sum = p.hasSum ? p.sum : estSum;
  h.min = p.hasMin ? p.min : lo;
  h.max = p.hasMax ? p.max : hi;
  return h;
}
