import type { TierConfig } from './interface.js';

const DAY = 86_400_000;

/**
 * Tier maps time to window indices for one storage tier. Fixed tiers use `floor(ms / res)`;
 * the monthly tier counts calendar months (UTC) since 1970, so rollups by month fit the same
 * chunk format as every other tier: chunks store window indices, not milliseconds.
 */
export class Tier {
  readonly ordinal: number;
  readonly name: string;
  readonly resolutionMs: number;
  readonly retentionMs: number;
  readonly monthly: boolean;
  /** chunkBudget is the largest chunk value that still fits one LMDB page without waste. */
  readonly chunkBudget: number;
  /** pageSize is the LMDB page size: k * pageSize - 24 bytes fit k pages. */
  readonly pageSize: number;

  constructor(ordinal: number, cfg: TierConfig, pageSize: number) {
    this.ordinal = ordinal;
    this.name = cfg.name;
    this.resolutionMs = cfg.resolutionMs;
    this.retentionMs = cfg.retentionMs;
    this.monthly = cfg.monthly === true;
    // LMDB stores a value above ~half a page on overflow pages; lmdb-js fits k*page - 24 bytes
    // into k pages (measured), so a chunk of one page minus that header wastes nothing.
    this.chunkBudget = pageSize - 24;
    this.pageSize = pageSize;
  }

  /** index returns the window index that holds `ms`. */
  index(ms: number): number {
    if (!this.monthly) return Math.floor(ms / this.resolutionMs);
    const d = new Date(ms);
    return (d.getUTCFullYear() - 1970) * 12 + d.getUTCMonth();
  }

  /** start returns the first millisecond of window `idx`. */
  start(idx: number): number {
    if (!this.monthly) return idx * this.resolutionMs;
    const y = Math.floor(idx / 12);
    return Date.UTC(1970 + y, idx - y * 12, 1);
  }

  /** end returns the first millisecond after window `idx`. */
  end(idx: number): number {
    return this.start(idx + 1);
  }
}

/** defaultTiers are SPEC section 4's tiers with the raw tier at the flush interval. */
export function defaultTiers(rawResolutionMs: number): TierConfig[] {
  return [
    { name: 'raw', resolutionMs: rawResolutionMs, retentionMs: 2 * DAY },
    { name: '5m', resolutionMs: 300_000, retentionMs: 90 * DAY },
    { name: '1h', resolutionMs: 3_600_000, retentionMs: 90 * DAY },
    { name: 'monthly', resolutionMs: 0, retentionMs: 5 * 365 * DAY, monthly: true },
  ];
}
