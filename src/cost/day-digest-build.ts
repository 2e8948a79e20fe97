import type { SparseHistogram } from '../model/hdr.js';
import type { Querier } from '../store/interface.js';
import { CostAccs, collectCostsLive } from './analytics-costs.js';
import { UsageRows, collectUsageLive, type Part } from './analytics-usage.js';
import { CostField, COST_VALUES, mappingFingerprint, type CostEntry, type DayDigestData, type PartData, type UsageEntry } from './day-digest.js';
import { DIMENSIONS, type DimensionMap } from './dimensions.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;

/**
 * buildDayDigest reads one UTC day of a tenant's series the way a live answer reads it (the same
 * collect functions, grouped by every dimension, cost also by hour) and returns its digest. A
 * digest answer is then the live answer's sums regrouped, to float rounding.
 */
export function buildDayDigest(q: Querier, tenant: string, dayMs: number, mapping: DimensionMap): DayDigestData {
  if (dayMs % DAY !== 0) throw new Error(`buildDayDigest: ${dayMs} is not the start of a UTC day`);
  return buildDigest(q, tenant, dayMs, DAY, mapping);
}

/**
 * buildHourDigest is buildDayDigest for one whole UTC hour (of a day not settled yet): the same
 * reads over [hourMs, hourMs + 1 h), so its figures are the live answer's for that hour.
 */
export function buildHourDigest(q: Querier, tenant: string, hourMs: number, mapping: DimensionMap): DayDigestData {
  if (hourMs % HOUR !== 0) throw new Error(`buildHourDigest: ${hourMs} is not the start of a UTC hour`);
  return buildDigest(q, tenant, hourMs, HOUR, mapping);
}

function buildDigest(q: Querier, tenant: string, dayMs: number, spanMs: number, mapping: DimensionMap): DayDigestData {
  const toMs = dayMs + spanMs - 1;
  // nowMs 0: no month forecast (its figures are not kept).
  const accs = new CostAccs({ fromMs: dayMs, toMs, groupBy: [...DIMENSIONS], stepMs: HOUR, nowMs: 0 });
  collectCostsLive(q, tenant, accs, dayMs, toMs, HOUR, false);
  const costs: CostEntry[] = [];
  for (const a of accs.groups.values()) {
    const j = a.json;
    const f = new Array<number>(COST_VALUES).fill(0);
    f[CostField.Cost] = j.cost_usd;
    f[CostField.Reported] = j.reported_cost_usd;
    f[CostField.Input] = j.input_tokens;
    f[CostField.Output] = j.output_tokens;
    f[CostField.CacheRead] = j.cache_read_tokens;
    f[CostField.CacheWrite] = j.cache_write_tokens;
    f[CostField.Reasoning] = j.reasoning_tokens;
    f[CostField.Unpriced] = j.unpriced_tokens;
    f[CostField.Calls] = j.calls;
    if (f.every((x) => x === 0)) continue;
    costs.push({ dims: DIMENSIONS.map((d) => j.labels[d]!), f, hours: Array.from(a.trend!) });
  }
  const rows = new UsageRows({ fromMs: dayMs, toMs, groupBy: [...DIMENSIONS], stepMs: 0, dimensions: mapping });
  collectUsageLive(q, tenant, rows, dayMs, toMs, HOUR);
  const usage: UsageEntry[] = [];
  for (const r of rows.all()) {
    usage.push({ dims: DIMENSIONS.map((d) => r.dims[d]!), metric: partData(r.metric), span: partData(r.span), input: r.input, output: r.output });
  }
  return { dayMs, mapping: mappingFingerprint(mapping), costs, usage };
}

function partData(p: Part): PartData {
  const hists = [...(p.hists ?? [])].map(([factor, h]) => histData(factor, h));
  return { calls: p.calls, failures: p.failures, latencyMs: p.latencyMs, hists };
}

function histData(factor: number, h: SparseHistogram): PartData['hists'][number] {
  return { factor, count: h.count, sum: h.sum, min: h.min, max: h.max, indices: Array.from(h.indices.subarray(0, h.size)), counts: Array.from(h.counts.subarray(0, h.size)) };
}
