import t from 'tap';
import { Matcher } from '../../src/model/matcher.js';
import { MetricKind } from '../../src/model/metric-kind.js';
import { retentionSlack } from '../../src/store/compactor.js';
import type { StoreDbs } from '../../src/store/dbs.js';
import type { Store } from '../../src/store/interface.js';
import { L, openTemp } from './helpers.js';

const S = 10_000;
const DAY = 86_400_000;

/** countTransactions counts the write transactions the store opens from now on. */
function countTransactions(store: Store): { n: number } {
  const env = (store as unknown as { dbs: StoreDbs }).dbs.env;
  const count = { n: 0 };
  const orig = env.transaction.bind(env);
  env.transaction = ((fn: () => unknown) => {
    count.n++;
    return orig(fn);
  }) as typeof env.transaction;
  return count;
}

/** writeWindows writes one counter increment of 1 per series for every raw window in [fromMs, toMs). */
async function writeWindows(store: Store, fromMs: number, toMs: number, series = 2): Promise<void> {
  const a = store.appender();
  for (let s = 0; s < series; s++) {
    const id = a.seriesId('default', L({ __name__: 'calls_total', s: String(s) }), MetricKind.Counter);
    for (let w = fromMs; w < toMs; w += S) a.counter(id, w, 1);
  }
  await a.commit();
}

function rawTotal(store: Store, startMs: number, endMs: number): number {
  const f = store.querier().select('default', [new Matcher('=', '__name__', 'calls_total'), new Matcher('=', 's', '0')], { startMs, endMs, stepMs: S }).floats[0]!;
  return f.values[f.values.length - 1]!;
}

t.test('a compaction run with no whole window to roll up and nothing past retention opens no write transaction', async (t) => {
  const start = Date.UTC(2024, 4, 6, 12);
  const clock = { now: start };
  const { store } = await openTemp(t, { now: () => clock.now });
  await writeWindows(store, start, start + 22 * 60_000);
  clock.now = start + 22 * 60_000;
  await store.compact();
  const rolled = store.stats().tiers[1]!.points;
  t.equal(rolled, 2 * 4, 'the four whole 5 m windows are rolled up');

  // Every minute until the 5 m window holding the last points closes, compaction has nothing to do.
  const txns = countTransactions(store);
  for (let i = 0; i < 2; i++) {
    clock.now += 60_000;
    await store.compact();
  }
  t.equal(txns.n, 0, 'no write transaction while nothing is due');
  t.equal(store.stats().tiers[1]!.points, rolled);

  // Once the 5 m window that held the last points has closed, the next run rolls it up.
  clock.now = start + 25 * 60_000 + 1000;
  await store.compact();
  t.ok(txns.n > 0, 'a run with a closed window opens transactions');
  t.equal(store.stats().tiers[1]!.points, 2 * 4 + 2, 'and rolls the closed window up');
});

t.test('retention skipped while nothing expires still deletes a backfilled window older than the rest once it is due', async (t) => {
  const start = Date.UTC(2024, 4, 6, 12);
  const clock = { now: start + 10 * 60_000 };
  const { store } = await openTemp(t, { now: () => clock.now });
  await writeWindows(store, start, start + 10 * 60_000, 1);
  await store.compact();
  const raw0 = store.stats().tiers[0]!;
  t.equal(raw0.minTimeMs, start);

  // A window a day old: still inside the raw tier's 2 days, older than every stored one.
  const old = start - DAY;
  await writeWindows(store, old, old + S, 1);
  t.equal(store.stats().tiers[0]!.minTimeMs, old, 'the write lowers the oldest window');
  t.equal(store.stats().tiers[0]!.points, raw0.points + 1);
  const total = rawTotal(store, start, start + 10 * 60_000);

  // The backfilled window ended 2 days (raw retention) and the slack before now: it is due, nothing else is.
  clock.now = old + S + 2 * DAY + retentionSlack(2 * DAY);
  await store.compact();
  const raw = store.stats().tiers[0]!;
  t.equal(raw.points, raw0.points, 'only the backfilled window is deleted');
  t.equal(raw.minTimeMs, start, 'the oldest window is the live data again');
  t.equal(rawTotal(store, start, start + 10 * 60_000), total, 'its increment stays in the counter total');
});

t.test('windows past retention by less than the slack wait; then one pass deletes every window due', async (t) => {
  const start = Date.UTC(2024, 4, 6, 12);
  const clock = { now: start + 60 * 60_000 };
  const { store } = await openTemp(t, { now: () => clock.now });
  await writeWindows(store, start, start + 60 * 60_000, 1);
  await store.compact();
  const total = rawTotal(store, start, start + 60 * 60_000);
  const slack = retentionSlack(2 * DAY);
  t.equal(slack, 28.8 * 60_000, 'the raw tier (2 days) waits 1/100 of its retention');

  // Ten minutes of windows are past the raw tier's retention: they wait for the slack.
  clock.now = start + 2 * DAY + 10 * 60_000;
  await store.compact();
  t.equal(store.stats().tiers[0]!.points, 360, 'nothing deleted before the slack');
  t.equal(store.stats().tiers[0]!.minTimeMs, start);
  const read = (): string => JSON.stringify(store.querier().select('default', [new Matcher('=', '__name__', 'calls_total')], { startMs: start + 40 * 60_000, endMs: start + 60 * 60_000, stepMs: S }).floats
    .map((f) => [Array.from(f.timestamps), Array.from(f.values)]));
  const lingering = read();

  // The oldest window is past retention by the slack: every window that ended by the cutoff goes.
  clock.now = start + S + 2 * DAY + slack;
  await store.compact();
  const firstKept = Math.floor((clock.now - 2 * DAY) / S) * S;
  t.equal(store.stats().tiers[0]!.points, (start + 60 * 60_000 - firstKept) / S, 'each window that ended by now - 2 days is deleted');
  t.equal(store.stats().tiers[0]!.minTimeMs, firstKept, 'the oldest kept window is the one holding the cutoff');
  t.equal(rawTotal(store, firstKept, start + 60 * 60_000), total, 'the counter total is unchanged');
  t.equal(read(), lingering, 'a read of the kept range answers the same as while the due windows lingered');
});
