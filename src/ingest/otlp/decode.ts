import { DecodeError, Reader, WT_I64, WT_LEN, WT_VARINT, readDoubles } from '../../wire/proto-reader.js';

/**
 * decode.ts walks an OTLP `ExportMetricsServiceRequest` (proto/opentelemetry/.../metrics_service.proto)
 * straight off the wire and hands each data point to a visitor through reused scratch objects, so
 * the hot path allocates nothing per point. Attributes are handed over as the byte range of their
 * KeyValue fields: the visitor interns series by those bytes and decodes strings only on a miss.
 */

/** MetricType is the Metric `data` oneof case. */
export const enum MetricType {
  None = 0,
  Gauge = 5,
  Sum = 7,
  Histogram = 9,
  ExponentialHistogram = 10,
  Summary = 11,
}

/** Temporality mirrors AggregationTemporality. */
export const enum Temporality {
  Unspecified = 0,
  Delta = 1,
  Cumulative = 2,
}

/** NO_RECORDED_VALUE is DataPointFlags.NO_RECORDED_VALUE_MASK: a staleness marker, not a value. */
export const FLAG_NO_RECORDED_VALUE = 1;

/** MetricInfo describes the metric whose points follow; byte ranges point into `buf`. */
export class MetricInfo {
  buf: Uint8Array = EMPTY;
  nameStart = 0;
  nameEnd = 0;
  descStart = 0;
  descEnd = 0;
  unitStart = 0;
  unitEnd = 0;
  type: MetricType = MetricType.None;
  temporality: Temporality = Temporality.Unspecified;
  monotonic = false;
}

/** PointBase holds what every point kind has: its attributes (as bytes) and timestamps. */
export class PointBase {
  /** The KeyValue fields of the point's attributes, tags included, in wire order. */
  attrBuf: Uint8Array = EMPTY;
  attrStart = 0;
  attrEnd = 0;
  /** start_time_unix_nano in ms (0 when unset). */
  startMs = 0;
  /** time_unix_nano in ms. */
  timeMs = 0;
  flags = 0;
}

/** NumberPoint is a Gauge or Sum point. */
export class NumberPoint extends PointBase {
  value = 0;
  hasValue = false;
}

/**
 * HistogramPoint is an explicit-bucket histogram point. Its bounds are usually the same bytes on
 * every point of a series, so a single packed `explicit_bounds` field is kept as a byte range
 * (`boundsStart` >= 0) for the writer to compare with its cached layout; `bounds` holds values
 * only after decodeBounds().
 */
export class HistogramPoint extends PointBase {
  count = 0;
  sum = 0;
  hasSum = false;
  min = 0;
  hasMin = false;
  max = 0;
  hasMax = false;
  bucketCounts: Float64Array = new Float64Array(32);
  nBuckets = 0;
  bounds: Float64Array = new Float64Array(32);
  /** Number of bounds, decoded or not. */
  nBounds = 0;
  /** The packed bounds not decoded yet: buf[boundsStart, boundsEnd), or boundsStart = -1. */
  boundsBuf: Uint8Array = EMPTY;
  boundsStart = -1;
  boundsEnd = -1;

  /** decodeBounds makes `bounds[0, nBounds)` hold the values of a still undecoded range. */
  decodeBounds(): void {
    if (this.boundsStart < 0) return;
    const k = (this.boundsEnd - this.boundsStart) / 8;
    while (this.bounds.length < k) this.bounds = grow(this.bounds);
    readDoubles(this.boundsBuf, this.boundsStart, k, this.bounds, 0);
    this.boundsStart = -1;
  }
}

/** ExpBuckets is one side (positive or negative) of an exponential histogram. */
export class ExpBuckets {
  offset = 0;
  counts: Float64Array = new Float64Array(64);
  n = 0;
}

/** ExpHistogramPoint is a base-2 exponential histogram point. */
export class ExpHistogramPoint extends PointBase {
  count = 0;
  sum = 0;
  hasSum = false;
  min = 0;
  hasMin = false;
  max = 0;
  hasMax = false;
  scale = 0;
  zeroCount = 0;
  zeroThreshold = 0;
  readonly positive = new ExpBuckets();
  readonly negative = new ExpBuckets();
}

