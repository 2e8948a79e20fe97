import { SparseHistogram } from '../model/hdr.js';
import type { DigestReader, Querier } from '../store/interface.js';
import type { Acc, CostAccs } from './analytics-costs.js';
import { Part, p95In, p95Of, type Group, type Row, type UsageRows } from './analytics-usage.js';
import {
  COST_FIELDS, CostField, GROUPS_KEY, decodeGroups, digestCurrent, digestDoubles, groupsLength, mappingFingerprint, spanKey, type Section, type Span,
} from './day-digest.js';
import { DIMENSIONS, type Dimension, type DimensionMap } from './dimensions.js';

/**
 * day-digest-read.ts lets an analytics answer take whole UTC days from day digests
 * (day-digest.ts), and whole hours of days not settled yet from hour digests: it splits a range
 * into digest days, digest hours and the parts read live (edges, the open hour, days and hours
 * without a current digest), and adds a digest's groups into the answer's.
 */

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** DIM_INDEX is each dimension's place in a group's values. */
const DIM_INDEX = Object.fromEntries(DIMENSIONS.map((d, i) => [d, i])) as Record<Dimension, number>;

/** Group tables already parsed, per reader and tenant, with the length they were parsed at. */
const tables = new WeakMap<DigestReader, Map<string, string[][]>>();

/** OpenDigests is one tenant's digests as one answer reads them. */
export interface OpenDigests {
  readonly reader: DigestReader;
  readonly tenant: string;
  readonly groups: readonly string[][];
  readonly settled: { readonly fromMs: number; readonly toMs: number; readonly keptFromMs: number };
  /** The settled hours, [fromMs, toMs): those an hour digest may cover. */
  readonly hours: { readonly fromMs: number; readonly toMs: number };
  /** The mapping fingerprint usage entries must have (usage answers only). */
  readonly mapping: number | null;
}

/**
 * openDayDigests opens a tenant's digests for one answer; null when the querier keeps none.
 * `mapping` (usage answers) requires digests grouped by that dimension mapping.
 */
export function openDayDigests(q: Querier, tenant: string, mapping?: DimensionMap): OpenDigests | null {
  const reader = q.digests;
  if (reader === undefined) return null;
  const stored = reader.get(tenant, GROUPS_KEY);
  if (stored === undefined) return null;
  let perTenant = tables.get(reader);
  if (perTenant === undefined) tables.set(reader, (perTenant = new Map()));
  let groups = perTenant.get(tenant);
  if (groups === undefined || groups.length !== groupsLength(stored.bytes)) perTenant.set(tenant, (groups = decodeGroups(stored.bytes)));
  return { reader, tenant, groups, settled: reader.settledDays(), hours: reader.settledHours(), mapping: mapping === undefined ? null : mappingFingerprint(mapping) };
}

/**
 * Segment is a part of a range: [fromMs, toMs], a whole day or hour from its digest (`digest`), or
 * read live (null). With `dayHours` (daySegments) a day digest's segment may be whole hours of its
 * day only, read from its cost by hour.
 */
export interface Segment {
  readonly fromMs: number;
  readonly toMs: number;
  readonly digest: Span | null;
}

/** SegmentOptions say how an answer reads the parts daySegments leaves live, and which digests serve it. */
export interface SegmentOptions {
  /** The step hint its live parts are read at (analytics-read.ts). */
  readonly hintMs: number;
  /** usable(startMs, spanMs) says whether a digest of that day or hour may serve the answer. */
  readonly usable: (startMs: number, spanMs: number) => boolean;
  /**
   * Hour digests serve an answer whose live parts are read at `hintMs` of an hour or more: those
   * read a whole hour from the hour tier, as its digest did. A finer read takes it from the raw
   * tier, whose histograms are not folded to rollup precision (a usage p95 would differ; usage
   * answers read at 1 h), so only an answer of counters' increments (`exact`: costs, the same in
   * every tier) takes them then, as it takes day digests at any hint. (What tells priced tokens from unpriced is the window: the
   * hour tier's in a digest, a raw window read live. They differ only for an identity priced in
   * part of an hour, as when a price is added mid-hour.)
   */
  readonly exact?: boolean;
  /**
   * dayHours (an answer that needs computed cost only: the forecast's month before the range)
   * lets a settled day's digest serve the whole hours of the day that no hour digest holds.
   */
  readonly dayHours?: boolean;
}

