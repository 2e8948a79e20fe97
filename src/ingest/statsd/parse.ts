import { ACCEPTED, REFUSAL_NAMES, refRefusal, type IngestSink, type Verdict } from '../sink.js';
import { labelsFromRecord, sanitizeLabelName, sanitizeMetricName, METRIC_NAME } from '../../model/labels.js';
import { MetricKind, DEFAULT_TENANT } from '../../model/metric-kind.js';
import { parseDecimal, parseDecimalTo } from './number.js';
import { SeriesCache, keyHash, MISS, CACHED_MALFORMED, CACHED_BAD_TAGS } from './series-cache.js';
import { FNV_OFFSET, fnv1aStep } from '../../wire/fnv1a.js';

/**
 * The StatsD/DogStatsD line parser (SPEC section 3). It walks a packet's bytes and pushes samples
 * into an IngestSink; it does no I/O. Line format:
 *
 *   name:value|type[|@rate][|#k:v,k2:v2][|T<unix seconds>][|c:container]
 *
 * Series refs are cached by the raw bytes of (type, name, tags, container), so a line of a known
 * series allocates nothing: no string, no Labels, no number parsing through strings. Only a miss
 * decodes the bytes, builds Labels and asks `sink.series` (idempotent for equal labels, so the
 * same tags in another order reach the same series through a second cache entry). A hit costs
 * two native byte searches (the line's end, the tag field's end), a byte loop over the name and
 * value, and a hash and compare of the key four bytes at a time (see series-cache.ts).
 */

/** BadReason is why a line was skipped; the numeric value indexes `StatsdCounts.bad`. */
export const enum BadReason {
  /** Not `name:value|type...`: no colon, no type, empty name or field, undecodable name. */
  Malformed = 0,
  /** The value is not a finite decimal number, or a counter is negative. */
  BadValue = 1,
  /** The type is not one of c, g, ms, h, d, s. */
  BadType = 2,
  /** `@rate` is not a number in (0, 1]. */
  BadSampleRate = 3,
  /** `T` is not a unix time in whole seconds. */
  BadTimestamp = 4,
  /** Tags that cannot become labels: invalid UTF-8, a reserved `__` name, or two `#` fields. */
  BadTags = 5,
  /**
   * A limit refused the series (the sink returned a negative refusedRef). Counted under the sink's Refusal
   * name (series_per_tenant, labels_per_series, ...), the vocabulary every ingest path shares.
   */
  Limit = 6,
  /** The sink refused the point (too_old, too_new, kind_mismatch, ...): counted as Limit is. */
  Refused = 7,
  /** DogStatsD events (`_e{`) and service checks (`_sc|`), which are not metrics. */
  Unsupported = 8,
  /** The listener dropped the packet: its source is outside `statsd.allow`. */
  Denied = 9,
}

/** BAD_REASONS are the `reason` label values of `tallyd_statsd_bad_lines_total`, by BadReason. */
export const BAD_REASONS: readonly string[] = [
  'malformed', 'bad_value', 'bad_type', 'bad_sample_rate', 'bad_timestamp', 'bad_tags', 'limit', 'refused', 'unsupported', 'denied',
];

/** REFUSED_BASE - r is the cached ref of a key whose series the sink refused for Refusal r. */
const REFUSED_BASE = -1000;

/** StatsdCounts accumulates what parsers saw; several parsers may share one (module totals). */
export class StatsdCounts {
  /** lines is every non-empty line read, good or bad. */
  lines: number;
  /** bad counts skipped lines by BadReason (Limit and Refused also by Refusal in `refused`). */
  readonly bad: Float64Array;
  /** refused counts the lines the sink refused, by Refusal (REFUSAL_NAMES). */
  readonly refused: Float64Array;

  constructor() {
    this.lines = 0;
    this.bad = new Float64Array(BAD_REASONS.length);
    this.refused = new Float64Array(REFUSAL_NAMES.length);
  }

  /** badTotal sums the bad lines over every reason. */
  badTotal(): number {
    let s = 0;
    for (let i = 0; i < this.bad.length; i++) s += this.bad[i]!;
    return s;
  }
}

