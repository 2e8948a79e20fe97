import { compareLabels, getLabel, labelsKey, metricName, METRIC_NAME, type Labels } from '../model/labels.js';
import type { SparseHistogram } from '../model/hdr.js';
import type { Matcher } from '../model/matcher.js';
import { MetricKind, metricKindName } from '../model/metric-kind.js';
import type { StoreDbs } from './dbs.js';
import type { DigestReader, FloatSeries, HistogramSeries, MetricMetadata, Querier, SelectHints, SelectResult } from './interface.js';
import { Postings } from './postings.js';
import { ALL_POSTING, HIST_POSTING, type SeriesIndex, type SeriesRecord } from './series-index.js';
import { PREV_KNOWN, PREV_UNKNOWN, readWindows, type SeriesWindows } from './series-reader.js';
import { isStaleNaN } from '../model/stale.js';
import { boundaries, chooseTier, plan, type Segment } from './tier-select.js';
import type { Tier } from './tier.js';
import { Variant, VARIANT_SUFFIX, bucketBounds, cumulativeView, formatLe, gaugeView, histogramBucketEnds, histogramBucketViews, histogramFloatView, histogramView, thinSeries, viewRange, virtualLabels, type ViewRange } from './view.js';
import { BucketColumns } from './bucket-columns.js';
import { PointBuf } from './point-buf.js';

/** ViewRef is one selected Prometheus series: a stored series seen through a variant. */
interface ViewRef {
  readonly rec: SeriesRecord;
  readonly variant: Variant;
}

const SUFFIXES: ReadonlyArray<[string, Variant]> = [['_bucket', Variant.Bucket], ['_sum', Variant.Sum], ['_count', Variant.Count]];

/**
 * LmdbQuerier answers selectors from postings. Matching follows Prometheus: a matcher that
 * matches the empty string also selects series without the label; regex matchers are anchored.
 * `__name__` matchers see the virtual names of histograms (`x_bucket`, `x_sum`, `x_count` and the
 * bare `x`), and an `le` matcher on a `_bucket` series filters its bounds. Every read is scoped
 * to one tenant's postings, so no selector can reach another tenant's series.
 */
export class LmdbQuerier implements Querier {
  private readonly dbs: StoreDbs;
  private readonly index: SeriesIndex;
  private readonly tiers: readonly Tier[];
  private readonly postings: Postings;
  private readonly now: () => number;
  readonly digests: DigestReader | undefined;
  /** sorted keeps, per selector, the refs it matched (refs' order) and those in label order. */
  private readonly sorted = new Map<string, { refs: ViewRef[]; sorted: ViewRef[] }>();

  constructor(dbs: StoreDbs, index: SeriesIndex, tiers: readonly Tier[], now: () => number = Date.now, digests?: DigestReader) {
    this.dbs = dbs;
    this.digests = digests;
    this.index = index;
    this.tiers = tiers;
    this.postings = new Postings(dbs);
    this.now = now;
  }

  /** idsFor applies non-name, non-le matchers; null means every series of the tenant. */
  private idsFor(tenant: string, matchers: readonly Matcher[]): Set<number> | null {
    let acc: Set<number> | null = null;
    const excludes: Set<number>[] = [];
    for (const m of matchers) {
      if (m.name === METRIC_NAME || m.name === 'le') continue;
      if (m.type === '=' && m.value !== '') {
        acc = intersect(acc, new Set(this.postings.ids(tenant, m.name, m.value)));
        continue;
      }
      const matchesEmpty = m.matchesEmpty();
      const set = new Set<number>();
      for (const { value, key } of this.postings.values(tenant, m.name)) {
        const ids = this.postings.idsOfKey(tenant, m.name, value, key);
        for (const id of ids) {
          const v = value.hashed ? getLabel(this.index.committedRecord(id)?.labels ?? [], m.name) : value.value;
          // Positive matchers collect matching ids; empty-matching ones collect the exclusions.
          if (m.matches(v) !== matchesEmpty) set.add(id);
        }
      }
      if (matchesEmpty) excludes.push(set);
      else acc = intersect(acc, set);
    }
    if (excludes.length === 0) return acc;
    const base = acc ?? new Set(this.postings.ids(tenant, ALL_POSTING, ''));
    for (const ex of excludes) for (const id of ex) base.delete(id);
    return base;
  }

