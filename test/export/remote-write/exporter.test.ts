import t from 'tap';
import { RemoteWriteExporter } from '../../../src/export/remote-write/shipper.js';
import type { SendOutcome, SendTarget } from '../../../src/export/remote-write/send.js';
import type { Querier, SelectResult, StateTable } from '../../../src/store/interface.js';
import { Logger } from '../../../src/self/log.js';
import { snappyUncompress } from '../../../src/wire/snappy.js';
import protobuf from 'protobufjs';
import { dirname, join } from 'node:path';
import { repoFile } from '../../query/remote-read/prompb-client.js';
import { CLOCK_T0, L, openTemp, pairs } from '../../store/helpers.js';
import { MetricKind } from '../../../src/model/metric-kind.js';
import { Matcher } from '../../../src/model/matcher.js';

/** MemTable is a StateTable in memory that survives "restarts" (a new exporter on the same object). */
class MemTable implements StateTable {
  readonly rows = new Map<string, unknown>();
  get<T>(k: string): T | undefined {
    return structuredClone(this.rows.get(k)) as T | undefined;
  }
  async put(k: string, v: unknown): Promise<void> {
    this.rows.set(k, structuredClone(v));
  }
  async remove(k: string): Promise<void> {
    this.rows.delete(k);
  }
  entries<T>(prefix = ''): Array<[string, T]> {
    return [...this.rows.keys()].filter((k) => k.startsWith(prefix)).sort().map((k) => [k, this.get<T>(k)!]);
  }
}

const RES = 10_000;

/** A store with one counter that grows by 1 per window, committed up to `committed`. */
function counterQuerier(state: { committed: number; first: number }): Querier {
  return {
    select(_tenant, _m, hints): SelectResult {
      const ts: number[] = [], vs: number[] = [];
      for (let w = state.first; w < state.committed; w += RES) {
        if (w >= hints.startMs && w <= hints.endMs) {
          ts.push(w);
          vs.push((w - state.first) / RES + 1);
        }
      }
      return { floats: ts.length ? [{ labels: [{ name: '__name__', value: 'calls_total' }], timestamps: Float64Array.from(ts), values: Float64Array.from(vs) }] : [], histograms: [] };
    },
    series: () => [], labelNames: () => [], labelValues: () => [], metadata: () => [],
  };
}

