import type { SparseHistogram } from '../model/hdr.js';
import { compareLabels, getLabel, labelsKey, METRIC_NAME, type Labels } from '../model/labels.js';
import { Matcher } from '../model/matcher.js';
import type { DigestReader, Querier } from '../store/interface.js';
import { VARIANT_SUFFIX } from '../store/view.js';

/**
 * edge-cache.ts keeps, between answers, what the edge reads of analytics answers returned: the
 * part of an hour read live at step hint 1 (analytics-read.ts, pieces), which is all that is left
 * of an answer asked the way users ask (`period=1d`: from = now - 1 d, to = now) once day and hour
 * digests serve its whole hours. Each such read costs about the same per series however short
 * (a selectEach over every token, cost and latency series), and the hour `from` falls in is
 * settled: a dashboard refreshing every few seconds read it again and again, unchanged.
 *
 * An entry holds one whole hour's read of one selector (increments, or window histograms) and
 * serves every read inside that hour while its signature holds: the tier the read takes and the
 * hour stamps of the hours it reads (DigestReader.hourStamp, bumped by every commit writing a
 * point there). The tier is asked of the digest store (edgeReadTier: one tier serving the read
 * and keeping its look-back); a reader without it, or a read that tier cannot serve alone, is
 * read live. The open hour is kept as well. After a commit into a kept hour, the store tells
 * which series it wrote there (DigestReader.writtenSeries, store/write-log.ts): while those are
 * few, only they are read again (reads narrowed by one of their labels) and merged into the
 * entry; else the hour is read again whole.
 */

const HOUR = 3_600_000;

/**
 * MAX_BYTES bounds what the entries of one store hold together (per query worker), and an entry
 * is kept only if it takes at most a quarter of it: an hour of 10 s windows of 10k series is
 * 3.6M samples, and a window histogram's copy takes a hundred bytes and more.
 */
const MAX_BYTES = 64 * 1024 * 1024;
/** SAMPLE_BYTES and HIST_BYTES / BUCKET_BYTES estimate what a kept sample takes. */
const SAMPLE_BYTES = 24;
const HIST_BYTES = 120;
const BUCKET_BYTES = 12;
/** MAX_ENTRIES bounds the entries of one store (selectors x hours). */
const MAX_ENTRIES = 64;

/**
 * REFRESH_SHARE: an entry whose hours were written into is brought up to date by reading again
 * only the series written there (DigestReader.writtenSeries) while they are at most this share of
 * its series; past it, a read of the changed series costs about what a whole read does.
 */
const REFRESH_SHARE = 0.25;
/** WRITTEN_LIMIT bounds the written series asked of the store per hour. */
const WRITTEN_LIMIT = 2048;

/**
 * TierReader is a digest reader that tells which tier an edge read takes and which series were
 * written into an hour since a stamp (store/digests.ts).
 */
interface TierReader {
  edgeReadTier?(leadStartMs: number, startMs: number, endMs: number): number;
  writtenSeries?(tenant: string, hourMs: number, fromStamp: number, toStamp: number, limit: number): Labels[] | null;
}

/**
 * IncRecord is a whole hour's increments of a selector, series after series (one label set
 * each), with each sample's time, increment and the time of the sample before it (its baseline).
 */
interface IncRecord {
  readonly kind: 'inc';
  readonly labels: Labels[];
  readonly keys: string[];
  /** ends[i] is where series i's samples end. */
  readonly ends: number[];
  readonly t: Float64Array;
  readonly inc: Float64Array;
  readonly prevT: Float64Array;
}

/** HistRecord is a whole hour's window histograms of a selector, series after series. */
interface HistRecord {
  readonly kind: 'hist';
  readonly labels: Labels[];
  readonly keys: string[];
  readonly ends: number[];
  readonly t: Float64Array;
  readonly hists: SparseHistogram[];
}

/**
 * Entry is a kept read and the signature it was read at; without `rec`, a mark that the hour
 * changed since the last read kept of it (see lookup).
 */
interface Entry {
  readonly sig: Sig;
  readonly rec: IncRecord | HistRecord | null;
  /** bytes is what the entry's samples take (an estimate, see SAMPLE_BYTES). */
  readonly bytes: number;
}

/**
 * Cache is what is kept per store (its digest reader): entries by tenant, selector, kind and
 * hour, oldest first, and the last answers of DigestReader.writtenSeries.
 */
interface Cache {
  readonly entries: Map<string, Entry>;
  bytes: number;
  readonly written: Map<string, Labels[] | null>;
}

const caches = new WeakMap<DigestReader, Cache>();
/** WRITTEN_MEMO is how many answers of writtenSeries a cache keeps. */
const WRITTEN_MEMO = 16;