  /** refs resolves matchers to view refs (unsorted). */
  private refs(tenant: string, matchers: readonly Matcher[]): ViewRef[] {
    const nameMs = matchers.filter((m) => m.name === METRIC_NAME);
    const leMs = matchers.filter((m) => m.name === 'le');
    const ids = this.idsFor(tenant, matchers);
    if (ids !== null && ids.size === 0) return [];
    // Candidate stored names.
    let names: string[];
    const eq = nameMs.find((m) => m.type === '=');
    if (eq !== undefined) {
      names = [eq.value];
      for (const [suffix] of SUFFIXES) if (eq.value.endsWith(suffix)) names.push(eq.value.slice(0, -suffix.length));
    } else {
      names = this.postings.values(tenant, METRIC_NAME).map((v) => v.value.value);
    }
    const histNames = new Set<string>();
    for (const n of names) if (this.postings.ids(tenant, HIST_POSTING, n).length > 0) histNames.add(n);
    const out: ViewRef[] = [];
    for (const n of names) {
      const variants: Variant[] = [Variant.Plain];
      if (histNames.has(n)) variants.push(Variant.Bucket, Variant.Sum, Variant.Count);
      const wanted = variants.filter((v) => nameMs.every((m) => m.matches(n + VARIANT_SUFFIX[v])));
      if (wanted.length === 0) continue;
      for (const id of this.postings.ids(tenant, METRIC_NAME, n)) {
        if (ids !== null && !ids.has(id)) continue;
        const rec = this.index.committedRecord(id);
        if (rec === undefined || rec.tenant !== tenant) continue;
        for (const v of wanted) {
          if (v === Variant.Plain) {
            if (leMs.every((m) => m.matches(getLabel(rec.labels, 'le')))) out.push({ rec, variant: v });
          } else if (rec.kind === MetricKind.Histogram) {
            if (v === Variant.Bucket || leMs.every((m) => m.matchesEmpty())) out.push({ rec, variant: v });
          }
        }
      }
    }
    return out;
  }

  /**
   * select reads the tier chooseTier picks for the hints, stitched at compaction boundaries with
   * the finer tiers that hold the newer data (see tier-select.ts).
   */
  select(tenant: string, matchers: readonly Matcher[], hints: SelectHints): SelectResult {
    const segs = this.segments(hints);
    const refs = this.refs(tenant, matchers);
    const reads = readsOf(hints);
    if (segs.length === 0) return this.selectTier(this.tiers[0]!, refs, matchers, hints.startMs, hints.endMs, reads);
    return this.readSegments(segs, refs, matchers, reads);
  }

