import { getLabel, METRIC_NAME, type Labels } from '../model/labels.js';
import { Matcher } from '../model/matcher.js';
import { SparseHistogram } from '../model/hdr.js';
import type { Querier } from '../store/interface.js';
import { addUsageDigest, daySegments, openDayDigests } from './day-digest-read.js';
import { dimensionValues, type Dimension, type DimensionMap } from './dimensions.js';
import type { RangeParams } from './analytics-params.js';
import { forEachIncrement, forEachWindowHistogram } from './analytics-read.js';
import { KIND_LABEL, TOKENS_METRIC } from './series-names.js';

/**
 * analytics-usage.ts computes `GET /api/v1/analytics/usage` (SPEC section 7): daily rows of calls,
 * successes, failures, latency (p95 from the merged HDR histograms of the day, never an average of
 * percentiles) and tokens per group. A pure function of (querier, tenant, params) returning plain
 * JSON, runnable on a query worker.
 */

/** UsageParams are a resolved range plus the dimension mapping (plain JSON). */
export interface UsageParams extends RangeParams {
  readonly dimensions: DimensionMap;
}

/** USAGE_HINT_MS is the step hint usage answers read at. */
const USAGE_HINT_MS = 3_600_000;

/** LATENCY_SOURCES are the call-latency histograms and the factor that turns their unit into ms. */
export const LATENCY_SOURCES: ReadonlyArray<readonly [string, number]> = [
  ['mcp_tool_execute_seconds', 1000],
  ['llm_provider_request_seconds', 1000],
  ['gen_ai_client_operation_duration_seconds', 1000],
  ['gen_ai_execute_tool_duration_seconds', 1000],
  ['mcp_client_operation_duration_seconds', 1000],
];
/** SPAN_LATENCY is the span-metrics histogram; it counts only for rows no metric source fills. */
export const SPAN_LATENCY: readonly [string, number] = ['traces_span_metrics_duration_milliseconds', 1];

/** UsageRowJson is one daily row. Dimensions not grouped by are null. */
export interface UsageRowJson {
  date: string;
  agent_id: string | null;
  tool_name: string | null;
  mcp_server_label: string | null;
  user_id: string | null;
  tenant_id: string | null;
  model?: string | null;
  provider?: string | null;
  call_count: number;
  success_count: number;
  failure_count: number;
  total_latency_ms: number;
  avg_latency_ms: number;
  p95_latency_ms: number | null;
  estimated_input_tokens: number;
  estimated_output_tokens: number;
}

/** UsageData is the `data` of the answer. */
export interface UsageData {
  from: number;
  to: number;
  group_by: Dimension[];
  rows: UsageRowJson[];
}

const FIELD: Readonly<Record<Dimension, keyof UsageRowJson>> = {
  agent: 'agent_id', tool: 'tool_name', mcp_server: 'mcp_server_label', user: 'user_id', tenant: 'tenant_id', model: 'model', provider: 'provider',
};

/** Part is a row's calls from one kind of source (metrics or span metrics), unrounded. */
export class Part {
  calls = 0;
  failures = 0;
  latencyMs = 0;
  /**
   * Merged histograms per unit factor (sources in seconds and in ms are kept apart); null until
   * the first (a 90-day answer has tens of thousands of parts, most settled from day digests).
   */
  hists: Map<number, SparseHistogram> | null = null;
  /**
   * The p95 taken when the part's day was complete (day digests, see day-digest-read.ts), its
   * histograms not kept; undefined when it is taken from `hists` as the answer finishes.
   */
  p95Ms: number | null | undefined = undefined;
}

/** Group is a group of an answer: its dimension values, their key, and its number in the answer. */
export interface Group {
  /** The dimension values in group-by order, each after a NUL. */
  readonly key: string;
  readonly dims: Record<string, string>;
  readonly idx: number;
}

/** Row is one daily row while it is collected. */
export interface Row {
  readonly date: string;
  readonly dims: Record<string, string>;
  /** The group's key (groupKey): the dimension values in group-by order, each after a NUL. */
  readonly key: string;
  readonly metric: Part;
  readonly span: Part;
  input: number;
  output: number;
}

