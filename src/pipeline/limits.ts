import { METRIC_NAME, type Labels } from '../model/labels.js';
import type { SeriesLimits } from './options.js';
import { Refusal } from '../ingest/sink.js';

/** RefusalReason is the `reason` label of tallyd_series_refused_total. */
export type RefusalReason = 'labels_per_series' | 'label_name_length' | 'label_value_length' | 'series_per_tenant' | 'series_per_metric';

/** REFUSAL_OF maps a series limit to the shared ingest refusal vocabulary. */
export const REFUSAL_OF: Readonly<Record<RefusalReason, Refusal>> = {
  labels_per_series: Refusal.LabelsPerSeries,
  label_name_length: Refusal.LabelNameLength,
  label_value_length: Refusal.LabelValueLength,
  series_per_tenant: Refusal.SeriesPerTenant,
  series_per_metric: Refusal.SeriesPerMetric,
};

/** overBytes skips Buffer.byteLength for strings too short to exceed the limit in any encoding. */
function overBytes(s: string, limit: number): boolean {
  if (s.length * 3 <= limit) return false;
  if (s.length > limit) return true;
  return Buffer.byteLength(s, 'utf8') > limit;
}

/** checkLabels returns why a label set breaks a per-series limit, or null. */
export function checkLabels(labels: Labels, limits: SeriesLimits): RefusalReason | null {
  if (labels.length > limits.maxLabelsPerSeries) return 'labels_per_series';
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (overBytes(l.name, limits.maxLabelNameBytes)) return 'label_name_length';
    if (overBytes(l.value, limits.maxLabelValueBytes)) return 'label_value_length';
  }
  return null;
}

/** TenantCardinality counts a tenant's series overall and per metric name. */
class TenantCardinality {
  total = 0;
  readonly perMetric = new Map<string, number>();
}

/**
 * CardinalityTracker admits new series under the per-tenant and per-metric limits. Series are
 * never released: a ref stays valid for the pipeline's lifetime (the IngestSink contract).
 */
export class CardinalityTracker {
  private readonly tenants = new Map<string, TenantCardinality>();
  constructor(private readonly limits: SeriesLimits) {}

  /** admit counts the series in when the limits allow it, else returns the limit it hits. */
  admit(tenant: string, labels: Labels): RefusalReason | null {
    let t = this.tenants.get(tenant);
    if (t === undefined) {
      t = new TenantCardinality();
      this.tenants.set(tenant, t);
    }
    if (t.total >= this.limits.maxSeriesPerTenant) return 'series_per_tenant';
    let name = '';
    for (let i = 0; i < labels.length; i++) if (labels[i]!.name === METRIC_NAME) name = labels[i]!.value;
    const m = t.perMetric.get(name) ?? 0;
    if (m >= this.limits.maxSeriesPerMetric) return 'series_per_metric';
    t.total++;
    t.perMetric.set(name, m + 1);
    return null;
  }

  /** seriesCount is how many series a tenant has (all tenants when omitted). */
  seriesCount(tenant?: string): number {
    if (tenant !== undefined) return this.tenants.get(tenant)?.total ?? 0;
    let n = 0;
    for (const t of this.tenants.values()) n += t.total;
    return n;
  }
}