  /**
   * selectEach is select one stored series at a time (see Querier): the same tier choice and
   * plan, each series' segments read and stitched on their own.
   */
  selectEach(tenant: string, matchers: readonly Matcher[], hints: SelectHints, fn: (r: SelectResult) => void): void {
    const segs = this.segments(hints);
    if (segs.length === 0) return;
    const refs = this.sortedRefs(tenant, matchers);
    const reads = readsOf(hints), thin = reads === 'ends';
    // What every series' read shares is worked out once: each segment's windows, the `le`
    // matchers, and the read buffers, which serve series after series (a short read of thousands
    // of series allocated, and zero-filled, a buffer per series: a third of its time).
    const ranges = segs.map((g) => viewRange(g.tier, g.startMs, g.endMs));
    const leMs = matchers.filter((m) => m.name === 'le');
    const spares: Spares = [null, null, null];
    const stitch = segs.length > 1;
    // With leadFrom a counter is read from there, with the last sample before it (see readLead).
    const leadFrom = hints.leadFrom ?? -Infinity;
    const lead = !stitch && !thin && leadFrom > segs[0]!.startMs && leadFrom <= segs[0]!.endMs ? viewRange(segs[0]!.tier, leadFrom, segs[0]!.endMs) : null;
    for (let i = 0; i < refs.length; ) {
      let j = i + 1;
      while (j < refs.length && refs[j]!.rec === refs[i]!.rec) j++;
      const group = refs.slice(i, j);
      i = j;
      const ref = group[0]!;
      let r: SelectResult | null = null;
      if (lead !== null && lead.fromIdx > ranges[0]!.fromIdx && group.length === 1 && ref.variant === Variant.Plain && ref.rec.kind === MetricKind.Counter) {
        r = this.readLead(segs[0]!.tier, ranges[0]!, lead, ref.rec, spares);
        // Read whole: the samples before leadFrom but the last are dropped all the same.
        if (r === null) {
          r = this.readGroup(segs[0]!.tier, ranges[0]!, group, leMs, reads, spares, false);
          for (let k = 0; k < r.floats.length; k++) r.floats[k] = fromLast(r.floats[k]!, leadFrom);
        }
      }
      if (r === null && !stitch) r = this.readGroup(segs[0]!.tier, ranges[0]!, group, leMs, reads, spares, false);
      else if (r === null) {
        const parts: SelectResult[] = [];
        for (let k = 0; k < segs.length; k++) parts.push(this.readGroup(segs[k]!.tier, ranges[k]!, group, leMs, reads, spares, true));
        r = { floats: stitchFloats(parts.map((p) => p.floats)), histograms: stitchHistograms(parts.map((p) => p.histograms)) };
      }
      if (r.floats.length > 0 || r.histograms.length > 0) fn(r);
    }
  }

  /**
   * sortedRefs is refs in label order, a stored series' variants together (as select sorts its
   * series). The order of the last few selectors is kept while they match the same series: a
   * sort of thousands of label sets was a tenth of a short selectEach, and analytics read the
   * same selectors over and over.
   */
  private sortedRefs(tenant: string, matchers: readonly Matcher[]): ViewRef[] {
    const refs = this.refs(tenant, matchers);
    const key = tenant + '\u0000' + matchers.join('\u0000');
    const memo = this.sorted.get(key);
    if (memo !== undefined && sameRefs(memo.refs, refs)) return memo.sorted;
    const sorted = refs.slice().sort((a, b) => compareLabels(a.rec.labels, b.rec.labels) || a.variant - b.variant);
    if (this.sorted.size >= SORTED_MEMO) this.sorted.delete(this.sorted.keys().next().value!);
    this.sorted.set(key, { refs, sorted });
    return sorted;
  }

  /**
   * segments plans the tiers a selection reads (tier-select.ts). A range query's tier is chosen
   * for the first time it evaluates, after its look-back window (`rangeMs`): a look-back reaching
   * past a tier's retention would otherwise send the whole range to the monthly tier (a Grafana
   * "last 90 days" panel read at month resolution). Only the first steps' look-backs lose the
   * windows the chosen tier no longer holds (their total stays in its base), as in a Prometheus
   * whose retention ends there. An instant query (no step) needs its whole window, so the
   * window's start picks the tier.
   */
  private segments(hints: SelectHints): Segment[] {
    const first = (hints.stepMs ?? 0) > 0 ? hints.startMs + (hints.rangeMs ?? 0) : hints.startMs;
    const chosen = chooseTier(this.tiers, { ...hints, startMs: first }, this.now());
    if (chosen === 0) return [{ tier: this.tiers[0]!, startMs: hints.startMs, endMs: hints.endMs }];
    return plan(this.tiers, chosen, boundaries(this.dbs, this.tiers), hints.startMs, hints.endMs);
  }