/**
 * daySegments splits [fromMs, toMs] (inclusive) into digest days (whole UTC days inside it that
 * are settled, have a digest built at the day's current stamp, and that `usable` accepts), days
 * that no point was ever written into (left out: they add nothing) and live parts between them
 * (adjacent live days in one part: each live read has a cost per series). Each live part is split
 * the same way into digest hours (whole settled hours with a digest at the hour's current stamp:
 * the hours of today so far), empty hours and what is left live, usually the open hour.
 * A range that starts before the digests' tier keeps its data is read live whole: its start comes
 * from a coarser tier, whose windows straddle the days a digest would cut it into.
 * See SegmentOptions for when hour digests serve an answer.
 */
export function daySegments(od: OpenDigests | null, fromMs: number, toMs: number, o: SegmentOptions): Segment[] {
  const { hintMs, usable, exact = false, dayHours = false } = o;
  const out: Segment[] = [];
  if (od === null || fromMs < od.settled.keptFromMs) {
    out.push({ fromMs, toMs, digest: null });
    return out;
  }
  const read = (f: number, t: number): void => {
    out.push({ fromMs: f, toMs: t, digest: null });
  };
  const rest = dayHours ? (f: number, t: number): void => splitDayHours(od, f, t, read, out) : read;
  const live = hintMs < HOUR && !exact ? read : (f: number, t: number): void => splitSpans(od, f, t, 'hour', usable, rest, out);
  splitSpans(od, fromMs, toMs, 'day', usable, live, out);
  return out;
}

/**
 * splitDayHours appends to `out` the whole hours of [fromMs, toMs] that lie in a settled day with
 * a current digest, one segment per day, and hands the parts between them to `live`.
 */
function splitDayHours(od: OpenDigests, fromMs: number, toMs: number, live: (fromMs: number, toMs: number) => void, out: Segment[]): void {
  let liveFrom = fromMs;
  const first = Math.ceil(fromMs / HOUR) * HOUR;
  const end = Math.floor((toMs + 1) / HOUR) * HOUR;
  for (let a = first; a < end;) {
    const day = Math.floor(a / DAY) * DAY;
    const b = Math.min(end, day + DAY);
    if (day >= od.settled.fromMs && day + DAY <= od.settled.toMs && digestCurrent(od.reader, od.tenant, 'day', day, od.mapping)) {
      if (liveFrom < a) live(liveFrom, a - 1);
      out.push({ fromMs: a, toMs: b - 1, digest: 'day' });
      liveFrom = b;
    }
    a = b;
  }
  if (liveFrom <= toMs) live(liveFrom, toMs);
}

/**
 * splitSpans appends to `out` the whole days (hours) of [fromMs, toMs] that have a current digest,
 * leaves out empty ones, and hands the parts between them to `live`.
 */
function splitSpans(
  od: OpenDigests, fromMs: number, toMs: number, span: Span, usable: (startMs: number, spanMs: number) => boolean,
  live: (fromMs: number, toMs: number) => void, out: Segment[],
): void {
  const unit = span === 'day' ? DAY : HOUR;
  const settled = span === 'day' ? od.settled : od.hours;
  let liveFrom = fromMs;
  const first = Math.max(Math.ceil(fromMs / unit) * unit, settled.fromMs);
  const end = Math.min(Math.floor((toMs + 1) / unit) * unit, settled.toMs);
  for (let start = first; start + unit <= end; start += unit) {
    if (!usable(start, unit)) continue;
    if (span === 'day' ? od.reader.dayEmpty(start) : od.reader.hourEmpty(start)) {
      // Nothing to add: no segment, and the live part before it ends here.
      if (liveFrom < start) live(liveFrom, start - 1);
      liveFrom = start + unit;
      continue;
    }
    if (!digestCurrent(od.reader, od.tenant, span, start, od.mapping)) continue;
    if (liveFrom < start) live(liveFrom, start - 1);
    out.push({ fromMs: start, toMs: start + unit - 1, digest: span });
    liveFrom = start + unit;
  }
  if (liveFrom <= toMs) live(liveFrom, toMs);
}