/** SummaryPoint is a Summary point (always cumulative in OTLP). */
export class SummaryPoint extends PointBase {
  count = 0;
  sum = 0;
  quantiles: Float64Array = new Float64Array(8);
  values: Float64Array = new Float64Array(8);
  nQuantiles = 0;
}

/** MetricsVisitor receives the walk; each scratch object is only valid during the call. */
export interface MetricsVisitor {
  /** resource is called per ResourceMetrics with the Resource message bytes (start = end when absent). */
  resource(buf: Uint8Array, start: number, end: number): void;
  metric(m: MetricInfo): void;
  numberPoint(p: NumberPoint): void;
  histogramPoint(p: HistogramPoint): void;
  expHistogramPoint(p: ExpHistogramPoint): void;
  summaryPoint(p: SummaryPoint): void;
}

const EMPTY = new Uint8Array(0);

/** MetricsDecoder owns the scratch state of one walk; reuse one instance (not reentrant). */
export class MetricsDecoder {
  private readonly r = new Reader();
  private readonly info = new MetricInfo();
  private readonly num = new NumberPoint();
  private readonly hist = new HistogramPoint();
  private readonly exp = new ExpHistogramPoint();
  private readonly sum = new SummaryPoint();
  /** Attribute fields that were not contiguous on the wire are gathered here. */
  private gather = new Uint8Array(256);

  /** decode walks a whole request; it throws DecodeError on malformed input. */
  decode(buf: Uint8Array, v: MetricsVisitor): void {
    const r = this.r.reset(buf, 0, buf.length);
    while (r.more()) {
      const tag = r.uint32();
      if (tag === ((1 << 3) | WT_LEN)) {
        const end = r.len();
        this.resourceMetrics(buf, r.pos, end, v);
        r.pos = end;
        r.end = buf.length;
      } else this.skipField(r, tag);
    }
  }

  private skipField(r: Reader, tag: number): void {
    if (tag >>> 3 === 0) throw new DecodeError('field number 0');
    r.skip(tag & 7);
  }

  private resourceMetrics(buf: Uint8Array, start: number, end: number, v: MetricsVisitor): void {
    // The resource may follow its scopes on the wire: find it first.
    const r = this.r;
    let resStart = 0, resEnd = 0;
    r.pos = start;
    r.end = end;
    while (r.more()) {
      const tag = r.uint32();
      if (tag === ((1 << 3) | WT_LEN)) {
        const e = r.len();
        resStart = r.pos;
        resEnd = e;
        r.pos = e;
      } else this.skipField(r, tag);
    }
    v.resource(buf, resStart, resEnd);
    r.pos = start;
    while (r.more()) {
      const tag = r.uint32();
      if (tag === ((2 << 3) | WT_LEN)) {
        const e = r.len();
        this.scopeMetrics(buf, r.pos, e, v);
        r.pos = e;
        r.end = end;
      } else this.skipField(r, tag);
    }
  }

  private scopeMetrics(buf: Uint8Array, start: number, end: number, v: MetricsVisitor): void {
    const r = this.r;
    r.end = end;
    while (r.more()) {
      const tag = r.uint32();
      if (tag === ((2 << 3) | WT_LEN)) {
        const e = r.len();
        this.metric(buf, r.pos, e, v);
        r.pos = e;
        r.end = end;
      } else this.skipField(r, tag);
    }
  }