/**
 * EDGE_CACHE_STATS counts entry fills, reads served from an entry, and entries brought up to date
 * by reading only the series written since (tests, benchmarks).
 */
export const EDGE_CACHE_STATS = { fills: 0, hits: 0, refreshes: 0 };

/** Sig is the tier and hour stamps (of the hours from `firstHourMs` on) a kept read depends on. */
interface Sig {
  readonly tier: number;
  readonly firstHourMs: number;
  readonly stamps: readonly number[];
}

const sameSig = (a: Sig, b: Sig): boolean => a.tier === b.tier && a.firstHourMs === b.firstHourMs && a.stamps.every((s, i) => s === b.stamps[i]);

/** signature is the tier and hour stamps an hour's read of [leadStartMs, hourEnd] depends on; null when it is not kept. */
function signature(reader: DigestReader & TierReader, hourMs: number, marginMs: number, fromMs: number, toMs: number): Sig | null {
  if (reader.edgeReadTier === undefined) return null;
  const tier = reader.edgeReadTier(hourMs - marginMs, hourMs, hourMs + HOUR - 1);
  // The read asked for must take the same tier (its first step picks it: it may start later).
  if (tier < 0 || (fromMs !== hourMs && reader.edgeReadTier(fromMs - marginMs, fromMs, toMs) !== tier)) return null;
  const firstHourMs = Math.floor((hourMs - marginMs) / HOUR) * HOUR;
  const stamps: number[] = [];
  for (let h = firstHourMs; h <= hourMs; h += HOUR) stamps.push(reader.hourStamp(h));
  return { tier, firstHourMs, stamps };
}

/**
 * written lists the series of `tenant` written into the hours of `was` since, as `now` stamps
 * them, that the selector may match; null when the store cannot tell or the tier changed.
 */
function written(c: Cache, reader: DigestReader & TierReader, tenant: string, matchers: readonly Matcher[], was: Sig, now: Sig): Labels[] | null {
  if (reader.writtenSeries === undefined || was.tier !== now.tier || was.firstHourMs !== now.firstHourMs) return null;
  const out = new Map<string, Labels>();
  for (let i = 0; i < now.stamps.length; i++) {
    if (was.stamps[i] === now.stamps[i]) continue;
    // An answer asks the same of every selector it reads: asked of the store once.
    const h = now.firstHourMs + i * HOUR;
    const k = `${tenant}\u0000${h}\u0000${was.stamps[i]}\u0000${now.stamps[i]}`;
    let ls = c.written.get(k);
    if (ls === undefined) {
      ls = reader.writtenSeries(tenant, h, was.stamps[i]!, now.stamps[i]!, WRITTEN_LIMIT);
      if (c.written.size >= WRITTEN_MEMO) c.written.delete(c.written.keys().next().value!);
      c.written.set(k, ls);
    }
    if (ls === null) return null;
    for (const l of ls) if (mayMatch(matchers, l)) out.set(labelsKey(l), l);
  }
  return [...out.values()];
}

/** mayMatch says whether a stored series (its labels) may be selected by `matchers`, through any of its views. */
function mayMatch(matchers: readonly Matcher[], labels: Labels): boolean {
  for (const m of matchers) {
    if (m.name === 'le') continue;
    if (m.name === METRIC_NAME) {
      const name = getLabel(labels, METRIC_NAME);
      // A stored histogram is also selected by the names of its views.
      if (!VARIANT_SUFFIX.some((x) => m.matches(name + x))) return false;
    } else if (!m.matches(getLabel(labels, m.name))) return false;
  }
  return true;
}

/**
 * narrowing lists the matchers whose reads (one each, added to the selector) together select
 * every series in `changed`, and few of the kept ones besides: `label="value"` for each value
 * the changed series have of one label (other than the name) that all of them carry, the label
 * chosen for the least estimated cost. A narrowed read costs about 300 series read at 4k series
 * (the store walks the selector's name postings, ~1.2 ms); a regex matcher would walk
 * every value of its label instead (14 ms for 5 values of 2k). Each series read costs what it
 * costs a whole read (WHOLE_COST, sorting included). null when no label is shared, or the reads
 * would cost more than half a whole read (or one narrowed read, for a few kept series).
 */
