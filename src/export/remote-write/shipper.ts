import { createHash } from 'node:crypto';
import type { RemoteWriteConfig } from '../../config/schema.js';
import type { Label, Labels } from '../../model/labels.js';
import type { Logger } from '../../self/log.js';
import type { Querier, StateTable } from '../../store/interface.js';
import { collectWindows } from './collect.js';
import { encodeWriteRequest, type WireSeries } from './encode.js';
import { queueBytes, queueSamples, requestsFailed, samplesDropped, samplesSent } from './metrics.js';
import { DurableQueue, type QueueEntry } from './queue.js';
import { postWriteRequest, type SendOutcome } from './send.js';

/** ExporterOptions wire the remote-write exporter to the daemon. */
export interface ExporterOptions {
  readonly targets: readonly RemoteWriteConfig[];
  readonly querier: () => Querier;
  readonly state: (table: string) => StateTable;
  /** The raw tier's resolution (flush interval): windows are shipped once closed. */
  readonly resolutionMs: number;
  /** Closes and commits every window that has ended by now (Pipeline.flushClosed). */
  readonly flushClosed: () => Promise<void>;
  /** Tenants whose series are shipped; all but `defaultTenant` get a `tenant` label. */
  readonly tenants: readonly string[];
  readonly defaultTenant: string;
  /** `external_labels`, added to every shipped series that lacks them (as Prometheus does). */
  readonly externalLabels?: Readonly<Record<string, string>>;
  readonly log: Logger;
  readonly now?: () => number;
  /** How often closed windows are collected (default: the resolution, at least 1 s). */
  readonly intervalMs?: number;
  /** First retry delay, doubled per failure up to maxBackoffMs (defaults 100 ms and 5 s, as Prometheus' 30 ms / 5 s). */
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Samples per request (default 2,000, Prometheus' max_samples_per_send). */
  readonly maxSamplesPerSend?: number;
  /** Per-request timeout (default 30 s). */
  readonly timeoutMs?: number;
  /** Replaceable POST for tests. */
  readonly send?: typeof postWriteRequest;
}

/** SHIP_LAG_WINDOWS is how many closed windows the cursor stays behind (see collectAll). */
const SHIP_LAG_WINDOWS = 1;

/** SPAN_WINDOWS bounds how many windows one collection reads, so a long backlog is read in slices. */
const SPAN_WINDOWS = 360;

/** displayUrl strips credentials from a URL for logs and metric labels. */
function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url;
  }
}

/** withLabels adds labels a series does not have yet, keeping the result sorted by name. */
function withLabels(labels: Labels, extra: readonly Label[]): Labels {
  if (extra.length === 0) return labels;
  const have = new Set(labels.map((l) => l.name));
  const add = extra.filter((l) => !have.has(l.name) && l.value !== '');
  if (add.length === 0) return labels;
  return [...labels, ...add].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Target is one remote_write entry: its durable queue and its sender loop. */
class Target {
  readonly cfg: RemoteWriteConfig;
  readonly label: string;
  readonly queue: DurableQueue;
  private attempts = 0;
  private draining: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private readonly stopCtl = new AbortController();

  constructor(cfg: RemoteWriteConfig, table: StateTable, initialCursor: number) {
    this.cfg = cfg;
    this.label = displayUrl(cfg.url);
    this.queue = new DurableQueue(table, initialCursor);
    this.gauges();
  }

  gauges(): void {
    queueBytes.set({ url: this.label }, this.queue.bytes);
    queueSamples.set({ url: this.label }, this.queue.samples);
  }

  get stopSignal(): AbortSignal {
    return this.stopCtl.signal;
  }

  kick(run: () => Promise<void>): void {
    if (this.wake) {
      // A sleeping retry is not cut short by new data: backoff protects a struggling receiver.
      return;
    }
    this.draining ??= run().finally(() => {
      this.draining = null;
    });
  }

  async sleep(ms: number): Promise<void> {
    if (this.stopCtl.signal.aborted) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      const onStop = () => done();
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
      this.stopCtl.signal.addEventListener('abort', onStop, { once: true });
    });
    this.wake = null;
  }

  nextBackoff(min: number, max: number): number {
    const ms = Math.min(max, min * 2 ** this.attempts);
    this.attempts++;
    return ms;
  }

  resetBackoff(): void {
    this.attempts = 0;
  }

  async stop(): Promise<void> {
    this.stopCtl.abort();
    this.wake?.();
    await this.draining?.catch(() => undefined);
  }
}