  private metric(buf: Uint8Array, start: number, end: number, v: MetricsVisitor): void {
    const r = this.r;
    const m = this.info;
    m.buf = buf;
    m.nameStart = m.nameEnd = m.descStart = m.descEnd = m.unitStart = m.unitEnd = 0;
    m.type = MetricType.None;
    m.temporality = Temporality.Unspecified;
    m.monotonic = false;
    let dataStart = 0, dataEnd = 0;
    r.end = end;
    while (r.more()) {
      const tag = r.uint32();
      const field = tag >>> 3;
      if ((tag & 7) === WT_LEN) {
        const e = r.len();
        switch (field) {
          case 1: m.nameStart = r.pos; m.nameEnd = e; break;
          case 2: m.descStart = r.pos; m.descEnd = e; break;
          case 3: m.unitStart = r.pos; m.unitEnd = e; break;
          case MetricType.Gauge: case MetricType.Sum: case MetricType.Histogram:
          case MetricType.ExponentialHistogram: case MetricType.Summary:
            m.type = field; dataStart = r.pos; dataEnd = e; break;
          default: break;
        }
        r.pos = e;
      } else this.skipField(r, tag);
    }
    if (m.type === MetricType.None) return;
    // Temporality and monotonicity follow the points on the wire: read them first.
    r.pos = dataStart;
    r.end = dataEnd;
    while (r.more()) {
      const tag = r.uint32();
      if (tag === ((2 << 3) | WT_VARINT)) m.temporality = r.uint32();
      else if (tag === ((3 << 3) | WT_VARINT)) m.monotonic = r.uint32() !== 0;
      else this.skipField(r, tag);
    }
    v.metric(m);
    r.pos = dataStart;
    while (r.more()) {
      const tag = r.uint32();
      if (tag === ((1 << 3) | WT_LEN)) {
        const e = r.len();
        const s = r.pos;
        switch (m.type) {
          case MetricType.Gauge: case MetricType.Sum: this.numberPoint(buf, s, e); v.numberPoint(this.num); break;
          case MetricType.Histogram: this.histogramPoint(buf, s, e); v.histogramPoint(this.hist); break;
          case MetricType.ExponentialHistogram: this.expPoint(buf, s, e); v.expHistogramPoint(this.exp); break;
          default: this.summaryPoint(buf, s, e); v.summaryPoint(this.sum); break;
        }
        r.pos = e;
        r.end = dataEnd;
      } else this.skipField(r, tag);
    }
  }

  // Attribute gathering: runs of KeyValue fields are usually contiguous; when they are not, the
  // fields are copied into `gather` so the key is still exactly the attribute bytes.
  private aStart = 0;
  private aEnd = 0;
  private aGathered = 0;

  private attrBegin(): void {
    this.aStart = this.aEnd = 0;
    this.aGathered = -1;
  }

  private attrField(buf: Uint8Array, fieldStart: number, fieldEnd: number): void {
    if (this.aGathered < 0) {
      if (this.aEnd === 0 && this.aStart === 0) {
        this.aStart = fieldStart;
        this.aEnd = fieldEnd;
        return;
      }
      if (this.aEnd === fieldStart) {
        this.aEnd = fieldEnd;
        return;
      }
      this.aGathered = 0;
      this.append(buf, this.aStart, this.aEnd);
    }
    this.append(buf, fieldStart, fieldEnd);
  }

  private append(buf: Uint8Array, s: number, e: number): void {
    const n = e - s;
    if (this.aGathered + n > this.gather.length) {
      const g = new Uint8Array(Math.max(this.gather.length * 2, this.aGathered + n));
      g.set(this.gather.subarray(0, this.aGathered));
      this.gather = g;
    }
    this.gather.set(buf.subarray(s, e), this.aGathered);
    this.aGathered += n;
  }

  private attrFinish(p: PointBase, buf: Uint8Array): void {
    if (this.aGathered < 0) {
      p.attrBuf = buf;
      p.attrStart = this.aStart;
      p.attrEnd = this.aEnd;
    } else {
      p.attrBuf = this.gather;
      p.attrStart = 0;
      p.attrEnd = this.aGathered;
    }
  }

  private numberPoint(buf: Uint8Array, start: number, end: number): void {
    const r = this.r;
    const o = r.out;
    const p = this.num;
    p.startMs = p.timeMs = p.flags = 0;
    p.value = 0;
    p.hasValue = false;
    this.attrBegin();
    r.pos = start;
    r.end = end;
    while (r.pos < end) {
      const fs = r.pos;
      const tag = r.uint32();
      switch (tag) {
        case (7 << 3) | WT_LEN: r.pos = r.len(); this.attrField(buf, fs, r.pos); break;
        case (2 << 3) | WT_I64: r.fixed64MsOut(); p.startMs = o[0]!; break;
        case (3 << 3) | WT_I64: r.fixed64MsOut(); p.timeMs = o[0]!; break;
        case (4 << 3) | WT_I64: r.doubleOut(); p.value = o[0]!; p.hasValue = true; break;
        case (6 << 3) | WT_I64: r.sfixed64Out(); p.value = o[0]!; p.hasValue = true; break;
        case (8 << 3) | WT_VARINT: p.flags = r.uint32(); break;
        default: this.skipField(r, tag);
      }
    }
    this.attrFinish(p, buf);
  }

