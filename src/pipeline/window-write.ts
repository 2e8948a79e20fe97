import { MetricKind } from '../model/metric-kind.js';
import type { Appender } from '../store/interface.js';
import type { WindowTable } from './window-agg.js';

/**
 * writeWindow hands one closed window (row `w` of `wins`) of a series of kind `kind` and store id
 * `id` to the appender in the shape of its kind. A StatsD set window is written as a gauge of its
 * distinct-member count observed once: last = min = max = sum = distinct count, count = 1, so a
 * rollup's `max` is the busiest window and `sum / count` the average distinct count per window.
 */
export function writeWindow(app: Appender, kind: MetricKind, id: number, wins: WindowTable, w: number): void {
  const start = wins.start[w]!, t = wins.t[w]!, p = wins.parts[w];
  switch (kind) {
    case MetricKind.Counter:
      app.counter(id, start, wins.sum[w]!, t, wins.raw[w]!);
      return;
    case MetricKind.Gauge:
      if (!p) return;
      if (p.members !== null) {
        const n = p.members.size;
        app.gauge(id, start, n, n, n, n, 1, t);
      } else if (p.gauge !== null && (p.gauge.count > 0 || p.gauge.lastTs > -Infinity)) {
        const g = p.gauge;
        app.gauge(id, start, g.last, g.min, g.max, g.sum, g.count, t);
      }
      return;
    case MetricKind.Histogram:
      if (p && p.h !== null) app.histogram(id, start, p.h, t);
      return;
  }
}
