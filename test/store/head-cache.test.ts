import t from 'tap';
import { SparseHistogram } from '../../src/model/hdr.js';
import { Matcher } from '../../src/model/matcher.js';
import { MetricKind } from '../../src/model/metric-kind.js';
import type { FloatSeries, Store, TierConfig } from '../../src/store/interface.js';
import { blockSize, decodeChunk } from '../../src/store/chunk-encoding.js';
import { HeadChunk, type SealedChunk } from '../../src/store/head-chunk.js';
import { openStore } from '../../src/store/open.js';
import { PointBuf } from '../../src/store/point-buf.js';
import { Tier } from '../../src/store/tier.js';
import { L, rng, tempDir } from './helpers.js';

const S = 10_000;
const MIN = 60_000;
const MIN10 = 600_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const N = Date.UTC(2024, 0, 10);
// Small tiers so a day of backfill fills many blocks: raw keeps an hour, rollups keep years.
const TIERS: TierConfig[] = [
  { name: 'raw', resolutionMs: S, retentionMs: HOUR },
  { name: '1m', resolutionMs: MIN, retentionMs: 3650 * DAY },
  { name: '10m', resolutionMs: MIN10, retentionMs: 3650 * DAY },
];

interface Expected {
  inc: Map<number, number>;
  last: Map<number, number>;
  hcount: Map<number, number>;
  hsum: Map<number, number>;
  /** Each window's last point time: where its sample is stamped. */
  t: Map<number, number>;
}

const newExpected = (): Expected => ({ inc: new Map(), last: new Map(), hcount: new Map(), hsum: new Map(), t: new Map() });

/** stamped re-keys per-window values (keyed by window start) by the window's last point time. */
function stamped(e: Expected, m: Map<number, number>): Map<number, number> {
  return new Map([...m].map(([k, v]) => [e.t.get(k)!, v]));
}
const bump = (m: Map<number, number>, k: number, v: number): void => {
  m.set(k, (m.get(k) ?? 0) + v);
};

/** cumulativeAt is the running total after each window start in `m` (ascending). */
function cumulative(m: Map<number, number>): Map<number, number> {
  const out = new Map<number, number>();
  let total = 0;
  for (const k of [...m.keys()].sort((a, b) => a - b)) {
    total += m.get(k)!;
    out.set(k, total);
  }
  return out;
}

function after(m: Map<number, number>, fromMs: number): Map<number, number> {
  return new Map([...m].filter(([k]) => k >= fromMs));
}

function byStamp(s: FloatSeries | undefined): Map<number, number> {
  const out = new Map<number, number>();
  if (s !== undefined) for (let i = 0; i < s.timestamps.length; i++) out.set(s.timestamps[i]!, s.values[i]!);
  return out;
}

/** mismatches lists windows whose stored sample differs from the expected value. */
function mismatches(store: Store, name: string, res: number, want: Map<number, number>, from: number, to: number): string[] {
  const f = store.querier().select('default', [new Matcher('=', '__name__', name)], { startMs: from, endMs: to, stepMs: res }).floats;
  const got = byStamp(f[0]);
  const bad: string[] = [];
  for (const [k, v] of want) {
    const g = got.get(k);
    if (g === undefined || Math.abs(g - v) > 1e-9 * Math.max(1, Math.abs(v))) bad.push(`${name}@${new Date(k).toISOString()}: got ${g}, want ${v}`);
  }
  return bad;
}

