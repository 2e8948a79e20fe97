import { ACCEPTED, REFUSAL_NAMES, Refusal, refRefusal, refusedRef, type IngestSink } from '../sink.js';
import { labelsFromRecord, METRIC_NAME } from '../../model/labels.js';
import { MetricKind } from '../../model/metric-kind.js';
import { ByteKeyCache } from '../../wire/byte-key-cache.js';
import { DecodeError, Reader, WT_I64, WT_LEN, WT_VARINT, utf8String } from '../../wire/proto-reader.js';

/**
 * decode.ts ingests a Prometheus remote write 1.0 `WriteRequest` (prometheus/prompb, the
 * uncompressed protobuf) into a sink. The mapping, from the sample's metric name and, when the
 * sender includes it, the request's metadata for the metric family:
 *
 * - family type COUNTER, or a name ending `_total`: a counter fed with counterCumulative (reads
 *   return the sender's values, resets included);
 * - classic histogram and summary parts: `<f>_bucket{le}`, `<f>_count` and `<f>_sum` are each a
 *   counter series under their own name, fed cumulatively (they are cumulative counters in
 *   Prometheus, and keeping them as such makes `histogram_quantile(rate(<f>_bucket[5m]))` and
 *   `rate(<f>_sum)/rate(<f>_count)` answer exactly what Prometheus would); when metadata says
 *   the family is a GAUGEHISTOGRAM they are gauges;
 * - everything else (gauges, summary quantiles, `_created`, unknown types): a gauge (last value).
 *
 * A stale marker ends its series at its time (IngestSink.stale; reads then find no value, as in
 * Prometheus); other NaN or infinite values are refused, as are
 * negative counter totals and native histograms (not supported in 1.0 ingest).
 */

/** RemoteWriteResult tallies one request. */
export interface RemoteWriteResult {
  received: number;
  refusedBadValue: number;
  refusedSeries: number;
  refusedPipeline: number;
  refusedUnsupported: number;
  /** Refused samples by the shared refusal vocabulary (index: Refusal). */
  byReason: number[];
}

const STALE_HI = 0x7ff00000;
const STALE_LO = 0x00000002;

const enum Route {
  Gauge = 0,
  Counter = 1,
}

interface SeriesEntry {
  /** The sink's ref; negative when the series was refused (refusedRef: the reason rides in it). */
  readonly ref: number;
  readonly route: Route;
}

/** Prometheus MetricMetadata.MetricType values. */
const enum MetaType {
  Counter = 1,
  Gauge = 2,
  Histogram = 3,
  GaugeHistogram = 4,
  Summary = 5,
}

/** MAX_REFUSED_CACHED bounds how many refused series the series cache remembers. */
const MAX_REFUSED_CACHED = 10_000;

/** RemoteWriteDecoder keeps the series cache of one receiver; decode calls are synchronous. */
export class RemoteWriteDecoder {
  private readonly sink: IngestSink;
  private readonly cache: ByteKeyCache<SeriesEntry>;
  private readonly tenants = new Map<string, number>();
  private readonly r = new Reader();
  private readonly sr = new Reader();
  /** Metric family types from metadata; Prometheus sends metadata in requests of their own. */
  private readonly meta = new Map<string, number>();
  private gather = new Uint8Array(512);
  /** Refused series in the cache (see MAX_REFUSED_CACHED). */
  private refusedCached = 0;

  constructor(sink: IngestSink, maxCachedSeries = 500_000) {
    this.sink = sink;
    this.cache = new ByteKeyCache(maxCachedSeries);
  }

