import { labelsKey, type Labels } from '../model/labels.js';
import { MetricKind } from '../model/metric-kind.js';
import type { Store } from '../store/interface.js';
import type { RuleWriter } from './group.js';

/**
 * storeRuleWriter writes rule output (recording series, ALERTS, ALERTS_FOR_STATE) straight into
 * the store as gauge samples in the window of their evaluation time, bypassing the aggregation
 * pipeline, so a recording rule's output is queryable by the next rule of the same round.
 * Writes made in the same tick share one appender commit (the manager issues one rule's writes
 * together and awaits them all).
 */
export function storeRuleWriter(store: Store): RuleWriter {
  const res = store.rawResolutionMs;
  const ids = new Map<string, number>();
  let pending: { appender: ReturnType<Store['appender']>; done: Promise<void> } | null = null;

  return (tenant: string, labels: Labels, value: number, tMs: number) => {
    if (!pending) {
      const appender = store.appender();
      const batch = {
        appender,
        done: Promise.resolve().then(() => {
          pending = null;
          return appender.commit();
        }),
      };
      pending = batch;
    }
    const key = tenant + '\u0000' + labelsKey(labels);
    let id = ids.get(key);
    if (id === undefined) {
      id = pending.appender.seriesId(tenant, labels, MetricKind.Gauge);
      ids.set(key, id);
    }
    const ws = Math.floor(tMs / res) * res;
    // Stamped at the evaluation time, as Prometheus stamps recording rule samples.
    pending.appender.gauge(id, ws, value, value, value, value, 1, tMs);
    return pending.done;
  };
}
