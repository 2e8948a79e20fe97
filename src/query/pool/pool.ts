import { Worker } from 'node:worker_threads';
import type { StoreOptions } from '../../store/interface.js';
import { QueryError } from '../promql/api.js';
import type { JobLimits } from './job.js';
import type { FromWorker, ToWorker, WorkerConfig } from './protocol.js';
import type { JobOptions, Lane, QueryRunner } from './runner.js';

/** QueryPoolOptions configure a pool of query worker threads. */
export interface QueryPoolOptions {
  /** Number of worker threads for any job (`query_workers`). */
  readonly size: number;
  /**
   * Extra workers only rule jobs use (default 0), so a rule evaluation never waits behind a
   * slow dashboard query. Rule jobs may also take idle shared workers.
   */
  readonly ruleWorkers?: number;
  /** Most jobs waiting per lane (`limits.query_queue`); one more answers 'unavailable' at once. */
  readonly queueLength: number;
  readonly store: StoreOptions;
  readonly limits: JobLimits;
  /** Module exporting `openStore`; default the LMDB store. */
  readonly storeModule?: string;
  /** Modules exporting `jobs` tables; default the query jobs. Later modules add kinds. */
  readonly jobModules?: readonly string[];
  /** How long past its deadline (or its cancellation) a job may run before its worker is replaced; default 2 s. */
  readonly graceMs?: number;
  /**
   * Nice value of the worker threads (Linux), default 10: under CPU contention the main thread
   * (ingest, health) runs first. 0 keeps the process's priority.
   */
  readonly nice?: number;
  /**
   * lazy: no worker is spawned until the first job arrives (then all of them are, and that job
   * waits for one to open its store). The embedded library uses it: a process that only records
   * pays no thread, heap or store handle for queries it never makes.
   */
  readonly lazy?: boolean;
  /** log reports worker crashes and replacements. */
  readonly log?: (msg: string, fields?: Record<string, unknown>) => void;
}

/** DEFAULT_JOB_MODULES is the query job table. */
export const DEFAULT_JOB_MODULES: readonly string[] = [new URL('./jobs.js', import.meta.url).href];
const DEFAULT_STORE_MODULE = new URL('../../store/open.js', import.meta.url).href;
const RESPAWN_DELAY_MS = 1_000;
const CLOSE_GRACE_MS = 5_000;
/** How long close() waits for a worker still starting (opening its store) before ending it anyway. */
const START_GRACE_MS = 5_000;

interface Pending {
  readonly id: number;
  readonly kind: string;
  readonly params: unknown;
  readonly deadlineMs: number;
  readonly lane: Lane;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: QueryError) => void;
  slot: Slot | null;
  timer: NodeJS.Timeout | null;
  detach: () => void;
  done: boolean;
}

interface Slot {
  readonly index: number;
  /** A reserved slot runs rule jobs only. */
  readonly reserved: boolean;
  readonly worker: Worker;
  readonly cancel: Int32Array;
  ready: boolean;
  dead: boolean;
  job: Pending | null;
  killTimer: NodeJS.Timeout | null;
}

/**
 * QueryPool runs query jobs on worker threads, each with its own store handle, so evaluation
 * never holds the main thread (which receives ingest and answers health checks). Jobs wait in
 * a bounded queue per lane; interactive jobs go first on shared workers, but a rule job is
 * started whenever no rule job runs there, and with two or more shared workers rules never hold
 * every one. Workers reserved for rules (`ruleWorkers`) take rule jobs only, first. A job past its
 * deadline (or cancelled) whose worker does not stop within the grace period gets that worker
 * terminated and replaced; a crashed worker is replaced too.
 */
export class QueryPool implements QueryRunner {
  private readonly o: QueryPoolOptions;
  private readonly slots: Array<Slot | null>;
  private readonly queues: Record<Lane, Pending[]> = { interactive: [], rules: [] };
  private readonly graceMs: number;
  private nextId = 1;
  private closed = false;
  private started: Promise<void> | null = null;
  /** start() has settled (every worker was ready, or one failed and is being replaced). */
  private startedDone = false;
  private readonly maxRuleWorkers: number;
  /** Slots [0, shared) take any job; the rest are reserved for rules. */
  private readonly shared: number;

  constructor(opts: QueryPoolOptions) {
    if (!(Number.isInteger(opts.size) && opts.size > 0)) throw new Error(`query pool size must be a positive integer, got ${opts.size}`);
    if (!(Number.isInteger(opts.queueLength) && opts.queueLength > 0)) throw new Error(`query queue length must be a positive integer, got ${opts.queueLength}`);
    this.o = opts;
    this.graceMs = opts.graceMs ?? 2_000;
    this.shared = opts.size;
    this.slots = new Array<Slot | null>(opts.size + (opts.ruleWorkers ?? 0)).fill(null);
    this.maxRuleWorkers = opts.size > 1 ? opts.size - 1 : 1;
  }