/**
 * UsageRows holds the rows of one answer while its parts are collected: live reads of the series
 * (collectUsageLive) and day digests (day-digest-read.ts) add into the same rows.
 */
export class UsageRows {
  /**
   * Rows by UTC day (days since 1970), then by group number (Group.idx), with the day's date:
   * a 90-day answer makes tens of thousands of rows, and keying them by the group's text cost a
   * string-keyed map insert each.
   */
  private readonly byDay = new Map<number, { readonly date: string; readonly rows: Array<Row | UsageRowJson | undefined> }>();
  /** Each group's number, by key. */
  private readonly groups = new Map<string, number>();

  constructor(readonly p: UsageParams) {}

  /** groupKey is the group the group-by dimensions' values give. */
  groupKey(value: (d: Dimension) => string): Group {
    const dims: Record<string, string> = {};
    let key = '';
    for (const d of this.p.groupBy) {
      const v = value(d);
      dims[d] = v;
      key += '\u0000' + v;
    }
    let idx = this.groups.get(key);
    if (idx === undefined) this.groups.set(key, (idx = this.groups.size));
    return { key, dims, idx };
  }

  /** row is the row of a group on a UTC day (days since 1970). */
  row(g: Group, day: number): Row {
    const d = this.day(day);
    let r = d.rows[g.idx];
    if (r === undefined) d.rows[g.idx] = r = { date: d.date, dims: g.dims, key: g.key, metric: new Part(), span: new Part(), input: 0, output: 0 };
    else if (isJson(r)) throw new Error(`usage row ${d.date} ${g.key} is complete: nothing may add to it`);
    return r;
  }

  /**
   * put keeps a group's complete row of a day that no other part of the answer adds to (a day
   * digest's), as the answer shows it: the Row and its parts can be the caller's scratch, so a
   * 90-day answer keeps one object per row, not four.
   */
  put(g: Group, day: number, r: Row): void {
    const d = this.day(day);
    if (d.rows[g.idx] !== undefined) throw new Error(`usage row ${d.date} ${g.key} is already there`);
    d.rows[g.idx] = rowJson(r, this.p.groupBy);
  }

  /** date is a UTC day's date as rows show it. */
  date(day: number): string {
    return this.day(day).date;
  }

  private day(day: number): { readonly date: string; readonly rows: Array<Row | UsageRowJson | undefined> } {
    let d = this.byDay.get(day);
    if (d === undefined) this.byDay.set(day, (d = { date: new Date(day * 86_400_000).toISOString().slice(0, 10), rows: [] }));
    return d;
  }

  /** all lists every row still being collected (not those `put`), in no particular order. */
  *all(): IterableIterator<Row> {
    for (const d of this.byDay.values()) for (const r of d.rows) if (r !== undefined && !isJson(r)) yield r;
  }

  /** finish turns the rows into the answer: by date, then by calls (descending), then by group. */
  finish(): UsageData {
    const p = this.p;
    const out: UsageRowJson[] = [];
    const days = [...this.byDay.keys()].sort((a, b) => a - b);
    // Each day's rows sorted apart (a 90-day answer has tens of thousands of rows); groups are
    // ranked by key once, so a comparison is two numbers.
    const keys = [...this.groups.keys()];
    const rank = new Int32Array(keys.length);
    keys.map((_, i) => i).sort((a, b) => collate(keys[a]!, keys[b]!)).forEach((g, i) => { rank[g] = i; });
    const js: UsageRowJson[] = [];
    const idx: number[] = [];
    for (const day of days) {
      idx.length = 0;
      const rows = this.byDay.get(day)!.rows;
      for (let g = 0; g < rows.length; g++) {
        const r = rows[g];
        if (r === undefined) continue;
        js[g] = isJson(r) ? r : rowJson(r, p.groupBy);
        idx.push(g);
      }
      idx.sort((a, b) => js[b]!.call_count - js[a]!.call_count || rank[a]! - rank[b]!);
      for (const g of idx) out.push(js[g]!);
    }
    return { from: p.fromMs / 1000, to: p.toMs / 1000, group_by: [...p.groupBy], rows: out };
  }
}

