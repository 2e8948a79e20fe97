import type { DigestReader } from '../store/interface.js';
import { fnv1aString } from '../wire/fnv1a.js';
import { DIMENSIONS, type DimensionMap } from './dimensions.js';

/**
 * day-digest.ts is the format of a day digest: one tenant's cost and usage figures for one whole
 * UTC day, per finest group (all seven dimensions), so that an analytics answer over 90 days
 * merges 90 digests instead of reading every window of every series (SPEC section 7: answers in
 * under 100 ms). A digest is built from the series by the same code that answers live
 * (day-digest-build.ts), kept by the store beside them with the day's stamp (store/digests.ts),
 * and read only while that stamp is current (day-digest-read.ts).
 *
 * Stored as four sections under their own keys, written in one transaction with the day's stamp,
 * so that an answer reads only the ones it needs (a day of 10k series is about a megabyte, most
 * of it usage histograms). Each is a Float64Array (little-endian), integers as doubles:
 *   head     [version, mapping, nCost, nUsage]
 *   costs    nCost  x [gid, cost, reported, input, output, cacheRead, cacheWrite, reasoning, unpriced, calls]
 *   hours    nCost  x [mask, one value per set bit]: computed cost by hour of the day (bit h = hour h)
 *   usage    nUsage x [gid, input, output, part(metric), part(span)]
 *            part = [calls, failures, latencyMs, nHists, nHists x hist]
 *            hist = [factor, count, sum, min, max, size, size x index, size x count]
 * `gid` numbers a group in the tenant's group table (GROUPS_KEY): JSON of the groups' dimension
 * values in DIMENSIONS order, which only grows, so a reader caches it by its length.
 */

export const DIGEST_VERSION = 1;
/** HEAD is the head section's length in doubles. */
export const HEAD = 4;
/** COST_FIELDS is a cost entry's length in doubles. */
export const COST_FIELDS = 10;
/** The cost entry's fields after `gid`, in CostEntry.f order. */
export const enum CostField { Cost = 0, Reported, Input, Output, CacheRead, CacheWrite, Reasoning, Unpriced, Calls }
export const COST_VALUES = COST_FIELDS - 1;

/** GROUPS_KEY is the digest key of a tenant's group table. */
export const GROUPS_KEY = 'llm-groups';
/** Section names a part of a day digest. */
export type Section = 'head' | 'costs' | 'hours' | 'usage';
export const SECTIONS: readonly Section[] = ['head', 'costs', 'hours', 'usage'];
/** DAY_PREFIX starts every day digest key. */
export const DAY_PREFIX = 'llm-day/';
/** dayKey is the digest key of a section of a tenant's day (its start, ms). */
export function dayKey(dayMs: number, section: Section = 'head'): string {
  return `${DAY_PREFIX}${String(dayMs).padStart(15, '0')}/${section}`;
}
/** keyDay reads the day (ms) back from a day digest key. */
export function keyDay(key: string): number {
  return Number(key.slice(DAY_PREFIX.length, DAY_PREFIX.length + 15));
}
/**
 * HOUR_PREFIX starts every hour digest key: a digest of one whole UTC hour of a day not settled
 * yet (today's hours), in the day digest's format, so that an answer reaching into today reads
 * only the open hour from the series. Its hours section has one hour (bit 0).
 */
export const HOUR_PREFIX = 'llm-hour/';
/** hourKey is the digest key of a section of a tenant's hour (its start, ms). */
export function hourKey(hourMs: number, section: Section = 'head'): string {
  return `${HOUR_PREFIX}${String(hourMs).padStart(15, '0')}/${section}`;
}
/** keyHour reads the hour (ms) back from an hour digest key. */
export function keyHour(key: string): number {
  return Number(key.slice(HOUR_PREFIX.length, HOUR_PREFIX.length + 15));
}

/** Span says what a digest covers: a UTC day or a UTC hour. */
export type Span = 'day' | 'hour';
/** spanKey is the digest key of a section of a day's or an hour's digest. */
export function spanKey(span: Span, startMs: number, section: Section = 'head'): string {
  return span === 'day' ? dayKey(startMs, section) : hourKey(startMs, section);
}

/** HistData is a merged HDR histogram as plain data. */
export interface HistData {
  readonly factor: number;
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
  readonly indices: number[];
  readonly counts: number[];
}

/** PartData is a usage part (metrics or span metrics) as plain data. */
export interface PartData {
  readonly calls: number;
  readonly failures: number;
  readonly latencyMs: number;
  readonly hists: HistData[];
}

/** CostEntry is one finest group's cost figures of the day; `hours` holds computed cost by hour. */
export interface CostEntry {
  readonly dims: string[];
  readonly f: number[];
  readonly hours: number[];
}

/** UsageEntry is one finest group's usage figures of the day. */
export interface UsageEntry {
  readonly dims: string[];
  readonly metric: PartData;
  readonly span: PartData;
  readonly input: number;
  readonly output: number;
}

