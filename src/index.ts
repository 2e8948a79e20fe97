/**
 * tallyd as a library: `import { open } from 'tallyd'` runs the whole daemon (aggregation
 * workers, LMDB store, rules, remote write) inside the calling process. Listeners are off unless
 * asked for, so an agent runtime can record and query its own metrics with no network hop, and
 * still expose the usual ports when it wants to.
 */
import { ConfigError, loadConfig, parseArgs } from './config/load.js';
import { startDaemon, type Daemon } from './main.js';
import { type Labels } from './model/labels.js';
import { DEFAULT_TENANT, MetricKind } from './model/metric-kind.js';
import { Recorder } from './ingest/embedded/recorder.js';
import { classicBounds } from './pipeline/series-slot.js';
import { Logger } from './self/log.js';
import { parseDuration } from './config/duration.js';
import type { LogLevel } from './config/schema.js';
import type { QueryResult } from './query/promql/api.js';

export { ConfigError };
export { VERSION } from './version.js';

/** Listeners an embedded instance may open, as `host:port` (all off by default). */
export interface ListenOptions {
  /** HTTP API, dashboard, /metrics, remote read/write (e.g. '127.0.0.1:9477'). */
  readonly http?: string;
  readonly grpc?: string;
  readonly otlpGrpc?: string;
  readonly otlpHttp?: string;
  readonly statsd?: string;
}

/** OpenOptions configure an embedded tallyd; anything not given takes the daemon's default. */
export interface OpenOptions {
  /** Data directory (LMDB store, alert state, queues); default './data'. */
  readonly dataDir?: string;
  /** Listeners to open; none by default. */
  readonly listen?: ListenOptions;
  /** Aggregation window of the raw tier, a Prometheus duration; default '10s'. */
  readonly flushInterval?: string;
  /** A tallyd YAML file (rules, tiers, remote_write, limits...); the options above win over it. */
  readonly configFile?: string;
  /** Prometheus rule files to evaluate. */
  readonly rules?: readonly string[];
  /** Log level of tallyd's JSON log lines; default 'warn'. */
  readonly logLevel?: LogLevel;
  /** Where log lines go; default process.stderr (the host's stdout stays its own). */
  readonly log?: (line: string) => void;
}

/** MetricType is what `record` does with a value. */
export type MetricType = 'counter' | 'gauge' | 'histogram';

/** InstantSample is one element of an instant vector. */
export interface InstantSample {
  readonly labels: Record<string, string>;
  /** Unix ms. */
  readonly t: number;
  /** The float value (NaN for a native-histogram sample; see `histogram`). */
  readonly value: number;
  /** Count and sum of a native-histogram sample (the bare name of a histogram). */
  readonly histogram?: { readonly count: number; readonly sum: number };
}

/** RangeSeries is one series of a range query or range-vector result. */
export interface RangeSeries {
  readonly labels: Record<string, string>;
  readonly points: Array<{ readonly t: number; readonly value: number }>;
}

/** QueryValue is an evaluated PromQL expression, shaped like Prometheus' result types. */
export type QueryValue =
  | { readonly type: 'vector'; readonly samples: InstantSample[] }
  | { readonly type: 'matrix'; readonly series: RangeSeries[] }
  | { readonly type: 'scalar'; readonly t: number; readonly value: number }
  | { readonly type: 'string'; readonly t: number; readonly value: string };

/** BoundCounter is one counter series, resolved once: `add` is record() without the lookup. */
export interface BoundCounter {
  /** add increments the counter (default 1); false when refused (negative, NaN, or a limit). */
  add(value?: number): boolean;
}

/** BoundHistogram is one histogram series, resolved once. */
export interface BoundHistogram {
  /** observe records one observation; false when refused (not finite, or a limit). */
  observe(value: number): boolean;
}

/** BoundGauge is one gauge series, resolved once. */
export interface BoundGauge {
  /** set sets the gauge; false when refused (a limit). */
  set(value: number): boolean;
}

/** Tallyd is an open embedded instance. */
export interface Tallyd {
  /**
   * record adds one measurement now: a counter increment (default), a gauge's new value, or a
   * histogram observation. Returns false when it was refused (a cardinality or label limit).
   */
  record(name: string, value: number, labels?: Readonly<Record<string, string>>, kind?: MetricType): boolean;
  /**
   * counter, histogram and gauge bind one series (name and labels fixed) for a hot call site:
   * the handle skips record()'s lookup. Equivalent to record() with the same name, labels and kind.
   */
  counter(name: string, labels?: Readonly<Record<string, string>>): BoundCounter;
  histogram(name: string, labels?: Readonly<Record<string, string>>): BoundHistogram;
  gauge(name: string, labels?: Readonly<Record<string, string>>): BoundGauge;
  /** query evaluates PromQL at `time` (Date or unix ms; default now). */
  query(expr: string, time?: Date | number): Promise<QueryValue>;
  /** queryRange evaluates PromQL from start to end every `step` (ms, or a duration like '15s'). */
  queryRange(expr: string, start: Date | number, end: Date | number, step: number | string): Promise<RangeSeries[]>;
  /** flush closes the open aggregation window so what was recorded is queryable now. */
  flush(): Promise<void>;
  /** close flushes every open window, commits and stops the instance. */
  close(): Promise<void>;
  /** daemon is the running daemon, for advanced use (the OpenTelemetry exporter uses it). */
  readonly daemon: Daemon;
}

