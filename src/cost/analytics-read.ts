import { labelsKey, type Labels } from '../model/labels.js';
import type { Matcher } from '../model/matcher.js';
import type { SparseHistogram } from '../model/hdr.js';
import type { FloatSeries, HistogramSeries, Querier, SelectResult } from '../store/interface.js';
import { edgeIncrements, edgeWindowHistograms } from './edge-cache.js';

/**
 * analytics-read.ts reads counter increments and window histograms over long ranges one series
 * at a time (Querier.selectEach), so memory stays bounded whatever the range (90 days of 10k
 * series read at once would hold every sample in memory) and each chunk is decoded once. A
 * querier without selectEach is read in time slices instead.
 */

/** SLICE_MS is the span of one select at a fine tier. */
const SLICE_MS = 7 * 86_400_000;
/**
 * SLICE_WINDOWS bounds one select at a coarse hint to this many windows per series: an hour
 * tier read of 90 days takes 3 selects instead of 13 (each select decodes every chunk it
 * touches whole, so fewer, longer selects decode less), and memory stays at ~16 KiB per series.
 */
const SLICE_WINDOWS = 1024;

/** sliceMs is the span of one select reading at `hintMs`. */
function sliceMs(hintMs: number): number {
  return hintMs >= 300_000 ? Math.max(SLICE_MS, SLICE_WINDOWS * hintMs) : SLICE_MS;
}
/**
 * MARGIN_MS reaches back before a slice for the sample that precedes its first window (the
 * querier puts it one tier resolution earlier; the tiers read here are at most 1 h).
 */
const MARGIN_MS = 2 * 3_600_000;

/**
 * tierHint is the step hint for the querier's tier choice. Ranges aligned to the hour (or 5
 * minutes) read that tier exactly; ranges of a week or more read the hour tier between their
 * first and last whole hour (see `pieces` for the edges); shorter unaligned ranges read the
 * finest tier covering them.
 */
export function tierHint(fromMs: number, toMs: number, stepMs: number): number {
  const aligned = (r: number) => fromMs % r === 0 && (toMs % r === 0 || (toMs + 1) % r === 0);
  let hint = aligned(3_600_000) || toMs - fromMs >= 7 * 86_400_000 ? 3_600_000 : aligned(300_000) ? 300_000 : 1;
  if (stepMs > 0 && stepMs < hint) hint = stepMs;
  return hint;
}

/** Piece is a part of a range read at one hint: [startMs, endMs] inclusive. */
type Piece = readonly [startMs: number, endMs: number, hintMs: number];

/**
 * pieces splits [fromMs, toMs] so that no window of the coarse tier straddles an edge: a coarse
 * window's sample sits at its last point's time, so a window holding the edge would count points
 * outside the range (or miss points inside it) whole. The whole `hintMs` windows are read at the
 * hint; the part before the first and after the last whole window at the finest tier that holds
 * them (hint 1), which is the raw tier for recent edges.
 */
export function pieces(fromMs: number, toMs: number, hintMs: number): Piece[] {
  if (hintMs <= 1) return [[fromMs, toMs, hintMs]];
  const a = Math.ceil(fromMs / hintMs) * hintMs;
  const b = Math.floor((toMs + 1) / hintMs) * hintMs;
  if (a >= b) return [[fromMs, toMs, 1]];
  const out: Piece[] = [];
  if (fromMs < a) out.push([fromMs, a - 1, 1]);
  out.push([a, b - 1, hintMs]);
  if (b <= toMs) out.push([b, toMs, 1]);
  return out;
}

/**
 * cutZones lists, for the coarse part [a, b] of a range (whole `hintMs` windows), the coarse
 * windows that straddle one of `cuts` (trend bucket starts): [startMs, endMs] inclusive, sorted
 * and distinct. Their coarse sample would put the whole window in the bucket of its last point,
 * so they are read at the finest tier instead.
 */
