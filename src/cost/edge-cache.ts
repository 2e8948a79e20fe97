import type { SparseHistogram } from '../model/hdr.js';
import type { Labels } from '../model/labels.js';
import type { Matcher } from '../model/matcher.js';
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
 * read live. The open hour is kept as well and is read again after each commit into it.
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

/** TierReader is a digest reader that tells which tier an edge read takes (store/digests.ts). */
interface TierReader {
  edgeReadTier?(leadStartMs: number, startMs: number, endMs: number): number;
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
  readonly ends: number[];
  readonly t: Float64Array;
  readonly hists: SparseHistogram[];
}

/**
 * Entry is a kept read and the signature it was read at; without `rec`, a mark that the hour
 * changed since the last read kept of it (see lookup).
 */
interface Entry {
  readonly sig: string;
  readonly rec: IncRecord | HistRecord | null;
  /** bytes is what the entry's samples take (an estimate, see SAMPLE_BYTES). */
  readonly bytes: number;
}

/** Per store (its digest reader): entries by tenant, selector, kind and hour, oldest first. */
const caches = new WeakMap<DigestReader, { entries: Map<string, Entry>; bytes: number }>();

/** EDGE_CACHE_STATS counts entry fills and reads served from an entry (tests, benchmarks). */
export const EDGE_CACHE_STATS = { fills: 0, hits: 0 };

/** signature is the tier and hour stamps an hour's read of [leadStartMs, hourEnd] depends on; null when it is not kept. */
function signature(reader: DigestReader & TierReader, hourMs: number, marginMs: number, fromMs: number, toMs: number): string | null {
  if (reader.edgeReadTier === undefined) return null;
  const tier = reader.edgeReadTier(hourMs - marginMs, hourMs, hourMs + HOUR - 1);
  // The read asked for must take the same tier (its first step picks it: it may start later).
  if (tier < 0 || (fromMs !== hourMs && reader.edgeReadTier(fromMs - marginMs, fromMs, toMs) !== tier)) return null;
  let sig = String(tier);
  for (let h = Math.floor((hourMs - marginMs) / HOUR) * HOUR; h <= hourMs; h += HOUR) sig += ':' + reader.hourStamp(h);
  return sig;
}

/**
 * lookup finds or fills the entry for [fromMs, toMs] (inside one hour); null when the read is not
 * kept: the caller reads live. An hour is kept at its first read, and again once it is found
 * unchanged since the answer before.
 */
function lookup(q: Querier, tenant: string, matchers: readonly Matcher[], kind: 'inc' | 'hist', fromMs: number, toMs: number, marginMs: number, fill: (hourMs: number) => IncRecord | HistRecord): Entry | null {
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
    if (e.sig === sig && e.rec !== null) {
      c.entries.set(key, e);
      EDGE_CACHE_STATS.hits++;
      return e;
    }
    c.bytes -= e.bytes;
    if (e.sig !== sig) {
      // Written into since it was read (the open hour, under ingestion, at every commit): read
      // live, not kept, until an answer finds it unchanged since the one before. Recording a
      // read that the next commit makes stale cost a tenth of an answer.
      c.entries.set(key, { sig, rec: null, bytes: 0 });
      return null;
    }
  }
  EDGE_CACHE_STATS.fills++;
  const rec = fill(hourMs);
  const entry: Entry = { sig, rec, bytes: recordBytes(rec) };
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
  read: (fromMs: number, toMs: number, fn: (labels: Labels, key: string, tsMs: number, inc: number, prevT: number) => void) => void,
): boolean {
  const e = lookup(q, tenant, matchers, 'inc', fromMs, toMs, marginMs, (hourMs) => {
    const labels: Labels[] = [], keys: string[] = [], ends: number[] = [];
    const cols = new Columns(3);
    let last: Labels | null = null;
    read(hourMs, hourMs + HOUR - 1, (l, k, ts, v, pt) => {
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
  read: (fromMs: number, toMs: number, fn: (labels: Labels, tsMs: number, h: SparseHistogram) => void) => void,
): boolean {
  const e = lookup(q, tenant, matchers, 'hist', fromMs, toMs, 0, (hourMs) => {
    const labels: Labels[] = [], ends: number[] = [], hists: SparseHistogram[] = [];
    const cols = new Columns(1);
    let last: Labels | null = null;
    read(hourMs, hourMs + HOUR - 1, (l, ts, h) => {
      if (l !== last) {
        if (last !== null) ends.push(cols.n);
        labels.push(l);
        last = l;
      }
      cols.push1(ts);
      // The store's histogram is kept past the read: a copy.
      hists.push(h.clone());
    });
    if (last !== null) ends.push(cols.n);
    return { kind: 'hist', labels, ends, t: cols.column(0), hists };
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
