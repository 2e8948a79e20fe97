// Spaced posts (Pipeline.flush): packets flushed within postDelayMs of the last post share one
// message per worker, and nothing that must see them (a window flush, close, /metrics) runs
// before they are posted.
import t from 'tap';
import { ACCEPTED } from '../../src/ingest/sink.js';
import { MetricKind } from '../../src/model/metric-kind.js';
import type { Pipeline } from '../../src/pipeline/router.js';
import { selfRegistry } from '../../src/self/registry.js';
import { fold, key, L, ManualClock, RES, T0, startPipeline, tempDir } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const turn = () => new Promise((r) => setImmediate(r));

/** primed makes one post (a gauge of its own), so that packets flushed next wait for the spacing. */
async function primed(p: Pipeline): Promise<void> {
  p.gaugeSet(p.series('default', L('primer'), MetricKind.Gauge), 1, T0);
  p.flush();
  await turn();
}

async function received(kind: string): Promise<number> {
  const m = await selfRegistry.getSingleMetric('tallyd_samples_received_total')?.get();
  return m?.values.find((x) => x.labels['kind'] === kind)?.value ?? 0;
}

t.test('after a quiet spell a packet is posted at the end of its turn; the next ones within postDelayMs share one later post', async (t) => {
  const dir = tempDir(t);
  const clock = new ManualClock(T0 + 5_000);
  const p = await startPipeline(t, dir, clock, { workers: 1, postDelayMs: 300 });
  const c = p.series('default', L('pkts_total'), MetricKind.Counter);
  const before = await received('counter');
  t.equal(p.counter(c, 1, T0), ACCEPTED);
  // Before the first post: the timer's post comes postDelayMs after it, so at least this long after
  // `posted` (taken after it, a loaded machine's await could already eat into the spacing).
  const posted = performance.now();
  p.flush();
  await turn();
  const t0 = performance.now();
  t.equal(await received('counter') - before, 1, 'the first packet went at the end of its turn');
  // Ten more "packets", each flushed on its own turn as a listener does.
  for (let i = 1; i <= 10; i++) {
    t.equal(p.counter(c, 1, T0 + i), ACCEPTED);
    p.flush();
    await turn();
  }
  if (performance.now() - t0 < 250) {
    // Only meaningful if the ten turns took less than the spacing (a very loaded machine may not).
    t.equal(await received('counter') - before, 1, 'the later ones wait: received is counted when posted');
  }
  const deadline = performance.now() + 5_000;
  while (await received('counter') - before < 11 && performance.now() < deadline) await sleep(20);
  t.equal(await received('counter') - before, 11, 'the timer posted the ten together, with no flush of windows');
  t.ok(performance.now() - posted >= 290, 'not before postDelayMs after the previous post');
  await p.flushNow();
  t.equal(fold(dir).counters.get(key(L('pkts_total')))!.get(T0), 11, 'aggregated into their window');
});

t.test('a window flush posts the samples still waiting, into the windows of their timestamps', async (t) => {
  const dir = tempDir(t);
  const clock = new ManualClock(T0 + RES - 1);
  // A delay far longer than the test: only the window flush can post them.
  const p = await startPipeline(t, dir, clock, { workers: 2, postDelayMs: 600_000 });
  const c = p.series('default', L('late_total'), MetricKind.Counter);
  const h = p.series('default', L('lat_seconds'), MetricKind.Histogram);
  await primed(p);
  p.counter(c, 3, T0 + RES - 1);
  p.observe(h, 0.5, 2, T0 + RES - 1);
  p.flush();
  await turn();
  clock.t = T0 + RES; // the window [T0, T0+RES) has ended; a sample of the next one waits too
  p.counter(c, 4, T0 + RES);
  p.flush();
  await p.flushClosed();
  const f = fold(dir);
  t.equal(f.counters.get(key(L('late_total')))!.get(T0), 3, 'the ended window holds the sample that waited');
  t.equal(f.histograms.get(key(L('lat_seconds')))!.get(T0)!.count, 2);
  t.notOk(f.counters.get(key(L('late_total')))!.has(T0 + RES), 'the open window is not written');
  clock.t = T0 + 2 * RES;
  await p.flushClosed();
  t.equal(fold(dir).counters.get(key(L('late_total')))!.get(T0 + RES), 4, 'the next window, at its own flush');
});

t.test('close() and /metrics deliver samples still waiting for their post', async (t) => {
  const dir = tempDir(t);
  const clock = new ManualClock(T0 + 5_000);
  const p = await startPipeline(t, dir, clock, { workers: 2, postDelayMs: 600_000 });
  const c = p.series('default', L('jobs_total'), MetricKind.Counter);
  await primed(p);
  p.counter(c, 5, T0 + 1);
  p.flush();
  t.ok((await p.exposition()).split('\n').includes('jobs_total 5'), '/metrics sees it');
  p.counter(c, 2, T0 + 2);
  p.flush();
  await p.close();
  t.equal(fold(dir).counters.get(key(L('jobs_total')))!.get(T0), 7, 'close wrote everything accepted');
});

t.test('a full batch is posted at once, whatever the delay', async (t) => {
  const p = await startPipeline(t, tempDir(t), new ManualClock(T0 + 5_000), { workers: 1, batchRecords: 16, postDelayMs: 600_000 });
  const c = p.series('default', L('burst_total'), MetricKind.Counter);
  p.counter(c, 1, T0);
  p.flush();
  await turn(); // posted at once (nothing posted before): the next flush waits
  await sleep(50);
  t.equal(p.inFlightBatches(0), 0);
  for (let i = 0; i < 16; i++) p.counter(c, 1, T0);
  t.equal(p.inFlightBatches(0), 1, 'posted when full');
  const before = await received('counter');
  p.counter(c, 1, T0);
  p.flush();
  await turn();
  t.equal(await received('counter') - before, 0, 'the 17th waits for the delay (postAll has not run)');
});

t.test('by default, with a flush timer, packets wait for its tick: one post per worker per tick, none per packet', async (t) => {
  const dir = tempDir(t);
  const clock = new ManualClock(T0 + 5_000);
  // No postDelayMs: the default is the flush interval, so the timer's own postAll delivers.
  const p = await startPipeline(t, dir, clock, { workers: 1, flushIntervalMs: 400 });
  const c = p.series('default', L('ticks_total'), MetricKind.Counter);
  // Wait for a tick to post a primer, so the packets below come right after one, not just before the next.
  const g = await received('gauge');
  p.gaugeSet(p.series('default', L('primer'), MetricKind.Gauge), 1, T0);
  p.flush();
  const tickDeadline = performance.now() + 5_000;
  while (await received('gauge') === g && performance.now() < tickDeadline) await sleep(5);
  const before = await received('counter');
  const t0 = performance.now();
  for (let i = 0; i < 5; i++) {
    t.equal(p.counter(c, 1, T0 + i), ACCEPTED);
    p.flush();
    await sleep(20);
  }
  if (performance.now() - t0 < 300) {
    // Only meaningful if the packets came well within one interval (a loaded machine may not).
    t.equal(await received('counter') - before, 0, 'flush() after each packet posted nothing');
    t.equal(p.inFlightBatches(0), 0);
  }
  const deadline = performance.now() + 5_000;
  while (await received('counter') - before < 5 && performance.now() < deadline) await sleep(20);
  t.equal(await received('counter') - before, 5, 'the flush timer posted the five together');
  await p.flushNow();
  t.equal(fold(dir).counters.get(key(L('ticks_total')))!.get(T0), 5, 'aggregated into their window');
});
