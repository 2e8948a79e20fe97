// A Store for pipeline tests: implements the Appender/Querier/StateTable contract of
// src/store/interface.ts over two append-only JSON-lines files in the data directory, so that
// worker threads can write, the test (main thread) can read what was committed, and a restarted
// pipeline sees the same data. Not a real store: no tiers, no retention, no compaction.
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { SparseHistogram } from '../../src/model/hdr.js';
import { labelsKey, type Labels } from '../../src/model/labels.js';
import type { Matcher } from '../../src/model/matcher.js';
import type { MetricKind } from '../../src/model/metric-kind.js';
import type { Appender, HistogramSeries, FloatSeries, Querier, SelectResult, SeriesMeta, StateTable, Store, StoreOptions } from '../../src/store/interface.js';

/** HistJSON is a histogram as logged. */
export interface HistJSON { i: number[]; c: number[]; n: number; sum: number; min: number | null; max: number | null }

/** LogOp is one committed operation. */
export type LogOp =
  | { op: 'series'; id: number; tenant: string; labels: Labels; kind: MetricKind; meta?: SeriesMeta }
  | { op: 'counter'; id: number; start: number; inc: number }
  | { op: 'gauge'; id: number; start: number; last: number; min: number; max: number; sum: number; count: number }
  | { op: 'hist'; id: number; start: number; h: HistJSON };

/** PointOp is a logged window of one series. */
export type PointOp = Exclude<LogOp, { op: 'series' }>;

/** readLog returns every committed operation, commit by commit. */
export function readLog(dir: string): LogOp[][] {
  const f = join(dir, 'log.jsonl');
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as LogOp[]);
}

/** histFromJSON rebuilds a logged histogram. */
export function histFromJSON(j: HistJSON): SparseHistogram {
  return SparseHistogram.fromBuckets(j.i, j.c, j.n, j.sum, j.min ?? Infinity, j.max ?? -Infinity);
}

function histToJSON(h: SparseHistogram): HistJSON {
  return { i: Array.from(h.indices.subarray(0, h.size)), c: Array.from(h.counts.subarray(0, h.size)), n: h.count, sum: h.sum, min: Number.isFinite(h.min) ? h.min : null, max: Number.isFinite(h.max) ? h.max : null };
}

/** failNextCommit makes the next commit of any store on `dir` fail once. */
export function failNextCommit(dir: string): void {
  appendFileSync(join(dir, 'fail-next-commit'), 'x');
}

class FileStore implements Store {
  readonly rawResolutionMs: number;
  readonly series = new Map<string, { id: number; tenant: string; labels: Labels; kind: MetricKind }>();
  readonly byId = new Map<number, { id: number; tenant: string; labels: Labels; kind: MetricKind }>();
  readonly points: PointOp[] = [];
  readonly stateData = new Map<string, unknown>();
  private nextId: number;

  constructor(readonly dir: string, res: number) {
    this.rawResolutionMs = res;
    this.nextId = threadId * 1_000_000 + Math.floor(Math.random() * 1000) * 1000;
    for (const commit of readLog(dir)) for (const op of commit) this.apply(op);
    const sf = join(dir, 'state.jsonl');
    if (existsSync(sf)) {
      for (const l of readFileSync(sf, 'utf8').split('\n')) {
        if (l === '') continue;
        const e = JSON.parse(l) as { k: string; v?: unknown };
        if ('v' in e) this.stateData.set(e.k, e.v);
        else this.stateData.delete(e.k);
      }
    }
  }

  apply(op: LogOp): void {
    if (op.op === 'series') {
      const s = { id: op.id, tenant: op.tenant, labels: op.labels, kind: op.kind };
      this.series.set(op.tenant + '\u0000' + op.kind + '\u0000' + labelsKey(op.labels), s);
      this.byId.set(op.id, s);
    } else this.points.push(op);
  }

