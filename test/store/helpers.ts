import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labelsFromRecord, type Labels } from '../../src/model/labels.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/interface.js';

/** tempDir returns a fresh directory removed by `cleanup`. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'tallyd-store-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** openTemp opens a store at 10 s resolution in a fresh directory; teardown closes and removes it. */
export async function openTemp(t: { teardown: (fn: () => unknown) => void }): Promise<{ store: Store; dir: string }> {
  const { dir, cleanup } = tempDir();
  const store = await openStore({ dataDir: dir, rawResolutionMs: 10_000 });
  t.teardown(async () => {
    await store.close();
    cleanup();
  });
  return { store, dir };
}

/** L builds labels from a record. */
export function L(rec: Record<string, string>): Labels {
  return labelsFromRecord(rec);
}

/** pairs turns a float series into [t, v] pairs for readable assertions. */
export function pairs(s: { timestamps: Float64Array; values: Float64Array } | undefined): Array<[number, number]> {
  if (s === undefined) return [];
  return Array.from(s.timestamps, (ts, i) => [ts, s.values[i]!] as [number, number]);
}