function narrowing(changed: readonly Labels[], kept: readonly Labels[]): Matcher[] | null {
  let best: { name: string; values: Set<string>; cost: number } | null = null;
  const step = Math.max(1, Math.floor(kept.length / SAMPLE));
  for (const l of changed[0]!) {
    if (l.name === METRIC_NAME || l.name === 'le' || changed.some((c) => getLabel(c, l.name) === '')) continue;
    const values = new Set<string>();
    for (const c of changed) values.add(getLabel(c, l.name));
    // The kept series the reads would select, estimated on at most SAMPLE of them, evenly spread.
    let n = 0;
    for (let i = 0; i < kept.length; i += step) if (values.has(getLabel(kept[i]!, l.name))) n++;
    const cost = values.size * (READ_COST + READ_PER_SERIES * kept.length) + n * step * WHOLE_COST;
    if (best === null || cost < best.cost) best = { name: l.name, values, cost };
  }
  // Worth it only well under a whole read (the entry is then copied and kept, which a read live is
  // not), but for a few kept series, where one narrowed read costs what a whole read does.
  if (best === null || best.cost >= (WHOLE_COST / 2) * kept.length + READ_COST) return null;
  return [...best.values].map((v) => new Matcher('=', best!.name, v));
}

/** SAMPLE is how many kept series narrowing looks at to choose its label. */
const SAMPLE = 256;
/**
 * READ_COST + READ_PER_SERIES x (the kept series) is what one narrowed read costs beyond its
 * series, in series read (see narrowing): ~300 at 4k series.
 */
const READ_COST = 4;
const READ_PER_SERIES = 0.075;
/** WHOLE_COST is what a read costs per series, in the units of READ_COST (10 us: 41 ms for 4k). */
const WHOLE_COST = 2.5;

/**
 * lookup finds or fills the entry for [fromMs, toMs] (inside one hour); null when the read is not
 * kept: the caller reads live. An hour is kept at its first read; written into since, it is
 * brought up to date by reading the series written there (`fill` narrowed by matchers), or, when
 * the store cannot tell which they are or they are many, read live and kept again once it is
 * found unchanged since the answer before.
 */
function lookup(
  q: Querier, tenant: string, matchers: readonly Matcher[], kind: 'inc' | 'hist', fromMs: number, toMs: number, marginMs: number,
  fill: (hourMs: number, narrow: Matcher | null) => IncRecord | HistRecord,
): Entry | null {
  const reader = q.digests;
  if (reader === undefined) return null;
  const hourMs = Math.floor(fromMs / HOUR) * HOUR;
  if (toMs >= hourMs + HOUR) return null;
  // The stamps are read before the samples: a commit in between makes the entry stale, not wrong.
  const sig = signature(reader, hourMs, marginMs, fromMs, toMs);
  if (sig === null) return null;
  let c = caches.get(reader);
  if (c === undefined) caches.set(reader, (c = { entries: new Map(), bytes: 0, written: new Map() }));
  const key = `${tenant}\u0000${kind}\u0000${hourMs}\u0000${matchers.join('\u0000')}`;
  const e = c.entries.get(key);
  if (e !== undefined) {
    c.entries.delete(key);
    if (e.rec !== null && sameSig(e.sig, sig)) {
      c.entries.set(key, e);
      EDGE_CACHE_STATS.hits++;
      return e;
    }
    c.bytes -= e.bytes;
    // Written into since it was kept: when the store tells which series were written there and
    // they are few, only those are read again (under ingestion most series are idle in a commit).
    const changed = e.rec !== null ? written(c, reader, tenant, matchers, e.sig, sig) : null;
    if (changed !== null && changed.length <= Math.max(1, REFRESH_SHARE * e.rec!.labels.length)) {
      const narrow = changed.length === 0 ? null : narrowing(changed, e.rec!.labels);
      const rec = changed.length === 0 ? e.rec! : narrow === null ? null : merged(e.rec!, narrow.map((m) => fill(hourMs, m)), changed);
      if (rec !== null) {
        if (rec !== e.rec) EDGE_CACHE_STATS.refreshes++;
        else EDGE_CACHE_STATS.hits++;
        return keep(c, key, { sig, rec, bytes: recordBytes(rec) });
      }
    }
    if (!sameSig(e.sig, sig)) {
      // Written into since it was read (the open hour, under ingestion, at every commit): read
      // live, not kept, until an answer finds it unchanged since the one before. Recording a
      // read that the next commit makes stale cost a tenth of an answer.
      c.entries.set(key, { sig, rec: null, bytes: 0 });
      return null;
    }
  }
  EDGE_CACHE_STATS.fills++;
  const rec = fill(hourMs, null);
  return keep(c, key, { sig, rec, bytes: recordBytes(rec) });
}

