import { Worker } from 'node:worker_threads';
import type { IngestSink, SeriesOptions } from '../ingest/sink.js';
import { ACCEPTED, Refusal, refusedRef, type Verdict } from '../ingest/sink.js';
import type { SparseHistogram } from '../model/hdr.js';
import { labelsKey, METRIC_NAME, type Labels } from '../model/labels.js';
import { DEFAULT_TENANT, MetricKind } from '../model/metric-kind.js';
import { Batch, BufferPool } from './batch.js';
import { mergeFamilies } from './exposition.js';
import { CardinalityTracker, REFUSAL_OF, checkLabels } from './limits.js';
import { flushDuration, samplesReceived, samplesRefused, seriesActive, seriesRefused, workerQueueDepth } from './metrics.js';
import { resolveOptions, type PipelineOptions, type ResolvedOptions } from './options.js';
import type { ExposedFamily, FlushStats, FromWorker, ToWorker, WorkerConfig } from './protocol.js';
import { Op, RECORD_STRIDE } from './records.js';
import { SeriesRefs } from './series-refs.js';
import { fnv1aString } from '../wire/fnv1a.js';

/** Series definitions a batch carries before it is posted on its own. */
const MAX_DEFS_PER_BATCH = 1024;

/** Kind indices of tallyd_samples_received_total. */
const K_COUNTER = 0, K_GAUGE = 1, K_HISTOGRAM = 2, K_SET = 3;
const KIND_LABELS = ['counter', 'gauge', 'histogram', 'set'];

interface Pending {
  readonly worker: number;
  readonly resolve: (m: FromWorker) => void;
  readonly reject: (e: Error) => void;
}

/**
 * Pipeline is the main-thread side of aggregation and the IngestSink every parser pushes into.
 * It admits series under the cardinality limits, shards them by hash over aggregation workers,
 * and appends samples as fixed-size records to one batch per worker, posted with its buffers
 * transferred when full or on flush(). It never waits on a worker: when too many batches are in
 * flight, accepting() turns false and callers refuse work instead of queueing it.
 *
 * A ref is `slot * workers + worker`: the worker and its dense local slot, so routing a sample is
 * arithmetic, not a lookup. A series' definition rides in the same ordered batch stream, ahead of
 * the first record that uses it.
 */
export class Pipeline implements IngestSink {
  private readonly o: ResolvedOptions;
  private readonly n: number;
  private readonly workers: Worker[] = [];
  private readonly batches: Batch[] = [];
  private readonly inFlight: Int32Array;
  private readonly nextSlot: Int32Array;
  private readonly pool: BufferPool;
  /** Admitted series' refs by identity key, in typed arrays (no heap object per series). */
  private readonly refs = new SeriesRefs();
  /** kind + 1 per ref (0: no such ref), so a sample of the wrong kind is refused on the spot. */
  private kinds = new Uint8Array(1024);
  private readonly card: CardinalityTracker;
  private readonly received = new Float64Array(4);
  /** tallyd_samples_received_total by kind index, bound once (a labels object per post costs a hash). */
  private readonly receivedBy = KIND_LABELS.map((k) => samplesReceived.labels(k));
  /** tallyd_worker_queue_depth per worker, bound once. */
  private readonly depthOf: Array<ReturnType<typeof workerQueueDepth.labels>> = [];
  private readonly pending = new Map<number, Pending>();
  private readonly exited: boolean[] = [];
  private readonly readyP: Promise<void>;
  private readonly tooOld = samplesRefused.labels('too_old');
  private readonly tooNew = samplesRefused.labels('too_new');
  private readonly kindMismatch = samplesRefused.labels('kind_mismatch');
  private readonly badValue = samplesRefused.labels('bad_value');
  private nextId = 0;
  private timer: NodeJS.Timeout | null = null;
  private timerFlushing = false;
  /** A deferred postAll is queued (see flush). */
  private postScheduled = false;
  private readonly postAllNow = (): void => {
    if (this.postScheduled) this.postAll();
  };
  /** The timer of a deferred post (see flush), cleared on close. */
  private postTimer: NodeJS.Timeout | null = null;
  /** performance.now() of the last postAll: posts are spaced at least postDelayMs apart. */
  private lastPostAt = -Infinity;
  /** The flush timer runs and posts may wait as long as its period: it posts (see flush). */
  private readonly postOnTick: boolean;
  private closing = false;
  private closedP: Promise<void> | null = null;