t.test('backfill written alternately through two handles counts every window once in every rollup tier', async (t) => {
  const { dir, cleanup } = tempDir();
  const a = await openStore({ dataDir: dir, rawResolutionMs: S, tiers: TIERS, now: () => N });
  const b = await openStore({ dataDir: dir, rawResolutionMs: S, tiers: TIERS, now: () => N });
  t.teardown(async () => {
    await a.close();
    await b.close();
    cleanup();
  });
  const app0 = a.appender();
  const c = app0.seriesId('default', L({ __name__: 'calls_total' }), MetricKind.Counter);
  const g = app0.seriesId('default', L({ __name__: 'depth' }), MetricKind.Gauge);
  const h = app0.seriesId('default', L({ __name__: 'lat_seconds' }), MetricKind.Histogram);
  await app0.commit();

  const e1 = newExpected();
  const e10 = newExpected();
  const write = (app: ReturnType<Store['appender']>, w: number, extra: number): void => {
    const ts = N - DAY + w * S;
    const inc = ((w * 2654435761) % 1000003) / 8 + 1 + extra;
    app.counter(c, ts, inc);
    const v = (w * 7) % 23;
    app.gauge(g, ts, v, v, v, v, 1);
    const hh = new SparseHistogram();
    hh.record(((w % 50) + 1) * 0.001);
    if (extra === 0) hh.record(((w % 7) + 1) * 0.1);
    app.histogram(h, ts, hh);
    for (const [e, res] of [[e1, MIN], [e10, MIN10]] as const) {
      const k = ts - (ts % res);
      bump(e.inc, k, inc);
      e.last.set(k, v);
      e.t.set(k, Math.max(e.t.get(k) ?? -Infinity, ts));
      bump(e.hcount, k, hh.count);
      bump(e.hsum, k, hh.sum);
    }
  };

  // Commits of uneven size (so rollup windows and blocks straddle commits) with gaps; every
  // fifth commit, the other handle re-writes the last window: a merge into both handles' last
  // rollup window that changes neither its point count nor (padded) value length.
  const sizes = [7, 13, 29, 3, 41, 11, 17];
  const end = (DAY - 2 * HOUR) / S;
  let w = 0;
  for (let i = 0; w < end; i++) {
    const app = a.appender();
    let last = -1;
    for (let k = 0; k < sizes[i % sizes.length]! && w < end; k++, w++) {
      if (w % 17 === 5) continue;
      write(app, w, 0);
      last = w;
    }
    await app.commit();
    if (i % 5 === 4 && last >= 0) {
      const other = b.appender();
      write(other, last, 1000);
      await other.commit();
    }
  }

  const from = N - DAY - HOUR;
  const to = N - HOUR;
  const mid = N - 9 * HOUR;
  const bad = [
    ...mismatches(b, 'calls_total', MIN, stamped(e1, cumulative(e1.inc)), from, to),
    ...mismatches(b, 'calls_total', MIN10, stamped(e10, cumulative(e10.inc)), from, to),
    ...mismatches(a, 'depth', MIN, stamped(e1, e1.last), from, to),
    ...mismatches(a, 'depth', MIN10, stamped(e10, e10.last), from, to),
    ...mismatches(b, 'lat_seconds_count', MIN, stamped(e1, cumulative(e1.hcount)), from, to),
    ...mismatches(a, 'lat_seconds_count', MIN10, stamped(e10, cumulative(e10.hcount)), from, to),
    ...mismatches(a, 'lat_seconds_sum', MIN10, stamped(e10, cumulative(e10.hsum)), from, to),
    // Read from mid-day, the totals before the range come from chunk headers, not windows.
    ...mismatches(a, 'calls_total', MIN, stamped(e1, after(cumulative(e1.inc), mid)), mid, to),
    ...mismatches(a, 'lat_seconds_count', MIN, stamped(e1, after(cumulative(e1.hcount), mid)), mid, to),
    ...mismatches(b, 'lat_seconds_sum', MIN, stamped(e1, after(cumulative(e1.hsum), mid)), mid, to),
  ];
  t.same(bad.slice(0, 5), [], `every 1m and 10m window holds exactly what was written (${bad.length} wrong)`);
  t.equal(e1.inc.size, (end * S) / MIN, 'the check covered every minute of the day');
  const st = a.stats().tiers;
  t.equal(st[0]!.points, 0, 'nothing landed in the raw tier');
  t.equal(st[1]!.points, e1.inc.size * 3, 'the 1m tier holds one window per minute and series');
  t.equal(st[2]!.points, e10.inc.size * 3, 'the 10m tier holds one window per 10 minutes and series');
});

