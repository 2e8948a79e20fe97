import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { StatsD } from 'hot-shots';
import { adminFlush, startDaemon } from '../integration/daemon.js';
import { PROMETHEUS, startPrometheus } from './fixtures/prometheus-server.js';

const PROMTOOL = '/usr/bin/promtool';

if (!existsSync(PROMETHEUS) || !existsSync(PROMTOOL)) {
  t.fail(`the interop suite needs Debian's prometheus package (${PROMETHEUS}, ${PROMTOOL}); .ci/run installs it`);
} else {
  t.test('promtool check metrics passes on /metrics', async (t) => {
    const d = await startDaemon();
    t.teardown(() => d.stop());
    const c = new StatsD({ host: '127.0.0.1', port: d.ports.statsd, maxBufferSize: 0 });
    c.increment('llm.provider.tokens', 120, { provider: 'openai', model: 'gpt-4o', type: 'prompt' });
    c.gauge('mcp.active_connections', 3, { server_id: 'files' });
    c.timing('mcp.tool.execute', 42, { tool_name: 'search', outcome: 'success' });
    c.histogram('llm.response.tokens', 800, { model: 'gpt-4o' });
    await new Promise<void>((r) => c.close(() => r()));
    await new Promise((r) => setTimeout(r, 300));
    const text = await (await fetch(`${d.url}/metrics`)).text();
    t.match(text, /mcp_tool_execute_seconds_bucket/);
    const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    t.equal(r.status, 0, `promtool check metrics: ${r.stdout}${r.stderr}`);
  });

  t.test('a real Prometheus scrapes tallyd and reads the same totals', async (t) => {
    const d = await startDaemon();
    t.teardown(() => d.stop());
    const c = new StatsD({ host: '127.0.0.1', port: d.ports.statsd, maxBufferSize: 0 });
    for (let i = 0; i < 25; i++) c.increment('agent.tool.calls', 1, { agent_id: 'a1', tool_name: 'search' });
    c.increment('agent.tool.calls', 4, { agent_id: 'a2', tool_name: 'fetch' });
    await new Promise<void>((r) => c.close(() => r()));
    await new Promise((r) => setTimeout(r, 300));
    await adminFlush(d);

    const prom = await startPrometheus(`global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: tallyd\n    static_configs:\n      - targets: ['127.0.0.1:${d.ports.http}']\n`);
    t.teardown(prom.stop);
    const ask = async (expr: string) => {
      const r = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await r.json()) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
      return body.data.result;
    };
    const deadline = Date.now() + 30_000;
    let result: Awaited<ReturnType<typeof ask>> = [];
    while (Date.now() < deadline) {
      try {
        result = await ask('sum by (agent_id) (agent_tool_calls_total)');
        if (result.length === 2) break;
      } catch {
        // Prometheus still starting
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    const got = Object.fromEntries(result.map((s) => [s.metric['agent_id'], Number(s.value[1])]));
    t.same(got, { a1: 25, a2: 4 }, 'Prometheus scraped the cumulative counters');
    const up = await ask('up{job="tallyd"}');
    t.equal(up[0]?.value[1], '1', 'scrape target is up');
  });
}
