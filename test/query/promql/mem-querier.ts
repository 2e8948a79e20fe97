import { SparseHistogram } from '../../../src/model/hdr.js';
import { getLabel, labelsKey, type Labels } from '../../../src/model/labels.js';
import type { Matcher } from '../../../src/model/matcher.js';
import type { FloatSeries, HistogramSeries, MetricMetadata, Querier, SelectHints, SelectResult } from '../../../src/store/interface.js';

/** MemFloat is a loaded float series. */
interface MemFloat {
  labels: Labels;
  t: number[];
  v: number[];
}

/** MemHist is a loaded histogram series: cumulative values and the per-point deltas. */
interface MemHist {
  labels: Labels;
  t: number[];
  deltas: SparseHistogram[];
  cumulative: SparseHistogram[];
}

/**
 * MemQuerier implements the Querier contract over in-memory series for engine tests: inclusive
 * time bounds, histograms as deltas plus a lazy base, selections counted so tests can see how
 * often storage was read.
 */
export class MemQuerier implements Querier {
  readonly floats: MemFloat[] = [];
  readonly hists: MemHist[] = [];
  selects = 0;
  lastHints: SelectHints | null = null;

  /** addFloat adds (or extends) a float series. */
  addFloat(labels: Labels, t: number[], v: number[]): void {
    this.floats.push({ labels, t, v });
  }

  /** addHistogram adds a histogram series from per-point deltas. */
  addHistogram(labels: Labels, t: number[], deltas: SparseHistogram[]): void {
    const cumulative: SparseHistogram[] = [];
    let cur = new SparseHistogram();
    for (const d of deltas) {
      cur = cur.clone().add(d);
      cumulative.push(cur);
    }
    this.hists.push({ labels, t, deltas, cumulative });
  }

  private matches(labels: Labels, matchers: readonly Matcher[]): boolean {
    for (const m of matchers) if (!m.matches(getLabel(labels, m.name))) return false;
    return true;
  }

  select(_tenant: string, matchers: readonly Matcher[], hints: SelectHints): SelectResult {
    this.selects++;
    this.lastHints = hints;
    const floats: FloatSeries[] = [];
    const histograms: HistogramSeries[] = [];
    for (const s of this.floats) {
      if (!this.matches(s.labels, matchers)) continue;
      const ts: number[] = [], vs: number[] = [];
      for (let i = 0; i < s.t.length; i++) {
        if (s.t[i]! >= hints.startMs && s.t[i]! <= hints.endMs) {
          ts.push(s.t[i]!);
          vs.push(s.v[i]!);
        }
      }
      if (ts.length > 0) floats.push({ labels: s.labels, timestamps: Float64Array.from(ts), values: Float64Array.from(vs) });
    }
    for (const s of this.hists) {
      if (!this.matches(s.labels, matchers)) continue;
      let first = -1, last = -1;
      for (let i = 0; i < s.t.length; i++) {
        if (s.t[i]! >= hints.startMs && s.t[i]! <= hints.endMs) {
          if (first < 0) first = i;
          last = i;
        }
      }
      if (first < 0) continue;
      const cum = s.cumulative;
      histograms.push({
        labels: s.labels,
        timestamps: Float64Array.from(s.t.slice(first, last + 1)),
        deltas: s.deltas.slice(first, last + 1),
        base: () => (first === 0 ? new SparseHistogram() : cum[first - 1]!),
      });
    }
    const byLabels = (a: { labels: Labels }, b: { labels: Labels }) => (labelsKey(a.labels) < labelsKey(b.labels) ? -1 : 1);
    floats.sort(byLabels);
    histograms.sort(byLabels);
    return { floats, histograms };
  }

  series(_tenant: string, matchers: readonly Matcher[]): Labels[] {
    return [...this.floats, ...this.hists].filter((s) => this.matches(s.labels, matchers)).map((s) => s.labels);
  }

  labelNames(): string[] {
    const names = new Set<string>();
    for (const s of [...this.floats, ...this.hists]) for (const l of s.labels) names.add(l.name);
    return [...names].sort();
  }

  labelValues(_tenant: string, name: string): string[] {
    const vals = new Set<string>();
    for (const s of [...this.floats, ...this.hists]) {
      const v = getLabel(s.labels, name);
      if (v !== '') vals.add(v);
    }
    return [...vals].sort();
  }

  metadata(): MetricMetadata[] {
    return [];
  }
}
