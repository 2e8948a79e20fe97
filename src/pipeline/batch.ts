import type { SparseHistogram } from '../model/hdr.js';
import type { SeriesDef } from './protocol.js';
import { RECORD_STRIDE, encodeHistogram, histogramSize } from './records.js';

/**
 * Batch is one worker's pending records on the main thread: a Float64Array of fixed-size
 * records, the series definitions that must reach the worker first, and a side buffer for
 * pre-aggregated histograms. Its buffers are transferred on post and come back from the
 * worker to the pool, so steady-state batching allocates nothing per sample.
 */
export class Batch {
  buf: Float64Array;
  n: number;
  defs: SeriesDef[];
  side: Float64Array | null;
  sideLen: number;
  /** Side floats the last batch used: the next one starts that big instead of doubling up to it. */
  private sideHint: number;
  readonly capacity: number;

  constructor(capacity: number, buf: Float64Array) {
    this.capacity = capacity;
    this.buf = buf;
    this.n = 0;
    this.defs = [];
    this.side = null;
    this.sideLen = 0;
    this.sideHint = 1024;
  }

  /** full says whether the next record does not fit. */
  full(): boolean {
    return this.n >= this.capacity;
  }

  /** empty says whether there is nothing to post. */
  empty(): boolean {
    return this.n === 0 && this.defs.length === 0;
  }

  /** push appends one record; the caller checked full(). */
  push(op: number, slot: number, a: number, b: number, ts: number): void {
    const p = this.n * RECORD_STRIDE;
    const buf = this.buf;
    buf[p] = op;
    buf[p + 1] = slot;
    buf[p + 2] = a;
    buf[p + 3] = b;
    buf[p + 4] = ts;
    this.n++;
  }

  /** pushHistogram serialises `h` into the side buffer and returns its offset. */
  pushHistogram(h: SparseHistogram, pool: BufferPool): number {
    const need = histogramSize(h);
    let side = this.side;
    if (side === null || this.sideLen + need > side.length) {
      const grown = pool.takeSide(Math.max(this.sideLen + need, side ? side.length * 2 : this.sideHint));
      if (side !== null) {
        grown.set(side.subarray(0, this.sideLen));
        pool.giveSide(side.buffer as ArrayBuffer);
      }
      side = this.side = grown;
    }
    const off = this.sideLen;
    this.sideLen = encodeHistogram(side, off, h);
    return off;
  }

  /** reset makes the batch reusable with fresh buffers after its old ones were transferred. */
  reset(buf: Float64Array): void {
    if (this.sideLen > 0) this.sideHint = Math.max(1024, this.sideLen);
    this.buf = buf;
    this.n = 0;
    this.defs = [];
    this.side = null;
    this.sideLen = 0;
  }
}

/** BufferPool recycles the record and side buffers that workers send back. */
export class BufferPool {
  private readonly records: ArrayBuffer[] = [];
  private readonly sides: ArrayBuffer[] = [];
  constructor(private readonly recordBytes: number, private readonly maxKept: number) {}

  /** takeRecords returns a record buffer of the batch capacity. */
  takeRecords(): Float64Array {
    const b = this.records.pop();
    return new Float64Array(b ?? new ArrayBuffer(this.recordBytes));
  }

  /** takeSide returns a side buffer of at least `floats` float64s. */
  takeSide(floats: number): Float64Array {
    for (let i = this.sides.length - 1; i >= 0; i--) {
      if (this.sides[i]!.byteLength >= floats * 8) {
        const b = this.sides[i]!;
        this.sides[i] = this.sides[this.sides.length - 1]!;
        this.sides.pop();
        return new Float64Array(b);
      }
    }
    return new Float64Array(floats);
  }

  /** giveRecords returns a record buffer to the pool. */
  giveRecords(b: ArrayBuffer): void {
    if (b.byteLength === this.recordBytes && this.records.length < this.maxKept) this.records.push(b);
  }

  /** giveSide returns a side buffer to the pool. */
  giveSide(b: ArrayBuffer): void {
    if (this.sides.length < this.maxKept) this.sides.push(b);
  }
}