t.test('merging into the last windows of a head keeps its header totals exact, also across a just-completed block', async (t) => {
  const page = 4096;
  for (const kind of [MetricKind.Counter, MetricKind.Histogram]) {
    const tier = new Tier(1, TIERS[1]!, page);
    const head = new HeadChunk(kind, tier, 1000, null);
    const sealed: SealedChunk[] = [];
    const src = new PointBuf(kind, 8);
    const want = new PointBuf(kind, 8);
    const point = (w: number, v: number): void => {
      src.clear();
      if (kind === MetricKind.Counter) src.pushCounter(w, v, tier.start(w) + 1234);
      else {
        const h = new SparseHistogram();
        h.record(v / 1000);
        src.pushHistogram(w, h, tier.start(w) + 1234);
      }
    };
    const put = (w: number, v: number): void => {
      point(w, v);
      want.mergeFrom(src, 0);
      if (w > head.lastIdx) head.append(src, 0, sealed);
      else t.ok(head.mergeRecent(src, 0, sealed), `window ${w} merges into the head's last block`);
    };
    const bs = blockSize(kind);
    // Fill exactly one block, so the tail is empty, then merge into its last and first windows.
    for (let i = 0; i < bs; i++) put(1000 + i * 2, i + 0.25);
    put(1000 + (bs - 1) * 2, 7.5);
    put(1000, 1.5);
    point(1001, 1);
    t.notOk(head.mergeRecent(src, 0, sealed), 'a new window inside a full block is left to a rebuild');
    put(1000 + bs * 2 + 5, 2.5);
    put(1000 + bs * 2 + 5, 0.5);
    const bytes = head.encode(sealed);
    t.equal(sealed.length, 0, 'the windows fit one chunk');
    const got = new PointBuf(kind, 8);
    const hdr = decodeChunk(bytes, 1000, got, tier);
    t.same(Array.from(got.idx.subarray(0, got.n)), Array.from(want.idx.subarray(0, want.n)), 'every window is stored once, in order');
    if (kind === MetricKind.Counter) {
      let sum = 0;
      for (let i = 0; i < want.n; i++) sum += want.a[i]!;
      t.same(Array.from(got.a.subarray(0, got.n)), Array.from(want.a.subarray(0, want.n)), 'counter windows hold the merged increments');
      t.equal(hdr.sum, sum, 'the chunk header holds the exact total');
    } else {
      let count = 0;
      for (let i = 0; i < want.n; i++) count += want.hists[i]!.count;
      t.same(got.hists.map((h) => h.count), want.hists.map((h) => h.count), 'histogram windows hold the merged counts');
      t.equal(hdr.agg!.count, count, 'the chunk header holds the exact count');
    }
  }
});

/** wideHead appends 320 wide histogram windows (an 8-window block is over half a page) to a head of `tier`. */
function wideHead(tier: Tier): SealedChunk[] {
  const sealed: SealedChunk[] = [];
  const head = new HeadChunk(MetricKind.Histogram, tier, 0, null);
  const src = new PointBuf(MetricKind.Histogram, 8);
  const rand = rng(1);
  for (let w = 0; w < 40 * blockSize(MetricKind.Histogram); w++) {
    const h = new SparseHistogram(512);
    for (let i = 0; i < 700; i++) h.record(Math.round(Math.exp(-4 + 6 * rand()) * 1e6) / 1e6);
    src.clear();
    src.pushHistogram(w, h, tier.start(w));
    head.append(src, 0, sealed);
  }
  return sealed;
}

/** windowsIn is how many windows a sealed chunk of `tier` holds. */
function windowsIn(c: SealedChunk, tier: Tier): number {
  const got = new PointBuf(MetricKind.Histogram, 8);
  decodeChunk(c.bytes, tier.index(c.startMs), got, tier);
  return got.n;
}

t.test('a rollup head whose blocks take more than half a page grows by whole pages instead of leaving each one half empty', async (t) => {
  const page = 4096;
  const tier = new Tier(1, TIERS[1]!, page);
  const sealed = wideHead(tier);
  t.ok(sealed.length >= 2, `${sealed.length} chunks sealed`);
  for (const c of sealed) {
    const pages = Math.ceil((c.bytes.length + 24) / page);
    t.ok(pages > 1 && pages <= 8, `a sealed chunk of ${c.bytes.length} B takes ${pages} pages: more than one, at most eight`);
    t.ok(c.bytes.length / (pages * page) >= 0.75, `and fills ${((100 * c.bytes.length) / (pages * page)).toFixed(0)} % of them`);
    const n = windowsIn(c, tier);
    t.ok(n > 0 && n % blockSize(MetricKind.Histogram) === 0, 'it holds whole blocks');
  }
});

t.test('a raw head keeps to one page (one block when a block is more than half): it is rewritten at every commit', async (t) => {
  const page = 4096;
  const tier = new Tier(0, TIERS[0]!, page);
  const sealed = wideHead(tier);
  t.ok(sealed.length >= 30, `${sealed.length} chunks sealed`);
  for (const c of sealed) {
    const n = windowsIn(c, tier);
    if (n !== blockSize(MetricKind.Histogram)) t.fail(`a raw chunk of ${c.bytes.length} B holds ${n} windows, not one block`);
  }
});