  constructor(opts: PipelineOptions) {
    const o = (this.o = resolveOptions(opts));
    this.n = o.workers;
    this.inFlight = new Int32Array(this.n);
    this.nextSlot = new Int32Array(this.n);
    this.pool = new BufferPool(o.batchRecords * RECORD_STRIDE * 8, this.n * (o.maxInFlightBatches + 2));
    this.card = new CardinalityTracker(o.limits);
    const ready: Promise<void>[] = [];
    for (let i = 0; i < this.n; i++) {
      const cfg: WorkerConfig = { index: i, storeModule: o.storeModule, store: o.store, seriesTtlMs: o.seriesTtlMs, restoreLookbackMs: o.restoreLookbackMs };
      const limits = o.workerYoungGenerationMb > 0 ? { resourceLimits: { maxYoungGenerationSizeMb: o.workerYoungGenerationMb } } : {};
      const w = new Worker(new URL('./worker.js', import.meta.url), { workerData: cfg, ...limits });
      this.workers.push(w);
      this.exited.push(false);
      this.batches.push(new Batch(o.batchRecords, this.pool.takeRecords()));
      this.depthOf.push(workerQueueDepth.labels(String(i)));
      this.depthOf[i]!.set(0);
      ready.push(new Promise<void>((resolve, reject) => {
        w.on('message', (m: FromWorker) => {
          if (m.t === 'ready') {
            if (m.error === null) resolve();
            else reject(new Error(m.error));
          } else this.onMessage(i, m);
        });
        w.on('error', (err) => {
          o.logger.error('aggregation worker failed', { worker: i, err });
          reject(err);
          this.failPending(i, err);
        });
        w.on('exit', (code) => {
          this.exited[i] = true;
          reject(new Error(`aggregation worker ${i} exited with code ${code}`));
          this.failPending(i, new Error(`aggregation worker ${i} exited with code ${code}`));
        });
      }));
    }
    this.readyP = Promise.all(ready).then(() => undefined);
    // Callers that never await ready() must not see an unhandled rejection; they see failed flushes.
    this.readyP.catch(() => undefined);
    this.postOnTick = o.flushIntervalMs > 0 && o.postDelayMs >= o.flushIntervalMs;
    if (o.flushIntervalMs > 0) {
      this.timer = setInterval(() => this.onTimer(), o.flushIntervalMs);
      this.timer.unref();
    }
  }

  /** ready resolves once every worker has opened its store (rejects when one cannot). */
  ready(): Promise<void> {
    return this.readyP;
  }

  /** start is ready() under the name the composition root uses: workers are spawned by the constructor. */
  start(): Promise<void> {
    return this.readyP;
  }

  /** healthy says whether every worker is running (for /health/ready). */
  healthy(): boolean {
    return !this.closing && !this.exited.includes(true);
  }

  /** seriesCount is the number of series admitted so far (one tenant, or all). */
  seriesCount(tenant?: string): number {
    return this.card.seriesCount(tenant);
  }

  series(tenant: string, labels: Labels, kind: MetricKind, opts?: SeriesOptions): number {
    const lk = labelsKey(labels);
    const key = tenant + '\u0000' + kind + '\u0000' + lk;
    const hash = fnv1aString(key);
    const have = this.refs.get(key, hash);
    if (have >= 0) return have;
    const reason = checkLabels(labels, this.o.limits) ?? this.card.admit(tenant, labels);
    if (reason !== null) {
      seriesRefused.inc({ reason });
      return refusedRef(REFUSAL_OF[reason]);
    }
    const w = hash % this.n; // stable across runs
    const slot = this.nextSlot[w]!++;
    const ref = slot * this.n + w;
    let name = '';
    for (const l of labels) if (l.name === METRIC_NAME) name = l.value;
    const bounds = kind === MetricKind.Histogram ? (opts?.bounds ?? this.o.buckets[name] ?? null) : null;
    const batch = this.batches[w]!;
    batch.defs.push({ slot, tenant, labels: labels.map((l) => ({ name: l.name, value: l.value })), kind, bounds: bounds ? [...bounds] : null, help: opts?.help ?? '', unit: opts?.unit ?? '' });
    // A burst of new series goes out in bounded messages: one huge message would hold every
    // definition twice (here and cloned in the worker) at once and inflate both heaps for good.
    if (batch.defs.length >= MAX_DEFS_PER_BATCH) this.post(w);
    if (ref >= this.kinds.length) {
      const k = new Uint8Array(Math.max(ref + 1, this.kinds.length * 2));
      k.set(this.kinds);
      this.kinds = k;
    }
    this.kinds[ref] = kind + 1;
    this.refs.set(key, hash, ref);
    return ref;
  }

