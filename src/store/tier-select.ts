import type { StoreDbs } from './dbs.js';
import type { SelectHints } from './interface.js';
import { readTierState } from './tier-state.js';
import type { Tier } from './tier.js';

/** MONTH_NOMINAL_MS is the monthly tier's resolution when compared with a query step. */
export const MONTH_NOMINAL_MS = 30 * 86_400_000;

/** Segment is a part of a query's time range read from one tier (inclusive bounds). */
export interface Segment {
  readonly tier: Tier;
  readonly startMs: number;
  readonly endMs: number;
}

function resolution(t: Tier): number {
  return t.monthly ? MONTH_NOMINAL_MS : t.resolutionMs;
}

/** covers says whether tier `t` still holds data at `ms` under its retention. */
function covers(t: Tier, ms: number, nowMs: number): boolean {
  return t.end(t.index(ms)) > nowMs - t.retentionMs;
}

/**
 * chooseTier picks the tier a selection reads, the way Thanos picks downsampled blocks (SPEC
 * section 4): a range query reads the coarsest tier whose resolution is at most its step, an
 * instant query the finest tier that covers its window. A tier whose retention no longer
 * covers the start of the range is passed over for a finer one that does; when none with a
 * small enough resolution covers it, the finest tier that does is used (else the coarsest).
 */
export function chooseTier(tiers: readonly Tier[], hints: SelectHints, nowMs: number): number {
  const start = hints.startMs;
  const step = hints.stepMs ?? 0;
  if (step > 0) {
    for (let j = tiers.length - 1; j >= 0; j--) {
      const t = tiers[j]!;
      if (resolution(t) <= step && covers(t, start, nowMs)) return j;
    }
  }
  for (let j = 0; j < tiers.length; j++) if (covers(tiers[j]!, start, nowMs)) return j;
  return tiers.length - 1;
}

/**
 * boundaries returns, per rollup tier j >= 1, the time before which its windows are complete
 * (every tier j-1 window inside them was compacted): the start of the tier j window holding the
 * committed watermark, made non-increasing towards coarser tiers.
 */
export function boundaries(dbs: StoreDbs, tiers: readonly Tier[]): number[] {
  const out: number[] = [Infinity];
  for (let j = 1; j < tiers.length; j++) {
    const t = tiers[j]!;
    const wm = readTierState(dbs, j).wm;
    out.push(Math.min(t.start(t.index(wm)), out[j - 1]!));
  }
  return out;
}

/**
 * plan splits [startMs, endMs] over the chosen tier and the finer ones: the chosen tier serves
 * the time its compaction completed, each finer tier the time after the coarser one's boundary,
 * and the raw tier the most recent data not yet compacted. Cumulative values agree across the
 * seams because every tier holds the same totals (retired aggregates included).
 */
export function plan(tiers: readonly Tier[], chosen: number, bounds: readonly number[], startMs: number, endMs: number): Segment[] {
  const out: Segment[] = [];
  let s = startMs;
  for (let j = chosen; j >= 1 && s <= endMs; j--) {
    const e = Math.min(endMs, bounds[j]! - 1);
    if (s <= e) out.push({ tier: tiers[j]!, startMs: s, endMs: e });
    s = Math.max(s, bounds[j]!);
  }
  if (s <= endMs) out.push({ tier: tiers[0]!, startMs: s, endMs });
  return out;
}
