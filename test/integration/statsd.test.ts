import t from 'tap';
import { StatsD } from 'hot-shots';
import { createSocket } from 'node:dgram';
import { adminFlush, promQuery, startDaemon, type Daemon } from './daemon.js';

async function send(port: number, fn: (c: StatsD) => void): Promise<void> {
  const client = new StatsD({ host: '127.0.0.1', port, protocol: 'udp', maxBufferSize: 0 });
  fn(client);
  await new Promise<void>((resolve) => client.close(() => resolve()));
}

async function sendRaw(port: number, packet: string): Promise<void> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve, reject) => s.send(packet, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  s.close();
}

/** waitFor polls until the check returns true (UDP is asynchronous to the daemon). */
async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function metricValue(d: Daemon, line: RegExp): Promise<number | null> {
  const text = await (await fetch(`${d.url}/metrics`)).text();
  for (const l of text.split('\n')) {
    const m = line.exec(l);
    if (m) return Number(l.slice(l.lastIndexOf(' ') + 1));
  }
  return null;
}

t.test('StatsD from hot-shots is queryable after a flush and after a restart', async (t) => {
  let d = await startDaemon();
  t.teardown(() => d.stop());
  await send(d.ports.statsd, (c) => {
    for (let i = 0; i < 10; i++) c.increment('llm.requests', 1, { provider: 'openai', model: 'gpt-4o' });
    c.increment('llm.requests', 5, { provider: 'anthropic', model: 'claude-3' });
    c.gauge('mcp.active_connections', 7, { server_id: 's1' });
    for (let i = 1; i <= 100; i++) c.timing('llm.provider.request', i * 10, { model: 'gpt-4o' });
    c.histogram('llm.tokens', 1200, { model: 'gpt-4o' });
  });
  await waitFor(async () => (await metricValue(d, /^tallyd_statsd_lines_received_total/)) === 113, '113 lines counted');
  await adminFlush(d);

  const check = async (label: string) => {
    const byModel = await promQuery(d, 'sum by (model) (llm_requests_total)');
    const got = Object.fromEntries(byModel.map((s) => [s.metric['model'], Number(s.value[1])]));
    t.same(got, { 'gpt-4o': 10, 'claude-3': 5 }, `${label}: counters are cumulative totals`);
    const g = await promQuery(d, 'mcp_active_connections');
    t.equal(Number(g[0]?.value[1]), 7, `${label}: gauge`);
    const count = await promQuery(d, 'llm_provider_request_seconds_count');
    t.equal(Number(count[0]?.value[1]), 100, `${label}: timings counted`);
    const sum = await promQuery(d, 'llm_provider_request_seconds_sum');
    t.ok(Math.abs(Number(sum[0]?.value[1]) - 50.5) < 1e-9, `${label}: timings recorded in seconds`);
    const p50 = await promQuery(d, 'histogram_quantile(0.5, llm_provider_request_seconds)');
    t.ok(Math.abs(Number(p50[0]?.value[1]) - 0.5) / 0.5 < 0.01, `${label}: HDR median within 1% (${p50[0]?.value[1]})`);
    const le = await promQuery(d, 'llm_provider_request_seconds_bucket{le="0.25"}');
    t.equal(Number(le[0]?.value[1]), 25, `${label}: classic bucket counts observations <= le`);
  };
  await check('before restart');

  t.equal(await d.stop(), 0, 'SIGTERM exits 0');
  d = await startDaemon({ dataDir: d.dataDir, ports: d.ports });
  await check('after restart');
});

t.test('bad lines are counted by reason and good lines in the same packet survive', async (t) => {
  const d = await startDaemon();
  t.teardown(() => d.stop());
  await sendRaw(d.ports.statsd, 'good.one:1|c\nbroken line\nbad.value:abc|c\nbad.type:1|zz\ngood.two:2|c|#env:prod\n');
  await waitFor(async () => (await metricValue(d, /^tallyd_statsd_lines_received_total/)) === 5, 'five lines counted');
  const text = await (await fetch(`${d.url}/metrics`)).text();
  const bad = text.split('\n').filter((l) => l.startsWith('tallyd_statsd_bad_lines_total{'));
  const totalBad = bad.reduce((s, l) => s + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  t.equal(totalBad, 3, 'three bad lines counted');
  t.ok(bad.length >= 2, `counted under more than one reason: ${bad.join(' | ')}`);
  await adminFlush(d);
  t.equal(Number((await promQuery(d, 'good_one_total'))[0]?.value[1]), 1);
  t.same((await promQuery(d, 'good_two_total'))[0]?.metric, { __name__: 'good_two_total', env: 'prod' });
});

t.test('kill -9 keeps every flushed window', async (t) => {
  let d = await startDaemon();
  t.teardown(() => d.stop());
  await send(d.ports.statsd, (c) => c.increment('durable.events', 3));
  await waitFor(async () => (await metricValue(d, /^tallyd_statsd_lines_received_total/)) === 1, 'line counted');
  await adminFlush(d);
  await d.stop('SIGKILL');
  d = await startDaemon({ dataDir: d.dataDir, ports: d.ports });
  t.equal(Number((await promQuery(d, 'durable_events_total'))[0]?.value[1]), 3, 'flushed data survived kill -9');
  const ready = await fetch(`${d.url}/health/ready`);
  const body = (await ready.json()) as { status: string; checks: Record<string, { status: string }> };
  t.equal(body.status, 'healthy');
  t.ok(body.checks['store'] && body.checks['workers'] && body.checks['statsd'] && body.checks['http'], 'readiness lists store, workers and listeners');
});

t.test('/metrics exposes live series and self metrics', async (t) => {
  const d = await startDaemon();
  t.teardown(() => d.stop());
  await send(d.ports.statsd, (c) => {
    c.increment('scrape.me', 2, { tool_name: 'search' });
    c.timing('scrape.latency', 120);
  });
  await waitFor(async () => (await metricValue(d, /^scrape_me_total\{/)) === 2, 'counter on /metrics');
  const text = await (await fetch(`${d.url}/metrics`)).text();
  t.match(text, /# TYPE scrape_me_total counter/);
  t.match(text, /scrape_me_total\{tool_name="search"\} 2/);
  t.match(text, /scrape_latency_seconds_bucket\{le="\+Inf"\} 1/);
  t.match(text, /tallyd_statsd_lines_received_total/);
});

t.test('SIGTERM flushes every open window: lines read before it survive without an admin flush', async (t) => {
  let d = await startDaemon();
  t.teardown(() => d.stop());
  await send(d.ports.statsd, (c) => {
    c.increment('shutdown.events', 9, { agent_id: 'a1' });
    c.gauge('shutdown.level', 3);
  });
  await waitFor(async () => (await metricValue(d, /^tallyd_statsd_lines_received_total/)) === 2, 'two lines counted');
  const t0 = Date.now();
  t.equal(await d.stop('SIGTERM'), 0, 'exit code 0');
  t.ok(Date.now() - t0 < 10_000, 'stopped within 10 s');
  d = await startDaemon({ dataDir: d.dataDir, ports: d.ports });
  t.equal(Number((await promQuery(d, 'shutdown_events_total'))[0]?.value[1]), 9);
  t.equal(Number((await promQuery(d, 'shutdown_level'))[0]?.value[1]), 3);
});
