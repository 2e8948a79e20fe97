import type { IngestSink, SeriesOptions, Verdict } from '../../../src/ingest/sink.js';
import { ACCEPTED, Refusal, refusedRef } from '../../../src/ingest/sink.js';
import { labelsKey, labelsToRecord, type Labels } from '../../../src/model/labels.js';
import type { MetricKind } from '../../../src/model/metric-kind.js';
import type { SparseHistogram } from '../../../src/model/hdr.js';

/** RecordedSeries is one `series` call. */
export interface RecordedSeries {
  readonly ref: number;
  readonly tenant: string;
  readonly labels: Record<string, string>;
  readonly kind: MetricKind;
  readonly opts: SeriesOptions | undefined;
}

/** Sample is one sample call, with the method that made it. */
export interface Sample {
  readonly method: 'counter' | 'counterCumulative' | 'gaugeSet' | 'gaugeAdd' | 'observe' | 'setMember' | 'histogram' | 'histogramCumulative';
  readonly ref: number;
  readonly value: number;
  readonly startMs: number;
  readonly tsMs: number;
  readonly h: SparseHistogram | null;
}

/**
 * RecordingSink is an IngestSink that keeps everything it is given, for tests that assert what a
 * parser pushes. It can refuse series (by predicate), samples (by timestamp) and new work.
 */
export class RecordingSink implements IngestSink {
  readonly series_: RecordedSeries[] = [];
  readonly samples: Sample[] = [];
  private readonly refs = new Map<string, number>();
  flushes = 0;
  seriesCalls = 0;
  accept = true;
  refuseSeries: (labels: Record<string, string>) => boolean = () => false;
  refuseSample: (tsMs: number) => boolean = () => false;
  /** The Refusal a refused series or sample is refused for. */
  seriesRefusal: Refusal = Refusal.SeriesLimit;
  sampleRefusal: Refusal = Refusal.Pipeline;
  /** When set, decides every sample first (ACCEPTED lets refuseSample decide), as the pipeline's checks do. */
  judge: ((ref: number, tsMs: number) => Verdict) | null = null;
  /** Stale markers received (IngestSink.stale), in order. */
  readonly stales: Array<{ ref: number; tsMs: number }> = [];

  series(tenant: string, labels: Labels, kind: MetricKind, opts?: SeriesOptions): number {
    this.seriesCalls++;
    const rec = labelsToRecord(labels);
    if (this.refuseSeries(rec)) return refusedRef(this.seriesRefusal);
    const key = tenant + '\u0001' + labelsKey(labels) + '\u0001' + kind;
    let ref = this.refs.get(key);
    if (ref === undefined) {
      ref = this.series_.length;
      this.refs.set(key, ref);
      this.series_.push({ ref, tenant, labels: rec, kind, opts });
    }
    return ref;
  }

  private push(method: Sample['method'], ref: number, value: number, startMs: number, tsMs: number, h: SparseHistogram | null): Verdict {
    const v = this.judge === null ? ACCEPTED : this.judge(ref, tsMs);
    if (v !== ACCEPTED) return v;
    if (this.refuseSample(tsMs)) return this.sampleRefusal;
    this.samples.push({ method, ref, value, startMs, tsMs, h });
    return ACCEPTED;
  }

  counter(ref: number, increment: number, tsMs: number): Verdict { return this.push('counter', ref, increment, 0, tsMs, null); }
  counterCumulative(ref: number, total: number, startMs: number, tsMs: number): Verdict { return this.push('counterCumulative', ref, total, startMs, tsMs, null); }
  stale(ref: number, tsMs: number): Verdict {
    if (this.refuseSample(tsMs)) return this.sampleRefusal;
    this.stales.push({ ref, tsMs });
    return ACCEPTED;
  }
  gaugeSet(ref: number, value: number, tsMs: number): Verdict { return this.push('gaugeSet', ref, value, 0, tsMs, null); }
  gaugeAdd(ref: number, delta: number, tsMs: number): Verdict { return this.push('gaugeAdd', ref, delta, 0, tsMs, null); }
  observe(ref: number, value: number, count: number, tsMs: number): Verdict { return this.push('observe', ref, value, count, tsMs, null); }
  setMember(ref: number, memberHash: number, tsMs: number): Verdict { return this.push('setMember', ref, memberHash, 0, tsMs, null); }
  histogram(ref: number, h: SparseHistogram, tsMs: number): Verdict { return this.push('histogram', ref, h.count, 0, tsMs, h); }
  histogramCumulative(ref: number, h: SparseHistogram, startMs: number, tsMs: number): Verdict { return this.push('histogramCumulative', ref, h.count, startMs, tsMs, h); }
  flush(): void { this.flushes++; }
  accepting(): boolean { return this.accept; }

  /** byName returns the series whose `__name__` is `name`. */
  byName(name: string): RecordedSeries[] {
    return this.series_.filter((s) => s.labels['__name__'] === name);
  }

  /** samplesOf returns the samples pushed for a series ref, in order. */
  samplesOf(ref: number): Sample[] {
    return this.samples.filter((s) => s.ref === ref);
  }
}