/**
 * doubles reads a section of a day's (hour's) digest (its head checked current by daySegments;
 * the sections were written with it in one transaction). Valid until the next digest read.
 */
function doubles(od: OpenDigests, span: Span, startMs: number, section: Section): Float64Array {
  const d = od.reader.get(od.tenant, spanKey(span, startMs, section));
  if (d === undefined) throw new Error(`${span} digest ${new Date(startMs).toISOString()} ${section} vanished while read`);
  return digestDoubles(d.bytes);
}

/** Per answer: the group of each group id, resolved at its first use. */
const costGroups = new WeakMap<CostAccs, Array<Acc | undefined>>();

/**
 * addCostDigest adds a digest segment (a day, or an hour: `span`) to a costs answer; `monthOnly`
 * adds only computed cost to the month so far (the forecast's part before the range), and may
 * take whole hours of a day only (daySegments' `dayHours`). Trend buckets take each hour's cost at
 * the hour's start: callers use digests for a trend only where every bucket start is a whole hour.
 */
export function addCostDigest(accs: CostAccs, od: OpenDigests, span: Span, seg: { readonly fromMs: number; readonly toMs: number }, monthOnly: boolean): void {
  const dayMs = span === 'day' ? Math.floor(seg.fromMs / DAY) * DAY : seg.fromMs;
  if (span === 'day' && (seg.fromMs !== dayMs || seg.toMs !== dayMs + DAY - 1)) {
    if (!monthOnly) throw new Error('addCostDigest: part of a day is computed cost only (monthOnly)');
    addDayHoursCost(accs, od, dayMs, (seg.fromMs - dayMs) / HOUR, (seg.toMs + 1 - dayMs) / HOUR);
    return;
  }
  // A read is valid until the next: with a trend, the (smaller) costs section is copied out
  // before the hours are read. Hours are kept in entry order.
  const trend = !monthOnly && accs.nTrend > 0;
  const cv = trend ? doubles(od, span, dayMs, 'costs').slice() : doubles(od, span, dayMs, 'costs');
  const hours = trend ? doubles(od, span, dayMs, 'hours') : null;
  const n = cv.length / COST_FIELDS;
  const byGid = groupsOf(accs);
  const inMonth = accs.forecast && dayMs >= accs.monthStart;
  let hp = 0;
  for (let i = 0; i < n; i++) {
    const o = i * COST_FIELDS;
    const a = costAcc(accs, od, byGid, cv[o]!);
    const f = o + 1;
    const cost = cv[f + CostField.Cost]!;
    if (monthOnly) {
      a.monthCost += cost;
      continue;
    }
    const j = a.json;
    j.cost_usd += cost;
    j.reported_cost_usd += cv[f + CostField.Reported]!;
    j.input_tokens += cv[f + CostField.Input]!;
    j.output_tokens += cv[f + CostField.Output]!;
    j.cache_read_tokens += cv[f + CostField.CacheRead]!;
    j.cache_write_tokens += cv[f + CostField.CacheWrite]!;
    j.reasoning_tokens += cv[f + CostField.Reasoning]!;
    j.unpriced_tokens += cv[f + CostField.Unpriced]!;
    j.calls += cv[f + CostField.Calls]!;
    if (inMonth) a.monthCost += cost;
    if (a.trend !== null && hours !== null) {
      const mask = hours[hp++]!;
      for (let h = 0; h < 24; h++) if ((mask & (1 << h)) !== 0) a.trend[accs.trendIndex(dayMs + h * HOUR)]! += hours[hp++]!;
    }
  }
}

/** addDayHoursCost adds the computed cost of hours [h0, h1) of a digest day to the month so far. */
function addDayHoursCost(accs: CostAccs, od: OpenDigests, dayMs: number, h0: number, h1: number): void {
  const cv = doubles(od, 'day', dayMs, 'costs').slice();
  const hours = doubles(od, 'day', dayMs, 'hours');
  const byGid = groupsOf(accs);
  let hp = 0;
  for (let o = 0; o < cv.length; o += COST_FIELDS) {
    const mask = hours[hp++]!;
    let cost = 0;
    for (let h = 0; h < 24; h++) {
      if ((mask & (1 << h)) === 0) continue;
      const v = hours[hp++]!;
      if (h >= h0 && h < h1) cost += v;
    }
    if (cost !== 0) costAcc(accs, od, byGid, cv[o]!).monthCost += cost;
  }
}