  /** decode ingests a whole uncompressed WriteRequest; it throws DecodeError on malformed input. */
  decode(buf: Uint8Array, tenant: string): RemoteWriteResult {
    const res: RemoteWriteResult = { received: 0, refusedBadValue: 0, refusedSeries: 0, refusedPipeline: 0, refusedUnsupported: 0, byReason: new Array<number>(REFUSAL_NAMES.length).fill(0) };
    let tid = this.tenants.get(tenant);
    if (tid === undefined) this.tenants.set(tenant, (tid = this.tenants.size + 1));
    const meta = this.metadata(buf);
    const r = this.r.reset(buf, 0, buf.length);
    while (r.more()) {
      const tag = r.uint32();
      if (tag === ((1 << 3) | WT_LEN)) {
        const end = r.len();
        this.timeSeries(buf, r.pos, end, tenant, tid, meta, res);
        r.reset(buf, end, buf.length);
      } else skip(r, tag);
    }
    return res;
  }

  /** metadata records the per-family types of field 3 and returns what is known so far (null: nothing). */
  private metadata(buf: Uint8Array): Map<string, number> | null {
    const out = this.meta;
    const r = new Reader(buf, 0, buf.length);
    while (r.more()) {
      const tag = r.uint32();
      if (tag !== ((3 << 3) | WT_LEN)) { skip(r, tag); continue; }
      const end = r.len();
      let type = 0, family = '';
      const m = new Reader(buf, r.pos, end);
      while (m.more()) {
        const t = m.uint32();
        if (t === ((1 << 3) | WT_VARINT)) type = m.uint32();
        else if (t === ((2 << 3) | WT_LEN)) { const e = m.len(); family = utf8String(buf, m.pos, e); m.pos = e; }
        else skip(m, t);
      }
      if (family !== '') {
        if (out.size >= 100_000 && !out.has(family)) out.clear();
        out.set(family, type);
      }
      r.pos = end;
    }
    return out.size === 0 ? null : out;
  }

  private timeSeries(buf: Uint8Array, start: number, end: number, tenant: string, tid: number, meta: Map<string, number> | null, res: RemoteWriteResult): void {
    const r = this.r.reset(buf, start, end);
    // Label fields are contiguous in every known sender; gather them when they are not.
    let lStart = -1, lEnd = -1, gathered = -1;
    while (r.more()) {
      const fs = r.pos;
      const tag = r.uint32();
      if (tag === ((1 << 3) | WT_LEN)) {
        r.pos = r.len();
        if (lStart < 0) { lStart = fs; lEnd = r.pos; }
        else if (gathered < 0 && lEnd === fs) lEnd = r.pos;
        else {
          if (gathered < 0) gathered = this.append(0, buf, lStart, lEnd);
          gathered = this.append(gathered, buf, fs, r.pos);
        }
      } else if (tag === ((4 << 3) | WT_LEN)) {
        r.pos = r.len();
        res.received++;
        res.refusedUnsupported++;
        res.byReason[Refusal.Unsupported]!++;
      } else skip(r, tag);
    }
    if (lStart < 0) lStart = lEnd = start;
    const kb = gathered < 0 ? buf : this.gather;
    const ks = gathered < 0 ? lStart : 0;
    const ke = gathered < 0 ? lEnd : gathered;
    let e = this.cache.get(kb, ks, ke, tid, 0);
    if (e === undefined) {
      e = this.resolve(kb, ks, ke, tenant, meta);
      if (this.cache.size < this.refusedCached) this.refusedCached = 0; // the cache was cleared
      // Refused series are cached up to a budget: a flood of one refused series stays cheap, but a
      // cardinality attack (every series new, every one refused) does not fill the cache with
      // keys that never become series (1M of them held ~470 MiB of RSS).
      if (e.ref >= 0 || this.refusedCached < MAX_REFUSED_CACHED) {
        if (e.ref < 0) this.refusedCached++;
        this.cache.set(kb, ks, ke, tid, 0, e);
      }
    }
    // Samples.
    r.reset(buf, start, end);
    while (r.more()) {
      const tag = r.uint32();
      if (tag !== ((2 << 3) | WT_LEN)) { skip(r, tag); continue; }
      const se = r.len();
      let value = 0, ts = 0, stale = false;
      const s = this.sr.reset(buf, r.pos, se);
      while (s.more()) {
        const t = s.uint32();
        if (t === ((1 << 3) | WT_I64)) {
          const p = s.pos;
          stale = p + 8 <= se && u32(buf, p) === STALE_LO && u32(buf, p + 4) === STALE_HI;
          value = s.double();
        } else if (t === ((2 << 3) | WT_VARINT)) ts = s.int64();
        else skip(s, t);
      }
      r.pos = se;
      res.received++;
      if (stale) {
        // A stale marker ends the series here, as in Prometheus.
        if (e.ref < 0) res.refusedSeries++;
        else if (this.sink.stale !== undefined && this.sink.stale(e.ref, ts) !== ACCEPTED) res.refusedPipeline++;
        continue;
      }
      if (value !== value || value === Infinity || value === -Infinity || (e.route === Route.Counter && value < 0)) {
        res.refusedBadValue++;
        res.byReason[Refusal.BadValue]!++;
        continue;
      }
      if (e.ref < 0) {
        res.refusedSeries++;
        res.byReason[refRefusal(e.ref)]!++;
        continue;
      }
      const v = e.route === Route.Counter ? this.sink.counterCumulative(e.ref, value, 0, ts) : this.sink.gaugeSet(e.ref, value, ts);
      if (v !== ACCEPTED) {
        res.refusedPipeline++;
        res.byReason[v]!++;
      }
    }
  }

