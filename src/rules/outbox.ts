import type { StateTable } from '../store/interface.js';
import type { Clock } from './clock.js';
import { postJson, type PostResult } from './http-post.js';
import type { RulesLog } from './log.js';

/** OutboxEntry is one queued notification as stored in the StateTable. */
export interface OutboxEntry {
  readonly url: string;
  readonly body: string;
  readonly createdMs: number;
}

/** SendFunc delivers one body; the default is an HTTP POST. */
export type SendFunc = (url: string, headers: Readonly<Record<string, string>>, body: string, timeoutMs: number) => Promise<PostResult>;

/** OutboxOptions configure one receiver's outbox. */
export interface OutboxOptions {
  /** Stable id of the receiver (survives restarts), used in state keys. */
  readonly id: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly state: StateTable;
  readonly clock: Clock;
  readonly log: RulesLog;
  readonly send?: SendFunc;
  /** First retry delay; doubles per failure up to `maxBackoffMs`. Default 1 s. */
  readonly initialBackoffMs?: number;
  /** Default 30 s: a receiver that comes back is reached within that. */
  readonly maxBackoffMs?: number;
  /** Oldest entries are dropped past this many (default 10,000). */
  readonly maxEntries?: number;
  readonly timeoutMs?: number;
}

/**
 * Outbox is a durable FIFO of notifications for one receiver. `enqueue` resolves once the entry
 * is stored; delivery is one at a time, in order, with exponential backoff on failure, so a
 * receiver that is down (even across a restart: the queue is reloaded from the StateTable) gets
 * every notification, in order, when it is back. An entry is removed, durably, as soon as the
 * receiver answers 2xx and before the next one is sent, so nothing acknowledged is sent again.
 * A 4xx answer other than 408/429 means the receiver will never take that body: it is dropped
 * with a log line instead of blocking the queue forever.
 */
export class Outbox {
  readonly id: string;
  private readonly opts: OutboxOptions;
  private readonly prefix: string;
  private readonly queue: Array<{ key: string; entry: OutboxEntry }> = [];
  private seq = 0;
  private attempts = 0;
  private timer: unknown = null;
  private running = false;
  private stopped = true;
  private current: Promise<void> | null = null;
  /** delivered counts acknowledged entries (for tests and self-metrics). */
  delivered = 0;
  dropped = 0;
  lastError = '';

  constructor(opts: OutboxOptions) {
    this.id = opts.id;
    this.opts = opts;
    this.prefix = `outbox/${opts.id}/`;
    for (const [key, entry] of opts.state.entries<OutboxEntry>(this.prefix)) {
      this.queue.push({ key, entry });
      const n = Number(key.slice(this.prefix.length));
      if (Number.isFinite(n) && n >= this.seq) this.seq = n + 1;
    }
  }

  /** pending is how many notifications wait for delivery. */
  pending(): number {
    return this.queue.length;
  }

  /** start begins delivering what is queued (including what a previous process left). */
  start(): void {
    this.stopped = false;
    this.kick();
  }

  /** stop ends delivery after the request in flight; the queue stays stored. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) {
      this.opts.clock.clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.current) await this.current;
  }

  /** enqueue stores a notification; it resolves when the entry is durable. */
  async enqueue(url: string, body: string): Promise<void> {
    const key = this.prefix + String(this.seq++).padStart(12, '0');
    const entry: OutboxEntry = { url, body, createdMs: this.opts.clock.now() };
    const max = this.opts.maxEntries ?? 10_000;
    while (this.queue.length >= max) {
      // Drop the oldest entry that is not being sent right now.
      const idx = this.running && this.queue.length > 1 ? 1 : 0;
      const [old] = this.queue.splice(idx, 1);
      this.dropped++;
      await this.opts.state.remove(old!.key);
      this.opts.log.warn('notification outbox full, dropped the oldest notification', { receiver: this.id, max });
    }
    await this.opts.state.put(key, entry);
    this.queue.push({ key, entry });
    this.kick();
  }

  /** idle resolves when nothing is being sent right now (tests use it to wait for delivery). */
  async idle(): Promise<void> {
    while (this.current) await this.current;
  }

  private kick(): void {
    if (this.stopped || this.running || this.timer !== null || this.queue.length === 0) return;
    const p: Promise<void> = this.pump().finally(() => {
      if (this.current === p) this.current = null;
    });
    this.current = p;
  }

  private async pump(): Promise<void> {
    this.running = true;
    const send = this.opts.send ?? postJson;
    try {
      while (!this.stopped && this.queue.length > 0) {
        const head = this.queue[0]!;
        const r = await send(head.entry.url, this.opts.headers, head.entry.body, this.opts.timeoutMs ?? 10_000);
        const ok = r.status >= 200 && r.status < 300;
        const permanent = r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 429;
        if (ok || permanent) {
          await this.opts.state.remove(head.key);
          if (this.queue[0] === head) this.queue.shift();
          else this.queue.splice(this.queue.indexOf(head), 1);
          if (ok) this.delivered++;
          else {
            this.dropped++;
            this.opts.log.warn('notification refused by receiver, dropped', { receiver: this.id, url: head.entry.url, status: r.status });
          }
          if (this.attempts > 0) this.opts.log.info('notification receiver reachable again', { receiver: this.id, attempts: this.attempts });
          this.attempts = 0;
          this.lastError = '';
          continue;
        }
        this.attempts++;
        this.lastError = r.error || `HTTP ${r.status}`;
        const base = this.opts.initialBackoffMs ?? 1000;
        const delay = Math.min(base * 2 ** Math.min(this.attempts - 1, 30), this.opts.maxBackoffMs ?? 30_000);
        if (this.attempts === 1 || this.attempts % 20 === 0) {
          this.opts.log.warn('notification delivery failed, will retry', { receiver: this.id, url: head.entry.url, err: this.lastError, attempts: this.attempts, retryInMs: delay, queued: this.queue.length });
        }
        if (!this.stopped) {
          this.timer = this.opts.clock.setTimeout(() => {
            this.timer = null;
            this.kick();
          }, delay);
        }
        return;
      }
    } finally {
      this.running = false;
    }
  }
}