  private histogramPoint(buf: Uint8Array, start: number, end: number): void {
    const r = this.r;
    const o = r.out;
    const p = this.hist;
    p.startMs = p.timeMs = p.flags = 0;
    p.count = p.sum = p.min = p.max = 0;
    p.hasSum = p.hasMin = p.hasMax = false;
    p.nBuckets = p.nBounds = 0;
    p.boundsStart = p.boundsEnd = -1;
    this.attrBegin();
    r.pos = start;
    r.end = end;
    while (r.pos < end) {
      const fs = r.pos;
      const tag = r.uint32();
      switch (tag) {
        case (9 << 3) | WT_LEN: r.pos = r.len(); this.attrField(buf, fs, r.pos); break;
        case (2 << 3) | WT_I64: r.fixed64MsOut(); p.startMs = o[0]!; break;
        case (3 << 3) | WT_I64: r.fixed64MsOut(); p.timeMs = o[0]!; break;
        case (4 << 3) | WT_I64: r.fixed64Out(); p.count = o[0]!; break;
        case (5 << 3) | WT_I64: r.doubleOut(); p.sum = o[0]!; p.hasSum = true; break;
        case (6 << 3) | WT_LEN: {
          const e = r.len();
          if ((e - r.pos) % 8 !== 0) throw new DecodeError('packed fixed64 length not a multiple of 8');
          const k = (e - r.pos) / 8;
          while (p.nBuckets + k > p.bucketCounts.length) p.bucketCounts = grow(p.bucketCounts);
          r.fixed64sInto(p.bucketCounts, p.nBuckets, k);
          p.nBuckets += k;
          break;
        }
        case (6 << 3) | WT_I64: this.pushBucket(p, r.fixed64()); break;
        case (7 << 3) | WT_LEN: {
          const e = r.len();
          if ((e - r.pos) % 8 !== 0) throw new DecodeError('packed double length not a multiple of 8');
          const k = (e - r.pos) / 8;
          if (p.nBounds === 0 && p.boundsStart < 0) {
            // The usual single packed field: kept as bytes (see HistogramPoint).
            p.boundsBuf = buf;
            p.boundsStart = r.pos;
            p.boundsEnd = e;
          } else {
            p.decodeBounds();
            while (p.nBounds + k > p.bounds.length) p.bounds = grow(p.bounds);
            readDoubles(buf, r.pos, k, p.bounds, p.nBounds);
          }
          p.nBounds += k;
          r.pos = e;
          break;
        }
        case (7 << 3) | WT_I64: p.decodeBounds(); r.doubleOut(); this.pushBound(p, o[0]!); break;
        case (10 << 3) | WT_VARINT: p.flags = r.uint32(); break;
        case (11 << 3) | WT_I64: r.doubleOut(); p.min = o[0]!; p.hasMin = true; break;
        case (12 << 3) | WT_I64: r.doubleOut(); p.max = o[0]!; p.hasMax = true; break;
        default: this.skipField(r, tag);
      }
    }
    this.attrFinish(p, buf);
  }

  private pushBucket(p: HistogramPoint, c: number): void {
    if (p.nBuckets === p.bucketCounts.length) p.bucketCounts = grow(p.bucketCounts);
    p.bucketCounts[p.nBuckets++] = c;
  }

  private pushBound(p: HistogramPoint, b: number): void {
    if (p.nBounds === p.bounds.length) p.bounds = grow(p.bounds);
    p.bounds[p.nBounds++] = b;
  }

