import type { Label, Labels } from '../model/labels.js';
import type { StoreDbs } from './dbs.js';

/**
 * write-log.ts keeps, for each of the last commits writing into a UTC hour, which series they
 * wrote there: one `meta` row per (hour, hour stamp after the commit). A reader that kept what a
 * read of an hour returned at some stamp (analytics' edge reads, src/cost/edge-cache.ts) asks
 * which series were written since, and reads only those again instead of every series: under
 * ingestion the open hour's stamp changes with every commit, while most series are idle in it.
 *
 * Bounded: only the last KEEP commits of an hour are kept, a commit writing more than MAX_IDS
 * series into an hour records that it wrote "too many" (a reader then reads everything), and the
 * rows of hours RETAIN_HOURS before the latest hour a writer wrote are dropped once that hour
 * begins (readers then read those hours whole after a late write: rare, and correct).
 */

/** KEEP is how many of an hour's last commits keep their row. */
export const WRITE_LOG_KEEP = 32;
/** MAX_IDS bounds the ids one row holds (4 bytes each). */
export const WRITE_LOG_MAX_IDS = 2048;
/** RETAIN_HOURS is how many hours before the latest one written keep their rows. */
export const WRITE_LOG_RETAIN_HOURS = 3;
/** PREFIX leads every row's key: `wlog:<hour start ms>:<stamp>` (hour starts have 13 digits). */
const PREFIX = 'wlog:';
/** TOO_MANY is the row of a commit that wrote more than MAX_IDS series into the hour. */
const TOO_MANY = '*';

const HOUR = 3_600_000;

const logKey = (hourMs: number, stamp: number): string => `${PREFIX}${hourMs}:${stamp}`;

/**
 * logWrites records, inside the caller's write transaction, the series (canonical ids) a commit
 * wrote into each hour (hour numbers since 1970), under the hour's stamp after the commit
 * (`stamps`, from bumpStamps), and drops the row KEEP commits older.
 */
export function logWrites(dbs: StoreDbs, idsByHour: ReadonlyMap<number, ReadonlySet<number>>, stamps: ReadonlyMap<number, number>): void {
  let latest = -Infinity;
  for (const [h, ids] of idsByHour) {
    if (h > latest) latest = h;
    const stamp = stamps.get(h);
    if (stamp === undefined) continue;
    const hourMs = h * HOUR;
    let value: Buffer | string = TOO_MANY;
    if (ids.size <= WRITE_LOG_MAX_IDS) {
      value = Buffer.allocUnsafe(ids.size * 4);
      let o = 0;
      for (const id of ids) o = value.writeUInt32LE(id, o);
    }
    void dbs.meta.put(logKey(hourMs, stamp), value);
    if (stamp > WRITE_LOG_KEEP) void dbs.meta.remove(logKey(hourMs, stamp - WRITE_LOG_KEEP));
  }
  // Once per hour and writer: what older hours hold goes (their last rows, and late writes').
  if (latest > (swept.get(dbs) ?? -Infinity)) {
    swept.set(dbs, latest);
    for (const k of writeLogKeysBefore(dbs, (latest - WRITE_LOG_RETAIN_HOURS) * HOUR)) void dbs.meta.remove(k);
  }
}

/** swept is, per open data directory, the latest hour whose older rows were dropped. */
const swept = new WeakMap<StoreDbs, number>();

/**
 * writtenSince is the set of series ids written into the hour starting at `hourMs` by the
 * commits that moved its stamp from `fromStamp` to `toStamp`; null when that is not known (a
 * commit's row is gone, or it wrote too many series), and the caller MUST assume every series
 * changed. At most `limit` ids: null past it.
 */
export function writtenSince(dbs: StoreDbs, hourMs: number, fromStamp: number, toStamp: number, limit: number): Set<number> | null {
  if (toStamp < fromStamp || toStamp - fromStamp > WRITE_LOG_KEEP) return null;
  const out = new Set<number>();
  for (let s = fromStamp + 1; s <= toStamp; s++) {
    const v = dbs.meta.get(logKey(hourMs, s));
    if (!(v instanceof Uint8Array)) return null;
    const b = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    for (let o = 0; o + 4 <= b.length; o += 4) out.add(b.readUInt32LE(o));
    if (out.size > limit) return null;
  }
  return out;
}

/** seriesLabels reads the tenant and labels of stored series `id` (undefined when absent). */
export function seriesLabels(dbs: StoreDbs, id: number): { tenant: string; labels: Labels } | undefined {
  const raw = dbs.records.get(id);
  if (raw === undefined) return undefined;
  const labels: Label[] = [];
  for (let i = 0; i + 1 < raw.l.length; i += 2) labels.push({ name: raw.l[i]!, value: raw.l[i + 1]! });
  return { tenant: raw.t, labels };
}

/** writeLogKeysBefore lists the rows of hours that start before `endMs` (the caller removes them). */
export function writeLogKeysBefore(dbs: StoreDbs, endMs: number): string[] {
  const out: string[] = [];
  for (const k of dbs.meta.getKeys({ start: PREFIX, end: `${PREFIX}${endMs}` })) {
    if (typeof k === 'string' && Number(k.slice(PREFIX.length, k.indexOf(':', PREFIX.length))) < endMs) out.push(k);
  }
  return out;
}
