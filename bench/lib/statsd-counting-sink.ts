// A sink that only counts, so a benchmark measures the parser (and listener), not aggregation.
import type { IngestSink } from '../../src/ingest/sink.js';
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
  private add(v: number): boolean {
    this.samples++;
    this.sum += v;
    return true;
  }
  counter(_ref: number, increment: number, _tsMs?: number): boolean { return this.add(increment); }
  counterCumulative(_ref: number, total: number): boolean { return this.add(total); }
  gaugeSet(_ref: number, value: number, _tsMs?: number): boolean { return this.add(value); }
  gaugeAdd(_ref: number, delta: number): boolean { return this.add(delta); }
  observe(_ref: number, value: number, _count?: number, _tsMs?: number): boolean { return this.add(value); }
  setMember(_ref: number, h: number): boolean { return this.add(h); }
  histogram(): boolean { return this.add(0); }
  histogramCumulative(): boolean { return this.add(0); }
  flush(): void { this.flushes++; }
  accepting(): boolean { return true; }
}
