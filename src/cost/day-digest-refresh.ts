import type { DigestStore } from '../store/interface.js';
import {
  DAY_PREFIX, GROUPS_KEY, HOUR_PREFIX, SECTIONS, digestCurrent, dayKey, decodeGroups, encodeDayDigest, encodeGroups, groupId, hourKey, keyDay, keyHour,
  type DayDigestData, type Span,
} from './day-digest.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** RefreshResult counts what one refresh did. */
export interface RefreshResult {
  /** Days built. */
  built: number;
  /** Days whose digests were removed. */
  removed: number;
  /** Hours built (hours of days not settled yet, and of the days periods start in). */
  hoursBuilt: number;
  /** Hours whose digests were removed (their day settled, no period starts in it any more, or they left the retention). */
  hoursRemoved: number;
  /** Day and hour stamps removed: of days before the retention of the tier digests are built from. */
  stampsPruned: number;
}

/**
 * EDGE_PERIODS are the periods an answer is most often asked for (the last day, the dashboard's 7
 * and 30 days, the 90 days of detail): the settled day each one starts in keeps hour digests for
 * its hours from the period's start on, so that such an answer reads no whole hour from the
 * series (reading even one hour of every series costs as much as ninety day digests). The day the
 * retention starts in keeps them too: any longer period starts there.
 */
export const EDGE_PERIODS = [1, 7, 30, 90].map((d) => d * DAY);

/**
 * digestHours lists the hours (starts, ms) that get hour digests: the settled hours of days not
 * settled yet (from `dayTo`, the end of the settled days), and in the days that EDGE_PERIODS and
 * the retention start in, the settled hours from the start on. Newest first.
 */
export function digestHours(dayTo: number, hours: { fromMs: number; toMs: number }): number[] {
  const out = new Set<number>();
  const add = (from: number, to: number): void => {
    for (let h = Math.min(to, hours.toMs) - HOUR; h >= Math.max(from, hours.fromMs); h -= HOUR) out.add(h);
  };
  add(dayTo, hours.toMs);
  // hours.toMs is the end of the last settled hour: a period asked for now starts in that hour's
  // place one period back (or in the hour after it, which this covers too).
  for (const p of EDGE_PERIODS) {
    const start = hours.toMs - p;
    add(start, Math.floor(start / DAY) * DAY + DAY);
  }
  add(hours.fromMs, Math.floor(hours.fromMs / DAY) * DAY + DAY);
  return [...out].sort((a, b) => b - a);
}

/**
 * refreshDayDigests brings every tenant's day and hour digests up to date: it builds (with
 * `build`, which reads the series: on a query worker in the daemon) each settled day whose digest
 * is missing, was built before the day's last write, or in another format or dimension mapping,
 * newest day first (days no point was ever written into need none), and removes digests of days
 * no longer settled (retention moved past them). Then the same for the hours digestHours lists:
 * the settled hours of the day not settled yet (today, or yesterday until the hour tier has rolled
 * it up whole), so that an answer reaching into it reads only its open hour from the series, and
 * the hours of the days the usual periods start in, so that `period=7d` reads no hour at all.
 * Other hour digests are removed (a day that has settled, once its day digest is built in this
 * refresh, just before; a day no period starts in any more). The stamp of
 * a day (hour) is read before its build, so a write that lands meanwhile leaves the digest stale
 * and the next refresh builds it again. Stamps of days before the retention are pruned. One
 * refresh at a time per store (the caller's to ensure).
 */
export async function refreshDayDigests(
  ds: DigestStore, mapping: number, build: (tenant: string, startMs: number, span: Span) => Promise<DayDigestData>, signal?: AbortSignal,
): Promise<RefreshResult> {
  const res: RefreshResult = { built: 0, removed: 0, hoursBuilt: 0, hoursRemoved: 0, stampsPruned: 0 };
  const { fromMs, toMs, keptFromMs } = ds.settledDays();
  // Answers reaching before the retention are read live, digests are built only inside it: the
  // stamps of the days before the one it starts in are asked about no more (a year of hours is
  // 8,760 keys).
  if (Number.isFinite(keptFromMs)) res.stampsPruned = await ds.pruneStamps(keptFromMs);
  const hours = digestHours(toMs, ds.settledHours());
  const wanted = new Set(hours);
  for (const tenant of ds.tenants()) {
    const gone = new Set<number>();
    for (const key of ds.keys(tenant, DAY_PREFIX)) {
      const day = keyDay(key);
      if (day < fromMs || day >= toMs) {
        await ds.remove(tenant, key);
        gone.add(day);
      }
    }
    res.removed += gone.size;
    const stored = ds.get(tenant, GROUPS_KEY);
    const table = stored === undefined ? [] : decodeGroups(stored.bytes);
    let groupsStored = stored !== undefined;
    const ids = new Map<string, number>();
    for (const [i, g] of table.entries()) ids.set(g.join('\u0000'), i);
    const keep = async (span: Span, startMs: number, stamp: number, data: DayDigestData) => {
      const before = table.length;
      const sections = encodeDayDigest(data, (dims) => groupId(dims, table, ids));
      // The group table first: a digest never names a group its reader cannot find.
      if (table.length !== before || !groupsStored) {
        await ds.put(tenant, 0, [[GROUPS_KEY, encodeGroups(table)]]);
        groupsStored = true;
      }
      const key = span === 'day' ? dayKey : hourKey;
      await ds.put(tenant, stamp, SECTIONS.map((s) => [key(startMs, s), sections[s]] as const));
    };
    for (let day = toMs - DAY; day >= fromMs; day -= DAY) {
      if (signal?.aborted === true) return res;
      // A day no point was written into needs no digest (answers skip it): a new store, or an
      // embedded instance that only records, starts no query worker for 90 empty days.
      if (ds.dayEmpty(day)) continue;
      const stamp = ds.dayStamp(day);
      if (digestCurrent(ds, tenant, 'day', day, mapping)) continue;
      await keep('day', day, stamp, await build(tenant, day, 'day'));
      res.built++;
    }
    const hoursGone = new Set<number>();
    for (const key of ds.keys(tenant, HOUR_PREFIX)) {
      const hour = keyHour(key);
      if (!wanted.has(hour)) {
        await ds.remove(tenant, key);
        hoursGone.add(hour);
      }
    }
    res.hoursRemoved += hoursGone.size;
    for (const hour of hours) {
      if (signal?.aborted === true) return res;
      // Stamp 0: nothing written (answers skip the hour) or written before hour stamps (answers
      // read it from the series): no digest either way.
      const stamp = ds.hourStamp(hour);
      if (stamp === 0 || digestCurrent(ds, tenant, 'hour', hour, mapping)) continue;
      await keep('hour', hour, stamp, await build(tenant, hour, 'hour'));
      res.hoursBuilt++;
    }
  }
  return res;
}
