// Shared set-up for pipeline tests: a Pipeline over the file store in a temp dir, driven by a
// manual clock, and readers that fold the store's log into per-series, per-window values.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatLabels, labelsFromRecord, type Labels } from '../../src/model/labels.js';
import { Pipeline } from '../../src/pipeline/router.js';
import type { PipelineOptions } from '../../src/pipeline/options.js';
import { Logger } from '../../src/self/log.js';
import { histFromJSON, readLog, type LogOp } from './file-store.js';
import type { SparseHistogram } from '../../src/model/hdr.js';

export const RES = 10_000;
/** T0 is a window boundary close to the real present, so the default age limits accept it. */
export const T0 = Math.floor(Date.now() / RES) * RES - 60 * RES;

/** ManualClock is an injectable clock. */
export class ManualClock {
  constructor(public t: number) {}
  readonly now = (): number => this.t;
}

export const FILE_STORE = new URL('./file-store.js', import.meta.url).href;

/** tempDir makes a data directory removed by the test's teardown. */
export function tempDir(t: { teardown(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'tallyd-pipeline-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** startPipeline opens a Pipeline on the file store with the timer off; closed at teardown. */
export async function startPipeline(t: { teardown(fn: () => Promise<void> | void): void }, dir: string, clock: ManualClock, extra: Partial<PipelineOptions> = {}): Promise<Pipeline> {
  const p = new Pipeline({
    store: { dataDir: dir, rawResolutionMs: RES },
    storeModule: FILE_STORE,
    workers: 2,
    flushIntervalMs: 0,
    now: clock.now,
    logger: new Logger('error', {}, () => undefined),
    ...extra,
  });
  t.teardown(() => p.close().catch(() => undefined));
  await p.ready();
  return p;
}

export function L(name: string, rest: Record<string, string> = {}): Labels {
  return labelsFromRecord({ __name__: name, ...rest });
}

/** Windows folds the log: series (formatted labels) → window start → what was written. */
export interface Folded {
  counters: Map<string, Map<number, number>>;
  gauges: Map<string, Map<number, { last: number; min: number; max: number; sum: number; count: number }>>;
  histograms: Map<string, Map<number, SparseHistogram>>;
  commits: LogOp[][];
}

export function fold(dir: string): Folded {
  const commits = readLog(dir);
  const names = new Map<number, string>();
  const out: Folded = { counters: new Map(), gauges: new Map(), histograms: new Map(), commits };
  const at = <V>(m: Map<string, Map<number, V>>, k: string): Map<number, V> => {
    let x = m.get(k);
    if (!x) m.set(k, (x = new Map()));
    return x;
  };
  for (const c of commits) {
    for (const op of c) {
      if (op.op === 'series') names.set(op.id, JSON.stringify(op.tenant) + formatLabels(op.labels));
      else if (op.op === 'counter') {
        const m = at(out.counters, names.get(op.id)!);
        m.set(op.start, (m.get(op.start) ?? 0) + op.inc);
      } else if (op.op === 'gauge') {
        at(out.gauges, names.get(op.id)!).set(op.start, { last: op.last, min: op.min, max: op.max, sum: op.sum, count: op.count });
      } else {
        const m = at(out.histograms, names.get(op.id)!);
        const h = histFromJSON(op.h);
        const have = m.get(op.start);
        m.set(op.start, have ? have.add(h) : h);
      }
    }
  }
  return out;
}

/** key names a series the way fold() does. */
export function key(labels: Labels, tenant = 'default'): string {
  return JSON.stringify(tenant) + formatLabels(labels);
}
