import { MetricKind } from '../model/metric-kind.js';
import { GaugeExtremes, assembleChunk, blockSize, decodeBlockBytes, encodeBlockBytes } from './chunk-encoding.js';
import { HistSummary, encodedSummaryLength } from './hist-summary.js';
import { PointBuf } from './point-buf.js';
import type { Tier } from './tier.js';

/** MIN_FILL and MAX_CHUNK_PAGES bound how a chunk grows past one page (HeadChunk.overBudget). */
const MIN_FILL = 0.9;
const MAX_CHUNK_PAGES = 8;

/** SealedChunk is a chunk a head handed over because it reached the page budget. */
export interface SealedChunk {
  readonly startMs: number;
  readonly bytes: Uint8Array;
}

/**
 * HeadChunk is the open (last) chunk of one series in one tier, kept in memory by the writer
 * between commits: its full blocks stay encoded, only the tail block is held as columns, so a
 * commit re-encodes at most one block and copies the rest. When the next block would push the
 * chunk past the tier's page budget, the head seals (returns the finished chunk) and restarts at
 * the first window of that block.
 *
 * A window merged into the head's last windows (a commit that continues a rollup window the
 * previous commit began, as backfill and write-through do every time) merges into the tail; when
 * the tail is empty, the last full block is decoded back into the tail first (its aggregates are
 * kept from before it was added), so such a merge costs one block, not the whole chunk.
 */
export class HeadChunk {
  readonly kind: MetricKind;
  readonly tier: Tier;
  startMs: number;
  baseIdx: number;
  points: number;
  lastIdx: number;
  /** Length of the value last written for this head, to notice writes by other handles. */
  writtenLength: number;
  /** Point count of the value last written (a trim by retention can keep the padded length). */
  writtenPoints: number;
  /** The value last written for this head (kept for rollup tiers, compared whole on reuse). */
  written: Buffer | null;
  private blocks: Uint8Array[];
  private blocksBytes: number;
  private blocksSum: number;
  private blocksAgg: HistSummary | null;
  /** Gauges: the extremes of the full blocks' last values (chunk header), and before the last block. */
  private blocksExt: GaugeExtremes | null;
  private preLastExt: GaugeExtremes | null;
  private readonly bounds: ArrayLike<number> | null;
  private readonly tail: PointBuf;
  private tailPrev: number;
  /** The window before the last full block, and the aggregates before it was added. */
  private lastBlockPrev: number;
  private preLastSum: number;
  private preLastAgg: HistSummary | null;
  /** reopenable: the last full block can be decoded back into the (empty) tail. */
  private reopenable: boolean;

  constructor(kind: MetricKind, tier: Tier, firstIdx: number, bounds: ArrayLike<number> | null) {
    this.bounds = bounds;
    this.kind = kind;
    this.tier = tier;
    this.startMs = tier.start(firstIdx);
    this.baseIdx = firstIdx;
    this.points = 0;
    this.lastIdx = firstIdx - 1;
    this.writtenLength = -1;
    this.writtenPoints = -1;
    this.written = null;
    this.blocks = [];
    this.blocksBytes = 0;
    this.blocksSum = 0;
    this.blocksAgg = kind === MetricKind.Histogram ? HistSummary.forBounds(bounds) : null;
    this.blocksExt = kind === MetricKind.Gauge ? new GaugeExtremes() : null;
    this.preLastExt = null;
    this.tail = new PointBuf(kind, 16);
    this.tailPrev = firstIdx - 1;
    this.lastBlockPrev = firstIdx - 1;
    this.preLastSum = 0;
    this.preLastAgg = null;
    this.reopenable = false;
  }

  /**
   * append adds point j of `src` (its window after lastIdx); sealed chunks are pushed to
   * `sealed`. Histograms are cloned, since the appender's caller may reuse them after commit.
   */
  append(src: PointBuf, j: number, sealed: SealedChunk[]): void {
    this.tail.mergeFrom(src, j);
    this.points++;
    this.lastIdx = src.idx[j]!;
    if (this.tail.n >= blockSize(this.kind)) this.completeBlock(sealed);
  }

  private completeBlock(sealed: SealedChunk[]): void {
    let bytes = encodeBlockBytes(this.tail, 0, this.tail.n, this.tailPrev, this.tier, this.bounds);
    if (this.blocks.length > 0 && this.overBudget(bytes.length)) {
      sealed.push(this.sealBlocks());
      bytes = encodeBlockBytes(this.tail, 0, this.tail.n, this.tailPrev, this.tier, this.bounds);
    }
    this.blocks.push(bytes);
    this.blocksBytes += bytes.length;
    this.lastBlockPrev = this.tailPrev;
    this.preLastSum = this.blocksSum;
    this.reopenable = true;
    if (this.kind === MetricKind.Counter) for (let i = 0; i < this.tail.n; i++) this.blocksSum += this.tail.a[i]!;
    else if (this.kind === MetricKind.Gauge) {
      this.preLastExt = this.blocksExt!;
      this.blocksExt = this.preLastExt.clone();
      this.blocksExt.addColumn(this.tail.a, 0, this.tail.n);
    } else if (this.kind === MetricKind.Histogram) {
      this.preLastAgg = this.blocksAgg!;
      this.blocksAgg = this.preLastAgg.clone();
      for (let i = 0; i < this.tail.n; i++) this.blocksAgg.addWindow(this.tail.hists[i]!);
    }
    this.tailPrev = this.tail.idx[this.tail.n - 1]!;
    this.tail.clear();
  }

