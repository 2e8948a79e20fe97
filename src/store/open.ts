import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openDbs } from './dbs.js';
import { checkFormat } from './format.js';
import type { Store, StoreOptions } from './interface.js';
import { LmdbStore } from './lmdb-store.js';
import { initTierStates } from './tier-state.js';
import { Tier, defaultTiers } from './tier.js';

/**
 * openStore opens (creating when absent) the LMDB store under `opts.dataDir/store.mdb`. Every
 * thread that reads or writes opens its own Store; lmdb-js shares the environment within a
 * process and LMDB serialises writers across threads and processes. A directory in another
 * storage format is refused with a FormatError (see format.ts).
 */
export async function openStore(opts: StoreOptions): Promise<Store> {
  if (!(opts.rawResolutionMs > 0)) throw new Error(`rawResolutionMs must be positive, got ${opts.rawResolutionMs}`);
  mkdirSync(opts.dataDir, { recursive: true });
  const dbs = openDbs(join(opts.dataDir, 'store.mdb'));
  try {
    checkFormat(dbs, opts.dataDir);
  } catch (err) {
    await dbs.env.close();
    throw err;
  }
  const page = (dbs.chunks.getStats() as { pageSize: number }).pageSize;
  const cfgs = opts.tiers && opts.tiers.length > 0 ? opts.tiers : defaultTiers(opts.rawResolutionMs);
  // The raw tier's resolution is always the flush interval.
  const tiers = cfgs.map((c, i) => new Tier(i, i === 0 ? { ...c, resolutionMs: opts.rawResolutionMs, monthly: false } : c, page));
  const now = opts.now ?? Date.now;
  initTierStates(dbs, tiers.length, now());
  return new LmdbStore(dbs, tiers, now);
}
