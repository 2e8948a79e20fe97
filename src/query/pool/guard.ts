import type { Labels } from '../../model/labels.js';
import { Matcher } from '../../model/matcher.js';
import type { Querier, SelectHints, SelectResult } from '../../store/interface.js';
import { QueryError } from '../promql/api.js';

/**
 * CheckedMatcher is a Matcher that calls `check` every 64 tests, so a regex matched against many
 * label values still notices a passed deadline or a cancellation between values.
 */
class CheckedMatcher extends Matcher {
  private n = 0;
  constructor(m: Matcher, private readonly check: () => void) {
    super(m.type, m.name, m.value);
  }

  override matches(v: string): boolean {
    if ((++this.n & 63) === 0) this.check();
    return super.matches(v);
  }
}

/** seriesLimitError is the answer when a query touches more series than `limits.query_max_series`. */
export function seriesLimitError(limit: number): QueryError {
  return new QueryError('execution', `query selects more than ${limit} series (limits.query_max_series); narrow the selector`);
}

/**
 * guardQuerier wraps a Querier for one job: matchers check the deadline and the cancel flag
 * while the store matches them, every call checks once more when it returns, and the series a
 * job selects are counted against `maxSeries`.
 */
export function guardQuerier(q: Querier, check: () => void, maxSeries: number): Querier {
  let series = 0;
  const wrap = (ms: readonly Matcher[]) => ms.map((m) => new CheckedMatcher(m, check));
  const count = (n: number) => {
    series += n;
    if (series > maxSeries) throw seriesLimitError(maxSeries);
  };
  const each = q.selectEach?.bind(q);
  return {
    // Digests are read whole and few (one a day): nothing to count or interrupt.
    ...(q.digests === undefined ? {} : { digests: q.digests }),
    // Only where the store has it, so callers keep falling back to select otherwise.
    ...(each === undefined ? {} : {
      selectEach(tenant: string, matchers: readonly Matcher[], hints: SelectHints, fn: (r: SelectResult) => void): void {
        check();
        each(tenant, wrap(matchers), hints, (r) => {
          check();
          count(r.floats.length + r.histograms.length);
          fn(r);
        });
        check();
      },
    }),
    select(tenant: string, matchers: readonly Matcher[], hints: SelectHints): SelectResult {
      check();
      const r = q.select(tenant, wrap(matchers), hints);
      check();
      count(r.floats.length + r.histograms.length);
      return r;
    },
    series(tenant: string, matchers: readonly Matcher[], startMs: number, endMs: number): Labels[] {
      check();
      const r = q.series(tenant, wrap(matchers), startMs, endMs);
      check();
      count(r.length);
      return r;
    },
    labelNames(tenant: string, matchers: readonly Matcher[], startMs: number, endMs: number): string[] {
      check();
      const r = q.labelNames(tenant, wrap(matchers), startMs, endMs);
      check();
      return r;
    },
    labelValues(tenant: string, name: string, matchers: readonly Matcher[], startMs: number, endMs: number): string[] {
      check();
      const r = q.labelValues(tenant, name, wrap(matchers), startMs, endMs);
      check();
      return r;
    },
    metadata(tenant: string, metric?: string) {
      check();
      return q.metadata(tenant, metric);
    },
  };
}