/** groupsOf is an answer's group of each group id, resolved at its first use. */
function groupsOf(accs: CostAccs): Array<Acc | undefined> {
  let byGid = costGroups.get(accs);
  if (byGid === undefined) costGroups.set(accs, (byGid = []));
  return byGid;
}

/** costAcc is the answer's group of a digest's group id. */
function costAcc(accs: CostAccs, od: OpenDigests, byGid: Array<Acc | undefined>, gid: number): Acc {
  let a = byGid[gid];
  if (a === undefined) {
    const g = od.groups[gid]!;
    byGid[gid] = a = accs.acc((d) => g[DIM_INDEX[d]]!);
  }
  return a;
}

/**
 * OutGroup is an output group of a usage answer while digest days are added: its row of the day
 * being added and, per part, the day's merged histograms by unit factor. The histograms are reused
 * day after day: a digest day is a whole day no other segment adds to, so its rows are complete
 * once the day is added, their p95 is taken then, and a 90-day answer merges into a few hundred
 * histograms instead of allocating one per row and day.
 */
interface OutGroup extends Group {
  day: number;
  row: Row | null;
  readonly pools: readonly [DayHists, DayHists];
  /** Scratch parts (metrics, spans) of a digest day's row, reused day after day. */
  readonly parts: readonly [Part, Part];
}
/** DayHists are one part's merged histograms of the day, one per unit factor (`used` this day). */
type DayHists = Array<{ readonly f: number; readonly h: SparseHistogram; used: boolean }>;

/** Per answer: each group id's output group (index into `outs`). */
interface UsageGroups {
  readonly outOf: Array<number | undefined>;
  /** Output groups by their number in the answer (Group.idx). */
  readonly outs: Array<OutGroup | undefined>;
}
const usageGroups = new WeakMap<UsageRows, UsageGroups>();

/**
 * addUsageDigest adds a digest day's (or hour's: `span`) rows to a usage answer. An hour's rows
 * are its day's rows in part only (other hours, digests or live, add to them): its histograms
 * merge into the rows' own, whose p95 is taken when the answer finishes, as a live read's are.
 */
export function addUsageDigest(rows: UsageRows, od: OpenDigests, span: Span, dayMs: number): void {
  const v = doubles(od, span, dayMs, 'usage');
  let ug = usageGroups.get(rows);
  if (ug === undefined) usageGroups.set(rows, (ug = { outOf: [], outs: [] }));
  const day = Math.floor(dayMs / DAY);
  const whole = span === 'day';
  const touched: OutGroup[] = [];
  let p = 0;
  while (p < v.length) {
    const gid = v[p]! | 0; // small integers as stored: `| 0` keeps them unboxed
    let out = ug.outOf[gid];
    if (out === undefined) {
      const g = od.groups[gid]!;
      const k = rows.groupKey((d) => g[DIM_INDEX[d]]!);
      out = k.idx;
      ug.outs[out] ??= { ...k, day: NaN, row: null, pools: [[], []], parts: [new Part(), new Part()] };
      ug.outOf[gid] = out;
    }
    const o = ug.outs[out]!;
    if (!whole) {
      if (o.day !== day) {
        o.day = day;
        o.row = rows.row(o, day);
      }
      const r = o.row!;
      r.input += v[p + 1]!;
      r.output += v[p + 2]!;
      p = mergePart(v, p + 3, r.metric);
      p = mergePart(v, p, r.span);
      continue;
    }
    if (o.day !== day) {
      // The day's row, collected in the group's scratch parts and kept as JSON once complete.
      o.day = day;
      o.row = { date: rows.date(day), dims: o.dims, key: o.key, metric: resetPart(o.parts[0]), span: resetPart(o.parts[1]), input: 0, output: 0 };
      touched.push(o);
    }
    const r = o.row!;
    r.input += v[p + 1]!;
    r.output += v[p + 2]!;
    p = addPart(v, p + 3, r.metric, o.pools[0]);
    p = addPart(v, p, r.span, o.pools[1]);
  }
  for (const o of touched) {
    settleDay(o.row!.metric, o.pools[0]);
    settleDay(o.row!.span, o.pools[1]);
    rows.put(o, day, o.row!);
    // The hour path's row (rows.row) is another: this scratch one is not added to again.
    o.row = null;
    o.day = NaN;
  }
}

