import type { MetricKind } from '../model/metric-kind.js';
import type { ChunkWriter } from './chunk-writer.js';
import type { StoreDbs } from './dbs.js';
import { PointBuf } from './point-buf.js';
import { compactedUpTo, readTierState, type CompactionState } from './tier-state.js';
import type { Tier } from './tier.js';

/** TxnStates memoises the compaction states read inside one write transaction. */
export class TxnStates {
  private readonly dbs: StoreDbs;
  private readonly states: Array<CompactionState | undefined>;

  constructor(dbs: StoreDbs) {
    this.dbs = dbs;
    this.states = [];
  }

  get(ordinal: number): CompactionState {
    return (this.states[ordinal] ??= readTierState(this.dbs, ordinal));
  }

  set(ordinal: number, st: CompactionState): void {
    this.states[ordinal] = st;
  }
}

/**
 * rebucket merges points of `src` (indices of tier `from`) into a new buffer with indices of
 * tier `to`, keeping only points whose window starts before `beforeMs`. Input is ascending, so
 * merges happen in time order and a gauge's `last` ends as the newest window's.
 */
export function rebucket(src: PointBuf, from: Tier, to: Tier, beforeMs = Infinity): PointBuf {
  const out = new PointBuf(src.kind, Math.max(4, src.n >> 2));
  for (let i = 0; i < src.n; i++) {
    const ms = from.start(src.idx[i]!);
    if (ms >= beforeMs) break;
    out.mergeAt(to.index(ms), src, i);
  }
  return out;
}

/**
 * TierWriter writes windows into one tier and through to every coarser tier that compaction has
 * already carried past them, so a late point (or a backfilled one) is counted in each tier
 * exactly once: tier k receives a point of tier k-1 here iff the point's tier k-1 window starts
 * before compactedUpTo(k, id); otherwise the next compaction of tier k picks it up. MUST run
 * inside a write transaction (states are read in it).
 */
export class TierWriter {
  private readonly tiers: readonly Tier[];
  private readonly writer: ChunkWriter;

  constructor(tiers: readonly Tier[], writer: ChunkWriter) {
    this.tiers = tiers;
    this.writer = writer;
  }

  write(states: TxnStates, ordinal: number, id: number, kind: MetricKind, pts: PointBuf, bounds: ArrayLike<number> | null): void {
    let cur = pts;
    let j = ordinal;
    for (;;) {
      this.writer.write(this.tiers[j]!, id, kind, cur, bounds);
      if (j + 1 >= this.tiers.length || cur.n === 0) return;
      const mark = compactedUpTo(states.get(j + 1), id);
      const from = this.tiers[j]!;
      if (from.start(cur.idx[0]!) >= mark) return;
      cur = rebucket(cur, from, this.tiers[j + 1]!, mark);
      j++;
    }
  }
}