/**
 * BadLineHook sees every skipped line (bytes [start, end) of buf, valid only during the call),
 * with the sink's Refusal when the reason is Limit or Refused (else -1). The listener uses it for
 * the process totals and a rate-limited log sample; it is not called for good lines.
 */
export type BadLineHook = (reason: BadReason, buf: Uint8Array, start: number, end: number, refusal: number) => void;

/** badReasonName is the `reason` label of a skipped line: the shared Refusal name when the sink refused it. */
export function badReasonName(reason: BadReason, refusal: number): string {
  return refusal >= 0 ? REFUSAL_NAMES[refusal]! : BAD_REASONS[reason]!;
}

/** StatsdParserOptions configure a StatsdParser. */
export interface StatsdParserOptions {
  /** Tenant every series is written to (default `default`). */
  readonly tenant?: string;
  /** Where counts go (default: a fresh StatsdCounts). */
  readonly counts?: StatsdCounts;
  readonly onBad?: BadLineHook;
  /** Cache entries kept before the cache is cleared and refilled (default 262144). */
  readonly maxCacheEntries?: number;
}

// The statsd type of a line; the key of a cache entry includes it.
const T_COUNTER = 1, T_GAUGE = 2, T_TIMER = 3, T_HISTOGRAM = 4, T_DISTRIBUTION = 5, T_SET = 6;

const CH_LF = 10, CH_CR = 13, CH_SPACE = 32, CH_TAB = 9, CH_HASH = 35, CH_PLUS = 43, CH_COMMA = 44, CH_MINUS = 45;
const CH_COLON = 58, CH_AT = 64, CH_T = 84, CH_UNDERSCORE = 95, CH_PIPE = 124, CH_LBRACE = 123;
const CH_c = 99, CH_d = 100, CH_e = 101, CH_g = 103, CH_h = 104, CH_m = 109, CH_s = 115;

/** Dates beyond this are not unix seconds (year 5138); they are refused as bad timestamps. */
const MAX_UNIX_SECONDS = 1e11;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const EMPTY = new Uint8Array(0);
/**
 * Buffer's indexOf is a native byte search that also takes a plain Uint8Array. It finds a line's
 * end and the end of its tag field (the long scans) about three times faster than a JS byte loop
 * (~17 vs ~56 ns for an 85-byte tagged line); TypedArray#indexOf is not faster than the loop.
 */
const indexOf = Buffer.prototype.indexOf as (this: Uint8Array, value: number, byteOffset: number) => number;
/** SCRATCH receives parsed values (see parseDecimalTo). */
const SCRATCH = new Float64Array(1);

/**
 * StatsdParser turns StatsD packets into sink calls. One parser per listener: it owns the series
 * cache. Not reentrant (single-threaded use).
 */
export class StatsdParser {
  readonly counts: StatsdCounts;
  private readonly sink: IngestSink;
  private readonly tenant: string;
  private readonly onBad: BadLineHook | null;
  private readonly cache: SeriesCache;
  /** Refusal of the line `line` just refused (valid when it returned Limit or Refused). */
  private refusal: number;
  /**
   * The buffer `dv` views: one DataView per packet, for the series cache's word reads. It is the
   * parser's one allocation per packet (~130 bytes, ~7 B/line at 20 lines a packet; a UDP
   * datagram already costs its Buffer and rinfo), and it buys a third of a tagged line's time.
   */
  private dvBuf: Uint8Array;
  private dv: DataView;

  constructor(sink: IngestSink, opts: StatsdParserOptions = {}) {
    this.sink = sink;
    this.tenant = opts.tenant ?? DEFAULT_TENANT;
    this.counts = opts.counts ?? new StatsdCounts();
    this.onBad = opts.onBad ?? null;
    this.cache = new SeriesCache(opts.maxCacheEntries ?? 262144);
    this.refusal = -1;
    this.dvBuf = EMPTY;
    this.dv = new DataView(EMPTY.buffer);
  }

