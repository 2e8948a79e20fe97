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
 */
export const FORMAT_VERSION = 4;
/** UPGRADABLE are the older formats this build reads as they are and upgrades by recording FORMAT_VERSION. */
const UPGRADABLE: readonly number[] = [2, 3];

const KEY = 'format';

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
  if (v === FORMAT_VERSION) return;
  if (v === undefined) {
    const empty = dbs.records.getCount({ limit: 1 }) === 0 && dbs.chunks.getCount({ limit: 1 }) === 0;
    if (empty) {
      dbs.meta.putSync(KEY, FORMAT_VERSION);
      return;
    }
  }
  const found = typeof v === 'number' ? v : 1;
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
