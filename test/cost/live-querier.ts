import type { Querier } from '../../src/store/interface.js';

/**
 * live is `q` without its digests: no day or hour digest and no kept edge read, so an analytics
 * answer reads everything from the series (what every answer was before digests).
 */
export function live(q: Querier): Querier {
  return {
    select: (a, m, h) => q.select(a, m, h),
    selectEach: (a, m, h, fn) => q.selectEach!(a, m, h, fn),
    series: (a, m, s, e) => q.series(a, m, s, e),
    labelNames: (a, m, s, e) => q.labelNames(a, m, s, e),
    labelValues: (a, n, m, s, e) => q.labelValues(a, n, m, s, e),
    metadata: (a, m) => q.metadata(a, m),
  };
}
