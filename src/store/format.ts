import type { StoreDbs } from './dbs.js';

/**
 * FORMAT_VERSION is the data directory's storage format, recorded in the `meta` table:
 * 1 (unrecorded): windows without their last point's time, read as stamped at the window start;
 * 2: every window keeps its last point's time and counters the sender's own values;
 * 3: rollup tiers may hold folded histogram windows (histogram-codec.ts), which a format-2 tallyd
 *    would misread. Format 3 reads every format-2 window unchanged, so a format-2 directory is
 *    upgraded in place by recording 3.
 * 4: rollup tiers' folded histograms may be bit coded in 16-wide groups (histogram-codec.ts
 *    M_BITS), which a format-3 tallyd would misread. Format 4 reads format-2 and format-3 windows
 *    as they were written, so both upgrade in place.
 * 5: rollup tiers' counter and gauge chunks may be chunk version 3, with a skip prefix per block
 *    (chunk-encoding.ts), which a format-4 tallyd cannot read. Format 5 reads version 2 chunks as
 *    they were written, so formats 2 to 4 upgrade in place.
 * 6: rollup tiers' folded histograms may carry their `<= le` segment counts before their buckets
 *    (histogram-codec.ts M_SEGMENTS), which a format-5 tallyd would misread, and gauge chunks the
 *    extremes of their values in their header (chunk-encoding.ts H_EXTREMES), which it refuses.
 *    Format 6 reads windows and chunks without them as they were written, so formats 2 to 5
 *    upgrade in place.
 */
export const FORMAT_VERSION = 6;
/** UPGRADABLE are the older formats this build reads as they are and upgrades by recording FORMAT_VERSION. */
const UPGRADABLE: readonly number[] = [2, 3, 4, 5];

const KEY = 'format';
/**
 * DAY_STAMPS_SINCE_KEY records the first UTC day (ms) from which a day's stamp of 0 means that no
 * point was ever written into it: 0 in a directory created with day stamps; the day after the
 * upgrade in one written before them, whose older days may hold points with no stamp.
 */
export const DAY_STAMPS_SINCE_KEY = 'day-stamps-since';
/**
 * HOUR_STAMPS_SINCE_KEY is DAY_STAMPS_SINCE_KEY for UTC hours' stamps: 0 in a directory created
 * with hour stamps; the hour after the upgrade in one written before them.
 */
export const HOUR_STAMPS_SINCE_KEY = 'hour-stamps-since';

/** FormatError says a data directory is in a format this build does not read. */
export class FormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FormatError';
  }
}

/**
 * checkFormat records FORMAT_VERSION in a new (empty) data directory and refuses one written in
 * another format with a message that says what to do, instead of misreading its windows.
 */
export function checkFormat(dbs: StoreDbs, dir: string): void {
  const v = dbs.meta.get(KEY);
  const empty = v === undefined && dbs.records.getCount({ limit: 1 }) === 0 && dbs.chunks.getCount({ limit: 1 }) === 0;
  if (empty) dbs.meta.putSync(KEY, FORMAT_VERSION);
  else if (v !== FORMAT_VERSION) upgrade(dbs, dir, typeof v === 'number' ? v : 1);
  // Every day of a new directory has its stamp from its first point on (digests.ts); one written
  // before day stamps keeps them from its next day on.
  if (dbs.meta.get(DAY_STAMPS_SINCE_KEY) === undefined) dbs.meta.putSync(DAY_STAMPS_SINCE_KEY, empty ? 0 : Math.floor(Date.now() / 86_400_000 + 1) * 86_400_000);
  if (dbs.meta.get(HOUR_STAMPS_SINCE_KEY) === undefined) dbs.meta.putSync(HOUR_STAMPS_SINCE_KEY, empty ? 0 : Math.floor(Date.now() / 3_600_000 + 1) * 3_600_000);
}

/** upgrade records FORMAT_VERSION over an older format this build reads, or refuses the directory. */
function upgrade(dbs: StoreDbs, dir: string, found: number): void {
  if (UPGRADABLE.includes(found)) {
    dbs.meta.putSync(KEY, FORMAT_VERSION);
    return;
  }
  if (found > FORMAT_VERSION) {
    throw new FormatError(`data directory ${dir} is in storage format ${found}, newer than this tallyd reads (${FORMAT_VERSION}): run the tallyd release that wrote it, or a newer one`);
  }
  throw new FormatError(
    `data directory ${dir} is in storage format ${found}, which this tallyd (format ${FORMAT_VERSION}) does not read: ` +
      `its windows lack the time of their last point. Keep reading it with the older tallyd release, or move it aside ` +
      `(e.g. mv ${dir} ${dir}.v${found}) and start with an empty --data-dir`,
  );
}
