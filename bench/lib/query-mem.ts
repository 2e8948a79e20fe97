/**
 * Queriers for the query benchmark: a memo of what a store returns (so the same data can be
 * queried without the store's cost) and a wrapper that counts scanned samples and time spent in
 * select().
 */
import type { Labels } from '../../src/model/labels.js';
import type { Matcher } from '../../src/model/matcher.js';
import type { MetricMetadata, Querier, SelectHints, SelectResult } from '../../src/store/interface.js';

/**
 * MemQuerier memoises another querier's selections: the first select of a (matchers, hints)
 * pair reads through, repeats return the same arrays. Timed runs then see exactly the data the
 * store returned (whichever tier it chose) without the store's cost, which is what the
 * in-memory column measures. The engine never mutates selected data (the contract forbids it).
 */
export class MemQuerier implements Querier {
  private readonly cache = new Map<string, SelectResult>();
  constructor(private readonly inner: Querier) {}

  select(tenant: string, ms: readonly Matcher[], h: SelectHints): SelectResult {
    const key = `${tenant}\u0000${ms.map((m) => `${m.name}${m.type}${m.value}`).join(',')}\u0000${h.startMs}:${h.endMs}:${h.stepMs ?? 0}:${h.rangeMs ?? 0}`;
    let r = this.cache.get(key);
    if (r === undefined) {
      // A histogram's lazy base() memoises itself, so repeats reuse it too.
      r = this.inner.select(tenant, ms, h);
      this.cache.set(key, r);
    }
    return r;
  }

  series(): Labels[] { return []; }
  labelNames(): string[] { return []; }
  labelValues(): string[] { return []; }
  metadata(): MetricMetadata[] { return []; }
}

/** CountingQuerier forwards to another querier, counting samples returned and time in select(). */
export class CountingQuerier implements Querier {
  scanned = 0;
  selectMs = 0;
  constructor(private readonly inner: Querier) {}

  reset(): void {
    this.scanned = 0;
    this.selectMs = 0;
  }

  select(tenant: string, ms: readonly Matcher[], h: SelectHints): SelectResult {
    const a = performance.now();
    const r = this.inner.select(tenant, ms, h);
    this.selectMs += performance.now() - a;
    for (const f of r.floats) this.scanned += f.timestamps.length;
    for (const x of r.histograms) this.scanned += x.timestamps.length;
    return r;
  }

  series(tenant: string, ms: readonly Matcher[], s: number, e: number): Labels[] { return this.inner.series(tenant, ms, s, e); }
  labelNames(tenant: string, ms: readonly Matcher[], s: number, e: number): string[] { return this.inner.labelNames(tenant, ms, s, e); }
  labelValues(tenant: string, n: string, ms: readonly Matcher[], s: number, e: number): string[] { return this.inner.labelValues(tenant, n, ms, s, e); }
  metadata(tenant: string, metric?: string): MetricMetadata[] { return this.inner.metadata(tenant, metric); }
}
