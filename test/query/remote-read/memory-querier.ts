import { compareLabels, getLabel, labelsFromRecord, metricName, type Labels } from '../../../src/model/labels.js';
import type { Matcher } from '../../../src/model/matcher.js';
import type { SparseHistogram } from '../../../src/model/hdr.js';
import type { FloatSeries, HistogramSeries, MetricMetadata, Querier, SelectHints, SelectResult } from '../../../src/store/interface.js';

interface FloatEntry {
  tenant: string;
  labels: Labels;
  timestamps: Float64Array;
  values: Float64Array;
}

interface HistEntry {
  tenant: string;
  labels: Labels;
  timestamps: Float64Array;
  deltas: SparseHistogram[];
}

function matchesAll(labels: Labels, matchers: readonly Matcher[]): boolean {
  for (const m of matchers) if (!m.matches(getLabel(labels, m.name))) return false;
  return true;
}

function cut(ts: Float64Array, startMs: number, endMs: number): [number, number] {
  let from = 0;
  while (from < ts.length && ts[from]! < startMs) from++;
  let to = from;
  while (to < ts.length && ts[to]! <= endMs) to++;
  return [from, to];
}

/**
 * MemoryQuerier is a Querier over series held in memory, for tests of the read surfaces: it
 * keeps tenants apart, applies matchers the way the store must (absent label = ''), and cuts
 * samples to the inclusive time range. `selects` records every select call's hints.
 */
export class MemoryQuerier implements Querier {
  private readonly floats: FloatEntry[] = [];
  private readonly hists: HistEntry[] = [];
  readonly selects: Array<{ tenant: string; hints: SelectHints }> = [];

  /** addFloat adds a float series (timestamps ascending). */
  addFloat(tenant: string, labels: Record<string, string>, points: ReadonlyArray<readonly [number, number]>): this {
    this.floats.push({
      tenant,
      labels: labelsFromRecord(labels),
      timestamps: Float64Array.from(points, (p) => p[0]),
      values: Float64Array.from(points, (p) => p[1]),
    });
    return this;
  }

  /** addHistogram adds a histogram-valued series of per-point deltas. */
  addHistogram(tenant: string, labels: Record<string, string>, timestamps: number[], deltas: SparseHistogram[]): this {
    this.hists.push({ tenant, labels: labelsFromRecord(labels), timestamps: Float64Array.from(timestamps), deltas });
    return this;
  }

  select(tenant: string, matchers: readonly Matcher[], hints: SelectHints): SelectResult {
    this.selects.push({ tenant, hints });
    const floats: FloatSeries[] = [];
    for (const e of this.floats) {
      if (e.tenant !== tenant || !matchesAll(e.labels, matchers)) continue;
      const [from, to] = cut(e.timestamps, hints.startMs, hints.endMs);
      if (to > from) floats.push({ labels: e.labels, timestamps: e.timestamps.subarray(from, to), values: e.values.subarray(from, to) });
    }
    const histograms: HistogramSeries[] = [];
    for (const e of this.hists) {
      if (e.tenant !== tenant || !matchesAll(e.labels, matchers)) continue;
      const [from, to] = cut(e.timestamps, hints.startMs, hints.endMs);
      if (to <= from) continue;
      const deltas = e.deltas.slice(from, to);
      const base = e.deltas.slice(0, from);
      histograms.push({
        labels: e.labels,
        timestamps: e.timestamps.subarray(from, to),
        deltas,
        base: () => {
          const h = deltas[0]!.clone();
          h.scale(0);
          for (const d of base) h.add(d);
          return h;
        },
      });
    }
    return { floats, histograms };
  }

  private all(tenant: string, matchers: readonly Matcher[], startMs: number, endMs: number): Labels[] {
    const out: Labels[] = [];
    for (const e of [...this.floats, ...this.hists]) {
      if (e.tenant !== tenant || !matchesAll(e.labels, matchers)) continue;
      const [from, to] = cut(e.timestamps, startMs, endMs);
      if (to > from) out.push(e.labels);
    }
    return out.sort(compareLabels);
  }

  series(tenant: string, matchers: readonly Matcher[], startMs: number, endMs: number): Labels[] {
    return this.all(tenant, matchers, startMs, endMs);
  }

  labelNames(tenant: string, matchers: readonly Matcher[], startMs: number, endMs: number): string[] {
    const names = new Set<string>();
    for (const ls of this.all(tenant, matchers, startMs, endMs)) for (const l of ls) names.add(l.name);
    return [...names].sort();
  }

  labelValues(tenant: string, name: string, matchers: readonly Matcher[], startMs: number, endMs: number): string[] {
    const values = new Set<string>();
    for (const ls of this.all(tenant, matchers, startMs, endMs)) {
      const v = getLabel(ls, name);
      if (v !== '') values.add(v);
    }
    return [...values].sort();
  }

  metadata(tenant: string, metric?: string): MetricMetadata[] {
    const names = new Set<string>();
    for (const e of this.floats) if (e.tenant === tenant) names.add(metricName(e.labels));
    return [...names]
      .filter((n) => metric === undefined || n === metric)
      .sort()
      .map((n) => ({ metric: n, type: 'unknown' as const, help: '', unit: '' }));
  }
}