/** resetPart empties a scratch part for the next day. */
function resetPart(p: Part): Part {
  p.calls = 0;
  p.failures = 0;
  p.latencyMs = 0;
  p.hists = null;
  p.p95Ms = undefined;
  return p;
}

/**
 * settleDay takes a completed part's p95 from its day's histograms and empties them for the next
 * day. A part that also holds histograms of its own (a row some other read added to) gets copies
 * merged into them instead, and its p95 is taken when the answer finishes.
 */
function settleDay(part: Part, pool: DayHists): void {
  let used = 0, last = -1;
  for (let i = 0; i < pool.length; i++) if (pool[i]!.used) { used++; last = i; }
  if (part.hists === null && used <= 1) {
    // The common case, without a map: one histogram (or none).
    part.p95Ms = used === 0 || part.calls === 0 ? p95Of(part.calls, usedScratch) : p95In(pool[last]!.f, pool[last]!.h);
  } else {
    for (const e of pool) if (e.used) usedScratch.set(e.f, e.h);
    if (part.hists === null) part.p95Ms = p95Of(part.calls, usedScratch);
    else for (const [f, h] of usedScratch) {
      const m = part.hists.get(f);
      if (m === undefined) part.hists.set(f, h.clone());
      else m.add(h);
    }
    // Only here: Map#clear allocates a new table even for an empty map.
    usedScratch.clear();
  }
  for (const e of pool) {
    if (!e.used) continue;
    e.used = false;
    e.h.clear();
  }
}
const usedScratch = new Map<number, SparseHistogram>();

/** scratch holds a stored histogram while it is added into a row's (never kept). */
const scratch = new SparseHistogram(256);

/**
 * mergePart adds a stored part at `p` into `part`, its histograms into the part's own (as a live
 * read merges window histograms); returns the position after it.
 */
function mergePart(v: Float64Array, p: number, part: Part): number {
  const nh = addCounts(v, p, part);
  p += 4;
  for (let k = 0; k < nh; k++) {
    const factor = v[p]!;
    const h = storedHist(v, p);
    const hists = (part.hists ??= new Map());
    const m = hists.get(factor);
    if (m === undefined) hists.set(factor, h.clone());
    else m.add(h);
    p += 6 + 2 * h.size;
  }
  return p;
}

/** addCounts adds a stored part's calls, failures and latency at `p` into `part`; returns its histogram count. */
function addCounts(v: Float64Array, p: number, part: Part): number {
  part.calls += v[p]!;
  part.failures += v[p + 1]!;
  part.latencyMs += v[p + 2]!;
  return v[p + 3]! | 0;
}

/** storedHist reads the stored histogram at `p` into `scratch` (valid until the next call). */
function storedHist(v: Float64Array, p: number): SparseHistogram {
  const size = v[p + 5]! | 0;
  scratch.reserve(size);
  for (let i = 0; i < size; i++) {
    scratch.indices[i] = v[p + 6 + i]!;
    scratch.counts[i] = v[p + 6 + size + i]!;
  }
  scratch.size = size;
  scratch.count = v[p + 1]!;
  scratch.sum = v[p + 2]!;
  scratch.min = v[p + 3]!;
  scratch.max = v[p + 4]!;
  return scratch;
}

/** addPart adds a stored part at `p` into `part`, its histograms into the day's `pool`; returns the position after it. */
function addPart(v: Float64Array, p: number, part: Part, pool: DayHists): number {
  const nh = addCounts(v, p, part);
  p += 4;
  for (let k = 0; k < nh; k++) {
    const factor = v[p]!, size = v[p + 5]! | 0;
    let e: DayHists[number] | undefined;
    for (let i = 0; i < pool.length && e === undefined; i++) if (pool[i]!.f === factor) e = pool[i];
    if (e === undefined) pool.push((e = { f: factor, h: new SparseHistogram(Math.max(8, size)), used: false }));
    e.used = true;
    e.h.add(storedHist(v, p));
    p += 6 + 2 * size;
  }
  return p;
}