  /** start spawns every worker (once) and resolves once each has opened its store. */
  start(): Promise<void> {
    if (this.started === null) {
      this.started = Promise.all(this.slots.map((_, i) => this.spawn(i))).then(() => undefined);
      // Settled either way: a worker that failed to open is replaced by spawn's own handlers.
      this.started.then(
        () => (this.startedDone = true),
        (err: unknown) => {
          this.startedDone = true;
          // An eager pool's caller logs this itself (startDaemon).
          if (this.o.lazy === true) this.o.log?.('query worker failed to start; it is retried', { err: String(err) });
        },
      );
    }
    return this.started;
  }

  /** healthy says whether every worker is up. */
  healthy(): boolean {
    return this.slots.every((s) => s !== null && s.ready);
  }

  /** stats are the pool's gauges: workers up, busy, and jobs waiting per lane. */
  stats(): { workers: number; busy: number; queued: Record<Lane, number> } {
    const up = this.slots.filter((s) => s !== null && s.ready);
    return { workers: up.length, busy: up.filter((s) => s!.job !== null).length, queued: { interactive: this.queues.interactive.length, rules: this.queues.rules.length } };
  }

  run: QueryRunner['run'] = (kind, params, opts) => this.runKind(kind, params, opts) as never;

  runKind(kind: string, params: unknown, opts: JobOptions): Promise<unknown> {
    const lane = opts.lane ?? 'interactive';
    if (this.closed) return Promise.reject(new QueryError('unavailable', 'tallyd is shutting down'));
    if (opts.signal?.aborted) return Promise.reject(canceled());
    if (Date.now() >= opts.deadlineMs) return Promise.reject(timedOut());
    // A lazy pool starts on its first job. The jobs that arrive while it starts wait for it, and
    // that wait is not counted against their deadline: it is tallyd's start-up, not the query's
    // cost (three workers compiling and opening the store take seconds on a busy machine).
    if (this.o.lazy === true && !this.startedDone) {
      const t0 = Date.now();
      return this.start().catch(() => undefined).then(() => this.runKind(kind, params, { ...opts, deadlineMs: opts.deadlineMs + (Date.now() - t0) }));
    }
    const queue = this.queues[lane];
    if (queue.length >= this.o.queueLength) {
      return Promise.reject(new QueryError('unavailable', `too many queries waiting (limits.query_queue is ${this.o.queueLength}); try again later`));
    }
    return new Promise<unknown>((resolve, reject) => {
      const p: Pending = {
        id: this.nextId++, kind, params, deadlineMs: opts.deadlineMs, lane, resolve, reject,
        slot: null, timer: null, detach: () => undefined, done: false,
      };
      // Waiting past the deadline answers timeout without ever taking a worker.
      p.timer = setTimeout(() => {
        if (p.slot === null) this.dequeue(p);
        this.finish(p, timedOut());
      }, opts.deadlineMs - Date.now());
      const signal = opts.signal;
      if (signal) {
        const onAbort = () => this.abort(p);
        signal.addEventListener('abort', onAbort, { once: true });
        p.detach = () => signal.removeEventListener('abort', onAbort);
      }
      queue.push(p);
      this.dispatch();
    });
  }

  /** close refuses new jobs, fails waiting ones, lets workers release their store handles, then ends them. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const lane of ['interactive', 'rules'] as const) {
      for (const p of this.queues[lane].splice(0)) this.finish(p, new QueryError('unavailable', 'tallyd is shutting down'));
    }
    await Promise.all(this.slots.map(async (s) => {
      if (s === null) return;
      s.dead = true;
      if (s.job) this.finish(s.job, new QueryError('unavailable', 'tallyd is shutting down'));
      if (s.killTimer) clearTimeout(s.killTimer);
      // A worker still starting may be inside LMDB's open: terminating it there aborts the whole
      // process (a native throw during termination). Let it finish starting, then close it.
      if (!s.ready) {
        await new Promise<void>((resolve) => {
          s.worker.on('message', (m: FromWorker) => { if (m.t === 'ready') resolve(); });
          s.worker.once('exit', () => resolve());
          setTimeout(resolve, START_GRACE_MS).unref();
        });
      }
      if (s.ready && s.job === null) {
        const closed = new Promise<void>((resolve) => {
          s.worker.on('message', (m: FromWorker) => { if (m.t === 'closed') resolve(); });
          s.worker.once('exit', () => resolve());
          setTimeout(resolve, CLOSE_GRACE_MS).unref();
        });
        s.worker.postMessage({ t: 'close' } satisfies ToWorker);
        await closed;
      }
      await s.worker.terminate();
    }));
  }

  private spawn(index: number): Promise<void> {
    const cancel = new SharedArrayBuffer(4);
    const cfg: WorkerConfig = {
      index,
      storeModule: this.o.storeModule ?? DEFAULT_STORE_MODULE,
      store: this.o.store,
      jobModules: this.o.jobModules ?? DEFAULT_JOB_MODULES,
      cancel,
      // The rules worker keeps the process's priority: its jobs are small and due on time.
      nice: index >= this.shared ? 0 : (this.o.nice ?? 10),
    };
    const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: cfg, name: `query-${index}` });
    const slot: Slot = { index, reserved: index >= this.shared, worker, cancel: new Int32Array(cancel), ready: false, dead: false, job: null, killTimer: null };
    this.slots[index] = slot;
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (m: FromWorker) => {
        if (m.t === 'ready') {
          if (m.error !== null) {
            reject(new Error(m.error));
            this.replace(slot, `opening the store failed: ${m.error}`, RESPAWN_DELAY_MS);
            return;
          }
          slot.ready = true;
          resolve();
          this.dispatch();
        } else if (m.t === 'done') {
          this.onDone(slot, m);
        }
      });
      worker.on('error', (err) => this.replace(slot, `query worker failed: ${err.message}`, 0));
      worker.on('exit', (code) => {
        reject(new Error(`query worker ${index} exited with code ${code} before it was ready`));
        this.replace(slot, `query worker exited with code ${code}`, 0);
      });
    });
  }

  /** replace fails the slot's job, ends its worker (if still running) and spawns another. */
  private replace(slot: Slot, reason: string, delayMs: number, err?: QueryError): void {
    if (slot.dead) return;
    slot.dead = true;
    slot.ready = false;
    if (slot.killTimer) clearTimeout(slot.killTimer);
    if (slot.job) this.finish(slot.job, err ?? new QueryError('internal', reason));
    slot.job = null;
    void slot.worker.terminate();
    if (this.closed) return;
    this.o.log?.('replacing query worker', { worker: slot.index, reason });
    const again = () => {
      if (this.closed) return;
      this.spawn(slot.index).catch(() => undefined);
    };
    if (delayMs > 0) setTimeout(again, delayMs).unref();
    else again();
  }