/** isJson tells a row kept as the answer shows it (UsageRows.put) from one being collected. */
function isJson(r: Row | UsageRowJson): r is UsageRowJson {
  return 'call_count' in r;
}

/** collate orders group keys as String.prototype.localeCompare does, without its per-call setup. */
const collate = new Intl.Collator().compare;

/** rowJson is a row as the answer shows it. */
function rowJson(r: Row, groupBy: readonly Dimension[]): UsageRowJson {
  // A call reported by a metric and by its span counts once: span metrics fill only rows that
  // no metric source fills.
  const part = r.metric.calls > 0 ? r.metric : r.span;
  const j: UsageRowJson = {
    date: r.date, agent_id: null, tool_name: null, mcp_server_label: null, user_id: null, tenant_id: null,
    call_count: part.calls,
    success_count: part.calls - part.failures,
    failure_count: part.failures,
    total_latency_ms: round(part.latencyMs),
    avg_latency_ms: part.calls > 0 ? round(part.latencyMs / part.calls) : 0,
    p95_latency_ms: p95(part),
    estimated_input_tokens: r.input,
    estimated_output_tokens: r.output,
  };
  for (const d of groupBy) (j as unknown as Record<string, string>)[FIELD[d]] = r.dims[d]!;
  return j;
}

/** FAILURE_OUTCOMES are `outcome`/`status` values that mean a failed call. */
const FAILURE_VALUES = new Set(['error', 'errors', 'failure', 'failed', 'fail', 'timeout', 'rate_limited', 'cancelled', 'canceled', 'status_code_error', 'unavailable', 'internal']);

/** isFailure reads `outcome`, `status`, `status_code` and `error_type` the way the seeds emit them. */
export function isFailure(labels: Labels): boolean {
  const et = getLabel(labels, 'error_type');
  if (et !== '' && et !== 'none' && et !== 'ok') return true;
  for (const name of ['outcome', 'status', 'status_code']) {
    const v = getLabel(labels, name).toLowerCase();
    if (v === '') continue;
    if (FAILURE_VALUES.has(v)) return true;
    if (/^[45]\d\d$/.test(v)) return true;
  }
  return false;
}

/**
 * usageAnalytics answers the usage analytics for one tenant over params' range: whole UTC days
 * (and whole hours of today) that have a current digest from it, the rest (edges, the open hour,
 * days without one) from the series.
 */
export function usageAnalytics(q: Querier, tenant: string, p: UsageParams): UsageData {
  const rows = new UsageRows(p);
  // Whole hours are read at 1 h whatever the range (its edges at the finest tier: pieces in
  // analytics-read.ts): a whole hour's p95 comes from the hour tier, folded to rollup precision
  // (quantiles within 1 %), as an hour or day digest holds it, so that `period=1d` takes today's
  // hours from their digests and an answer does not change with whether a digest was there.
  const hint = USAGE_HINT_MS;
  const digests = openDayDigests(q, tenant, p.dimensions);
  for (const seg of daySegments(digests, p.fromMs, p.toMs, { hintMs: hint, usable: () => true })) {
    if (seg.digest !== null) addUsageDigest(rows, digests!, seg.digest, seg.fromMs);
    else collectUsageLive(q, tenant, rows, seg.fromMs, seg.toMs, hint);
  }
  return rows.finish();
}