  /**
   * parse reads the lines of buf[start, end) (split on \n, \r\n tolerated, empty lines ignored)
   * with `arrivalMs` as the timestamp of lines without `|T`. It returns the number of lines read.
   * The caller calls `sink.flush()` after the packet. Buffer bytes are not retained.
   */
  parse(buf: Uint8Array, start: number, end: number, arrivalMs: number): number {
    if (buf !== this.dvBuf) {
      this.dvBuf = buf;
      this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    let n = 0;
    let i = start;
    while (i < end) {
      let e = indexOf.call(buf, CH_LF, i);
      if (e < 0 || e > end) e = end;
      // Trim spaces, tabs and a \r at both ends of the line.
      let s = i, le = e;
      while (s < le && isBlank(buf[s]!)) s++;
      while (le > s && isBlank(buf[le - 1]!)) le--;
      if (le > s) {
        n++;
        this.counts.lines++;
        const reason = this.line(buf, s, le, arrivalMs);
        if (reason >= 0) this.bad(reason, buf, s, le);
      }
      i = e + 1;
    }
    return n;
  }

  /** cacheSize is the number of cached series keys (for tests and benchmarks). */
  cacheSize(): number {
    return this.cache.size;
  }

  private bad(reason: BadReason, buf: Uint8Array, s: number, e: number): void {
    this.counts.bad[reason]!++;
    const refusal = reason === BadReason.Limit || reason === BadReason.Refused ? this.refusal : -1;
    if (refusal >= 0) this.counts.refused[refusal]!++;
    if (this.onBad !== null) this.onBad(reason, buf, s, e, refusal);
  }

  /** line parses one trimmed non-empty line; it returns -1 when recorded, else a BadReason. */
  private line(b: Uint8Array, s: number, e: number, arrivalMs: number): number {
    // Name: up to the colon.
    let i = s;
    while (i < e) {
      const c = b[i]!;
      if (c === CH_COLON || c === CH_PIPE) break;
      i++;
    }
    const nameEnd = i;
    if (b[s] === CH_UNDERSCORE && (isEventOrCheck(b, s, e))) return BadReason.Unsupported;
    if (i === e || b[i] !== CH_COLON || nameEnd === s) return BadReason.Malformed;

    // Value: up to the first pipe.
    const valStart = ++i;
    while (i < e && b[i] !== CH_PIPE) i++;
    const valEnd = i;
    if (i === e) return BadReason.Malformed;

    // Type.
    const typeStart = ++i;
    while (i < e && b[i] !== CH_PIPE) i++;
    const type = typeOf(b, typeStart, i);
    if (type === 0) return typeStart === i ? BadReason.Malformed : BadReason.BadType;

    // Extension fields, each starting at a pipe.
    let rate = 1;
    let tsMs = arrivalMs;
    let tagStart = -1, tagEnd = -1;
    let contStart = -1, contEnd = -1;
    while (i < e) {
      const fs = ++i;
      if (b[fs] === CH_HASH) {
        if (tagStart >= 0) return BadReason.BadTags;
        i = indexOf.call(b, CH_PIPE, fs + 1);
        if (i < 0 || i > e) i = e;
        tagStart = fs + 1;
        tagEnd = i;
        continue;
      }
      while (i < e && b[i] !== CH_PIPE) i++;
      const fe = i;
      if (fs === fe) return BadReason.Malformed;
      const c = b[fs]!;
      if (c === CH_AT) {
        rate = parseDecimal(b, fs + 1, fe);
        if (!(rate > 0 && rate <= 1)) return BadReason.BadSampleRate;
      } else if (c === CH_T) {
        const secs = parseUnixSeconds(b, fs + 1, fe);
        if (secs < 0) return BadReason.BadTimestamp;
        tsMs = secs * 1000;
      } else if (c === CH_c && fe - fs > 2 && b[fs + 1] === CH_COLON) {
        contStart = fs + 2;
        contEnd = fe;
      } else if (!isDogStatsdField(b, fs, fe)) {
        return BadReason.Malformed;
      }
    }

    // Validate the value(s) before the series lookup, so a bad line never creates a series.
    // A single value is parsed once, into a typed slot so the double is never boxed.
    if (valStart === valEnd) return BadReason.BadValue;
    let value = 0;
    let many = false;
    if (type !== T_SET) {
      if ((type === T_TIMER || type === T_HISTOGRAM || type === T_DISTRIBUTION) && hasColon(b, valStart, valEnd)) {
        many = true;
        let vs = valStart;
        for (let k = valStart; k <= valEnd; k++) {
          if (k === valEnd || b[k] === CH_COLON) {
            if (!parseDecimalTo(b, vs, k, SCRATCH)) return BadReason.BadValue;
            vs = k + 1;
          }
        }
      } else {
        if (!parseDecimalTo(b, valStart, valEnd, SCRATCH)) return BadReason.BadValue;
        value = SCRATCH[0]!;
        if (type === T_COUNTER && value < 0) return BadReason.BadValue;
      }
    }

    // Series lookup: the key is (type, name bytes, tag bytes, container bytes).
    const dv = this.dv;
    const nl = nameEnd - s, tl = tagEnd - tagStart, cl = contEnd - contStart;
    const hash = keyHash(type, dv, s, nl, tagStart, tl, contStart, cl);
    let ref = this.cache.find(hash, type, dv, s, nl, tagStart, tl, contStart, cl);
    if (ref === MISS) {
      ref = this.resolve(b, s, nameEnd, type, tagStart, tagEnd, contStart, contEnd);
      this.cache.insert(hash, type, dv, s, nl, tagStart, tl, contStart, cl, ref);
    }
    if (ref < 0) {
      if (ref <= REFUSED_BASE) {
        this.refusal = REFUSED_BASE - ref;
        return BadReason.Limit;
      }
      return ref === CACHED_BAD_TAGS ? BadReason.BadTags : BadReason.Malformed;
    }

    // Record.
    const sink = this.sink;
    let v: Verdict = ACCEPTED;
    switch (type) {
      case T_COUNTER:
        v = sink.counter(ref, value / rate, tsMs);
        break;
      case T_GAUGE: {
        const sign = b[valStart];
        v = sign === CH_PLUS || sign === CH_MINUS ? sink.gaugeAdd(ref, value, tsMs) : sink.gaugeSet(ref, value, tsMs);
        break;
      }
      case T_SET:
        v = sink.setMember(ref, memberHash(b, valStart, valEnd), tsMs);
        break;
      default: {
        // Timers are sent in milliseconds and stored in seconds; h and d keep the sender's unit.
        const scale = type === T_TIMER ? 0.001 : 1;
        const count = 1 / rate;
        if (!many) {
          v = sink.observe(ref, value * scale, count, tsMs);
          break;
        }
        let vs = valStart;
        for (let k = valStart; k <= valEnd; k++) {
          if (k === valEnd || b[k] === CH_COLON) {
            parseDecimalTo(b, vs, k, SCRATCH);
            const r = sink.observe(ref, SCRATCH[0]! * scale, count, tsMs);
            if (r !== ACCEPTED) v = r;
            vs = k + 1;
          }
        }
      }
    }
    if (v === ACCEPTED) return -1;
    this.refusal = v;
    return BadReason.Refused;
  }

  /**
   * resolve is the miss path: decode the key bytes into Labels and ask the sink for the ref.
   * It returns a negative code for keys that can never become a series, so the cache remembers
   * bad keys too and a flood of them stays cheap.
   */
  private resolve(b: Uint8Array, ns: number, ne: number, type: number, ts: number, te: number, cs: number, ce: number): number {
    let name: string;
    try {
      name = utf8.decode(b.subarray(ns, ne));
    } catch {
      return CACHED_MALFORMED;
    }
    name = sanitizeMetricName(name);
    if (type === T_COUNTER && !name.endsWith('_total')) name += '_total';
    else if (type === T_TIMER && !name.endsWith('_seconds')) name += '_seconds';

    const rec: Record<string, string> = Object.create(null);
    if (ts >= 0) {
      let k = ts;
      while (k <= te) {
        let j = k;
        while (j < te && b[j] !== CH_COMMA) j++;
        // As statsd_exporter: a tag without a value (or without a key) is dropped, the line kept.
        let tagS = k;
        if (tagS < j && b[tagS] === CH_HASH) tagS++;
        let colon = tagS;
        while (colon < j && b[colon] !== CH_COLON) colon++;
        if (colon > tagS && colon < j - 1) {
          let key: string, value: string;
          try {
            key = utf8.decode(b.subarray(tagS, colon));
            value = utf8.decode(b.subarray(colon + 1, j));
          } catch {
            return CACHED_BAD_TAGS;
          }
          key = sanitizeLabelName(key);
          if (key.startsWith('__')) return CACHED_BAD_TAGS;
          rec[key] = value;
        }
        k = j + 1;
      }
    }
    if (cs >= 0) {
      try {
        rec['container_id'] = utf8.decode(b.subarray(cs, ce));
      } catch {
        return CACHED_MALFORMED;
      }
    }
    rec[METRIC_NAME] = name;
    const kind = type === T_COUNTER ? MetricKind.Counter : type === T_GAUGE || type === T_SET ? MetricKind.Gauge : MetricKind.Histogram;
    const ref = this.sink.series(this.tenant, labelsFromRecord(rec), kind);
    // The reason is cached with the refusal, so a refused key keeps being counted under it.
    return ref < 0 ? REFUSED_BASE - refRefusal(ref) : ref;
  }
}

/** countLines counts the non-empty lines of buf[start, end) (for packets dropped unparsed). */
export function countLines(buf: Uint8Array, start: number, end: number): number {
  let n = 0;
  let content = false;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c === CH_LF) {
      if (content) n++;
      content = false;
    } else if (!isBlank(c)) {
      content = true;
    }
  }
  return content ? n + 1 : n;
}

