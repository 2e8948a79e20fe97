import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { adminFlush, promQuery, sendStatsdTcp, startDaemon, statsdLinesReceived } from './daemon.js';

const PROTO = new URL('../../../proto/tallyd/v1/query.proto', import.meta.url).pathname;
const HOUR = 3_600_000;
const T0 = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;
const TS = Math.floor((T0 + 60_000) / 1000);

const PRICES_V1 = `models:
  - {provider: openai, model: gpt-4o, input_per_mtok: 2.5, cached_input_per_mtok: 1.25, output_per_mtok: 10}
  - {provider: anthropic, model: claude-sonnet-4, input_per_mtok: 3, cached_input_per_mtok: 0.3, cache_write_per_mtok: 3.75, output_per_mtok: 15}
`;
const PRICES_V2 = PRICES_V1.replace('input_per_mtok: 2.5,', 'input_per_mtok: 5,');

async function getJson(url: string, init?: RequestInit): Promise<{ status: number; body: any }> {
  const r = await fetch(url, init);
  return { status: r.status, body: await r.json() };
}

function near(t: { ok(c: boolean, m: string): void }, got: number, want: number, rel: number, msg: string) {
  t.ok(Math.abs(got - want) <= rel * Math.abs(want) + 1e-9, `${msg}: got ${got}, want ${want}`);
}