  /**
   * mergeRecent merges point j of `src`, whose window is at or before lastIdx, into the tail
   * (reopening the last full block when the tail is empty). It returns false, changing nothing
   * the head encodes, when the window lies further back or the tail is full: the caller then
   * rebuilds the head.
   */
  mergeRecent(src: PointBuf, j: number, sealed: SealedChunk[]): boolean {
    const w = src.idx[j]!;
    if (w <= this.tailPrev) {
      if (this.tail.n > 0 || !this.reopenable || w <= this.lastBlockPrev) return false;
      this.reopen();
    }
    const before = this.tail.n;
    if (before >= blockSize(this.kind) && this.tail.find(w) < 0) return false;
    this.tail.mergeFrom(src, j);
    if (this.tail.n > before) this.points++;
    if (w > this.lastIdx) this.lastIdx = w;
    if (this.tail.n >= blockSize(this.kind)) this.completeBlock(sealed);
    return true;
  }

  /** reopen decodes the last full block back into the empty tail, restoring the aggregates. */
  private reopen(): void {
    const bytes = this.blocks.pop()!;
    this.blocksBytes -= bytes.length;
    decodeBlockBytes(bytes, this.tail, this.lastBlockPrev, this.tier);
    this.blocksSum = this.preLastSum;
    if (this.kind === MetricKind.Histogram) this.blocksAgg = this.preLastAgg;
    if (this.kind === MetricKind.Gauge) this.blocksExt = this.preLastExt;
    this.preLastAgg = null;
    this.preLastExt = null;
    this.tailPrev = this.lastBlockPrev;
    this.reopenable = false;
  }

  /** sealBlocks returns the full blocks as a chunk and restarts the head at the tail. */
  private sealBlocks(): SealedChunk {
    const out: SealedChunk = {
      startMs: this.startMs,
      bytes: assembleChunk(this.kind, this.tier, this.points - this.tail.n, this.blocksSum, this.blocksAgg, this.blocks, this.blocks.length, this.blocksExt),
    };
    const first = this.tail.idx[0]!;
    this.startMs = this.tier.start(first);
    this.baseIdx = first;
    this.points = this.tail.n;
    this.blocks = [];
    this.blocksBytes = 0;
    this.blocksSum = 0;
    this.blocksAgg = this.kind === MetricKind.Histogram ? HistSummary.forBounds(this.bounds) : null;
    this.blocksExt = this.kind === MetricKind.Gauge ? new GaugeExtremes() : null;
    this.tailPrev = first - 1;
    this.reopenable = false;
    this.preLastAgg = null;
    this.preLastExt = null;
    this.writtenLength = -1;
    this.written = null;
    return out;
  }

  /**
   * overBudget says whether the head must seal before a block of `bytes` joins its full blocks.
   * A chunk fills one page (tier.chunkBudget). In a rollup tier it grows past that by whole
   * pages while what it holds fills less than MIN_FILL of the pages it takes, up to
   * MAX_CHUNK_PAGES: a block of more than half a page (hour windows of a wide histogram) left
   * half of every one-page chunk empty. The raw tier keeps one page: its head is rewritten at
   * every commit, and a larger one would cost that much more each time.
   */
  private overBudget(bytes: number): boolean {
    const page = this.tier.pageSize, held = this.headerEstimate() + this.blocksBytes;
    if (this.tier.ordinal === 0) return held + bytes > this.tier.chunkBudget;
    const pages = Math.max(1, Math.ceil((held + 24) / page));
    if (held + bytes <= pages * page - 24) return false;
    return pages >= MAX_CHUNK_PAGES || held >= MIN_FILL * pages * page;
  }

  private headerEstimate(): number {
    if (this.kind === MetricKind.Counter) return 12;
    if (this.kind === MetricKind.Gauge) return 4;
    return 8 + encodedSummaryLength(this.blocksAgg!);
  }

  /**
   * encode returns the head's chunk value; when the tail would push it past the budget, the
   * full blocks are sealed first (into `sealed`) and the head restarts at the tail.
   */
  encode(sealed: SealedChunk[]): Uint8Array {
    let tailBytes = this.tail.n > 0 ? encodeBlockBytes(this.tail, 0, this.tail.n, this.tailPrev, this.tier, this.bounds) : null;
    if (tailBytes !== null && this.blocks.length > 0 && this.overBudget(tailBytes.length)) {
      sealed.push(this.sealBlocks());
      tailBytes = encodeBlockBytes(this.tail, 0, this.tail.n, this.tailPrev, this.tier, this.bounds);
    }
    let sum = this.blocksSum;
    let agg = this.blocksAgg;
    let ext = this.blocksExt;
    if (this.kind === MetricKind.Counter) for (let i = 0; i < this.tail.n; i++) sum += this.tail.a[i]!;
    else if (this.kind === MetricKind.Gauge && this.tail.n > 0) {
      ext = ext!.clone();
      ext.addColumn(this.tail.a, 0, this.tail.n);
    } else if (this.kind === MetricKind.Histogram && this.tail.n > 0) {
      agg = agg!.clone();
      for (let i = 0; i < this.tail.n; i++) agg.addWindow(this.tail.hists[i]!);
    }
    if (tailBytes === null) return assembleChunk(this.kind, this.tier, this.points, sum, agg, this.blocks, this.blocks.length, ext);
    this.blocks.push(tailBytes);
    const out = assembleChunk(this.kind, this.tier, this.points, sum, agg, this.blocks, this.blocks.length, ext);
    this.blocks.pop();
    return out;
  }
}
