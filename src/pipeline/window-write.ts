import { MetricKind } from '../model/metric-kind.js';
import type { Appender } from '../store/interface.js';
import type { SeriesSlot } from './series-slot.js';
import type { WindowAgg } from './window-agg.js';

/**
 * writeWindow hands one closed window to the appender in the shape of its kind. A StatsD set
 * window is written as a gauge of its distinct-member count observed once:
 * last = min = max = sum = distinct count, count = 1, so a rollup's `max` is the busiest window
 * and `sum / count` the average distinct count per window.
 */
export function writeWindow(app: Appender, slot: SeriesSlot, w: WindowAgg): void {
  const id = slot.storeId;
  switch (slot.kind) {
    case MetricKind.Counter:
      app.counter(id, w.start, w.sum, w.t, w.raw);
      return;
    case MetricKind.Gauge:
      if (w.members !== null) {
        const n = w.members.size;
        app.gauge(id, w.start, n, n, n, n, 1, w.t);
      } else if (w.gauge !== null && (w.gauge.count > 0 || w.gauge.lastTs > -Infinity)) {
        const g = w.gauge;
        app.gauge(id, w.start, g.last, g.min, g.max, g.sum, g.count, w.t);
      }
      return;
    case MetricKind.Histogram:
      if (w.h !== null) app.histogram(id, w.start, w.h, w.t);
      return;
  }
}