  /** readSegments reads the refs over each segment from its tier, stitched at the seams. */
  private readSegments(segs: readonly Segment[], refs: readonly ViewRef[], matchers: readonly Matcher[], reads: Reads): SelectResult {
    const mark = segs.length > 1;
    const parts = segs.map((g) => this.selectTier(g.tier, refs, matchers, g.startMs, g.endMs, reads, mark));
    if (parts.length === 1) return parts[0]!;
    return { floats: stitchFloats(parts.map((p) => p.floats)), histograms: stitchHistograms(parts.map((p) => p.histograms)) };
  }

  /**
   * selectTier reads the refs' views of one tier over [startMs, endMs] (float views thinned or
   * summarized as `reads` allows, see SelectHints; running totals marked for stitchFloats with `mark`).
   */
  private selectTier(tier: Tier, refs: readonly ViewRef[], matchers: readonly Matcher[], startMs: number, endMs: number, reads: Reads, mark = false): SelectResult {
    const r = viewRange(tier, startMs, endMs);
    const leMs = matchers.filter((m) => m.name === 'le');
    const floats: FloatSeries[] = [];
    const histograms: HistogramSeries[] = [];
    // A stored series' views are built one series at a time (its windows read once), so the
    // columns one histogram was read into serve the next (bucket-columns.ts).
    const groups = new Map<number, ViewRef[]>();
    for (const ref of refs) {
      const g = groups.get(ref.rec.id);
      if (g === undefined) groups.set(ref.rec.id, [ref]);
      else g.push(ref);
    }
    const spares: Spares = [null, null, null];
    for (const group of groups.values()) this.pushGroup(tier, r, group, leMs, reads, spares, mark, floats, histograms);
    return this.finish(floats, histograms, reads === 'ends', mark);
  }

  /**
   * readLead reads a counter's windows of `tier` for `lead` (the range from SelectHints.leadFrom)
   * and its view over it, preceded by the last sample the whole range `r` has before leadFrom:
   * that of the windows read, else that of the window before them, which the read saw (its time,
   * and its sender value or the base, which is the total through it). Null when the windows
   * before were not decoded (a chunk or block stepped over): the caller reads `r` whole.
   */
  private readLead(tier: Tier, r: ViewRange, lead: ViewRange, rec: SeriesRecord, spares: Spares): SelectResult | null {
    const w = this.readSeries(tier, rec, lead, false, spares[MetricKind.Counter]!);
    spares[MetricKind.Counter] = w.pts;
    if (w.prev === PREV_UNKNOWN) return null;
    const floats: FloatSeries[] = [];
    const known = w.prev === PREV_KNOWN;
    const seedV = known && (w.prevB === w.prevB || isStaleNaN(w.prevB)) ? w.prevB : w.baseSum;
    const s = cumulativeView(rec.labels, tier, lead, w, w.baseSum, (i) => w.pts.a[i]!, w.pts.b, false, { fromMs: r.startMs, seedT: known ? w.prevT : -Infinity, seedV });
    if (s.timestamps.length > 0) floats.push(s);
    return { floats, histograms: [] };
  }

  /** readGroup is selectTier for the refs of one stored series (`group`), its windows `r` of `tier`. */
  private readGroup(tier: Tier, r: ViewRange, group: readonly ViewRef[], leMs: readonly Matcher[], reads: Reads, spares: Spares, mark: boolean): SelectResult {
    const floats: FloatSeries[] = [];
    const histograms: HistogramSeries[] = [];
    this.pushGroup(tier, r, group, leMs, reads, spares, mark, floats, histograms);
    return this.finish(floats, histograms, reads === 'ends', mark);
  }

  /** finish thins (with `thin`) and sorts what pushGroup gathered. */
  private finish(floats: FloatSeries[], histograms: HistogramSeries[], thin: boolean, mark: boolean): SelectResult {
    if (thin) for (let i = 0; i < floats.length; i++) floats[i] = thinned(floats[i]!, mark);
    if (floats.length > 1) floats.sort((a, b) => compareLabels(a.labels, b.labels));
    if (histograms.length > 1) histograms.sort((a, b) => compareLabels(a.labels, b.labels));
    return { floats, histograms };
  }