/** keep records `entry` under `key` (unless it is too large), dropping the oldest past the bounds. */
function keep(c: Cache, key: string, entry: Entry): Entry {
  if (entry.bytes <= MAX_BYTES / 4) {
    c.entries.set(key, entry);
    c.bytes += entry.bytes;
    for (const [k, old] of c.entries) {
      if (c.bytes <= MAX_BYTES && c.entries.size <= MAX_ENTRIES) break;
      c.entries.delete(k);
      c.bytes -= old.bytes;
    }
  }
  return entry;
}

/**
 * merged is `kept` with the series of `reads` (reads of the same hour narrowed to the series in
 * `changed` and perhaps a few others) in place of their kept reads, and without the changed series
 * that no longer read anything, in the order a whole read hands series over (label order); null
 * when that order cannot be kept (a selector whose series are not in strict label order).
 */
function merged<R extends IncRecord | HistRecord>(kept: R, reads: ReadonlyArray<IncRecord | HistRecord>, changed: readonly Labels[]): R | null {
  // The narrowed reads' series, in label order.
  const fresh: Array<[IncRecord | HistRecord, number]> = [];
  for (const r of reads) for (let s = 0; s < r.labels.length; s++) fresh.push([r, s]);
  if (reads.length > 1) fresh.sort((a, b) => compareLabels(a[0].labels[a[1]]!, b[0].labels[b[1]]!));
  const drop = new Set<string>();
  for (const [r, s] of fresh) drop.add(r.keys[s]!);
  for (const l of changed) drop.add(labelsKey(l));
  // The series of the result, as (record, series index) runs: kept runs are copied whole.
  const parts: Array<[IncRecord | HistRecord, number, number]> = [];
  const add = (r: IncRecord | HistRecord, s: number): void => {
    const last = parts[parts.length - 1];
    if (last !== undefined && last[0] === r && last[2] === s) last[2] = s + 1;
    else parts.push([r, s, s + 1]);
  };
  let f = 0;
  for (let s = 0; s < kept.labels.length; s++) {
    if (drop.has(kept.keys[s]!)) continue;
    for (; f < fresh.length && compareLabels(fresh[f]![0].labels[fresh[f]![1]]!, kept.labels[s]!) < 0; f++) add(fresh[f]![0], fresh[f]![1]);
    add(kept, s);
  }
  for (; f < fresh.length; f++) add(fresh[f]![0], fresh[f]![1]);
  const labels: Labels[] = [], keys: string[] = [], ends: number[] = [];
  let n = 0;
  for (const [r, a, b] of parts) {
    for (let s = a; s < b; s++) {
      labels.push(r.labels[s]!);
      keys.push(r.keys[s]!);
      ends.push((n += r.ends[s]! - (s === 0 ? 0 : r.ends[s - 1]!)));
    }
  }
  for (let s = 1; s < labels.length; s++) if (compareLabels(labels[s - 1]!, labels[s]!) >= 0) return null;
  const t = new Float64Array(n);
  const inc = kept.kind === 'inc' ? new Float64Array(n) : null, prevT = kept.kind === 'inc' ? new Float64Array(n) : null;
  const hists: SparseHistogram[] = [];
  let o = 0;
  for (const [r, a, b] of parts) {
    const from = a === 0 ? 0 : r.ends[a - 1]!, to = r.ends[b - 1]!;
    t.set(r.t.subarray(from, to), o);
    if (r.kind === 'inc') {
      inc!.set(r.inc.subarray(from, to), o);
      prevT!.set(r.prevT.subarray(from, to), o);
    } else for (let i = from; i < to; i++) hists.push(r.hists[i]!);
    o += to - from;
  }
  if (kept.kind === 'inc') return { kind: 'inc', labels, keys, ends, t, inc: inc!, prevT: prevT! } as IncRecord as R;
  return { kind: 'hist', labels, keys, ends, t, hists } as HistRecord as R;
}

/** recordBytes estimates what a kept read takes: its sample columns and histogram copies. */
function recordBytes(rec: IncRecord | HistRecord): number {
  let bytes = rec.t.length * SAMPLE_BYTES;
  if (rec.kind === 'hist') for (const h of rec.hists) bytes += HIST_BYTES + h.size * BUCKET_BYTES;
  return bytes;
}

/**
 * edgeIncrements hands `fn` the increments a read of [fromMs, toMs] (inside one hour, step hint
 * 1, look-back `marginMs`) returns, from the kept read of its hour; false when it is not kept
 * (the caller reads live). `read(from, to, fn)` is the live read, with each increment's
 * baseline time. A read from inside the hour counts the first sample from `fromMs` on only when
 * its baseline lies in its own look-back, as a read starting there does.
 */