  counter(ref: number, increment: number, tsMs: number): Verdict {
    this.received[K_COUNTER]!++;
    if (!(increment >= 0 && increment < Infinity)) return this.refuseValue();
    return this.push(Op.Counter, MetricKind.Counter, ref, increment, 0, tsMs);
  }

  counterCumulative(ref: number, total: number, startMs: number, tsMs: number): Verdict {
    this.received[K_COUNTER]!++;
    if (!(total >= 0 && total < Infinity)) return this.refuseValue();
    return this.push(Op.CounterCumulative, MetricKind.Counter, ref, total, startMs > 0 ? startMs : 0, tsMs);
  }

  gaugeSet(ref: number, value: number, tsMs: number): Verdict {
    this.received[K_GAUGE]!++;
    return this.push(Op.GaugeSet, MetricKind.Gauge, ref, value, 0, tsMs);
  }

  gaugeAdd(ref: number, delta: number, tsMs: number): Verdict {
    this.received[K_GAUGE]!++;
    if (!Number.isFinite(delta)) return this.refuseValue();
    return this.push(Op.GaugeAdd, MetricKind.Gauge, ref, delta, 0, tsMs);
  }

  observe(ref: number, value: number, count: number, tsMs: number): Verdict {
    this.received[K_HISTOGRAM]!++;
    if (!Number.isFinite(value) || !(count > 0 && count < Infinity)) return this.refuseValue();
    return this.push(Op.Observe, MetricKind.Histogram, ref, value, count, tsMs);
  }

  setMember(ref: number, memberHash: number, tsMs: number): Verdict {
    this.received[K_SET]!++;
    return this.push(Op.SetMember, MetricKind.Gauge, ref, memberHash, 0, tsMs);
  }

  histogram(ref: number, h: SparseHistogram, tsMs: number): Verdict {
    this.received[K_HISTOGRAM]!++;
    const v = this.admit(MetricKind.Histogram, ref, tsMs);
    if (v !== ACCEPTED) return v;
    this.appendHistogram(Op.Histogram, ref, h, 0, tsMs);
    return ACCEPTED;
  }

  histogramCumulative(ref: number, h: SparseHistogram, startMs: number, tsMs: number): Verdict {
    this.received[K_HISTOGRAM]!++;
    const v = this.admit(MetricKind.Histogram, ref, tsMs);
    if (v !== ACCEPTED) return v;
    this.appendHistogram(Op.HistogramCumulative, ref, h, startMs > 0 ? startMs : 0, tsMs);
    return ACCEPTED;
  }

  /** stale ends a series at tsMs (a Prometheus stale marker, OTLP's "no recorded value"). */
  stale(ref: number, tsMs: number): Verdict {
    const kind = ref >= 0 ? this.kinds[ref]! - 1 : -1;
    if (kind < 0) {
      this.kindMismatch.inc();
      return Refusal.KindMismatch;
    }
    return this.push(Op.Stale, kind as MetricKind, ref, 0, 0, tsMs);
  }

  /** histogramBorrowed serialises `h` into the batch at once, so the caller may reuse it. */
  histogramBorrowed(ref: number, h: SparseHistogram, cumulative: boolean, startMs: number, tsMs: number): Verdict {
    return cumulative ? this.histogramCumulative(ref, h, startMs, tsMs) : this.histogram(ref, h, tsMs);
  }

  private refuseValue(): Verdict {
    this.badValue.inc();
    return Refusal.BadValue;
  }

