import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labelsFromRecord, type Labels } from '../../src/model/labels.js';
import { openStore } from '../../src/store/open.js';
import type { Matcher } from '../../src/model/matcher.js';
import type { Querier, SelectHints, Store, StoreOptions } from '../../src/store/interface.js';

/** tempDir returns a fresh directory removed by `cleanup`. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'tallyd-store-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** CLOCK_T0 is the default clock of test stores (a fixed instant, so retention is deterministic). */
export const CLOCK_T0 = 1_700_000_000_000;

/**
 * openTemp opens a store at 10 s resolution in a fresh directory, with a clock fixed at
 * CLOCK_T0 unless `opts` says otherwise; teardown closes and removes it.
 */
export async function openTemp(t: { teardown: (fn: () => unknown) => void }, opts: Partial<StoreOptions> = {}): Promise<{ store: Store; dir: string }> {
  const { dir, cleanup } = tempDir();
  const store = await openStore({ dataDir: dir, rawResolutionMs: 10_000, now: () => CLOCK_T0, ...opts });
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

/**
 * fullReads wraps a querier so that it never thins or summarizes (SelectHints.thin, .extremes):
 * what the engine computes from it is a full read of every sample, the answer a thinned or
 * summarized read must equal. `asked` counts the selects that carried `hint`.
 */
export function fullReads(q: Querier, hint: 'thin' | 'extremes'): Querier & { asked: number } {
  const w = {
    asked: 0,
    select(tenant: string, ms: readonly Matcher[], hints: SelectHints) {
      if (hints[hint] !== undefined) w.asked++;
      const { thin: _thin, extremes: _extremes, ...rest } = hints;
      return q.select(tenant, ms, rest);
    },
    series: q.series.bind(q),
    labelNames: q.labelNames.bind(q),
    labelValues: q.labelValues.bind(q),
    metadata: q.metadata.bind(q),
  };
  return w;
}

/** rng is a seeded generator of numbers in [0, 1), so a test's data is the same every run. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
}