function decoder(): (b: Uint8Array) => Array<{ t: number; v: number }> {
  const root = new protobuf.Root();
  const dir = dirname(repoFile('proto/prometheus/remote.proto'));
  root.resolvePath = (_o, target) => join(dir, target.replace(/^.*\//, ''));
  root.loadSync('remote.proto');
  root.resolveAll();
  const T = root.lookupType('prometheus.WriteRequest');
  return (b) => {
    const m = T.toObject(T.decode(snappyUncompress(b, 1 << 24)), { longs: Number }) as { timeseries: Array<{ samples: Array<{ value: number; timestamp: number }> }> };
    return m.timeseries.flatMap((s) => s.samples.map((x) => ({ t: x.timestamp, v: x.value })));
  };
}

t.test('a receiver down for an hour, with a restart in between, gets every window once, in order', async (t) => {
  const table = new MemTable();
  const decode = decoder();
  let clock = 1_700_000_000_000;
  const store = { committed: clock, first: clock };
  let up = false;
  const got: Array<{ t: number; v: number }> = [];
  const send = async (_t: SendTarget, body: Uint8Array): Promise<SendOutcome> => {
    if (!up) return { kind: 'retry', reason: 'down' };
    got.push(...decode(body));
    return { kind: 'ok' };
  };
  const make = () => new RemoteWriteExporter({
    targets: [{ url: 'http://central/api/v1/write', headers: {}, queue: { maxBytes: 1 << 30, maxAgeMs: 2 * 3_600_000 } }],
    querier: () => counterQuerier(store), state: () => table, resolutionMs: RES,
    flushClosed: async () => { store.committed = Math.floor(clock / RES) * RES; },
    tenants: ['default'], defaultTenant: 'default', log: new Logger('error'),
    now: () => clock, intervalMs: 3_600_000, minBackoffMs: 1, maxBackoffMs: 5, maxSamplesPerSend: 50, send,
  });
  let ex = make();
  // Half an hour of windows while the receiver is down.
  for (let i = 0; i < 180; i++) {
    clock += RES;
    await ex.tick();
  }
  await ex.stop();
  t.ok(table.entries('q/').length > 0, 'the backlog is on disk');
  ex = make(); // restart
  for (let i = 0; i < 180; i++) {
    clock += RES;
    await ex.tick();
  }
  up = true;
  clock += RES;
  await ex.tick();
  for (let i = 0; i < 100 && ex.queueState()[0]!.entries > 0; i++) await new Promise((r) => setTimeout(r, 20));
  await ex.stop();
  t.equal(ex.queueState()[0]!.entries, 0, 'queue drained');
  t.ok(got.length >= 358, `received ${got.length} windows`);
  for (let i = 0; i < got.length; i++) t.equal(got[i]!.v, i + 1, `window ${i} arrives once, in order`);
});

t.test('max_bytes drops the oldest requests and max_age the expired ones', async (t) => {
  const table = new MemTable();
  let clock = 1_700_000_000_000;
  const store = { committed: clock, first: clock };
  const base = {
    querier: () => counterQuerier(store), state: () => table, resolutionMs: RES,
    flushClosed: async () => { store.committed = Math.floor(clock / RES) * RES; },
    tenants: ['default'], defaultTenant: 'default', log: new Logger('error'),
    now: () => clock, intervalMs: 3_600_000, minBackoffMs: 1, maxBackoffMs: 2, maxSamplesPerSend: 1,
    send: async (): Promise<SendOutcome> => ({ kind: 'retry', reason: 'down' }),
  };
  const ex = new RemoteWriteExporter({ ...base, targets: [{ url: 'http://a/', headers: {}, queue: { maxBytes: 100, maxAgeMs: 60_000 } }] });
  for (let i = 0; i < 30; i++) {
    clock += RES;
    await ex.tick();
    t.ok(ex.queueState()[0]!.bytes <= 100, 'queue stays within max_bytes');
  }
  const q = ex.queueState()[0]!;
  t.ok(q.samples > 0 && q.samples <= 6, `only the newest minute is kept (${q.samples} samples)`);
  await ex.stop();
});

t.test('what is shipped equals what the store serves afterwards, gap samples included', async (t) => {
  // A counter with a gap before a window whose only point sits exactly on the window's start: the
  // store puts that window's gap sample (the total before it) at the previous window's start,
  // one window before the window that carries it. The exporter must still ship it.
  const { store } = await openTemp(t);
  const decode = decoder();
  const table = new MemTable();
  const t0 = Math.floor(CLOCK_T0 / RES) * RES - 40 * RES;
  // Windows of the counter (start, increment, last point time); the gaps are windows 2-3 and 6.
  const windows: Array<[number, number, number]> = [[t0, 1, t0 + 1234], [t0 + RES, 2, t0 + RES + 99], [t0 + 4 * RES, 3, t0 + 4 * RES], [t0 + 5 * RES, 4, t0 + 5 * RES + 7], [t0 + 7 * RES, 5, t0 + 7 * RES]];
  let clock = t0;
  let written = 0;
  const id = (() => {
    const app = store.appender();
    const n = app.seriesId('default', L({ __name__: 'calls_total' }), MetricKind.Counter);
    app.rollback();
    return n;
  })();
  const got: Array<{ t: number; v: number }> = [];
  const ex = new RemoteWriteExporter({
    targets: [{ url: 'http://central/api/v1/write', headers: {}, queue: { maxBytes: 1 << 30, maxAgeMs: 3_600_000 } }],
    querier: () => store.querier(), state: () => table, resolutionMs: RES,
    // Commits, one flush each, the windows that have ended by now (as the pipeline does).
    flushClosed: async () => {
      const app = store.appender();
      const sid = app.seriesId('default', L({ __name__: 'calls_total' }), MetricKind.Counter);
      t.equal(sid, id);
      for (; written < windows.length && windows[written]![0] + RES <= clock; written++) {
        const [start, inc, last] = windows[written]!;
        app.counter(sid, start, inc, last);
      }
      await app.commit();
    },
    tenants: ['default'], defaultTenant: 'default', log: new Logger('error'),
    now: () => clock, intervalMs: 3_600_000, minBackoffMs: 1, maxBackoffMs: 5,
    send: async (_t, body) => {
      got.push(...decode(body));
      return { kind: 'ok' };
    },
  });
  for (let i = 0; i < 12; i++) {
    clock += RES;
    await ex.tick();
  }
  for (let i = 0; i < 100 && ex.queueState()[0]!.entries > 0; i++) await new Promise((r) => setTimeout(r, 20));
  await ex.stop();
  const all = store.querier().select('default', [new Matcher('=', '__name__', 'calls_total')], { startMs: t0 - RES, endMs: clock }).floats[0]!;
  const want = pairs(all).filter(([ts]) => ts <= got.at(-1)!.t).map(([ts, v]) => ({ t: ts, v }));
  t.same(want.map((s) => s.t - t0), [0, 1234, RES + 99, 3 * RES, 4 * RES, 5 * RES + 7, 6 * RES, 7 * RES], 'the store serves a gap sample a window before its window');
  t.same(got, want, 'the receiver holds exactly what the store serves');
});