  /** admit checks that a sample's ref is of the method's kind and its timestamp in range. */
  private admit(kind: MetricKind, ref: number, ts: number): Verdict {
    if (this.closing) return Refusal.ShuttingDown;
    if (!(ref >= 0) || this.kinds[ref] !== kind + 1) {
      this.kindMismatch.inc();
      return Refusal.KindMismatch;
    }
    const now = this.o.now();
    if (ts > now + this.o.maxFutureMs) {
      this.tooNew.inc();
      return Refusal.TooNew;
    }
    if (!(ts >= now - this.o.maxAgeMs)) {
      this.tooOld.inc();
      return Refusal.TooOld;
    }
    return ACCEPTED;
  }

  /** push appends one record to its worker's batch after the checks, posting a full batch. */
  private push(op: Op, kind: MetricKind, ref: number, a: number, b: number, ts: number): Verdict {
    const v = this.admit(kind, ref, ts);
    if (v !== ACCEPTED) return v;
    const w = ref % this.n;
    const batch = this.batches[w]!;
    batch.push(op, (ref - w) / this.n, a, b, ts);
    if (batch.full()) this.post(w);
    return ACCEPTED;
  }

  /** appendHistogram serialises `h` into the batch's side buffer and appends its record. */
  private appendHistogram(op: Op, ref: number, h: SparseHistogram, b: number, ts: number): void {
    const w = ref % this.n;
    const batch = this.batches[w]!;
    const off = batch.pushHistogram(h, this.pool);
    batch.push(op, (ref - w) / this.n, off, b, ts);
    if (batch.full()) this.post(w);
  }

  /** post sends a worker its batch, transferring the buffers, and starts a fresh one. */
  private post(w: number): void {
    const b = this.batches[w]!;
    if (b.empty() || this.exited[w]) return;
    const buf = b.buf.buffer as ArrayBuffer;
    const side = b.side === null ? null : (b.side.buffer as ArrayBuffer);
    const msg: ToWorker = { t: 'batch', now: this.o.now(), defs: b.defs, buf, n: b.n, side };
    this.workers[w]!.postMessage(msg, side === null ? [buf] : [buf, side]);
    this.depthOf[w]!.set(++this.inFlight[w]!);
    b.reset(this.pool.takeRecords());
  }

  /**
   * flush hands the buffered records to the workers. Parsers call it after every packet or
   * request. A post costs a postMessage, a worker wake-up and the buffer's trip back, and on a
   * small VM each wake-up costs ~0.1-0.2 ms of CPU: one post per datagram was most of a settled
   * daemon's CPU at low rates (hot-shots buffered, 3-4 datagrams/s). So posts are spaced at
   * least `postDelayMs` apart. Its default is the flush interval: then flush() schedules nothing
   * and the flush timer's own postAll hands the records over, right before it closes windows,
   * so steady traffic costs one post per worker per window instead of one per packet. With a
   * shorter delay (or no flush timer), the first packet after a quiet spell is posted at the end
   * of the current event-loop turn (setImmediate); packets arriving sooner after a post wait
   * until that spacing is over and share one message per worker. In every case a full batch is
   * posted at once (push), and every flush of windows, /metrics page and close posts everything
   * pending first (postAll), so the delay never moves a sample into another window's flush, and
   * what a killed process loses is still what its open windows held. 0 posts at the end of every turn.
   */
  flush(): void {
    if (this.postScheduled || this.postOnTick) return;
    this.postScheduled = true;
    const wait = this.o.postDelayMs === 0 ? 0 : this.lastPostAt + this.o.postDelayMs - performance.now();
    if (wait <= 0) setImmediate(this.postAllNow);
    else {
      this.postTimer = setTimeout(this.postAllNow, wait);
      // Like the flush timer: a process that records and never closes is not kept alive by it.
      this.postTimer.unref();
    }
  }

  /** postAll posts every worker's pending batch now (before a command that must follow them). */
  private postAll(): void {
    this.postScheduled = false;
    this.lastPostAt = performance.now();
    for (let w = 0; w < this.n; w++) this.post(w);
    const r = this.received;
    for (let k = 0; k < r.length; k++) {
      if (r[k]! > 0) {
        this.receivedBy[k]!.inc(r[k]!);
        r[k] = 0;
      }
    }
  }

