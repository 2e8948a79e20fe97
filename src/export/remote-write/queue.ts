import type { StateTable } from '../../store/interface.js';

/**
 * QueueEntry is one collected span of windows as stored: one or more encoded WriteRequest
 * bodies, sent in order. A span is stored as one row so that queuing it (and moving the cursor
 * past it) is a single durable write.
 */
export interface QueueEntry {
  /** Snappy-compressed WriteRequest bodies, oldest part first. */
  readonly bodies: Uint8Array[];
  /** Samples in each body. */
  readonly counts: number[];
  /** Newest sample time in the entry (ms): what max_age is measured against. */
  readonly maxT: number;
  /** The collection cursor once this entry is queued: every sample with t <= upTo is queued or sent. */
  readonly upTo: number;
}

const CURSOR = 'cursor';
const ENTRY = 'q/';

function entryKey(seq: number): string {
  return ENTRY + String(seq).padStart(16, '0');
}

function sizeOf(e: QueueEntry): number {
  let n = 0;
  for (const b of e.bodies) n += b.length;
  return n;
}

function samplesOf(e: QueueEntry): number {
  let n = 0;
  for (const c of e.counts) n += c;
  return n;
}

/**
 * DurableQueue is one remote-write target's on-disk FIFO of encoded requests, in a StateTable of
 * the data directory, plus the collection cursor (the time up to which windows are queued).
 * Crash safety comes from the order of writes: an entry carries the cursor it advances to and is
 * stored in one write, so after a restart the cursor is max(cursor row, newest entry's upTo) and
 * no window is queued twice or skipped; the cursor row is written before an entry is removed, so
 * emptying the queue never moves the cursor back. A part is removed only after its receiver
 * acknowledged it, so a crash can at worst send the last acknowledged part once more.
 */
export class DurableQueue {
  private readonly table: StateTable;
  private readonly keys: string[] = [];
  private nextSeq = 0;
  private cursorValue: number;
  private bytesValue = 0;
  private samplesValue = 0;

  constructor(table: StateTable, initialCursor: number) {
    this.table = table;
    let cursor = table.get<number>(CURSOR) ?? null;
    for (const [key, e] of table.entries<QueueEntry>(ENTRY)) {
      this.keys.push(key);
      this.bytesValue += sizeOf(e);
      this.samplesValue += samplesOf(e);
      cursor = cursor === null ? e.upTo : Math.max(cursor, e.upTo);
      this.nextSeq = Number(key.slice(ENTRY.length)) + 1;
    }
    this.cursorValue = cursor ?? initialCursor;
  }

  /** cursor is the time (ms) up to which windows are queued or sent. */
  get cursor(): number {
    return this.cursorValue;
  }

  /** length is the number of queued spans. */
  get length(): number {
    return this.keys.length;
  }

  /** bytes is the size of the queued bodies. */
  get bytes(): number {
    return this.bytesValue;
  }

  /** samples is the number of queued samples. */
  get samples(): number {
    return this.samplesValue;
  }

  /** push stores an entry durably; the cursor advances to `entry.upTo`. */
  async push(entry: QueueEntry): Promise<void> {
    const key = entryKey(this.nextSeq++);
    await this.table.put(key, entry);
    this.keys.push(key);
    this.bytesValue += sizeOf(entry);
    this.samplesValue += samplesOf(entry);
    this.cursorValue = Math.max(this.cursorValue, entry.upTo);
  }

  /** advance moves the cursor over a span that queued nothing. */
  async advance(upTo: number): Promise<void> {
    if (upTo <= this.cursorValue) return;
    await this.table.put(CURSOR, upTo);
    this.cursorValue = upTo;
  }

  /** head returns the oldest entry, or null when empty. */
  head(): QueueEntry | null {
    const key = this.keys[0];
    return key === undefined ? null : (this.table.get<QueueEntry>(key) ?? null);
  }

  /** shiftPart removes the oldest part of the oldest entry durably; returns its sample count. */
  async shiftPart(): Promise<number> {
    const key = this.keys[0];
    if (key === undefined) return 0;
    const e = this.table.get<QueueEntry>(key);
    if (e === undefined) {
      this.keys.shift();
      return 0;
    }
    const bytes = e.bodies[0]?.length ?? 0;
    const samples = e.counts[0] ?? 0;
    if (e.bodies.length > 1) {
      await this.table.put(key, { bodies: e.bodies.slice(1), counts: e.counts.slice(1), maxT: e.maxT, upTo: e.upTo });
    } else {
      await this.table.put(CURSOR, this.cursorValue);
      await this.table.remove(key);
      this.keys.shift();
    }
    this.bytesValue -= bytes;
    this.samplesValue -= samples;
    return samples;
  }

  /** shiftEntry removes the whole oldest entry durably; returns its sample count. */
  async shiftEntry(): Promise<number> {
    const key = this.keys[0];
    if (key === undefined) return 0;
    const e = this.table.get<QueueEntry>(key);
    await this.table.put(CURSOR, this.cursorValue);
    await this.table.remove(key);
    this.keys.shift();
    if (e === undefined) return 0;
    this.bytesValue -= sizeOf(e);
    const n = samplesOf(e);
    this.samplesValue -= n;
    return n;
  }
}
