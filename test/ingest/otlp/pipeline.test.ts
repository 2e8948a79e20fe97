import t from 'tap';
import { OtlpReceiver } from '../../../src/ingest/otlp/receiver.js';
import type { SparseHistogram } from '../../../src/model/hdr.js';
import { fold, key, L, ManualClock, RES, T0, startPipeline, tempDir } from '../../pipeline/helpers.js';
import { attrs, metricsRequest, nanos } from './build.js';

/** A histogram point as the sender sends it: cumulative or delta bucket counts over `bounds`. */
interface Pt { counts: number[]; sum: number }

const BOUNDS_A = [1, 2, 5];
const BOUNDS_B = [0.1];

function request(temporality: 1 | 2, ts: number, start: number, a: Pt, b: Pt): Uint8Array {
  const point = (agent: string, bounds: number[], p: Pt) => ({
    attributes: attrs({ agent }), startTimeUnixNano: nanos(start), timeUnixNano: nanos(ts),
    count: p.counts.reduce((x, y) => x + y, 0), sum: p.sum, bucketCounts: p.counts, explicitBounds: bounds,
  });
  return metricsRequest([{ name: 'tool.duration', unit: 's', histogram: { aggregationTemporality: temporality, dataPoints: [point('a', BOUNDS_A, a), point('b', BOUNDS_B, b)] } }]);
}

/** below is how many observations the sender put at or below bounds[i] (the classic `le` count). */
function below(p: Pt, i: number): number {
  return p.counts.slice(0, i + 1).reduce((x, y) => x + y, 0);
}

/** windowOf reads one stored window of a series as count, sum and count at or below each bound but the last. */
function windowOf(h: SparseHistogram | undefined, bounds: number[]): { count: number; sum: number; le: number[] } | null {
  if (h === undefined) return null;
  return { count: h.count, sum: h.sum, le: bounds.slice(0, -1).map((b) => h.countLE(b)) };
}

function expectedWindow(p: Pt, bounds: number[]): { count: number; sum: number; le: number[] } {
  return { count: p.counts.reduce((x, y) => x + y, 0), sum: p.sum, le: bounds.slice(0, -1).map((_, i) => below(p, i)) };
}

function diff(cur: Pt, prev: Pt): Pt {
  return { counts: cur.counts.map((c, i) => c - prev.counts[i]!), sum: cur.sum - prev.sum };
}

t.test('cumulative OTLP histograms reach the store as exact per-window deltas, buckets that stay flat included', async (t) => {
  const dir = tempDir(t);
  const p = await startPipeline(t, dir, new ManualClock(T0 + 10 * RES));
  const rx = new OtlpReceiver({ sink: p });
  const start = T0 - 5000;
  // Series a: bucket 0 and 2 stay flat between the first two points, then the stream resets.
  const a: Pt[] = [{ counts: [1, 0, 2, 0], sum: 4.5 }, { counts: [1, 3, 2, 0], sum: 10 }, { counts: [2, 3, 2, 1], sum: 20 }, { counts: [0, 1, 0, 0], sum: 1.5 }];
  const b: Pt[] = [{ counts: [5, 1], sum: 0.75 }, { counts: [5, 4], sum: 2 }, { counts: [9, 4], sum: 2.25 }, { counts: [9, 6], sum: 3 }];
  for (let i = 0; i < 4; i++) {
    const r = rx.exportMetrics(request(2, T0 + i * RES, start, a[i]!, b[i]!), 'grpc');
    t.equal(r.rejected, 0);
  }
  await p.flushNow();
  const f = fold(dir);
  const ha = f.histograms.get(key(L('tool_duration_seconds', { agent: 'a', job: 'svc' })));
  const hb = f.histograms.get(key(L('tool_duration_seconds', { agent: 'b', job: 'svc' })));
  t.ok(ha && hb, 'both series were stored');
  // The first point of a stream with a start time counts in full; a drop in count is a reset.
  const wantA = [a[0]!, diff(a[1]!, a[0]!), diff(a[2]!, a[1]!), a[3]!];
  const wantB = [b[0]!, diff(b[1]!, b[0]!), diff(b[2]!, b[1]!), diff(b[3]!, b[2]!)];
  for (let i = 0; i < 4; i++) {
    t.same(windowOf(ha!.get(T0 + i * RES), BOUNDS_A), expectedWindow(wantA[i]!, BOUNDS_A), `series a, window ${i}`);
    t.same(windowOf(hb!.get(T0 + i * RES), BOUNDS_B), expectedWindow(wantB[i]!, BOUNDS_B), `series b, window ${i}`);
  }
});

t.test('delta OTLP histograms of several series in one request add up exactly per window', async (t) => {
  const dir = tempDir(t);
  const p = await startPipeline(t, dir, new ManualClock(T0 + 10 * RES));
  const rx = new OtlpReceiver({ sink: p });
  const a: Pt[] = [{ counts: [3, 0, 0, 1], sum: 40 }, { counts: [0, 2, 0, 0], sum: 3 }, { counts: [1, 1, 1, 0], sum: 6 }];
  const b: Pt[] = [{ counts: [0, 7], sum: 2.5 }, { counts: [4, 0], sum: 0.2 }, { counts: [1, 1], sum: 0.55 }];
  // The first two requests land in one window, the third in the next.
  const times = [T0, T0 + 1000, T0 + RES];
  for (let i = 0; i < 3; i++) rx.exportMetrics(request(1, times[i]!, 0, a[i]!, b[i]!), 'grpc');
  await p.flushNow();
  const f = fold(dir);
  const ha = f.histograms.get(key(L('tool_duration_seconds', { agent: 'a', job: 'svc' })))!;
  const hb = f.histograms.get(key(L('tool_duration_seconds', { agent: 'b', job: 'svc' })))!;
  const sum = (x: Pt, y: Pt): Pt => ({ counts: x.counts.map((c, i) => c + y.counts[i]!), sum: x.sum + y.sum });
  t.same(windowOf(ha.get(T0), BOUNDS_A), expectedWindow(sum(a[0]!, a[1]!), BOUNDS_A));
  t.same(windowOf(ha.get(T0 + RES), BOUNDS_A), expectedWindow(a[2]!, BOUNDS_A));
  t.same(windowOf(hb.get(T0), BOUNDS_B), expectedWindow(sum(b[0]!, b[1]!), BOUNDS_B));
  t.same(windowOf(hb.get(T0 + RES), BOUNDS_B), expectedWindow(b[2]!, BOUNDS_B));
});
