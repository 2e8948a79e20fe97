// A sink that only counts, so a benchmark measures the parser (and listener), not aggregation.
import { ACCEPTED, type IngestSink, type Verdict } from '../../src/ingest/sink.js';
import { labelsKey, type Labels } from '../../src/model/labels.js';
import type { MetricKind } from '../../src/model/metric-kind.js';

export class CountingSink implements IngestSink {
  samples = 0;
  sum = 0;
  flushes = 0;
  private readonly refs = new Map<string, number>();

  get seriesCount(): number {
    return this.refs.size;
  }

  series(tenant: string, labels: Labels, kind: MetricKind): number {
    const key = tenant + '\u0000' + kind + '\u0000' + labelsKey(labels);
    let ref = this.refs.get(key);
    if (ref === undefined) {
      ref = this.refs.size;
      this.refs.set(key, ref);
    }
    return ref;
  }
  private add(v: number): Verdict {
    this.samples++;
    this.sum += v;
    return ACCEPTED;
  }
  counter(_ref: number, increment: number, _tsMs?: number): Verdict { return this.add(increment); }
  counterCumulative(_ref: number, total: number): Verdict { return this.add(total); }
  gaugeSet(_ref: number, value: number, _tsMs?: number): Verdict { return this.add(value); }
  gaugeAdd(_ref: number, delta: number): Verdict { return this.add(delta); }
  observe(_ref: number, value: number, _count?: number, _tsMs?: number): Verdict { return this.add(value); }
  setMember(_ref: number, h: number): Verdict { return this.add(h); }
  histogram(): Verdict { return this.add(0); }
  histogramCumulative(): Verdict { return this.add(0); }
  flush(): void { this.flushes++; }
  accepting(): boolean { return true; }
}
