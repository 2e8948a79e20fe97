import type { SparseHistogram } from '../model/hdr.js';
import { compareLabels, getLabel, labelsKey, METRIC_NAME, type Labels } from '../model/labels.js';
import { Matcher } from '../model/matcher.js';
import type { DigestReader, Querier } from '../store/interface.js';

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
 * few, only they are read again (a read narrowed by one of their labels) and merged into the
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

/** Per store (its digest reader): entries by tenant, selector, kind and hour, oldest first. */
const caches = new WeakMap<DigestReader, { entries: Map<string, Entry>; bytes: number }>();

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
function written(reader: DigestReader & TierReader, tenant: string, matchers: readonly Matcher[], was: Sig, now: Sig): Labels[] | null {
  if (reader.writtenSeries === undefined || was.tier !== now.tier || was.firstHourMs !== now.firstHourMs) return null;
  const out = new Map<string, Labels>();
  for (let i = 0; i < now.stamps.length; i++) {
    if (was.stamps[i] === now.stamps[i]) continue;
    const ls = reader.writtenSeries(tenant, now.firstHourMs + i * HOUR, was.stamps[i]!, now.stamps[i]!, WRITTEN_LIMIT);
    if (ls === null) return null;
    for (const l of ls) if (mayMatch(matchers, l)) out.set(labelsKey(l), l);
  }
  return [...out.values()];
}

/** VIEW_SUFFIXES are the names a stored histogram is also selected by (store/view.ts). */
const VIEW_SUFFIXES = ['', '_bucket', '_sum', '_count'];

/** mayMatch says whether a stored series (its labels) may be selected by `matchers`, through any of its views. */
function mayMatch(matchers: readonly Matcher[], labels: Labels): boolean {
  for (const m of matchers) {
    if (m.name === 'le') continue;
    if (m.name === METRIC_NAME) {
      const name = getLabel(labels, METRIC_NAME);
      if (!VIEW_SUFFIXES.some((x) => m.matches(name + x))) return false;
    } else if (!m.matches(getLabel(labels, m.name))) return false;
  }
  return true;
}

/**
 * narrowing is a matcher that every series in `changed` satisfies and that selects few of the
 * kept series besides: on the label (other than the name) that all of them carry whose values
 * among them the fewest kept series share. null when they share no such label.
 */
function narrowing(changed: readonly Labels[], kept: readonly Labels[]): Matcher | null {
  let best: { name: string; values: Set<string>; n: number } | null = null;
  for (const l of changed[0]!) {
    if (l.name === METRIC_NAME || l.name === 'le' || changed.some((c) => getLabel(c, l.name) === '')) continue;
    const values = new Set<string>();
    for (const c of changed) values.add(getLabel(c, l.name));
    let n = 0;
    for (const k of kept) if (values.has(getLabel(k, l.name))) n++;
    if (best === null || n < best.n) best = { name: l.name, values, n };
  }
  if (best === null) return null;
  const vs = [...best.values];
  return vs.length === 1 ? new Matcher('=', best.name, vs[0]!) : new Matcher('=~', best.name, vs.map(escapeRe).join('|'));
}

const escapeRe = (v: string): string => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * lookup finds or fills the entry for [fromMs, toMs] (inside one hour); null when the read is not
 * kept: the caller reads live. An hour is kept at its first read; written into since, it is
 * brought up to date by reading the series written there (`fill` narrowed by a matcher), or, when
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
  if (c === undefined) caches.set(reader, (c = { entries: new Map(), bytes: 0 }));
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
    const changed = e.rec !== null ? written(reader, tenant, matchers, e.sig, sig) : null;
    if (changed !== null && changed.length <= Math.max(1, REFRESH_SHARE * e.rec!.labels.length)) {
      const narrow = changed.length === 0 ? null : narrowing(changed, e.rec!.labels);
      const rec = changed.length === 0 ? e.rec! : narrow === null ? null : merged(e.rec!, fill(hourMs, narrow), changed);
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
function keep(c: { entries: Map<string, Entry>; bytes: number }, key: string, entry: Entry): Entry {
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
 * merged is `kept` with the series of `fresh` (a read of the same hour narrowed to the series in
 * `changed` and perhaps a few others) in place of their kept reads, and without the changed series
 * that no longer read anything, in the order a whole read hands series over (label order); null
 * when that order cannot be kept (a selector whose series are not in strict label order).
 */
function merged<R extends IncRecord | HistRecord>(kept: R, fresh: IncRecord | HistRecord, changed: readonly Labels[]): R | null {
  const drop = new Set<string>(fresh.keys);
  for (const l of changed) drop.add(labelsKey(l));
  const cols = new Columns(kept.kind === 'inc' ? 3 : 1);
  const labels: Labels[] = [], keys: string[] = [], ends: number[] = [], hists: SparseHistogram[] = [];
  const copy = (r: IncRecord | HistRecord, s: number): void => {
    labels.push(r.labels[s]!);
    keys.push(r.keys[s]!);
    for (let i = s === 0 ? 0 : r.ends[s - 1]!; i < r.ends[s]!; i++) {
      if (r.kind === 'inc') cols.push3(r.t[i]!, r.inc[i]!, r.prevT[i]!);
      else {
        cols.push1(r.t[i]!);
        hists.push(r.hists[i]!);
      }
    }
    ends.push(cols.n);
  };
  let f = 0;
  for (let s = 0; s < kept.labels.length; s++) {
    if (drop.has(kept.keys[s]!)) continue;
    while (f < fresh.labels.length && compareLabels(fresh.labels[f]!, kept.labels[s]!) < 0) copy(fresh, f++);
    copy(kept, s);
  }
  while (f < fresh.labels.length) copy(fresh, f++);
  for (let s = 1; s < labels.length; s++) if (compareLabels(labels[s - 1]!, labels[s]!) >= 0) return null;
  if (kept.kind === 'inc') return { kind: 'inc', labels, keys, ends, t: cols.column(0), inc: cols.column(1), prevT: cols.column(2) } as IncRecord as R;
  return { kind: 'hist', labels, keys, ends, t: cols.column(0), hists } as HistRecord as R;
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
