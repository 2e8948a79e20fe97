// A recording IngestSink for parser and listener tests: it keeps every series definition and
// sample as plain data, refuses series whose name is listed, and refuses points outside a
// timestamp range, the way the pipeline does.
import { ACCEPTED, Refusal, refusedRef, type IngestSink, type Verdict } from '../../../src/ingest/sink.js';
import { formatLabels, labelsKey, metricName, type Labels } from '../../../src/model/labels.js';
import { MetricKind } from '../../../src/model/metric-kind.js';

export interface Recorded {
  op: 'counter' | 'gaugeSet' | 'gaugeAdd' | 'observe' | 'setMember';
  /** The series as Prometheus prints it, e.g. `x_total{env="prod"}`. */
  series: string;
  kind: MetricKind;
  tenant: string;
  value: number;
  count: number;
  tsMs: number;
}

export class RecordingSink implements IngestSink {
  readonly samples: Recorded[] = [];
  readonly defs: Array<{ tenant: string; labels: Labels; kind: MetricKind }> = [];
  seriesCalls = 0;
  flushes = 0;
  refuseNames = new Set<string>();
  minTsMs = -Infinity;
  maxTsMs = Infinity;
  private readonly refs = new Map<string, number>();

  series(tenant: string, labels: Labels, kind: MetricKind): number {
    this.seriesCalls++;
    if (this.refuseNames.has(metricName(labels))) return refusedRef(Refusal.SeriesLimit);
    const key = `${tenant}\u0000${kind}\u0000${labelsKey(labels)}`;
    let ref = this.refs.get(key);
    if (ref === undefined) {
      ref = this.defs.length;
      this.defs.push({ tenant, labels, kind });
      this.refs.set(key, ref);
    }
    return ref;
  }

  private rec(op: Recorded['op'], ref: number, value: number, count: number, tsMs: number): Verdict {
    if (tsMs < this.minTsMs) return Refusal.TooOld;
    if (tsMs > this.maxTsMs) return Refusal.TooNew;
    const d = this.defs[ref]!;
    this.samples.push({ op, series: formatLabels(d.labels).replace('{}', ''), kind: d.kind, tenant: d.tenant, value, count, tsMs });
    return ACCEPTED;
  }

  counter(ref: number, increment: number, tsMs: number): Verdict { return this.rec('counter', ref, increment, 1, tsMs); }
  counterCumulative(): Verdict { throw new Error('StatsD never sends cumulative counters'); }
  gaugeSet(ref: number, value: number, tsMs: number): Verdict { return this.rec('gaugeSet', ref, value, 1, tsMs); }
  gaugeAdd(ref: number, delta: number, tsMs: number): Verdict { return this.rec('gaugeAdd', ref, delta, 1, tsMs); }
  observe(ref: number, value: number, count: number, tsMs: number): Verdict { return this.rec('observe', ref, value, count, tsMs); }
  setMember(ref: number, memberHash: number, tsMs: number): Verdict { return this.rec('setMember', ref, memberHash, 1, tsMs); }
  histogram(): Verdict { throw new Error('StatsD never sends histograms'); }
  histogramCumulative(): Verdict { throw new Error('StatsD never sends histograms'); }
  flush(): void { this.flushes++; }
  accepting(): boolean { return true; }

  /** total sums the values of one op on one series. */
  total(series: string, op: Recorded['op'] = 'counter'): number {
    return this.samples.filter((s) => s.series === series && s.op === op).reduce((a, s) => a + s.value, 0);
  }
}