  /**
   * pushGroup reads one stored series' windows of one tier and pushes the views its refs
   * (`group`) select. `spares` holds, per kind, a buffer whose last reader is done with it.
   */
  private pushGroup(tier: Tier, r: ViewRange, group: readonly ViewRef[], leMs: readonly Matcher[], reads: Reads, spares: Spares, mark: boolean, floats: FloatSeries[], histograms: HistogramSeries[]): void {
    const rec = group[0]!.rec, thin = reads === 'ends';
    // Histograms selected under their bare name need their windows' histograms; the others are
    // read into columns of what the classic views take.
    const classic = group.every((ref) => ref.variant !== Variant.Plain);
    // `_bucket` series thinned to their ends may take whole chunks from their headers.
    const summarize = thin && rec.kind === MetricKind.Histogram && group.every((ref) => ref.variant === Variant.Bucket);
    // A gauge read for its extremes may take whole chunks from their headers too.
    const extremes = (reads === 'max' || reads === 'min') && rec.kind === MetricKind.Gauge ? reads : null;
    let w = this.readSeries(tier, rec, r, classic, spares[rec.kind]!, summarize, extremes);
    if (extremes !== null && w.summarized.length > 0) {
      const s = gaugeView(rec.labels, r, w);
      if (!hasNaN(s.values)) {
        pushNonEmpty(floats, s);
        spares[rec.kind] = w.pts;
        return;
      }
      // A NaN among the windows decoded (a stale marker, which the engine drops from windows it
      // reads whole): read the chunks.
      w = this.readSeries(tier, rec, r, classic, null, false);
    } else if (w.summarized.length > 0) {
      if (this.pushEnds(tier, r, w, group, leMs, mark, floats)) {
        spares[rec.kind] = w.pts;
        return;
      }
      // A summary row cannot be built into whole series: read the chunks.
      w = this.readSeries(tier, rec, r, classic, null, false);
    }
    if (w.pts.n > 0) for (const ref of group) this.pushViews(ref, tier, r, w, leMs, thin, mark, floats, histograms);
    // The views copied what they read, so the buffer serves the next series; a histogram view
    // keeps its windows' histograms (its base is read lazily), and with them its buffer.
    if (rec.kind !== MetricKind.Histogram || w.pts.cols !== null) spares[rec.kind] = w.pts;
  }

  /**
   * pushEnds pushes the thinned `_bucket` series of `group` (every ref a Bucket variant) from
   * windows read with summary rows; false, pushing nothing, when one cannot be taken that way.
   */
  private pushEnds(tier: Tier, r: ViewRange, w: SeriesWindows, group: readonly ViewRef[], leMs: readonly Matcher[], mark: boolean, floats: FloatSeries[]): boolean {
    const out: FloatSeries[] = [];
    for (const ref of group) {
      const rec = ref.rec;
      const ends = histogramBucketEnds(rec.labels, metricName(rec.labels), tier, r, w, this.bucketLes(rec, w, leMs));
      if (ends === null) return false;
      out.push(...ends);
    }
    for (const s of out) pushNonEmpty(floats, mark ? markCumulative(s) : s);
    return true;
  }

  /** bucketLes are the `le` bounds of a histogram series' `_bucket` views that the `le` matchers keep. */
  private bucketLes(rec: SeriesRecord, w: SeriesWindows, leMs: readonly Matcher[]): number[] {
    return bucketBounds(rec.meta.bounds, w).filter((le) => leMs.every((m) => m.matches(formatLe(le))));
  }

