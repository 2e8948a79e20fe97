import t from 'tap';
import { StatsD } from 'hot-shots';
import { createSocket } from 'node:dgram';
import { startStatsd } from '../../../src/ingest/statsd/listen.js';
import { ManualClock, RES, T0, L, fold, key, startPipeline, tempDir } from '../../pipeline/helpers.js';

// The listener into the real aggregation pipeline (workers, windows, a file store): what a
// StatsD client sends is what the closed windows hold.
t.test('hot-shots into the real pipeline: counters, gauge deltas, timers in seconds, sets', async (t) => {
  const dir = tempDir(t);
  const clock = new ManualClock(T0 + 1000);
  const p = await startPipeline(t, dir, clock);
  const l = await startStatsd({ host: '127.0.0.1', port: 0, ephemeral: true, sink: p, now: clock.now });
  t.teardown(() => l.close());

  const c = new StatsD({ host: '127.0.0.1', port: l.port, protocol: 'udp', maxBufferSize: 0 });
  for (let i = 0; i < 10; i++) c.increment('llm.requests', 1, { model: 'gpt-4o' });
  c.increment('llm.requests', 2, { model: 'claude' });
  c.gauge('mcp.active', 5);
  c.gaugeDelta('mcp.active', 2);
  c.gaugeDelta('mcp.active', -3);
  for (const ms of [100, 200, 300]) c.timing('tool.exec', ms, { tool_name: 'search' });
  for (const u of ['a', 'b', 'a']) c.set('users', u);
  await new Promise<void>((resolve) => c.close(() => resolve()));

  // A raw packet with a |T timestamp one window earlier lands in that window.
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.send(`llm.requests:4|c|#model:claude|T${Math.floor((T0 - RES) / 1000) + 1}`, l.port, '127.0.0.1', () => r()));
  s.close();

  const deadline = Date.now() + 5000;
  while (l.counts.lines < 21 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  t.equal(l.counts.lines, 21);
  t.equal(l.counts.badTotal(), 0);
  await p.flushNow();

  const f = fold(dir);
  t.equal(f.counters.get(key(L('llm_requests_total', { model: 'gpt-4o' })))?.get(T0), 10);
  t.equal(f.counters.get(key(L('llm_requests_total', { model: 'claude' })))?.get(T0), 2);
  t.equal(f.counters.get(key(L('llm_requests_total', { model: 'claude' })))?.get(T0 - RES), 4, '|T puts the point in its own window');
  t.equal(f.gauges.get(key(L('mcp_active')))?.get(T0)?.last, 4, 'gauge set 5, +2, -3');
  const h = f.histograms.get(key(L('tool_exec_seconds', { tool_name: 'search' })))?.get(T0);
  t.equal(h?.count, 3);
  t.ok(Math.abs((h?.sum ?? 0) - 0.6) < 1e-9, 'timer sum in seconds');
  t.equal(f.gauges.get(key(L('users')))?.get(T0)?.last, 2, 'set keeps the distinct count');
});
