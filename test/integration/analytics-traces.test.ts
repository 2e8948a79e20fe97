import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attrs, nanos, TraceRequest } from '../ingest/otlp/build.js';
import { adminFlush, startDaemon, type Daemon } from './daemon.js';

/**
 * Trace attribution end to end (SPEC section 7): LLM call spans without agent/tool inherit them
 * from their invoke_agent / execute_tool ancestors, whichever arrives first, and what cannot be
 * attributed within cost.trace_attribution_wait is costed unattributed, never lost.
 */

const PRICES = `models:
  - {provider: openai, model: gpt-4o, input_per_mtok: 2.5, cached_input_per_mtok: 1.25, output_per_mtok: 10}
`;
const END = Date.now() - 60_000;

function span(trace: number, id: number, parent: number | null, name: string, a: Record<string, string | number>) {
  return {
    traceId: Buffer.alloc(16, trace), spanId: Buffer.alloc(8, id), ...(parent === null ? {} : { parentSpanId: Buffer.alloc(8, parent) }),
    name, kind: 3, startTimeUnixNano: nanos(END - 1000), endTimeUnixNano: nanos(END), attributes: attrs(a), status: { code: 1 },
  };
}
const agent = (trace: number, id: number, name: string) => span(trace, id, null, `invoke_agent ${name}`, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.id': name });
const tool = (trace: number, id: number, parent: number, name: string) => span(trace, id, parent, `execute_tool ${name}`, { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': name });
const call = (trace: number, id: number, parent: number, usage: Record<string, number>) =>
  span(trace, id, parent, 'chat gpt-4o', { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.provider.name': 'openai', ...usage });

async function sendSpans(d: Daemon, spans: unknown[]): Promise<void> {
  const body = TraceRequest.encode(TraceRequest.fromObject({ resourceSpans: [{ resource: { attributes: attrs({ 'service.name': 'agents' }) }, scopeSpans: [{ spans }] }] })).finish();
  const r = await fetch(`http://127.0.0.1:${d.ports.otlpHttp}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: body as unknown as BodyInit });
  if (r.status !== 200) throw new Error(`otlp traces: ${r.status} ${await r.text()}`);
}

t.test('LLM spend is attributed to the agent and tool of the trace, parents before or after children', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tallyd-traces-'));
  writeFileSync(join(dir, 'prices.yml'), PRICES);
  writeFileSync(join(dir, 'tallyd.yml'), 'cost:\n  trace_attribution_wait: 5s\n');
  const d = await startDaemon({ args: ['--pricing', join(dir, 'prices.yml'), '--config', join(dir, 'tallyd.yml')] });
  t.teardown(() => d.stop());

  // Trace 1, parents first: planner -> search -> call (1.2M input of which 1M cache read, 100k output).
  await sendSpans(d, [agent(1, 1, 'planner'), tool(1, 2, 1, 'search')]);
  await sendSpans(d, [call(1, 3, 2, { 'gen_ai.usage.input_tokens': 1_200_000, 'gen_ai.usage.cache_read.input_tokens': 1_000_000, 'gen_ai.usage.output_tokens': 100_000 })]);
  // Trace 2, children first: the call, then its tool and agent a moment later.
  await sendSpans(d, [call(2, 3, 2, { 'gen_ai.usage.input_tokens': 400_000 })]);
  await new Promise((r) => setTimeout(r, 300));
  await sendSpans(d, [tool(2, 2, 1, 'fetch'), agent(2, 1, 'writer')]);
  // Trace 3: the call's ancestors never arrive.
  await sendSpans(d, [call(3, 3, 2, { 'gen_ai.usage.input_tokens': 800_000 })]);
  await new Promise((r) => setTimeout(r, 7_000)); // past the 5 s wait (roomy: the parents of trace 2 must arrive within it on a loaded machine)
  await adminFlush(d);

  const r = await fetch(`${d.url}/api/v1/analytics/costs?from=${Math.floor((END - 3_600_000) / 1000)}&to=${Math.ceil(Date.now() / 1000)}&group_by=agent,tool`);
  const body = (await r.json()) as { data: { total_cost_usd: number; groups: Array<{ labels: { agent: string; tool: string }; cost_usd: number; input_tokens: number; cache_read_tokens: number; output_tokens: number }> } };
  const got = Object.fromEntries(body.data.groups.map((g) => [`${g.labels.agent}/${g.labels.tool}`, [g.cost_usd, g.input_tokens, g.cache_read_tokens, g.output_tokens]]));
  t.same(got, {
    'planner/search': [0.5 + 1.25 + 1, 1_200_000, 1_000_000, 100_000], // 200k uncached at $2.5, 1M cached at $1.25, 100k out at $10
    'writer/fetch': [1, 400_000, 0, 0], // parents after the child: still attributed
    '/': [2, 800_000, 0, 0], // never attributed: counted, not lost
  }, 'cost per agent and tool, hand-computed');
  t.equal(body.data.total_cost_usd, 5.75, 'every token counted once');
});
