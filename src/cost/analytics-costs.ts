import { getLabel, METRIC_NAME, type Labels } from '../model/labels.js';
import { Matcher } from '../model/matcher.js';
import type { Querier } from '../store/interface.js';
import { addCostDigest, daySegments, openDayDigests, type Segment } from './day-digest-read.js';
import type { Dimension } from './dimensions.js';
import type { RangeParams } from './analytics-params.js';
import { forEachIncrement, tierHint } from './analytics-read.js';
import { CALLS_METRIC, COST_METRIC, COST_SOURCE, KIND_LABEL, KIND_NAMES, TOKENS_METRIC, TokenKind } from './series-names.js';

/** HOUR_MS is the hint the forecast's month part is read at. */
const HOUR_MS = 3_600_000;

/**
 * analytics-costs.ts computes `GET /api/v1/analytics/costs` (SPEC section 7) from the derived
 * series the cost sink writes (tallyd_llm_cost_usd_total, tallyd_llm_tokens_total,
 * tallyd_llm_calls_total). A pure function of (querier, tenant, params): it holds no state and
 * returns plain JSON, so it runs as well on a query worker as on the main thread.
 */

/** CostsParams are a resolved range plus the clock (for the month forecast). */
export interface CostsParams extends RangeParams {
  readonly nowMs: number;
}

/** CostGroupJson is one group of the answer. */
export interface CostGroupJson {
  labels: Record<string, string>;
  cost_usd: number;
  /** All input tokens, cached included (as the GenAI conventions count them). */
  input_tokens: number;
  /** All output tokens, reasoning included. */
  output_tokens: number;
  calls: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  /** Tokens in windows where no price covered them (no computed cost was written). */
  unpriced_tokens: number;
  /** The sender's own cost (cost_source="reported"), never added to cost_usd. */
  reported_cost_usd: number;
  trend?: Array<[number, number]>;
  forecast_cost_usd?: number;
}

/** CostsData is the `data` of the answer. */
export interface CostsData {
  currency: 'USD';
  from: number;
  to: number;
  group_by: Dimension[];
  total_cost_usd: number;
  groups: CostGroupJson[];
}

/** Acc is one group's running figures, unrounded. */
export interface Acc {
  readonly json: CostGroupJson;
  trend: Float64Array | null;
  monthCost: number;
}

/**
 * CostAccs holds the groups of one answer while its parts are collected: live reads of the
 * series (collectCostsLive) and day digests (day-digest-read.ts) add into the same groups.
 */
export class CostAccs {
  readonly groups = new Map<string, Acc>();
  readonly nTrend: number;
  /** Trend bucket starts after the first, ascending. */
  readonly cuts: number[] = [];
  readonly monthStart: number;
  readonly monthEnd: number;
  /** forecast: the range ends in the current UTC month, so groups get a month forecast. */
  readonly forecast: boolean;

  constructor(readonly p: CostsParams) {
    this.nTrend = p.stepMs > 0 ? Math.ceil((p.toMs - p.fromMs + 1) / p.stepMs) : 0;
    for (let i = 1; i < this.nTrend; i++) this.cuts.push(p.fromMs + i * p.stepMs);
    const now = new Date(p.nowMs);
    this.monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
    this.monthEnd = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
    this.forecast = p.toMs >= this.monthStart && p.toMs < this.monthEnd;
  }

  /** acc is the group of a series or digest entry whose dimension `d` reads `value(d)`. */
  acc(value: (d: Dimension) => string): Acc {
    const groupBy = this.p.groupBy;
    let key = '';
    for (const d of groupBy) key += value(d) + '\u0000';
    let a = this.groups.get(key);
    if (a === undefined) {
      const gl: Record<string, string> = {};
      for (const d of groupBy) gl[d] = value(d);
      a = {
        json: { labels: gl, cost_usd: 0, input_tokens: 0, output_tokens: 0, calls: 0, cache_read_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0, unpriced_tokens: 0, reported_cost_usd: 0 },
        trend: this.nTrend > 0 ? new Float64Array(this.nTrend) : null,
        monthCost: 0,
      };
      this.groups.set(key, a);
    }
    return a;
  }

