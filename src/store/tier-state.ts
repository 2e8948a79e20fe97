import type { StoreDbs } from './dbs.js';

/**
 * CompactionState is how far rollup tier k has absorbed the tier below it (k - 1), stored in the
 * `meta` table under `compact:<k>` and always read and written inside write transactions:
 * - `wm`: every tier k-1 window starting before `wm` is merged into tier k, for every series;
 * - `target`/`cursor`: a pass in progress merges [wm, target) series by series in id order;
 *   series with id <= cursor are done. A batch's rollup chunks and its cursor commit in one
 *   transaction, so a crash mid-pass resumes after the last committed series and counts nothing
 *   twice.
 */
export interface CompactionState {
  readonly wm: number;
  readonly target: number | null;
  readonly cursor: number;
}

const key = (ordinal: number): string => `compact:${ordinal}`;

/** readTierState returns tier `ordinal`'s compaction state (wm 0 when none was stored). */
export function readTierState(dbs: StoreDbs, ordinal: number): CompactionState {
  const v = dbs.meta.get(key(ordinal)) as CompactionState | undefined;
  return v ?? { wm: 0, target: null, cursor: 0 };
}

/** writeTierState stores a tier's compaction state (inside the caller's write transaction). */
export function writeTierState(dbs: StoreDbs, ordinal: number, st: CompactionState): void {
  void dbs.meta.put(key(ordinal), { wm: st.wm, target: st.target, cursor: st.cursor });
}

/** compactedUpTo is the time before which series `id`'s tier k-1 windows are merged into tier k. */
export function compactedUpTo(st: CompactionState, id: number): number {
  return st.target !== null && id <= st.cursor ? st.target : st.wm;
}

/**
 * initTierStates gives every rollup tier of a fresh data directory a watermark at `nowMs`: there
 * is nothing older to compact, and points written later for earlier times go through to the
 * rollups at once (see TierWriter). A directory that already holds chunks but no state starts at
 * 0, so the first compaction rolls up everything stored.
 */
export function initTierStates(dbs: StoreDbs, tierCount: number, nowMs: number): void {
  let missing = false;
  for (let k = 1; k < tierCount; k++) if (dbs.meta.get(key(k)) === undefined) missing = true;
  if (!missing) return;
  dbs.env.transactionSync(() => {
    let empty = true;
    for (const _ of dbs.chunks.getKeys({ limit: 1 })) empty = false;
    for (let k = 1; k < tierCount; k++) {
      if (dbs.meta.get(key(k)) === undefined) writeTierState(dbs, k, { wm: empty ? nowMs : 0, target: null, cursor: 0 });
    }
  });
}