export function edgeIncrements(
  q: Querier, tenant: string, matchers: readonly Matcher[], fromMs: number, toMs: number, marginMs: number,
  fn: (labels: Labels, key: string, tsMs: number, inc: number) => void,
  read: (fromMs: number, toMs: number, matchers: readonly Matcher[], fn: (labels: Labels, key: string, tsMs: number, inc: number, prevT: number) => void) => void,
): boolean {
  const e = lookup(q, tenant, matchers, 'inc', fromMs, toMs, marginMs, (hourMs, narrow) => {
    const labels: Labels[] = [], keys: string[] = [], ends: number[] = [];
    const cols = new Columns(3);
    let last: Labels | null = null;
    read(hourMs, hourMs + HOUR - 1, narrow === null ? matchers : [...matchers, narrow], (l, k, ts, v, pt) => {
      if (l !== last) {
        if (last !== null) ends.push(cols.n);
        labels.push(l);
        keys.push(k);
        last = l;
      }
      cols.push3(ts, v, pt);
    });
    if (last !== null) ends.push(cols.n);
    return { kind: 'inc', labels, keys, ends, t: cols.column(0), inc: cols.column(1), prevT: cols.column(2) };
  });
  if (e === null) return false;
  const r = e.rec! as IncRecord;
  const leadFrom = fromMs - marginMs;
  let i = 0;
  for (let s = 0; s < r.labels.length; s++) {
    const end = r.ends[s]!;
    let first = true;
    for (; i < end; i++) {
      const ts = r.t[i]!;
      if (ts < fromMs || ts > toMs) continue;
      // The first sample of a read is its baseline unless one lies in its look-back.
      if (first) {
        first = false;
        if (r.prevT[i]! < leadFrom) continue;
      }
      fn(r.labels[s]!, r.keys[s]!, ts, r.inc[i]!);
    }
  }
  return true;
}

/**
 * edgeWindowHistograms is edgeIncrements for window histograms (no look-back): `read(from, to,
 * fn)` is the live read; the histograms handed to `fn` are the entry's (callers MUST NOT mutate
 * them).
 */
export function edgeWindowHistograms(
  q: Querier, tenant: string, matchers: readonly Matcher[], fromMs: number, toMs: number,
  fn: (labels: Labels, tsMs: number, h: SparseHistogram) => void,
  read: (fromMs: number, toMs: number, matchers: readonly Matcher[], fn: (labels: Labels, tsMs: number, h: SparseHistogram) => void) => void,
): boolean {
  const e = lookup(q, tenant, matchers, 'hist', fromMs, toMs, 0, (hourMs, narrow) => {
    const labels: Labels[] = [], keys: string[] = [], ends: number[] = [], hists: SparseHistogram[] = [];
    const cols = new Columns(1);
    let last: Labels | null = null;
    read(hourMs, hourMs + HOUR - 1, narrow === null ? matchers : [...matchers, narrow], (l, ts, h) => {
      if (l !== last) {
        if (last !== null) ends.push(cols.n);
        labels.push(l);
        keys.push(labelsKey(l));
        last = l;
      }
      cols.push1(ts);
      // The store's histogram is kept past the read: a copy.
      hists.push(h.clone());
    });
    if (last !== null) ends.push(cols.n);
    return { kind: 'hist', labels, keys, ends, t: cols.column(0), hists };
  });
  if (e === null) return false;
  const r = e.rec! as HistRecord;
  let i = 0;
  for (let s = 0; s < r.labels.length; s++) {
    const end = r.ends[s]!;
    for (; i < end; i++) {
      const ts = r.t[i]!;
      if (ts >= fromMs && ts <= toMs) fn(r.labels[s]!, ts, r.hists[i]!);
    }
  }
  return true;
}

/** Columns are growable columns of doubles, filled a row at a time (a fill records tens of thousands of samples). */
class Columns {
  n = 0;
  private cols: Float64Array[];

  constructor(width: number) {
    this.cols = Array.from({ length: width }, () => new Float64Array(1024));
  }

  push1(a: number): void {
    if (this.n === this.cols[0]!.length) this.grow();
    this.cols[0]![this.n++] = a;
  }

  push3(a: number, b: number, c: number): void {
    if (this.n === this.cols[0]!.length) this.grow();
    const cs = this.cols;
    cs[0]![this.n] = a;
    cs[1]![this.n] = b;
    cs[2]![this.n++] = c;
  }

  /** column is column `i`, trimmed to the rows pushed (a copy: the buffer is not kept). */
  column(i: number): Float64Array {
    return this.cols[i]!.slice(0, this.n);
  }

  private grow(): void {
    this.cols = this.cols.map((c) => {
      const next = new Float64Array(c.length * 2);
      next.set(c);
      return next;
    });
  }
}