  /** trendIndex is the trend bucket of a sample at `t`. */
  trendIndex(t: number): number {
    return Math.min(this.nTrend - 1, Math.floor((t - this.p.fromMs) / this.p.stepMs));
  }

  /** finish rounds, sorts and drops empty groups: the answer. */
  finish(): CostsData {
    const p = this.p;
    if (this.forecast) {
      const elapsed = Math.max(1, Math.min(p.toMs, p.nowMs) - this.monthStart);
      for (const a of this.groups.values()) a.json.forecast_cost_usd = round((a.monthCost * (this.monthEnd - this.monthStart)) / elapsed);
    }
    let total = 0;
    const out: CostGroupJson[] = [];
    for (const a of this.groups.values()) {
      const j = a.json;
      if (j.cost_usd === 0 && j.input_tokens === 0 && j.output_tokens === 0 && j.calls === 0 && j.reported_cost_usd === 0 && (j.forecast_cost_usd ?? 0) === 0) continue;
      total += j.cost_usd;
      j.cost_usd = round(j.cost_usd);
      j.reported_cost_usd = round(j.reported_cost_usd);
      if (a.trend !== null) j.trend = Array.from(a.trend, (v, i) => [(p.fromMs + i * p.stepMs) / 1000, round(v)] as [number, number]);
      out.push(j);
    }
    out.sort((x, y) => y.cost_usd - x.cost_usd || cmpLabels(x.labels, y.labels));
    return { currency: 'USD', from: p.fromMs / 1000, to: p.toMs / 1000, group_by: [...p.groupBy], total_cost_usd: round(total), groups: out };
  }
}

/**
 * costsAnalytics answers the costs analytics for one tenant over params' range: whole UTC days
 * (and whole hours of today) that have a current digest from it, the rest (edges, the open hour,
 * days without one) from the series.
 */
export function costsAnalytics(q: Querier, tenant: string, p: CostsParams): CostsData {
  const accs = new CostAccs(p);
  const digests = openDayDigests(q, tenant);
  // Forecast: linear from the month so far, when the range ends in the current UTC month. The
  // main pass sees the month from `from` on; a range starting after the 1st needs the rest too,
  // computed cost only (the month part). When `from` falls inside an hour, the main pass's first
  // live read starts at that hour and hands what comes before `from` to the month part: each live
  // read costs about the same per series however short, and this one was made twice.
  const monthPart = accs.forecast && p.fromMs > accs.monthStart;
  const shared = monthPart && p.fromMs % HOUR_MS !== 0 ? Math.max(accs.monthStart, Math.floor(p.fromMs / HOUR_MS) * HOUR_MS) : p.fromMs;
  let monthTo = p.fromMs - 1;
  const hint = tierHint(p.fromMs, p.toMs, p.stepMs);
  const usable = (start: number, span: number): boolean => accs.nTrend === 0 || cutsAligned(accs.cuts, start, span);
  const add = (seg: Segment, hintMs: number, monthOnly: boolean): void => {
    if (seg.digest !== null) addCostDigest(accs, digests!, seg.digest, seg, monthOnly);
    else collectCostsLive(q, tenant, accs, seg.fromMs, seg.toMs, hintMs, monthOnly);
  };
  for (const seg of daySegments(digests, p.fromMs, p.toMs, { hintMs: hint, usable, exact: true })) {
    if (seg.digest === null && seg.fromMs === p.fromMs && shared < p.fromMs) {
      // The rest of the hour `from` falls in is what a read at `hint` takes from the finest tier
      // (analytics-read.ts, pieces): read so, from the hour's start.
      const hourEnd = Math.min(seg.toMs, Math.ceil(p.fromMs / HOUR_MS) * HOUR_MS - 1);
      collectCostsLive(q, tenant, accs, shared, hourEnd, 1, false, p.fromMs);
      if (hourEnd < seg.toMs) add({ fromMs: hourEnd + 1, toMs: seg.toMs, digest: null }, hint, false);
      monthTo = shared - 1;
    } else add(seg, hint, false);
  }
  // The month part is read at 1 h (counters' increments are exact in the hour tier, whose whole
  // hours day digests hold; the edges come from the finer tiers), so that the day `from` falls in
  // is taken from that day's digest, not from the series.
  if (monthPart && monthTo >= accs.monthStart) {
    for (const seg of daySegments(digests, accs.monthStart, monthTo, { hintMs: HOUR_MS, usable: () => true, exact: true, dayHours: true })) add(seg, HOUR_MS, true);
  }
  return accs.finish();
}