  accepting(): boolean {
    if (this.closing) return false;
    const max = this.o.maxInFlightBatches;
    for (let w = 0; w < this.n; w++) if (this.inFlight[w]! >= max) return false;
    return true;
  }

  /** inFlightBatches is the number of batches a worker has not consumed yet. */
  inFlightBatches(worker: number): number {
    return this.inFlight[worker]!;
  }

  private onMessage(w: number, m: FromWorker): void {
    if (m.t === 'returned') {
      this.depthOf[w]!.set(--this.inFlight[w]!);
      this.pool.giveRecords(m.buf);
      if (m.side !== null) this.pool.giveSide(m.side);
      return;
    }
    if (m.t === 'ready') return;
    const p = this.pending.get(m.id);
    if (p === undefined) return;
    this.pending.delete(m.id);
    p.resolve(m);
  }

  private failPending(w: number, err: Error): void {
    for (const [id, p] of this.pending) {
      if (p.worker !== w) continue;
      this.pending.delete(id);
      p.reject(err);
    }
  }

  private request(w: number, make: (id: number) => ToWorker): Promise<FromWorker> {
    if (this.exited[w]) return Promise.reject(new Error(`aggregation worker ${w} is not running`));
    const id = ++this.nextId;
    return new Promise<FromWorker>((resolve, reject) => {
      this.pending.set(id, { worker: w, resolve, reject });
      this.workers[w]!.postMessage(make(id));
    });
  }

  private onTimer(): void {
    if (this.closing) return;
    if (this.timerFlushing) {
      // The last flush of windows still runs: hand over what waits anyway (see flush).
      this.postAll();
      return;
    }
    this.timerFlushing = true;
    this.flushWindows(false)
      .catch((err: unknown) => this.o.logger.error('flush failed', { err }))
      .finally(() => {
        this.timerFlushing = false;
      });
  }

  /**
   * flushClosed closes and commits every window that has ended by now. The flush timer calls
   * it; tests with an injected clock call it directly.
   */
  flushClosed(): Promise<void> {
    return this.flushWindows(false);
  }

  /** flushNow closes and commits every open window, the current one too; resolves when durable. */
  flushNow(): Promise<void> {
    return this.flushWindows(true);
  }

  private async flushWindows(all: boolean): Promise<void> {
    await this.readyP;
    this.postAll();
    const t0 = performance.now();
    const now = this.o.now();
    const replies = await Promise.all(this.workers.map((_, w) => this.request(w, (id) => ({ t: 'flush', id, now, all }))));
    let active = 0;
    const errors: string[] = [];
    for (const r of replies) {
      if (r.t !== 'flushed') continue;
      active += (r.stats as FlushStats).activeSeries;
      if (r.error !== null) errors.push(r.error);
    }
    seriesActive.set(active);
    flushDuration.observe((performance.now() - t0) / 1000);
    if (errors.length > 0) throw new Error(`flush failed: ${errors.join('; ')}`);
  }

  /**
   * exposition renders a tenant's live series (updated within the series TTL) in the
   * Prometheus text format, including samples not yet flushed, for GET /metrics.
   */
  async exposition(tenant: string = DEFAULT_TENANT): Promise<string> {
    await this.readyP;
    this.postAll();
    const now = this.o.now();
    const replies = await Promise.all(this.workers.map((_, w) => this.request(w, (id) => ({ t: 'expose', id, now, tenant }))));
    const fams: ExposedFamily[][] = [];
    for (const r of replies) if (r.t === 'exposed') fams.push(r.families);
    return mergeFamilies(fams);
  }

  /** close flushes every open window, closes the workers' stores and stops the workers. */
  close(): Promise<void> {
    if (this.closedP !== null) return this.closedP;
    this.closedP = (async () => {
      if (this.timer !== null) clearInterval(this.timer);
      let failure: unknown = null;
      try {
        await this.flushNow();
      } catch (err) {
        failure = err;
      }
      this.closing = true;
      if (this.postTimer !== null) clearTimeout(this.postTimer);
      try {
        await Promise.all(this.workers.map((_, w) => this.request(w, (id) => ({ t: 'close', id }))));
      } catch (err) {
        failure ??= err;
      }
      await Promise.all(this.workers.map((w) => w.terminate()));
      if (failure !== null) throw failure;
    })();
    return this.closedP;
  }
}