/** DayDigestData is a day (or hour) digest before encoding: what a query worker builds (structured-clonable). */
export interface DayDigestData {
  /** The start of the day (or hour) it covers. */
  readonly dayMs: number;
  /** mappingFingerprint of the dimension mapping the usage entries were grouped by. */
  readonly mapping: number;
  readonly costs: CostEntry[];
  readonly usage: UsageEntry[];
}

/** mappingFingerprint identifies a dimension mapping: usage digests grouped by another one are not used. */
export function mappingFingerprint(map: DimensionMap): number {
  return fnv1aString(JSON.stringify(DIMENSIONS.map((d) => map[d])));
}

/** groupId interns a group's dimension values: `table` grows (and `ids` with it) for a new group. */
export function groupId(dims: readonly string[], table: string[][], ids: Map<string, number>): number {
  const key = dims.join('\u0000');
  let id = ids.get(key);
  if (id === undefined) {
    id = table.length;
    table.push([...dims]);
    ids.set(key, id);
  }
  return id;
}

/** encodeDayDigest lays a digest out as stored, its groups numbered by `gid`: one byte array per section. */
export function encodeDayDigest(d: DayDigestData, gid: (dims: readonly string[]) => number): Record<Section, Uint8Array> {
  const costs: number[] = [];
  const hours: number[] = [];
  for (const c of d.costs) {
    costs.push(gid(c.dims));
    for (let i = 0; i < COST_VALUES; i++) costs.push(c.f[i] ?? 0);
    let mask = 0;
    for (let h = 0; h < 24; h++) if ((c.hours[h] ?? 0) !== 0) mask |= 1 << h;
    hours.push(mask);
    for (let h = 0; h < 24; h++) if ((mask & (1 << h)) !== 0) hours.push(c.hours[h]!);
  }
  const usage: number[] = [];
  const part = (p: PartData) => {
    usage.push(p.calls, p.failures, p.latencyMs, p.hists.length);
    for (const h of p.hists) {
      usage.push(h.factor, h.count, h.sum, h.min, h.max, h.indices.length);
      for (const i of h.indices) usage.push(i);
      for (const c of h.counts) usage.push(c);
    }
  };
  for (const u of d.usage) {
    usage.push(gid(u.dims), u.input, u.output);
    part(u.metric);
    part(u.span);
  }
  const bytes = (xs: number[]) => new Uint8Array(Float64Array.from(xs).buffer);
  return { head: bytes([DIGEST_VERSION, d.mapping, d.costs.length, d.usage.length]), costs: bytes(costs), hours: bytes(hours), usage: bytes(usage) };
}

/**
 * dayDigestCurrent says whether a tenant's digest of a day was built at the day's current stamp,
 * in this format and (unless `mapping` is null) with that dimension mapping.
 */
export function dayDigestCurrent(reader: DigestReader, tenant: string, dayMs: number, mapping: number | null): boolean {
  return digestCurrent(reader, tenant, 'day', dayMs, mapping);
}

/**
 * digestCurrent is dayDigestCurrent for a day or an hour. An hour whose stamp is 0 has no current
 * digest: nothing was written there since the store keeps hour stamps, or the points there
 * predate them (a store written before hour digests), so only the series can tell.
 */
export function digestCurrent(reader: DigestReader, tenant: string, span: Span, startMs: number, mapping: number | null): boolean {
  const d = reader.get(tenant, spanKey(span, startMs));
  if (d === undefined || d.bytes.length < HEAD * 8) return false;
  const stamp = span === 'day' ? reader.dayStamp(startMs) : reader.hourStamp(startMs);
  if (d.stamp !== stamp || (span === 'hour' && stamp === 0)) return false;
  const v = digestDoubles(d.bytes);
  return v[0] === DIGEST_VERSION && (mapping === null || v[1] === mapping);
}

/** digestDoubles reads stored digest bytes as doubles (copied only when not 8-byte aligned). */
export function digestDoubles(bytes: Uint8Array): Float64Array {
  if (bytes.byteOffset % 8 === 0) return new Float64Array(bytes.buffer, bytes.byteOffset, bytes.length >> 3);
  return new Float64Array(bytes.slice().buffer, 0, bytes.length >> 3);
}

/** encodeGroups stores a group table: its length, then its JSON. */
export function encodeGroups(table: readonly string[][]): Uint8Array {
  const json = Buffer.from(JSON.stringify(table), 'utf8');
  const out = new Uint8Array(8 + json.length);
  new DataView(out.buffer).setFloat64(0, table.length, true);
  out.set(json, 8);
  return out;
}

/** groupsLength reads a stored group table's length without parsing it. */
export function groupsLength(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.length).getFloat64(0, true);
}

/** decodeGroups parses a stored group table. */
export function decodeGroups(bytes: Uint8Array): string[][] {
  return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, bytes.length - 8).toString('utf8')) as string[][];
}