  /** pushViews builds the view `ref` selects of one series' windows of one tier. */
  private pushViews(ref: ViewRef, tier: Tier, r: ViewRange, w: SeriesWindows, leMs: readonly Matcher[], thin: boolean, mark: boolean, floats: FloatSeries[], histograms: HistogramSeries[]): void {
    const rec = ref.rec;
    // Running totals are marked only for a read that stitches segments (stitchFloats).
    const cumulative = mark ? markCumulative : same;
    const name = metricName(rec.labels);
    if (ref.variant === Variant.Plain) {
      if (rec.kind === MetricKind.Counter) pushNonEmpty(floats, cumulative(cumulativeView(rec.labels, tier, r, w, w.baseSum, (i) => w.pts.a[i]!, w.pts.b, thin)));
      else if (rec.kind === MetricKind.Gauge) pushNonEmpty(floats, gaugeView(rec.labels, r, w));
      else {
        const h = histogramView(rec.labels, tier, r, w);
        if (h.timestamps.length > 0) histograms.push(h);
      }
    } else if (ref.variant === Variant.Bucket) {
      for (const s of histogramBucketViews(rec.labels, name, tier, r, w, this.bucketLes(rec, w, leMs), thin)) pushNonEmpty(floats, cumulative(s));
    } else {
      pushNonEmpty(floats, cumulative(histogramFloatView(rec.labels, name, tier, r, w, ref.variant, 0, thin)));
    }
  }

  /**
   * readSeries reads one series' windows of one tier: a histogram's into BucketColumns when
   * `classic` (only its `_bucket`, `_sum` and `_count` views are read), and again as histograms
   * when a window brought bounds the columns were not made for. `spare` is a buffer whose last
   * reader is done with it, read into when it suits.
   */
  private readSeries(tier: Tier, rec: SeriesRecord, r: ViewRange, classic: boolean, spare: PointBuf | null, summarize = false, extremes: 'max' | 'min' | null = null): SeriesWindows {
    const suits = spare !== null && spare.kind === rec.kind;
    if (classic && rec.kind === MetricKind.Histogram) {
      const bounds = rec.meta.bounds;
      const given = bounds !== undefined && bounds.length > 0;
      const les = bucketBounds(bounds, null);
      const into = suits && spare!.cols !== null && spare!.cols.isFor(les, given) ? spare! : new PointBuf(rec.kind, 0, new BucketColumns(les, given, 0));
      const w = readWindows(this.dbs, tier, rec.id, rec.kind, r.fromIdx, r.toIdx, bounds, into, summarize);
      if (w.pts.cols!.fits) return w;
    }
    const into = suits && rec.kind !== MetricKind.Histogram ? spare! : null;
    return readWindows(this.dbs, tier, rec.id, rec.kind, r.fromIdx, r.toIdx, rec.meta.bounds, into, false, extremes);
  }

  /** hasData says whether a series has a window overlapping [startMs, endMs] in any tier. */
  private hasData(rec: SeriesRecord, startMs: number, endMs: number): boolean {
    for (const tier of this.tiers) {
      const r = viewRange(tier, startMs, endMs);
      if (readWindows(this.dbs, tier, rec.id, rec.kind, r.fromIdx + 1, r.toIdx).pts.n > 0) return true;
    }
    return false;
  }

  private viewLabels(tenant: string, matchers: readonly Matcher[], startMs: number, endMs: number): Labels[] {
    const leMs = matchers.filter((m) => m.name === 'le');
    const out: Labels[] = [];
    const seen = new Map<number, boolean>();
    for (const ref of this.refs(tenant, matchers)) {
      const rec = ref.rec;
      let ok = seen.get(rec.id);
      if (ok === undefined) {
        ok = this.hasData(rec, startMs, endMs);
        seen.set(rec.id, ok);
      }
      if (!ok) continue;
      const name = metricName(rec.labels);
      if (ref.variant === Variant.Bucket) {
        for (const le of bucketBounds(rec.meta.bounds, null)) {
          if (leMs.every((m) => m.matches(formatLe(le)))) out.push(virtualLabels(rec.labels, name, Variant.Bucket, le));
        }
      } else {
        out.push(virtualLabels(rec.labels, name, ref.variant));
      }
    }
    out.sort(compareLabels);
    return out;
  }

  series(tenant: string, matchers: readonly Matcher[], startMs: number, endMs: number): Labels[] {
    return this.viewLabels(tenant, matchers, startMs, endMs);
  }

