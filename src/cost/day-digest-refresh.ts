import type { DigestStore } from '../store/interface.js';
import {
  DAY_PREFIX, GROUPS_KEY, SECTIONS, dayDigestCurrent, dayKey, decodeGroups, encodeDayDigest, encodeGroups, groupId, keyDay, type DayDigestData,
} from './day-digest.js';

const DAY = 86_400_000;

/** RefreshResult counts what one refresh did. */
export interface RefreshResult {
  /** Days built. */
  built: number;
  /** Days whose digests were removed. */
  removed: number;
}

/**
 * refreshDayDigests brings every tenant's day digests up to date: it builds (with `build`, which
 * reads the series: on a query worker in the daemon) each settled day whose digest is missing,
 * was built before the day's last write, or in another format or dimension mapping, newest day
 * first (days no point was ever written into need none), and removes digests of days no longer settled (retention moved past them). The day's
 * stamp is read before the build, so a write that lands meanwhile leaves the digest stale and the
 * next refresh builds it again. One refresh at a time per store (the caller's to ensure).
 */
export async function refreshDayDigests(
  ds: DigestStore, mapping: number, build: (tenant: string, dayMs: number) => Promise<DayDigestData>, signal?: AbortSignal,
): Promise<RefreshResult> {
  const res: RefreshResult = { built: 0, removed: 0 };
  const { fromMs, toMs } = ds.settledDays();
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
    for (let day = toMs - DAY; day >= fromMs; day -= DAY) {
      if (signal?.aborted === true) return res;
      // A day no point was written into needs no digest (answers skip it): a new store, or an
      // embedded instance that only records, starts no query worker for 90 empty days.
      if (ds.dayEmpty(day)) continue;
      const stamp = ds.dayStamp(day);
      if (dayDigestCurrent(ds, tenant, day, mapping)) continue;
      const data = await build(tenant, day);
      const before = table.length;
      const sections = encodeDayDigest(data, (dims) => groupId(dims, table, ids));
      // The group table first: a digest never names a group its reader cannot find.
      if (table.length !== before || !groupsStored) {
        await ds.put(tenant, 0, [[GROUPS_KEY, encodeGroups(table)]]);
        groupsStored = true;
      }
      await ds.put(tenant, stamp, SECTIONS.map((s) => [dayKey(day, s), sections[s]] as const));
      res.built++;
    }
  }
  return res;
}