/**
 * RemoteWriteExporter ships every closed window to each `remote_write` target as Prometheus
 * remote write 1.0. On each tick it commits the windows that have closed, reads the samples
 * between a target's cursor and the start of the open window from the store (collectWindows:
 * what a reader of the store sees, so nothing is shipped that was not stored), and appends them
 * to the target's durable on-disk queue (the data directory's state table). A sender per target
 * drains its queue in order, one request at a time, retrying with exponential backoff, so a
 * receiver that is down, across tallyd restarts too, gets the whole backlog in order once back.
 * `queue.max_bytes` drops the oldest requests when the queue grows past it and `queue.max_age`
 * drops those whose newest sample is older than that; both are counted in
 * tallyd_remote_write_samples_dropped_total{reason}.
 */
export class RemoteWriteExporter {
  private readonly o: ExporterOptions;
  private readonly now: () => number;
  private readonly targets: Target[];
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private stopped = false;
  private readonly external: Label[];

  constructor(o: ExporterOptions) {
    this.o = o;
    this.external = Object.entries(o.externalLabels ?? {}).map(([name, value]) => ({ name, value }));
    this.now = o.now ?? Date.now;
    const start = this.boundary(this.now()) - 1 - SHIP_LAG_WINDOWS * o.resolutionMs;
    this.targets = o.targets.map((cfg) => {
      const id = createHash('sha256').update(cfg.url).digest('hex').slice(0, 16);
      // A new target starts with the windows of this run; an existing one resumes from its cursor.
      return new Target(cfg, o.state(`remote_write/${id}`), start - o.resolutionMs);
    });
  }

  /** start runs the first collection (resuming any backlog) and schedules the next ones. */
  start(): void {
    const every = this.o.intervalMs ?? Math.max(1000, this.o.resolutionMs);
    this.timer = setInterval(() => void this.tick(), every);
    this.timer.unref();
    for (const t of this.targets) t.kick(() => this.drain(t));
    void this.tick();
  }

  /** queueState reports each target's cursor and queue (for tests and the status API). */
  queueState(): Array<{ url: string; cursor: number; entries: number; bytes: number; samples: number }> {
    return this.targets.map((t) => ({ url: t.label, cursor: t.queue.cursor, entries: t.queue.length, bytes: t.queue.bytes, samples: t.queue.samples }));
  }