  labelNames(tenant: string, matchers: readonly Matcher[], startMs: number, endMs: number): string[] {
    const names = new Set<string>();
    if (matchers.length === 0) {
      for (const n of this.postings.names(tenant)) if (n !== ALL_POSTING && n !== HIST_POSTING) names.add(n);
      if (this.postings.values(tenant, HIST_POSTING).length > 0) names.add('le');
    } else {
      for (const ls of this.viewLabels(tenant, matchers, startMs, endMs)) for (const l of ls) names.add(l.name);
    }
    return [...names].sort();
  }

  labelValues(tenant: string, name: string, matchers: readonly Matcher[], startMs: number, endMs: number): string[] {
    const values = new Set<string>();
    if (matchers.length === 0 && name !== 'le') {
      for (const { value, key } of this.postings.values(tenant, name)) {
        if (!value.hashed) values.add(value.value);
        else for (const id of this.postings.idsOfKey(tenant, name, value, key)) values.add(getLabel(this.index.committedRecord(id)?.labels ?? [], name));
      }
      if (name === METRIC_NAME) for (const { value } of this.postings.values(tenant, HIST_POSTING)) for (const [s] of SUFFIXES) values.add(value.value + s);
    } else {
      for (const ls of this.viewLabels(tenant, matchers, startMs, endMs)) {
        const v = getLabel(ls, name);
        if (v !== '') values.add(v);
      }
    }
    return [...values].sort();
  }

  metadata(tenant: string, metric?: string): MetricMetadata[] {
    const names = metric !== undefined ? [metric] : this.postings.values(tenant, METRIC_NAME).map((v) => v.value.value);
    const out: MetricMetadata[] = [];
    for (const n of names) {
      const ids = this.postings.ids(tenant, METRIC_NAME, n);
      if (ids.length === 0) continue;
      const rec = this.index.committedRecord(ids[0]!);
      if (rec === undefined) continue;
      out.push({ metric: n, type: metricKindName(rec.kind), help: rec.meta.help ?? '', unit: rec.meta.unit ?? '' });
    }
    return out;
  }
}

/** fromLast is `s` from its last sample before `ms` on (views of its arrays). */
function fromLast(s: FloatSeries, ms: number): FloatSeries {
  const ts = s.timestamps;
  let k = 0;
  while (k < ts.length && ts[k]! < ms) k++;
  if (k <= 1) return s;
  return { labels: s.labels, timestamps: ts.subarray(k - 1), values: s.values.subarray(k - 1) };
}

/** SORTED_MEMO is how many selectors' label order LmdbQuerier.sortedRefs keeps. */
const SORTED_MEMO = 32;

/** sameRefs says whether two refs lists select the same views in the same order. */
function sameRefs(a: readonly ViewRef[], b: readonly ViewRef[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.rec !== b[i]!.rec || a[i]!.variant !== b[i]!.variant) return false;
  return true;
}

function intersect(a: Set<number> | null, b: Set<number>): Set<number> {
  if (a === null) return b;
  const out = new Set<number>();
  for (const x of a) if (b.has(x)) out.add(x);
  return out;
}

/** Spares holds, per MetricKind, a read buffer whose last reader is done with it. */
type Spares = Array<PointBuf | null>;

/**
 * CUMULATIVE holds the float views that are running totals (counters, histogram _bucket/_sum/_count)
 * of a read that stitches segments.
 */
const CUMULATIVE = new WeakSet<FloatSeries>();

function markCumulative(s: FloatSeries): FloatSeries {
  CUMULATIVE.add(s);
  return s;
}

function same(s: FloatSeries): FloatSeries {
  return s;
}

/**
 * SEAM_TOLERANCE bounds the drop at a seam between tiers that is rounding, not a reset: each tier
 * sums the same increments in its own order (its windows, its chunk headers, its retired base), so
 * a running total can come out a few units in the last place lower in the finer tier, and a
 * reader taking every drop for a counter reset counted the whole total again.
 */
const SEAM_TOLERANCE = 1e-9;

/** Reads is what a select's caller takes of each float series (SelectHints.thin, .extremes). */
type Reads = 'all' | 'ends' | 'max' | 'min';