/**
 * cutsAligned says whether every trend bucket start inside [startMs, startMs + spanMs) falls on a
 * whole hour (digests keep cost by hour; an hour digest has no bucket start inside it then).
 */
function cutsAligned(cuts: readonly number[], startMs: number, spanMs: number): boolean {
  for (const c of cuts) {
    if (c <= startMs) continue;
    if (c >= startMs + spanMs) break;
    if (c % 3_600_000 !== 0) return false;
  }
  return true;
}

/**
 * collectCostsLive adds what the series hold in [fromMs, toMs] to `accs`, reading at `hint`;
 * `monthOnly` adds only computed cost to the month so far (the forecast's part before the range),
 * and so do the samples before `monthOnlyBefore` (a read that starts in the month part).
 */
export function collectCostsLive(q: Querier, tenant: string, accs: CostAccs, fromMs: number, toMs: number, hint: number, monthOnly: boolean, monthOnlyBefore = fromMs): void {
  const group = (labels: Labels): Acc => accs.acc((d) => getLabel(labels, d));
  if (monthOnly) {
    forEachIncrement(q, tenant, [eq(METRIC_NAME, COST_METRIC), eq(COST_SOURCE, 'computed')], fromMs, toMs, hint, perSeries((labels) => {
      const a = group(labels);
      return (_t: number, inc: number) => { a.monthCost += inc; };
    }));
    return;
  }
  // Windows that got a computed cost, per derived-series identity (dimension labels), to tell
  // priced tokens from unpriced ones.
  const priced = new Map<string, TimeSet>();
  const pricedOf = (labels: Labels): TimeSet => {
    const id = dimsKey(labels);
    let s = priced.get(id);
    if (s === undefined) priced.set(id, (s = new TimeSet()));
    return s;
  };
  const { forecast, monthStart } = accs;
  // Trend bucket starts: coarse windows straddling one are read finer (analytics-read.ts). The
  // token pass uses the same cuts so its sample times match the cost pass's (priced windows).
  const cuts = accs.cuts;
  forEachIncrement(q, tenant, [eq(METRIC_NAME, COST_METRIC)], fromMs, toMs, hint, perSeries((labels) => {
    const a = group(labels);
    if (getLabel(labels, COST_SOURCE) === 'reported') return (t: number, inc: number) => { if (t >= monthOnlyBefore) a.json.reported_cost_usd += inc; };
    const seen = pricedOf(labels);
    return (t: number, inc: number) => {
      if (t < monthOnlyBefore) {
        a.monthCost += inc;
        return;
      }
      a.json.cost_usd += inc;
      if (forecast && t >= monthStart) a.monthCost += inc;
      if (a.trend !== null) a.trend[accs.trendIndex(t)]! += inc;
      seen.add(t);
    };
  }), cuts);
  // The cost sink writes a cost increment (zero for a free model) in every window it priced, so
  // tokens in a window without one were unpriced.
  forEachIncrement(q, tenant, [eq(METRIC_NAME, TOKENS_METRIC)], fromMs, toMs, hint, perSeries((labels) => {
    const a = group(labels).json;
    const kind = (KIND_NAMES as readonly string[]).indexOf(getLabel(labels, KIND_LABEL));
    const seen = priced.get(dimsKey(labels));
    return (t: number, inc: number) => {
      if (t < monthOnlyBefore) return;
      switch (kind) {
        case TokenKind.Input: a.input_tokens += inc; break;
        case TokenKind.CacheRead: a.input_tokens += inc; a.cache_read_tokens += inc; break;
        case TokenKind.CacheWrite: a.input_tokens += inc; a.cache_write_tokens += inc; break;
        case TokenKind.Output: a.output_tokens += inc; break;
        case TokenKind.Reasoning: a.output_tokens += inc; a.reasoning_tokens += inc; break;
        default: return;
      }
      if (!(seen?.has(t) ?? false)) a.unpriced_tokens += inc;
    };
  }), cuts);
  forEachIncrement(q, tenant, [eq(METRIC_NAME, CALLS_METRIC)], fromMs, toMs, hint, perSeries((labels) => {
    const a = group(labels).json;
    return (t: number, inc: number) => { if (t >= monthOnlyBefore) a.calls += inc; };
  }));
}