/** collectUsageLive adds what the series hold in [fromMs, toMs] to `rows`, reading at `hint`. */
export function collectUsageLive(q: Querier, tenant: string, rows: UsageRows, fromMs: number, toMs: number, hint: number): void {
  const p = rows.p;
  // Per series (one label-set object for all its samples in a select): its group key; per day its row.
  // A series' windows come in time order, so its last row is the next window's row but once a day.
  const groupOf = new WeakMap<Labels, Group & { day: number; row: Row | null }>();
  const row = (labels: Labels, t: number): Row => {
    let g = groupOf.get(labels);
    if (g === undefined) {
      const dv = dimensionValues(labels, p.dimensions);
      groupOf.set(labels, (g = { ...rows.groupKey((d) => dv[d]), day: NaN, row: null }));
    }
    const day = Math.floor(t / 86_400_000);
    if (day === g.day) return g.row!;
    g.day = day;
    g.row = rows.row(g, day);
    return g.row;
  };
  const failed = new WeakMap<Labels, boolean>();
  const feed = (name: string, factor: number, span: boolean) => {
    forEachWindowHistogram(q, tenant, [new Matcher('=', METRIC_NAME, name)], fromMs, toMs, hint, (labels, t, h) => {
      const r = row(labels, t);
      const part = span ? r.span : r.metric;
      part.calls += h.count;
      let f = failed.get(labels);
      if (f === undefined) failed.set(labels, (f = span ? getLabel(labels, 'status_code') === 'STATUS_CODE_ERROR' : isFailure(labels)));
      if (f) part.failures += h.count;
      part.latencyMs += h.sum * factor;
      const hists = (part.hists ??= new Map());
      const m = hists.get(factor);
      if (m === undefined) hists.set(factor, h.clone());
      else m.add(h);
    });
  };
  for (const [name, factor] of LATENCY_SOURCES) feed(name, factor, false);
  feed(SPAN_LATENCY[0], SPAN_LATENCY[1], true);
  // Tokens come from the de-duplicated derived series, which carry the dimension labels.
  const asSource = new WeakMap<Labels, Labels>();
  forEachIncrement(q, tenant, [new Matcher('=', METRIC_NAME, TOKENS_METRIC)], fromMs, toMs, hint, (labels, _k, t, inc) => {
    if (inc === 0) return;
    let src = asSource.get(labels);
    if (src === undefined) asSource.set(labels, (src = dimLabelsAsSource(labels, p.dimensions)));
    const r = row(src, t);
    const kind = getLabel(labels, KIND_LABEL);
    if (kind === 'output' || kind === 'reasoning') r.output += inc;
    else r.input += inc;
  });
}

/**
 * p95 of a row: one HDR histogram per unit merged across every window and series of the day; with
 * several units, the histograms are rescaled to ms before merging.
 */
function p95(part: Part): number | null {
  return part.p95Ms !== undefined ? part.p95Ms : p95Of(part.calls, part.hists ?? NO_HISTS);
}

const NO_HISTS: ReadonlyMap<number, SparseHistogram> = new Map();

/** p95In is the p95 of a part whose calls all merged into `h`, in a unit `f` times ms. */
export function p95In(f: number, h: SparseHistogram): number {
  return round(h.quantile(0.95) * f);
}

/** p95Of is the p95 of a part of `calls` calls whose merged histograms by unit factor are `hists`. */
export function p95Of(calls: number, hists: ReadonlyMap<number, SparseHistogram>): number | null {
  if (calls === 0) return null;
  if (hists.size === 1) {
    const [f, h] = hists.entries().next().value!;
    return p95In(f, h);
  }
  const ms = new SparseHistogram();
  for (const [f, h] of hists) {
    // Re-record each bucket at its representative value in ms (within HDR precision).
    for (let i = 0; i < h.size; i++) {
      const q = new SparseHistogram();
      q.addAtIndex(h.indices[i]!, h.counts[i]!);
      ms.record(q.quantile(0.5) * f, h.counts[i]!);
    }
  }
  return round(ms.quantile(0.95));
}

/**
 * dimLabelsAsSource lets the derived token series (labelled by dimension names) be read through
 * the configured mapping: each dimension label is presented under the first label its mapping reads.
 */
function dimLabelsAsSource(labels: Labels, map: DimensionMap): Labels {
  const out: Array<{ name: string; value: string }> = [];
  for (const l of labels) {
    const names = (map as Record<string, readonly string[]>)[l.name];
    if (names !== undefined && names.length > 0) out.push({ name: names[0]!, value: l.value });
  }
  out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return out;
}


function round(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}