  /** tick collects newly closed windows for every target; concurrent calls share one run. */
  tick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.ticking ??= this.collectAll()
      .catch((err: unknown) => this.o.log.error('remote write collection failed', { err: String(err) }))
      .finally(() => {
        this.ticking = null;
      });
    return this.ticking;
  }

  private boundary(nowMs: number): number {
    return Math.floor(nowMs / this.o.resolutionMs) * this.o.resolutionMs;
  }

  private async collectAll(): Promise<void> {
    const nowMs = this.now();
    await this.o.flushClosed();
    // Every window that started before `boundary` has ended by nowMs and is committed now. The
    // cursor stays one more window behind: committing window s can add a sample at s - resolution
    // (a counter's previous cumulative value before a gap, or 0 at creation; see Querier), and it
    // must still be ahead of the cursor then so that it is shipped, before the window's own sample
    // (collectWindows reads that one window past the span for it).
    const upToAll = this.boundary(nowMs) - 1 - SHIP_LAG_WINDOWS * this.o.resolutionMs;
    for (const t of this.targets) {
      if (this.stopped) return;
      await this.collectTarget(t, upToAll, nowMs);
      t.kick(() => this.drain(t));
    }
  }

  private async collectTarget(t: Target, upToAll: number, nowMs: number): Promise<void> {
    const span = SPAN_WINDOWS * this.o.resolutionMs;
    const perSend = this.o.maxSamplesPerSend ?? 2000;
    const oldest = nowMs - t.cfg.queue.maxAgeMs;
    while (t.queue.cursor < upToAll && !this.stopped) {
      const from = t.queue.cursor;
      const upTo = Math.min(from + span, upToAll);
      const querier = this.o.querier();
      const series: WireSeries[] = [];
      let maxT = -Infinity;
      let total = 0;
      for (const tenant of this.o.tenants) {
        for (const s of collectWindows(querier, tenant, from, upTo + 1, this.o.resolutionMs)) {
          const labels = withLabels(s.labels, tenant === this.o.defaultTenant ? this.external : [{ name: 'tenant', value: tenant }, ...this.external]);
          series.push({ labels, timestamps: s.timestamps, values: s.values, from: 0, to: s.timestamps.length });
          maxT = Math.max(maxT, s.timestamps[s.timestamps.length - 1]!);
          total += s.timestamps.length;
        }
      }
      if (total === 0) {
        await t.queue.advance(upTo);
        continue;
      }
      if (maxT < oldest) {
        // Too old to keep (tallyd was down longer than max_age): counted, never queued.
        samplesDropped.inc({ url: t.label, reason: 'max_age' }, total);
        await t.queue.advance(upTo);
        continue;
      }
      await t.queue.push(split(series, perSend, maxT, upTo));
      await this.enforceBytes(t);
    }
    await this.enforceBytes(t);
    t.gauges();
  }

  private async enforceBytes(t: Target): Promise<void> {
    while (t.queue.bytes > t.cfg.queue.maxBytes && t.queue.length > 0) {
      const n = await t.queue.shiftEntry();
      samplesDropped.inc({ url: t.label, reason: 'max_bytes' }, n);
      this.o.log.warn('remote write queue over max_bytes; oldest samples dropped', { url: t.label, samples: n, max_bytes: t.cfg.queue.maxBytes });
    }
    t.gauges();
  }

  private async dropExpired(t: Target): Promise<void> {
    const oldest = this.now() - t.cfg.queue.maxAgeMs;
    for (let e = t.queue.head(); e !== null && e.maxT < oldest; e = t.queue.head()) {
      const n = await t.queue.shiftEntry();
      samplesDropped.inc({ url: t.label, reason: 'max_age' }, n);
      this.o.log.warn('remote write samples older than max_age dropped', { url: t.label, samples: n });
    }
  }

  private async drain(t: Target): Promise<void> {
    const send = this.o.send ?? postWriteRequest;
    const min = this.o.minBackoffMs ?? 100;
    const max = this.o.maxBackoffMs ?? 5000;
    while (!this.stopped) {
      await this.dropExpired(t);
      const e = t.queue.head();
      if (e === null) break;
      const body = e.bodies[0]!;
      const outcome: SendOutcome = await send({ url: t.cfg.url, headers: t.cfg.headers, basicAuth: t.cfg.basicAuth, timeoutMs: this.o.timeoutMs ?? 30_000, signal: t.stopSignal }, body);
      if (outcome.kind === 'retry') {
        if (this.stopped) break;
        requestsFailed.inc({ url: t.label });
        const wait = t.nextBackoff(min, max);
        this.o.log.warn('remote write failed; retrying', { url: t.label, reason: outcome.reason, retry_in_ms: wait, queued_samples: t.queue.samples });
        await t.sleep(wait);
        continue;
      }
      t.resetBackoff();
      const n = await t.queue.shiftPart();
      if (outcome.kind === 'ok') samplesSent.inc({ url: t.label }, n);
      else {
        samplesDropped.inc({ url: t.label, reason: 'rejected' }, n);
        this.o.log.error('remote write receiver refused a request; dropped', { url: t.label, samples: n, reason: outcome.reason });
      }
      t.gauges();
    }
  }

  /** stop ends collection and sending; whatever is queued stays on disk for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
    await Promise.all(this.targets.map((t) => t.stop()));
  }
}

/** split packs a span's series into WriteRequest bodies of at most `perSend` samples each. */
function split(series: readonly WireSeries[], perSend: number, maxT: number, upTo: number): QueueEntry {
  const bodies: Uint8Array[] = [];
  const counts: number[] = [];
  let batch: WireSeries[] = [];
  let n = 0;
  const flush = () => {
    if (n === 0) return;
    bodies.push(encodeWriteRequest(batch));
    counts.push(n);
    batch = [];
    n = 0;
  };
  for (const s of series) {
    for (let from = s.from; from < s.to;) {
      const take = Math.min(s.to - from, perSend - n);
      batch.push({ labels: s.labels, timestamps: s.timestamps, values: s.values, from, to: from + take });
      n += take;
      from += take;
      if (n >= perSend) flush();
    }
  }
  flush();
  return { bodies, counts, maxT, upTo };
}