/**
 * perSeries turns a per-series setup into a forEachIncrement callback: a series' increments come
 * one after another with one label-set object, so what a series needs of its labels (its group,
 * cost source, token kind, priced windows) is resolved once, at its first increment, by `setup`,
 * and the handler it returns takes the increments. Label scans per increment were the largest
 * single cost of a 90-day query.
 */
function perSeries(setup: (labels: Labels) => (t: number, inc: number) => void): (labels: Labels, key: string, t: number, inc: number) => void {
  let last: Labels | null = null;
  let handle: (t: number, inc: number) => void = () => undefined;
  return (labels, _key, t, inc) => {
    if (labels !== last) {
      last = labels;
      handle = setup(labels);
    }
    handle(t, inc);
  };
}

/**
 * TimeSet holds the sample times of one cost identity's priced windows: appended (mostly in
 * ascending order), sorted once, then probed by binary search. A Set of doubles hashed every one
 * of 13M window times of a 90-day, 10k-series query; this is a typed array and a few compares.
 */
class TimeSet {
  private ts = new Float64Array(64);
  private n = 0;
  private sorted = true;

  add(t: number): void {
    if (this.n === this.ts.length) {
      const next = new Float64Array(this.n * 2);
      next.set(this.ts);
      this.ts = next;
    }
    if (this.n > 0 && t <= this.ts[this.n - 1]!) this.sorted = false;
    this.ts[this.n++] = t;
  }

  has(t: number): boolean {
    if (!this.sorted) {
      this.ts = this.ts.subarray(0, this.n).sort();
      this.sorted = true;
    }
    let lo = 0, hi = this.n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.ts[mid]!;
      if (v < t) lo = mid + 1;
      else if (v > t) hi = mid - 1;
      else return true;
    }
    return false;
  }
}

function eq(name: string, value: string): Matcher {
  return new Matcher('=', name, value);
}

/**
 * DIMS keeps each label set's dimsKey: a store hands a series the same label-set object read after
 * read, and the keys of every cost and token series were built again for each answer's edges.
 */
const DIMS = new WeakMap<Labels, string>();

/** dimsKey identifies a derived series' dimension labels (everything but name, kind and cost_source). */
function dimsKey(labels: Labels): string {
  let k = DIMS.get(labels);
  if (k === undefined) DIMS.set(labels, (k = buildDimsKey(labels)));
  return k;
}

function buildDimsKey(labels: Labels): string {
  let s = '';
  for (const l of labels) if (l.name !== METRIC_NAME && l.name !== KIND_LABEL && l.name !== COST_SOURCE) s += l.name + '\u0001' + l.value + '\u0000';
  return s;
}

/**
 * round keeps 12 significant digits of USD: sums of float increments carry noise below that, and
 * the same figure summed in another order (by day from digests, by window live) reads the same.
 */
function round(v: number): number {
  if (v === 0 || !Number.isFinite(v)) return v;
  const m = 10 ** (11 - Math.floor(Math.log10(Math.abs(v))));
  return Math.round(v * m) / m;
}

function cmpLabels(a: Record<string, string>, b: Record<string, string>): number {
  const x = JSON.stringify(a), y = JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