/**
 * DRAIN_INTERVAL_MS is how long recorded points may wait, summed on the calling thread, before
 * they reach the pipeline (flush() and close() hand them over at once; queries read flushed
 * windows, so this delays only /metrics).
 */
const DRAIN_INTERVAL_MS = 1_000;

function ms(t: Date | number): number {
  return t instanceof Date ? t.getTime() : t;
}

function record(labels: Labels): Record<string, string> {
  const o: Record<string, string> = {};
  for (const l of labels) o[l.name] = l.value;
  return o;
}

function toValue(r: QueryResult): QueryValue {
  switch (r.type) {
    case 'vector':
      return {
        type: 'vector',
        samples: r.samples.map((s) => (s.h
          ? { labels: record(s.labels), t: s.t, value: NaN, histogram: { count: s.h.count, sum: s.h.sum } }
          : { labels: record(s.labels), t: s.t, value: s.v })),
      };
    case 'matrix':
      return { type: 'matrix', series: r.series.map((s) => ({ labels: record(s.labels), points: s.timestamps.map((t, i) => ({ t, value: s.values[i]! })) })) };
    case 'scalar':
      return { type: 'scalar', t: r.t, value: r.v };
    case 'string':
      return { type: 'string', t: r.t, value: r.v };
  }
}

/**
 * open starts an embedded tallyd. Options are validated like the command line (a bad value
 * throws ConfigError naming it); environment variables are not read, so the host's TALLYD_*
 * settings cannot change an embedded instance behind its back.
 */
export async function open(opts: OpenOptions = {}): Promise<Tallyd> {
  const argv: string[] = ['--data-dir', opts.dataDir ?? './data'];
  const l = opts.listen ?? {};
  const listeners: Array<[string, string | undefined]> = [['http', l.http], ['grpc', l.grpc], ['otlp-grpc', l.otlpGrpc], ['otlp-http', l.otlpHttp], ['statsd', l.statsd]];
  for (const [flag, addr] of listeners) argv.push(`--${flag}`, addr ?? '127.0.0.1:0');
  if (opts.flushInterval) argv.push('--flush-interval', opts.flushInterval);
  if (opts.configFile) argv.push('--config', opts.configFile);
  for (const r of opts.rules ?? []) argv.push('--rules', r);
  argv.push('--log-level', opts.logLevel ?? 'warn');
  const cfg = loadConfig(parseArgs(argv), {});
  const log = new Logger(cfg.logLevel, { service: 'tallyd', embedded: true }, opts.log ?? ((line) => process.stderr.write(line)));
  // Query workers start on the first query (or rule evaluation): an agent that only records pays
  // no thread, heap or store handle for them, and open() returns without their startup CPU
  // running behind it. The first query waits for them (typically a few hundred ms).
  const daemon = await startDaemon(cfg, log, { lazyQueryWorkers: true });
  // Records go through the cost sink, as every ingest path does, so recorded tokens are priced.
  const pipeline = daemon.pipeline;
  const bounds = new Map<string, Float64Array>();
  const recorder = new Recorder(daemon.costs, {
    tenant: DEFAULT_TENANT,
    resolutionMs: cfg.flushIntervalMs,
    drainIntervalMs: DRAIN_INTERVAL_MS,
    boundsOf: (name) => {
      let b = bounds.get(name);
      if (b === undefined) bounds.set(name, (b = classicBounds(cfg.histogramBuckets[name] ?? null)));
      return b;
    },
  });
  let closed = false;
  const live = (f: (v: number) => boolean, value: number): boolean => {
    if (closed) throw new Error('tallyd: record after close');
    return f(value);
  };

  const step = (s: number | string): number => {
    if (typeof s === 'number') return s;
    const v = parseDuration(s);
    if (v === null || v <= 0) throw new ConfigError(`queryRange step ${JSON.stringify(s)}: expected a positive Prometheus duration such as 15s`);
    return v;
  };

  return {
    daemon,
    record(name, value, labels = {}, kind = 'counter') {
      if (closed) throw new Error('tallyd: record after close');
      // Compares, not KINDS[kind]: a keyed load by a varying string is a megamorphic lookup in a
      // shared cache, a miss in place between the application's own work.
      const k = kind === 'counter' ? MetricKind.Counter : kind === 'histogram' ? MetricKind.Histogram : kind === 'gauge' ? MetricKind.Gauge : undefined;
      if (k === undefined) throw new TypeError(`tallyd: unknown metric type ${JSON.stringify(kind)}; expected counter, gauge or histogram`);
      return recorder.record(name, value, labels, k);
    },
    counter(name, labels = {}) {
      const f = recorder.bind(name, labels, MetricKind.Counter);
      return { add: (value = 1) => live(f, value) };
    },
    histogram(name, labels = {}) {
      const f = recorder.bind(name, labels, MetricKind.Histogram);
      return { observe: (value) => live(f, value) };
    },
    gauge(name, labels = {}) {
      const f = recorder.bind(name, labels, MetricKind.Gauge);
      return { set: (value) => live(f, value) };
    },
    async query(expr, time = Date.now()) {
      return toValue(await daemon.query.instant(expr, ms(time)));
    },
    async queryRange(expr, start, end, s) {
      const r = await daemon.query.range(expr, ms(start), ms(end), step(s));
      const v = toValue(r);
      return v.type === 'matrix' ? v.series : [];
    },
    flush() {
      recorder.drain();
      return pipeline.flushNow();
    },
    async close() {
      if (closed) return;
      closed = true;
      recorder.drain();
      await daemon.stop();
    },
  };
}
