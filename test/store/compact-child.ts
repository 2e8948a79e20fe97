/**
 * A process that compacts a data directory and kills itself with SIGKILL as soon as the first
 * rollup tier's pass has committed a batch but not finished: a crash in the middle of compaction.
 *   node compact-child.js DIR NOW_MS
 */
import { openDbs } from '../../src/store/dbs.js';
import { openStore } from '../../src/store/open.js';
import { readTierState } from '../../src/store/tier-state.js';
import { join } from 'node:path';

const [dir, nowArg] = process.argv.slice(2) as [string, string];
const now = Number(nowArg);
const store = await openStore({ dataDir: dir, rawResolutionMs: 10_000, now: () => now });
const dbs = openDbs(join(dir, 'store.mdb'));
const watch = (): void => {
  const st = readTierState(dbs, 1);
  if (st.target !== null && st.cursor > 0) process.kill(process.pid, 'SIGKILL');
  setImmediate(watch);
};
setImmediate(watch);
await store.compact();
// Reaching this line means the pass finished before the watcher saw it mid-way.
process.exit(3);