  private expPoint(buf: Uint8Array, start: number, end: number): void {
    const r = this.r;
    const o = r.out;
    const p = this.exp;
    p.startMs = p.timeMs = p.flags = 0;
    p.count = p.sum = p.min = p.max = 0;
    p.hasSum = p.hasMin = p.hasMax = false;
    p.scale = p.zeroCount = p.zeroThreshold = 0;
    p.positive.n = p.positive.offset = 0;
    p.negative.n = p.negative.offset = 0;
    this.attrBegin();
    r.pos = start;
    r.end = end;
    while (r.pos < end) {
      const fs = r.pos;
      const tag = r.uint32();
      switch (tag) {
        case (1 << 3) | WT_LEN: r.pos = r.len(); this.attrField(buf, fs, r.pos); break;
        case (2 << 3) | WT_I64: r.fixed64MsOut(); p.startMs = o[0]!; break;
        case (3 << 3) | WT_I64: r.fixed64MsOut(); p.timeMs = o[0]!; break;
        case (4 << 3) | WT_I64: r.fixed64Out(); p.count = o[0]!; break;
        case (5 << 3) | WT_I64: r.doubleOut(); p.sum = o[0]!; p.hasSum = true; break;
        case (6 << 3) | WT_VARINT: p.scale = r.sint32(); break;
        case (7 << 3) | WT_I64: r.fixed64Out(); p.zeroCount = o[0]!; break;
        case (8 << 3) | WT_LEN: { const e = r.len(); this.expBuckets(p.positive, e); r.end = end; break; }
        case (9 << 3) | WT_LEN: { const e = r.len(); this.expBuckets(p.negative, e); r.end = end; break; }
        case (10 << 3) | WT_VARINT: p.flags = r.uint32(); break;
        case (12 << 3) | WT_I64: r.doubleOut(); p.min = o[0]!; p.hasMin = true; break;
        case (13 << 3) | WT_I64: r.doubleOut(); p.max = o[0]!; p.hasMax = true; break;
        case (14 << 3) | WT_I64: r.doubleOut(); p.zeroThreshold = o[0]!; break;
        default: this.skipField(r, tag);
      }
    }
    this.attrFinish(p, buf);
  }

  private expBuckets(b: ExpBuckets, end: number): void {
    const r = this.r;
    r.end = end;
    while (r.pos < end) {
      const tag = r.uint32();
      if (tag === ((1 << 3) | WT_VARINT)) b.offset = r.sint32();
      else if (tag === ((2 << 3) | WT_LEN)) {
        const e = r.len();
        while (r.pos < e) {
          if (b.n === b.counts.length) b.counts = grow(b.counts);
          b.counts[b.n++] = r.uint64();
        }
        if (r.pos !== e) throw new DecodeError('packed varint overruns its field');
      } else if (tag === ((2 << 3) | WT_VARINT)) {
        if (b.n === b.counts.length) b.counts = grow(b.counts);
        b.counts[b.n++] = r.uint64();
      } else this.skipField(r, tag);
    }
  }

  private summaryPoint(buf: Uint8Array, start: number, end: number): void {
    const r = this.r;
    const o = r.out;
    const p = this.sum;
    p.startMs = p.timeMs = p.flags = 0;
    p.count = p.sum = 0;
    p.nQuantiles = 0;
    this.attrBegin();
    r.pos = start;
    r.end = end;
    while (r.pos < end) {
      const fs = r.pos;
      const tag = r.uint32();
      switch (tag) {
        case (7 << 3) | WT_LEN: r.pos = r.len(); this.attrField(buf, fs, r.pos); break;
        case (2 << 3) | WT_I64: r.fixed64MsOut(); p.startMs = o[0]!; break;
        case (3 << 3) | WT_I64: r.fixed64MsOut(); p.timeMs = o[0]!; break;
        case (4 << 3) | WT_I64: r.fixed64Out(); p.count = o[0]!; break;
        case (5 << 3) | WT_I64: r.doubleOut(); p.sum = o[0]!; break;
        case (6 << 3) | WT_LEN: {
          const e = r.len();
          let q = 0, val = 0;
          r.end = e;
          while (r.pos < e) {
            const t = r.uint32();
            if (t === ((1 << 3) | WT_I64)) q = r.double();
            else if (t === ((2 << 3) | WT_I64)) val = r.double();
            else this.skipField(r, t);
          }
          r.end = end;
          if (p.nQuantiles === p.quantiles.length) {
            p.quantiles = grow(p.quantiles);
            p.values = grow(p.values);
          }
          p.quantiles[p.nQuantiles] = q;
          p.values[p.nQuantiles++] = val;
          break;
        }
        case (8 << 3) | WT_VARINT: p.flags = r.uint32(); break;
        default: this.skipField(r, tag);
      }
    }
    this.attrFinish(p, buf);
  }
}

function grow(a: Float64Array): Float64Array<ArrayBuffer> {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
}