  private onDone(slot: Slot, m: Extract<FromWorker, { t: 'done' }>): void {
    const p = slot.job;
    if (p === null || p.id !== m.id) return;
    if (slot.killTimer) clearTimeout(slot.killTimer);
    slot.killTimer = null;
    slot.job = null;
    if (m.ok) this.finish(p, null, m.value);
    else this.finish(p, new QueryError(m.error.type, m.error.message));
    this.dispatch();
  }

  private abort(p: Pending): void {
    if (p.done) return;
    if (p.slot === null) {
      this.dequeue(p);
      this.finish(p, canceled());
      return;
    }
    const slot = p.slot;
    Atomics.store(slot.cancel, 0, p.id);
    // A worker deaf to the flag (one long regex test) is replaced after the grace period.
    this.armKill(slot, p, Date.now() + this.graceMs, canceled());
  }

  private armKill(slot: Slot, p: Pending, atMs: number, err: QueryError): void {
    if (slot.killTimer) clearTimeout(slot.killTimer);
    slot.killTimer = setTimeout(() => {
      if (slot.job === p) this.replace(slot, `job ${p.kind} did not stop ${this.graceMs} ms after its ${err.type === 'canceled' ? 'cancellation' : 'deadline'}`, 0, err);
    }, Math.max(0, atMs - Date.now()));
  }

  private dequeue(p: Pending): void {
    const q = this.queues[p.lane];
    const i = q.indexOf(p);
    if (i >= 0) q.splice(i, 1);
  }

  private finish(p: Pending, err: QueryError | null, value?: unknown): void {
    if (p.done) return;
    p.done = true;
    if (p.timer) clearTimeout(p.timer);
    p.detach();
    if (err) p.reject(err);
    else p.resolve(value);
  }

  /** next picks the job an idle worker takes: see the class comment for the lane rule. */
  private next(slot: Slot): Pending | undefined {
    const rules = this.queues.rules, interactive = this.queues.interactive;
    if (slot.reserved) return rules.shift();
    let runningRules = 0;
    for (const s of this.slots) if (s?.job?.lane === 'rules' && !s.reserved) runningRules++;
    if (rules.length > 0 && runningRules === 0) return rules.shift();
    if (interactive.length > 0) return interactive.shift();
    if (rules.length > 0 && runningRules < this.maxRuleWorkers) return rules.shift();
    return undefined;
  }

  private dispatch(): void {
    // Reserved slots first, so a rule job takes its own worker before a shared one.
    for (const slot of [...this.slots.slice(this.shared), ...this.slots.slice(0, this.shared)]) {
      if (slot === null || !slot.ready || slot.dead || slot.job !== null) continue;
      const p = this.next(slot);
      if (p === undefined) continue;
      if (p.timer) clearTimeout(p.timer);
      p.timer = null;
      slot.job = p;
      p.slot = slot;
      Atomics.store(slot.cancel, 0, 0);
      this.armKill(slot, p, p.deadlineMs + this.graceMs, timedOut());
      const msg: ToWorker = { t: 'job', id: p.id, kind: p.kind, params: p.params, deadlineMs: p.deadlineMs, limits: this.o.limits };
      slot.worker.postMessage(msg);
    }
  }
}

function timedOut(): QueryError {
  return new QueryError('timeout', 'query timed out in expression evaluation');
}

function canceled(): QueryError {
  return new QueryError('canceled', 'query was canceled: the client went away');
}