function hasColon(b: Uint8Array, s: number, e: number): boolean {
  for (let i = s; i < e; i++) if (b[i] === CH_COLON) return true;
  return false;
}

function isBlank(c: number): boolean {
  return c === CH_SPACE || c === CH_TAB || c === CH_CR;
}

function typeOf(b: Uint8Array, s: number, e: number): number {
  const len = e - s;
  if (len === 1) {
    switch (b[s]) {
      case CH_c: return T_COUNTER;
      case CH_g: return T_GAUGE;
      case CH_h: return T_HISTOGRAM;
      case CH_d: return T_DISTRIBUTION;
      case CH_s: return T_SET;
    }
    return 0;
  }
  if (len === 2 && b[s] === CH_m && b[s + 1] === CH_s) return T_TIMER;
  return 0;
}

/** isEventOrCheck recognises DogStatsD `_e{...}` events and `_sc|` service checks. */
function isEventOrCheck(b: Uint8Array, s: number, e: number): boolean {
  if (e - s >= 3 && b[s + 1] === CH_e && b[s + 2] === CH_LBRACE) return true;
  return e - s >= 4 && b[s + 1] === CH_s && b[s + 2] === CH_c && b[s + 3] === CH_PIPE;
}

/**
 * isDogStatsdField accepts newer DogStatsD `key:value` fields with a lowercase key (`e:` external
 * data, `card:` cardinality) that carry no series identity, so clients that send them keep working.
 */
function isDogStatsdField(b: Uint8Array, s: number, e: number): boolean {
  let i = s;
  while (i < e && b[i]! >= 97 && b[i]! <= 122) i++;
  return i > s && i < e && b[i] === CH_COLON;
}

/** parseUnixSeconds parses whole unix seconds; -1 when not digits only or out of range. */
function parseUnixSeconds(b: Uint8Array, s: number, e: number): number {
  if (s === e) return -1;
  let v = 0;
  for (let i = s; i < e; i++) {
    const d = b[i]! - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
    if (v > MAX_UNIX_SECONDS) return -1;
  }
  return v;
}

/**
 * memberHash hashes a set member into 53 bits (FNV-1a and a second multiplicative hash), so
 * distinct counts stay exact far beyond what a 32-bit hash allows before collisions.
 */
function memberHash(b: Uint8Array, s: number, e: number): number {
  let h1 = FNV_OFFSET;
  let h2 = 0x2545f491;
  for (let i = s; i < e; i++) {
    const c = b[i]!;
    h1 = fnv1aStep(h1, c);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  return (h1 >>> 0) * 2097152 + ((h2 >>> 0) & 0x1fffff);
}