export function cutZones(a: number, b: number, hintMs: number, cuts: readonly number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  if (hintMs <= 1) return out;
  for (const c of cuts) {
    if (c % hintMs === 0 || c <= a || c > b) continue;
    const z = Math.floor(c / hintMs) * hintMs;
    const last = out[out.length - 1];
    if (last !== undefined && last[0] === z) continue;
    if (last !== undefined && last[0] > z) throw new Error('cutZones: cuts must be ascending');
    out.push([z, z + hintMs - 1]);
  }
  return out;
}

/**
 * forEachIncrement calls `fn(labels, key, tsMs, increment)` for every increment of the matched
 * counter series whose sample time lies in [fromMs, toMs], with exact edges (`pieces`). Counters
 * read cumulative (store contract); the increment of a sample is its difference to the previous
 * one (a drop is a reset, counting the new value). `cuts` (ascending) are times that callers
 * bucket by (trend steps): a coarse window straddling one is read at the finest tier holding it,
 * so that the parts before and after the cut are told apart (to that tier's resolution; the 5 m
 * tier is kept as long as the hour tier by default, the raw tier for recent data).
 */
export function forEachIncrement(
  q: Querier, tenant: string, matchers: readonly Matcher[], fromMs: number, toMs: number, hintMs: number,
  fn: (labels: Labels, key: string, tsMs: number, inc: number) => void,
  cuts: readonly number[] = [],
): void {
  for (const [s, e, h] of pieces(fromMs, toMs, hintMs)) {
    const zones = h > 1 ? cutZones(s, e, h, cuts) : [];
    // A part of an hour read at the finest tier (an answer's edges) comes from the read of its
    // hour kept between answers (edge-cache.ts), while nothing was written there since.
    if (h <= 1 && edgeIncrements(q, tenant, matchers, s, e, MARGIN_MS, fn, (f, t, ms, rec) => incrementsIn(q, tenant, ms, f, t, 1, rec, [], false))) continue;
    incrementsIn(q, tenant, matchers, s, e, h, fn, zones, false);
    // The straddling windows in one read at the finest tier, emitting only inside them: one
    // select per window would decode the chunks holding each again (a daily trend over 90
    // days has 89 of them).
    if (zones.length > 0) incrementsIn(q, tenant, matchers, zones[0]![0], zones[zones.length - 1]![1], 1, fn, zones, true);
  }
}

/**
 * incrementsIn is forEachIncrement over one piece. A series' first sample is always its
 * baseline, never an increment: the margin reaches back past the window before the piece, so the
 * first sample is either before the piece or the sample the querier puts before a window that
 * follows a gap, holding the total before it (0 when the series was created there). Counting
 * that sample would count the series' whole history before the range, or, for a window that
 * starts inside the range but whose points come after its end, an agent idle in the range.
 */
function incrementsIn(
  q: Querier, tenant: string, matchers: readonly Matcher[], fromMs: number, toMs: number, hintMs: number,
  fn: (labels: Labels, key: string, tsMs: number, inc: number, prevT: number) => void,
  zones: ReadonlyArray<readonly [number, number]>,
  inside: boolean,
): void {
  const last = new Map<string, { t: number; v: number }>();
  // inZone says whether t lies in a zone. With `inside` only samples in a zone are emitted,
  // without only samples outside every zone; every sample moves the baseline.
  const inZone = (t: number): boolean => {
    let lo = 0, hi = zones.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const z = zones[mid]!;
      if (t < z[0]) hi = mid - 1;
      else if (t > z[1]) lo = mid + 1;
      else return true;
    }
    return false;
  };
  const walk = (f: FloatSeries, key: string, st: { t: number; v: number } | undefined): { t: number; v: number } | undefined => {
    const ts = f.timestamps, vs = f.values;
    for (let i = 0; i < ts.length; i++) {
      const t = ts[i]!, v = vs[i]!;
      if (st === undefined) {
        st = { t, v };
        continue;
      }
      if (t <= st.t) continue;
      const inc = v >= st.v ? v - st.v : v;
      const prevT = st.t;
      st.t = t;
      st.v = v;
      if (t >= fromMs && t <= toMs && inc >= 0 && (zones.length === 0 || inZone(t) === inside)) fn(f.labels, key, t, inc, prevT);
    }
    return st;
  };
  readPiece(q, tenant, matchers, fromMs, toMs, hintMs, MARGIN_MS, (res, whole) => {
    for (const f of res.floats) {
      const key = keyOf(f.labels);
      // A series handed over whole has no state from an earlier call to carry.
      if (whole) walk(f, key, undefined);
      else {
        const st = walk(f, key, last.get(key));
        if (st !== undefined) last.set(key, st);
      }
    }
  });
}