  appender(): Appender {
    const ops: LogOp[] = [];
    const created = new Map<string, number>();
    return {
      seriesId: (tenant, labels, kind, meta) => {
        const key = tenant + '\u0000' + kind + '\u0000' + labelsKey(labels);
        const have = this.series.get(key)?.id ?? created.get(key);
        if (have !== undefined) return have;
        const id = this.nextId++;
        created.set(key, id);
        ops.push({ op: 'series', id, tenant, labels: labels.map((l) => ({ name: l.name, value: l.value })), kind, ...(meta ? { meta } : {}) });
        return id;
      },
      counter: (id, start, inc) => { ops.push({ op: 'counter', id, start, inc }); },
      gauge: (id, start, last, min, max, sum, count) => { ops.push({ op: 'gauge', id, start, last, min, max, sum, count }); },
      histogram: (id, start, h) => { ops.push({ op: 'hist', id, start, h: histToJSON(h) }); },
      commit: async () => {
        await new Promise((r) => setTimeout(r, 1));
        const flag = join(this.dir, 'fail-next-commit');
        if (existsSync(flag)) {
          rmSync(flag, { force: true });
          throw new Error('injected commit failure');
        }
        if (ops.length === 0) return;
        appendFileSync(join(this.dir, 'log.jsonl'), JSON.stringify(ops) + '\n');
        for (const op of ops) this.apply(op);
      },
      rollback: () => { ops.length = 0; },
    };
  }

  querier(): Querier {
    const select = (tenant: string, matchers: readonly Matcher[]): SelectResult => {
      const floats: FloatSeries[] = [];
      const histograms: HistogramSeries[] = [];
      for (const s of this.byId.values()) {
        if (s.tenant !== tenant) continue;
        if (!matchers.every((m) => m.matches(s.labels.find((l) => l.name === m.name)?.value ?? ''))) continue;
        const pts = this.points.filter((p) => p.id === s.id).sort((a, b) => a.start - b.start);
        if (s.kind === 2) {
          const hs = pts.map((p) => histFromJSON((p as { h: HistJSON }).h));
          histograms.push({ labels: s.labels, timestamps: Float64Array.from(pts.map((p) => p.start + this.rawResolutionMs)), deltas: hs, base: () => new SparseHistogram() });
        } else {
          let cum = 0;
          const values = pts.map((p) => (p.op === 'counter' ? (cum += p.inc) : (p as { last: number }).last));
          floats.push({ labels: s.labels, timestamps: Float64Array.from(pts.map((p) => p.start + this.rawResolutionMs)), values: Float64Array.from(values) });
        }
      }
      return { floats, histograms };
    };
    return {
      select,
      series: () => [],
      labelNames: () => [],
      labelValues: () => [],
      metadata: () => [],
    };
  }

  state(table: string): StateTable {
    const file = join(this.dir, 'state.jsonl');
    const data = this.stateData;
    const k = (key: string): string => table + '/' + key;
    return {
      get: <T>(key: string) => data.get(k(key)) as T | undefined,
      put: async (key: string, value: unknown) => {
        data.set(k(key), value);
        appendFileSync(file, JSON.stringify({ k: k(key), v: value }) + '\n');
      },
      remove: async (key: string) => {
        data.delete(k(key));
        appendFileSync(file, JSON.stringify({ k: k(key) }) + '\n');
      },
      entries: <T>(prefix = '') => [...data.entries()].filter(([key]) => key.startsWith(table + '/' + prefix)).map(([key, v]) => [key.slice(table.length + 1), v as T] as [string, T]).sort(),
    };
  }

  stats(): { series: number; tiers: []; bytes: number } {
    return { series: this.byId.size, tiers: [], bytes: 0 };
  }

  /** compact has nothing to roll up: the file store keeps raw windows only. */
  async compact(): Promise<void> {}

  async close(): Promise<void> {}
}

/** openStore opens (creating) a file store in opts.dataDir. */
export async function openStore(opts: StoreOptions): Promise<Store> {
  mkdirSync(opts.dataDir, { recursive: true });
  return new FileStore(opts.dataDir, opts.rawResolutionMs);
}