function readsOf(hints: SelectHints): Reads {
  return hints.thin === true ? 'ends' : hints.extremes ?? 'all';
}

function hasNaN(v: Float64Array): boolean {
  for (let i = 0; i < v.length; i++) if (v[i] !== v[i]) return true;
  return false;
}

/** thinned is thinSeries keeping a running total's mark (with `mark`: stitchFloats lifts those at seams). */
function thinned(s: FloatSeries, mark: boolean): FloatSeries {
  const t = thinSeries(s);
  if (mark && t !== s && CUMULATIVE.has(s)) CUMULATIVE.add(t);
  return t;
}

function pushNonEmpty(out: FloatSeries[], s: FloatSeries): void {
  if (s.timestamps.length > 0) out.push(s);
}

/** groupByLabels gathers, per label set, a series' segments in the order of `parts`. */
function groupByLabels<T extends { readonly labels: Labels }>(parts: readonly T[][]): Iterable<T[]> {
  const byKey = new Map<string, T[]>();
  for (const list of parts) {
    for (const s of list) {
      const k = labelsKey(s.labels);
      const acc = byKey.get(k);
      if (acc === undefined) byKey.set(k, [s]);
      else acc.push(s);
    }
  }
  return byKey.values();
}

/**
 * stitchFloats concatenates each series' samples over time-ordered segments; a running total that
 * comes out lower at a seam by rounding alone (SEAM_TOLERANCE) continues from the earlier segment.
 */
function stitchFloats(parts: readonly FloatSeries[][]): FloatSeries[] {
  const out: FloatSeries[] = [];
  for (const list of groupByLabels(parts)) {
    if (list.length === 1) {
      out.push(list[0]!);
      continue;
    }
    let n = 0, count = 0, thinnedAny = false;
    for (const s of list) {
      n += s.timestamps.length;
      count += s.count ?? s.timestamps.length;
      if (s.count !== undefined) thinnedAny = true;
    }
    const ts = new Float64Array(n), vs = new Float64Array(n);
    let p = 0;
    // A running total continues across a seam: a drop within rounding lifts the later segments.
    let lift = 0;
    for (const s of list) {
      ts.set(s.timestamps, p);
      vs.set(s.values, p);
      if (p > 0 && CUMULATIVE.has(s)) {
        const before = vs[p - 1]!, first = s.values[0]! + lift;
        if (first < before && before - first <= SEAM_TOLERANCE * Math.abs(before)) lift += before - first;
        if (lift !== 0) for (let i = p; i < p + s.values.length; i++) vs[i] = vs[i]! + lift;
      }
      p += s.timestamps.length;
    }
    // Thinned parts stay thinned: at the seam the later part's first sample follows the earlier
    // part's last, as in the full series, so a drop there is kept with both its samples.
    out.push(thinnedAny ? { labels: list[0]!.labels, timestamps: ts, values: vs, count } : { labels: list[0]!.labels, timestamps: ts, values: vs });
  }
  out.sort((a, b) => compareLabels(a.labels, b.labels));
  return out;
}

/** stitchHistograms concatenates histogram series; the base is the earliest segment's. */
function stitchHistograms(parts: readonly HistogramSeries[][]): HistogramSeries[] {
  const out: HistogramSeries[] = [];
  for (const list of groupByLabels(parts)) {
    if (list.length === 1) {
      out.push(list[0]!);
      continue;
    }
    const first = list[0]!;
    let n = 0;
    for (const s of list) n += s.timestamps.length;
    const ts = new Float64Array(n);
    const deltas: SparseHistogram[] = [];
    let p = 0;
    for (const s of list) {
      ts.set(s.timestamps, p);
      p += s.timestamps.length;
      for (const d of s.deltas) deltas.push(d);
    }
    out.push({ labels: first.labels, timestamps: ts, deltas, base: () => first.base() });
  }
  out.sort((a, b) => compareLabels(a.labels, b.labels));
  return out;
}