/**
 * forEachWindowHistogram calls `fn(labels, tsMs, h)` for the histogram of every window of the
 * matched histogram series with time in [fromMs, toMs], with exact edges (`pieces`). `h` is the
 * store's; callers MUST NOT mutate it.
 */
export function forEachWindowHistogram(
  q: Querier, tenant: string, matchers: readonly Matcher[], fromMs: number, toMs: number, hintMs: number,
  fn: (labels: Labels, tsMs: number, h: SparseHistogram) => void,
): void {
  for (const [s, e, h] of pieces(fromMs, toMs, hintMs)) {
    if (h <= 1 && edgeWindowHistograms(q, tenant, matchers, s, e, fn, (f, t, ms, rec) => windowHistogramsIn(q, tenant, ms, f, t, 1, rec))) continue;
    windowHistogramsIn(q, tenant, matchers, s, e, h, fn);
  }
}

function windowHistogramsIn(
  q: Querier, tenant: string, matchers: readonly Matcher[], fromMs: number, toMs: number, hintMs: number,
  fn: (labels: Labels, tsMs: number, h: SparseHistogram) => void,
): void {
  const last = new Map<string, number>();
  const walk = (hs: HistogramSeries, lt: number): number => {
    const ts = hs.timestamps;
    let maxT = lt;
    for (let i = 0; i < ts.length; i++) {
      const t = ts[i]!;
      if (t <= lt || t < fromMs || t > toMs) continue;
      const h = hs.deltas[i]!;
      if (h.count > 0) fn(hs.labels, t, h);
      if (t > maxT) maxT = t;
    }
    return maxT;
  };
  readPiece(q, tenant, matchers, fromMs, toMs, hintMs, 0, (res, whole) => {
    for (const hs of res.histograms) {
      if (whole) {
        walk(hs, -Infinity);
        continue;
      }
      const key = keyOf(hs.labels);
      last.set(key, walk(hs, last.get(key) ?? -Infinity));
    }
  });
}

/**
 * readPiece hands `fn` what the matched series hold over [fromMs - marginMs, toMs]: one series
 * at a time over the whole piece where the querier offers selectEach (each chunk decoded once,
 * one series in memory, the tier chosen after the margin; `whole` is true), else in time slices
 * of select, where `fn` MUST carry each series' state from one call to the next.
 */
function readPiece(
  q: Querier, tenant: string, matchers: readonly Matcher[], fromMs: number, toMs: number, hintMs: number, marginMs: number,
  fn: (res: SelectResult, whole: boolean) => void,
): void {
  if (q.selectEach !== undefined) {
    // Of the margin only each series' last sample is needed (incrementsIn's baseline).
    const hints = { startMs: fromMs - marginMs, endMs: toMs, stepMs: hintMs, rangeMs: marginMs, ...(marginMs > 0 ? { leadFrom: fromMs } : {}) };
    q.selectEach(tenant, matchers, hints, (res) => fn(res, true));
    return;
  }
  const slice = sliceMs(hintMs);
  for (let s = fromMs; s <= toMs; s += slice) {
    fn(q.select(tenant, matchers, { startMs: s - marginMs, endMs: Math.min(toMs, s + slice - 1), stepMs: hintMs }), false);
  }
}

/**
 * KEYS holds the labelsKey of the label sets read: a store hands a series the same label-set
 * object read after read, and building its key per series was a tenth of a short read's callback.
 */
const KEYS = new WeakMap<Labels, string>();

function keyOf(labels: Labels): string {
  let k = KEYS.get(labels);
  if (k === undefined) KEYS.set(labels, (k = labelsKey(labels)));
  return k;
}
