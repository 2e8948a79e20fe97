import t from 'tap';
import { createSocket } from 'node:dgram';
import { adminFlush, promQuery, startDaemon } from './daemon.js';

t.test('backfilled StatsD points land in the rollup tier that covers them; tsdb status reports every tier', async (t) => {
  const d = await startDaemon();
  t.teardown(() => d.stop());
  const now = Math.floor(Date.now() / 1000);
  // Both points fall in one 5-minute window three days ago, older than the raw tier's 2 days.
  const windowStart = Math.floor((now - 3 * 86_400) / 300) * 300;
  const threeDaysAgo = windowStart + 10;
  const s = createSocket('udp4');
  const lines = [
    `backfill.calls:4|c|#agent_id:a1|T${threeDaysAgo}`,
    `backfill.calls:6|c|#agent_id:a1|T${threeDaysAgo + 60}`,
    `fresh.calls:2|c|#agent_id:a1`,
  ].join('\n');
  await new Promise<void>((r) => s.send(lines, d.ports.statsd, '127.0.0.1', () => r()));
  s.close();
  await new Promise((r) => setTimeout(r, 300));
  await adminFlush(d);
  const compact = await fetch(`${d.url}/api/v1/admin/compact`, { method: 'POST' });
  t.equal(compact.status, 200, 'admin compact answers once done');

  // The 5m window's sample is stamped at its start; query within the 5 m lookback after it.
  const old = await promQuery(d, 'backfill_calls_total', windowStart + 100);
  t.equal(Number(old[0]?.value[1]), 10, 'a counter backfilled 3 days ago (older than the raw tier) reads its total then');
  const inc = await promQuery(d, 'increase(backfill_calls_total[1h])', threeDaysAgo + 1800);
  t.ok(Number(inc[0]?.value[1]) > 0, 'increase() over the backfilled hour sees the increments');
  t.equal(Number((await promQuery(d, 'fresh_calls_total'))[0]?.value[1]), 2, 'fresh data reads from the raw tier');

  const status = (await (await fetch(`${d.url}/api/v1/status/tsdb`)).json()) as { data: { tiers: Array<{ name: string; points: number; series: number; bytes: number; min_time_ms: number | null }> } };
  const byName = Object.fromEntries(status.data.tiers.map((x) => [x.name, x]));
  t.same(Object.keys(byName), ['raw', '5m', '1h', 'monthly'], 'default tiers');
  t.ok(byName['raw']!.points > 0, 'raw tier holds the fresh point');
  t.ok(byName['5m']!.points > 0, 'the 5m tier holds the backfilled points');
  t.ok(byName['5m']!.min_time_ms! <= threeDaysAgo * 1000, 'the 5m tier reaches back to the backfill');
});