t.test('costs, usage, gRPC Costs and re-pricing against a running daemon', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tallyd-prices-'));
  const pricing = join(dir, 'prices.yml');
  writeFileSync(pricing, PRICES_V1);
  const d = await startDaemon({ args: ['--pricing', pricing] });
  t.teardown(() => d.stop());

  const tag = (s: string) => `|#${s}|T${TS}`;
  const latencies: number[] = [];
  const lines = [
    `llm_provider_tokens_total:1000000|c${tag('provider:openai,model:gpt-4o,type:prompt,agent_id:a1')}`,
    `llm_provider_tokens_total:100000|c${tag('provider:openai,model:gpt-4o,type:completion,agent_id:a1')}`,
    `llm_provider_tokens_total:2000000|c${tag('provider:anthropic,model:claude-sonnet-4,type:prompt,agent_id:a2')}`,
    `llm_provider_tokens_total:200000|c${tag('provider:anthropic,model:claude-sonnet-4,type:completion,agent_id:a2')}`,
    `llm_provider_tokens_total:5000|c${tag('provider:acme,model:mystery-1,type:prompt,agent_id:a3')}`,
    `llm_provider_cost_usd_total:3.4|c${tag('provider:openai,model:gpt-4o,agent_id:a1')}`,
  ];
  for (let i = 1; i <= 100; i++) {
    const ms = (i * 37) % 100 + 1 + i / 1000;
    latencies.push(ms);
    lines.push(`mcp_tool_execute:${ms}|ms${tag('agent_id:a1,tool_name:search,server_id:s1,outcome:success')}`);
  }
  for (let i = 0; i < 5; i++) {
    latencies.push(250 + i);
    lines.push(`mcp_tool_execute:${250 + i}|ms${tag('agent_id:a1,tool_name:search,server_id:s1,outcome:error')}`);
  }
  await sendStatsdTcp(d, lines);
  const deadline = Date.now() + 10_000;
  while ((await statsdLinesReceived(d)) < lines.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await adminFlush(d);

  const from = T0 / 1000, to = (T0 + HOUR - 1) / 1000;
  const costs = await getJson(`${d.url}/api/v1/analytics/costs?from=${from}&to=${to}&group_by=agent`);
  t.equal(costs.status, 200);
  const data = costs.body.data;
  t.equal(data.currency, 'USD');
  t.same(data.groups.map((g: any) => g.labels.agent), ['a2', 'a1', 'a3'], 'sorted by cost, descending');
  const [a2, a1, a3] = data.groups;
  near(t, a2.cost_usd, 6 + 3, 1e-9, 'a2: 2M input at $3 + 200k output at $15');
  near(t, a1.cost_usd, 2.5 + 1, 1e-9, 'a1: 1M input at $2.5 + 100k output at $10');
  near(t, data.total_cost_usd, 12.5, 1e-9, 'total');
  t.equal(a1.input_tokens, 1_000_000);
  t.equal(a1.output_tokens, 100_000);
  t.equal(a1.calls, 1);
  near(t, a1.reported_cost_usd, 3.4, 1e-9, 'reported cost kept apart');
  const now = new Date();
  const monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  const monthEnd = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
  if (T0 >= monthStart) {
    near(t, a1.forecast_cost_usd, (3.5 * (monthEnd - monthStart)) / (T0 + HOUR - 1 - monthStart), 1e-6, 'forecast: linear from the month so far');
  }
  t.equal(a3.cost_usd, 0);
  t.equal(a3.unpriced_tokens, 5000, 'unpriced usage shows up, not as $0 in silence');
  t.equal(a1.unpriced_tokens, 0);
  const unpriced = await promQuery(d, 'tallyd_llm_unpriced_tokens_total', TS + 30);
  t.same(unpriced.map((s) => [s.metric, s.value[1]]), [[{ __name__: 'tallyd_llm_unpriced_tokens_total', provider: 'acme', model: 'mystery-1' }, '5000']]);

  const byModel = await getJson(`${d.url}/api/v1/analytics/costs?from=${from}&to=${to}&group_by=provider,model&step=30m`);
  t.same(byModel.body.data.group_by, ['provider', 'model']);
  t.same(byModel.body.data.groups[0].labels, { provider: 'anthropic', model: 'claude-sonnet-4' });
  t.same(byModel.body.data.groups[0].trend, [[from, 9], [from + 1800, 0]], 'trend per step');

  for (const bad of ['period=abc', 'from=yesterday', 'group_by=planet', 'step=0s', `from=${to}&to=${from}`]) {
    const r = await getJson(`${d.url}/api/v1/analytics/costs?${bad}`);
    t.equal(r.status, 400, `${bad} is refused`);
    t.equal(r.body.errorType, 'bad_data');
  }

  // Usage: daily row with p95 from the merged histograms.
  const usage = await getJson(`${d.url}/api/v1/analytics/usage?from=${from}&to=${to}&group_by=agent,tool`);
  t.equal(usage.status, 200);
  const row = usage.body.data.rows.find((r: any) => r.agent_id === 'a1' && r.tool_name === 'search');
  t.ok(row, 'a row for a1/search');
  t.equal(row.date, new Date(T0).toISOString().slice(0, 10));
  t.equal(row.call_count, 105);
  t.equal(row.failure_count, 5);
  t.equal(row.success_count, 100);
  t.equal(row.mcp_server_label, null, 'not grouped by server');
  const sorted = [...latencies].sort((a, b) => a - b);
  const exact = sorted[Math.ceil(0.95 * sorted.length) - 1]!;
  near(t, row.p95_latency_ms, exact, 0.02, 'p95 equals the exact percentile of the sent latencies within HDR precision');
  near(t, row.total_latency_ms, latencies.reduce((a, b) => a + b, 0), 1e-6, 'total latency');
  t.equal(row.estimated_input_tokens, 0, 'the LLM tokens were not spent under the search tool');
  const llmRow = usage.body.data.rows.find((r: any) => r.agent_id === 'a1' && r.tool_name === '');
  t.equal(llmRow?.estimated_input_tokens, 1_000_000, "a1's LLM input tokens are in the row without a tool");
  t.equal(llmRow?.estimated_output_tokens, 100_000);

  // gRPC Costs gives the same figures.
  const def = protoLoader.loadSync(PROTO, { keepCase: true, longs: Number, defaults: true });
  const pkg = grpc.loadPackageDefinition(def) as any;
  const client = new pkg.tallyd.v1.QueryService(`127.0.0.1:${d.ports.grpc}`, grpc.credentials.createInsecure());
  t.teardown(() => client.close());
  const rpc = (req: object): Promise<any> => new Promise((resolve, reject) => client.Costs(req, (e: Error | null, r: unknown) => (e ? reject(e) : resolve(r))));
  // Every figure of a group, gRPC (trend samples in ms) and HTTP (trend pairs in s) alike.
  const figures = (x: any, trendMs: boolean) => ({
    labels: x.labels, cost_usd: x.cost_usd, input_tokens: x.input_tokens, output_tokens: x.output_tokens, calls: x.calls,
    cache_read_tokens: x.cache_read_tokens, cache_write_tokens: x.cache_write_tokens, reasoning_tokens: x.reasoning_tokens,
    unpriced_tokens: x.unpriced_tokens, reported_cost_usd: x.reported_cost_usd, forecast_cost_usd: x.forecast_cost_usd ?? null,
    trend: trendMs ? (x.trend ?? []).map((p: any) => [p.timestamp_ms / 1000, p.value]) : (x.trend ?? []),
  });
  const g = await rpc({ from_ms: T0, to_ms: T0 + HOUR - 1, group_by: ['agent'] });
  t.equal(g.currency, 'USD');
  t.equal(g.total_cost_usd, data.total_cost_usd);
  t.same(g.groups.map((x: any) => figures(x, true)), data.groups.map((x: any) => figures(x, false)), 'gRPC Costs equals the HTTP answer, every figure (unpriced, reported, forecast included)');
  t.ok(g.groups.some((x: any) => x.unpriced_tokens === 5000 && x.cost_usd === 0), 'gRPC shows unpriced usage too, not a silent $0');
  const gm = await rpc({ from_ms: T0, to_ms: T0 + HOUR - 1, group_by: ['provider', 'model'], step_ms: 1_800_000 });
  t.same(gm.groups.map((x: any) => figures(x, true)), byModel.body.data.groups.map((x: any) => figures(x, false)), 'gRPC Costs equals HTTP with group_by=provider,model and a trend');

  // Re-price after a price correction: dry run, real, again.
  writeFileSync(pricing, PRICES_V2);
  d.proc.kill('SIGHUP');
  const reprice = (dry: boolean) => getJson(`${d.url}/api/v1/admin/reprice?from=${from}&to=${to}${dry ? '&dry_run=1' : ''}`, { method: 'POST' });
  let dry = await reprice(true);
  for (let i = 0; i < 50 && dry.body.data.after_usd === dry.body.data.before_usd; i++) {
    await new Promise((r) => setTimeout(r, 100));
    dry = await reprice(true);
  }
  t.equal(dry.status, 200);
  const gpt = dry.body.data.models.find((m: any) => m.model === 'gpt-4o');
  near(t, gpt.before_usd, 3.5, 1e-9, 'dry run: before');
  near(t, gpt.after_usd, 6, 1e-9, 'dry run: after (input now $5/M)');
  t.equal(dry.body.data.id, null, 'a dry run records nothing');
  near(t, (await getJson(`${d.url}/api/v1/analytics/costs?from=${from}&to=${to}`)).body.data.total_cost_usd, 12.5, 1e-9, 'a dry run writes nothing');

  const real = await reprice(false);
  t.ok(real.body.data.windows_corrected >= 1, 'windows corrected');
  t.ok(real.body.data.rows_used.some((r: any) => r.model === 'gpt-4o' && r.input_per_mtok === 5), 'the rows used are recorded');
  const after = (await getJson(`${d.url}/api/v1/analytics/costs?from=${from}&to=${to}&group_by=agent`)).body.data;
  near(t, after.groups.find((x: any) => x.labels.agent === 'a1').cost_usd, 6, 1e-9, 'stored cost now follows the new price');
  near(t, after.total_cost_usd, 15, 1e-9, 'total after re-price');
  const prom = await promQuery(d, 'sum(tallyd_llm_cost_usd_total{cost_source="computed"})', TS + 30);
  near(t, Number(prom[0]!.value[1]), 15, 1e-9, 'PromQL sees the corrected cost');

  const again = await reprice(false);
  t.equal(again.body.data.windows_corrected, 0, 're-pricing twice changes nothing the second time');
  near(t, (await getJson(`${d.url}/api/v1/analytics/costs?from=${from}&to=${to}`)).body.data.total_cost_usd, 15, 1e-9, 'unchanged');
  const list = await getJson(`${d.url}/api/v1/admin/reprices`);
  t.equal(list.body.data.length, 2, 'both real re-prices are listed');
  t.equal(list.body.data[0].from, new Date(T0).toISOString());
});