  private append(at: number, buf: Uint8Array, s: number, e: number): number {
    const n = e - s;
    if (at + n > this.gather.length) {
      const g = new Uint8Array(Math.max(this.gather.length * 2, at + n));
      g.set(this.gather.subarray(0, at));
      this.gather = g;
    }
    this.gather.set(buf.subarray(s, e), at);
    return at + n;
  }

  private resolve(buf: Uint8Array, start: number, end: number, tenant: string, meta: Map<string, number> | null): SeriesEntry {
    const rec: Record<string, string> = {};
    const r = new Reader(buf, start, end);
    while (r.more()) {
      const tag = r.uint32();
      if (tag !== ((1 << 3) | WT_LEN)) { skip(r, tag); continue; }
      const le = r.len();
      let name = '', value = '';
      const lr = new Reader(buf, r.pos, le);
      while (lr.more()) {
        const t = lr.uint32();
        if (t === ((1 << 3) | WT_LEN)) { const x = lr.len(); name = utf8String(buf, lr.pos, x); lr.pos = x; }
        else if (t === ((2 << 3) | WT_LEN)) { const x = lr.len(); value = utf8String(buf, lr.pos, x); lr.pos = x; }
        else skip(lr, t);
      }
      if (name !== '') rec[name] = value;
      r.pos = le;
    }
    const name = rec[METRIC_NAME] ?? '';
    if (name === '') return { ref: refusedRef(Refusal.SeriesLimit), route: Route.Gauge };
    const route = routeOf(name, meta);
    const ref = this.sink.series(tenant, labelsFromRecord(rec), route === Route.Counter ? MetricKind.Counter : MetricKind.Gauge);
    return { ref, route };
  }
}

/** routeOf picks counter or gauge for a sample name (see the file comment). */
function routeOf(name: string, meta: Map<string, number> | null): Route {
  if (meta !== null) {
    const direct = meta.get(name);
    if (direct === MetaType.Counter) return Route.Counter;
    if (direct === MetaType.Gauge) return Route.Gauge;
    for (const suffix of ['_bucket', '_count', '_sum'] as const) {
      if (!name.endsWith(suffix)) continue;
      const t = meta.get(name.slice(0, -suffix.length));
      if (t === MetaType.Histogram || t === MetaType.Summary) return Route.Counter;
      if (t === MetaType.GaugeHistogram) return Route.Gauge;
    }
  }
  if (name.endsWith('_total') || name.endsWith('_bucket') || name.endsWith('_count') || name.endsWith('_sum')) return Route.Counter;
  return Route.Gauge;
}

function u32(buf: Uint8Array, p: number): number {
  return (buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24)) >>> 0;
}

function skip(r: Reader, tag: number): void {
  if (tag >>> 3 === 0) throw new DecodeError('field number 0');
  r.skip(tag & 7);
}
