import t from 'tap';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Aggregator } from '../../src/pipeline/aggregator.js';
import { labelsFromRecord } from '../../src/model/labels.js';
import { MetricKind } from '../../src/model/metric-kind.js';
import type { BatchMessage, SeriesDef } from '../../src/pipeline/protocol.js';
import type { Appender, Store } from '../../src/store/interface.js';

// The worker's aggregator alone, on a store that records what a flush writes.

const RES = 10_000;
const T0 = 1_700_000_000_000;

interface Written { id: number; start: number; sum: number; t: number }

function recordingStore(): { store: Store; writes: Written[][]; failNext: () => void } {
  const writes: Written[][] = [];
  let fail = false, next = 1;
  const store = {
    rawResolutionMs: RES,
    appender(): Appender {
      const tx: Written[] = [];
      return {
        seriesId: () => next++,
        counter: (id: number, start: number, sum: number, ts: number) => void tx.push({ id, start, sum, t: ts }),
        gauge: () => undefined,
        histogram: () => undefined,
        commit: () => {
          if (fail) {
            fail = false;
            return Promise.reject(new Error('injected'));
          }
          writes.push(tx);
          return Promise.resolve();
        },
        rollback: () => undefined,
      };
    },
    querier: () => ({ select: () => ({ floats: [], histograms: [] }), series: () => [], labelNames: () => [], labelValues: () => [], metadata: () => [] }),
    state: () => ({ get: () => undefined, put: async () => undefined, remove: async () => undefined, entries: () => [] }),
    stats: () => ({ series: 0, tiers: [], bytes: 0 }),
    compact: async () => undefined,
    close: async () => undefined,
  } as unknown as Store;
  return { store, writes, failNext: () => void (fail = true) };
}

function def(slot: number): SeriesDef {
  return structuredClone({ slot, tenant: 'default', labels: labelsFromRecord({ __name__: 'reqs_total', instance: `host-${slot}` }), kind: MetricKind.Counter, bounds: null, help: '', unit: '' });
}

/** batch is one message: definitions for `defs`, then counter increments [slot, value, ts]. */
function batch(now: number, defs: number[], recs: Array<[number, number, number]>): BatchMessage {
  const f = new Float64Array(recs.length * 5);
  recs.forEach(([slot, v, ts], i) => f.set([0 /* Op.Counter */, slot, v, 0, ts], i * 5));
  return { t: 'batch', now, defs: defs.map(def), buf: f.buffer, n: recs.length, side: null };
}

t.test('windows opened out of order flush in start order, series in the order they first opened one', async (t) => {
  const { store, writes } = recordingStore();
  const agg = new Aggregator(store, { seriesTtlMs: 3_600_000, restoreLookbackMs: 0 });
  agg.apply(batch(T0, [0, 1], [[1, 1, T0 + 2 * RES], [0, 2, T0 + 2 * RES + 1], [1, 3, T0], [1, 4, T0 + RES + 5], [0, 5, T0 + 7]]));
  await agg.flush(T0 + 2 * RES, false);
  // Series 1 opened first; its windows T0 and T0 + RES closed, T0 + 2 RES stays open.
  t.same(writes[0], [{ id: 1, start: T0, sum: 3, t: T0 }, { id: 1, start: T0 + RES, sum: 4, t: T0 + RES + 5 }, { id: 2, start: T0, sum: 5, t: T0 + 7 }]);
  t.same(agg.slots.map((s) => s!.windows.map((w) => [w.start, w.sum])), [[[T0 + 2 * RES, 2]], [[T0 + 2 * RES, 1]]]);
  await agg.flush(T0 + 3 * RES, false);
  t.same(writes[1], [{ id: 1, start: T0 + 2 * RES, sum: 1, t: T0 + 2 * RES }, { id: 2, start: T0 + 2 * RES, sum: 2, t: T0 + 2 * RES + 1 }]);
  t.same(agg.slots.map((s) => s!.total), [7, 8], 'totals keep counting across windows');
});

t.test('a window requeued by a failed commit merges into the one opened meanwhile', async (t) => {
  const { store, writes, failNext } = recordingStore();
  const agg = new Aggregator(store, { seriesTtlMs: 3_600_000, restoreLookbackMs: 0 });
  agg.apply(batch(T0, [0], [[0, 1, T0 + 3], [0, 10, T0 + RES]]));
  failNext();
  const flushing = agg.flush(T0 + RES, false);
  // A late point for the closing window arrives while the commit is in flight.
  agg.apply(batch(T0 + RES, [], [[0, 2, T0 + 1]]));
  await t.rejects(flushing, /injected/);
  t.same(agg.slots[0]!.windows.map((w) => [w.start, w.sum, w.t]), [[T0, 3, T0 + 3], [T0 + RES, 10, T0 + RES]]);
  await agg.flush(T0 + 2 * RES, false);
  t.same(writes, [[{ id: 2, start: T0, sum: 3, t: T0 + 3 }, { id: 2, start: T0 + RES, sum: 10, t: T0 + RES }]], "the failed attempt's store id is not kept");
});

t.test('closed windows give their room back: a steady series set does not grow the window table', async (t) => {
  const { store } = recordingStore();
  const agg = new Aggregator(store, { seriesTtlMs: 3_600_000, restoreLookbackMs: 0 });
  const n = 1000;
  agg.apply(batch(T0, Array.from({ length: n }, (_, i) => i), []));
  let rows = 0;
  for (let c = 0; c < 20; c++) {
    const ts = T0 + c * RES;
    agg.apply(batch(ts, [], Array.from({ length: n }, (_, i) => [i, 1, ts] as [number, number, number])));
    await agg.flush(ts + RES, false);
    if (c === 0) rows = agg.windows.start.length;
  }
  t.equal(agg.windows.start.length, rows, 'no more rows after 20 windows than after 1');
  t.ok(agg.windows.parts.every((p) => p === null), 'no closed window keeps its parts');
});

t.test('a counting series costs the worker under 330 bytes (heap and typed arrays) at 20k series, not the 600 of an object per series', async (t) => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  // Typed arrays' memory is released as their buffers are swept, which may lag a GC: settle first.
  const used = async (): Promise<number> => {
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 20));
    }
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const { store } = recordingStore();
  const agg = new Aggregator(store, { seriesTtlMs: 3_600_000, restoreLookbackMs: 0 });
  const feed = (from: number, to: number): void => {
    for (let a = from; a < to; a += 1000) {
      const slots = Array.from({ length: Math.min(to, a + 1000) - a }, (_, i) => a + i);
      agg.apply(batch(T0, slots, slots.map((s) => [s, 1, T0] as [number, number, number])));
    }
  };
  feed(0, 1000);
  const before = await used();
  feed(1000, 21_000);
  const perSeries = ((await used()) - before) / 20_000;
  t.ok(perSeries < 330, `${perSeries.toFixed(0)} bytes per series`);
  t.equal(agg.activeSeries(T0), 21_000);
});
