import t, { type Test } from 'tap';
import { createRequire } from 'node:module';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WriteRequest } from '../support/prompb.js';
import { metricsRequest, attrs, nanos, TraceRequest } from '../ingest/otlp/build.js';
import { adminFlush, promQuery, startDaemon, type Daemon } from './daemon.js';

const snappy = createRequire(import.meta.url)('snappyjs') as { compress(b: Uint8Array): Uint8Array };

const HOUR = 3_600_000;
const T0 = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;
const PRICES = `models:
  - {provider: openai, model: gpt-4o, input_per_mtok: 2.5, output_per_mtok: 10}
  - {provider: anthropic, model: claude-sonnet-4, input_per_mtok: 3, output_per_mtok: 15}
`;

/** remoteWrite sends one cumulative sample of llm_provider_tokens_total (remote write: no start time). */
async function remoteWrite(d: Daemon, value: number, tsMs: number): Promise<void> {
  const labels = { __name__: 'llm_provider_tokens_total', provider: 'openai', model: 'gpt-4o', type: 'prompt', agent_id: 'rw' };
  const msg = WriteRequest.fromObject({
    timeseries: [{ labels: Object.entries(labels).map(([name, v]) => ({ name, value: v })), samples: [{ value, timestamp: tsMs }] }],
  });
  const r = await fetch(`${d.url}/api/v1/write`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' },
    body: snappy.compress(WriteRequest.encode(msg).finish()) as unknown as BodyInit,
  });
  if (r.status >= 300) throw new Error(`remote write: ${r.status} ${await r.text()}`);
}

/** otlpCumulative sends one cumulative point of gen_ai.client.inference.usage.input_tokens (start time T0). */
async function otlpCumulative(d: Daemon, value: number, tsMs: number): Promise<void> {
  const body = metricsRequest([{
    name: 'gen_ai.client.inference.usage.input_tokens',
    sum: {
      aggregationTemporality: 2,
      isMonotonic: true,
      dataPoints: [{
        attributes: attrs({ 'gen_ai.agent.id': 'otel', 'gen_ai.provider.name': 'anthropic', 'gen_ai.request.model': 'claude-sonnet-4' }),
        startTimeUnixNano: nanos(T0),
        timeUnixNano: nanos(tsMs),
        asInt: value,
      }],
    },
  }]);
  const r = await fetch(`http://127.0.0.1:${d.ports.otlpHttp}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: body as unknown as BodyInit });
  if (r.status !== 200) throw new Error(`otlp: ${r.status} ${await r.text()}`);
}

async function costs(d: Daemon): Promise<Record<string, { cost_usd: number; input_tokens: number }>> {
  const r = await fetch(`${d.url}/api/v1/analytics/costs?from=${T0 / 1000}&to=${(T0 + HOUR - 1) / 1000}&group_by=agent`);
  const body = (await r.json()) as { data: { groups: Array<{ labels: { agent: string }; cost_usd: number; input_tokens: number }> } };
  return Object.fromEntries(body.data.groups.map((g) => [g.labels.agent, g]));
}

/**
 * pricedDaemon starts a daemon with PRICES on a fresh data dir; start() runs a new one on the same
 * dir (after the test stopped the old one), and teardown stops whichever is current.
 */
async function pricedDaemon(t: Test): Promise<{ current: Daemon; start(): Promise<Daemon> }> {
  const pricing = join(mkdtempSync(join(tmpdir(), 'tallyd-prices-')), 'prices.yml');
  writeFileSync(pricing, PRICES);
  const dataDir = mkdtempSync(join(tmpdir(), 'tallyd-it-'));
  const h = {
    current: await startDaemon({ dataDir, args: ['--pricing', pricing] }),
    async start(): Promise<Daemon> {
      return (h.current = await startDaemon({ dataDir, args: ['--pricing', pricing] }));
    },
  };
  t.teardown(() => h.current.stop());
  return h;
}

t.test('a cumulative token counter is priced by its true increase across a daemon restart', async (t) => {
  const restartable = await pricedDaemon(t);
  let d = restartable.current;

  // Before the restart: a baseline, then +400k (remote write) / the stream from its start (OTLP).
  await remoteWrite(d, 1_000_000, T0 + 60_000);
  await remoteWrite(d, 1_400_000, T0 + 120_000);
  await otlpCumulative(d, 100_000, T0 + 60_000);
  await otlpCumulative(d, 300_000, T0 + 120_000);
  await adminFlush(d);
  const before = await costs(d);
  t.equal(before['rw']?.input_tokens, 400_000, 'remote write: the first sample is a baseline, +400k counted');
  t.equal(before['rw']?.cost_usd, 1, 'remote write: 400k at $2.5/M');
  t.equal(before['otel']?.input_tokens, 200_000, 'OTLP: a stream that started before tallyd is a baseline at first sight, +200k counted');
  t.equal(before['otel']?.cost_usd, 0.6, 'OTLP: 200k at $3/M');

  t.equal(await d.stop(), 0, 'SIGTERM stops cleanly');
  d = await restartable.start();

  // After the restart: the next cumulative values. The true increases are +600k and +500k.
  await remoteWrite(d, 2_000_000, T0 + 180_000);
  await otlpCumulative(d, 800_000, T0 + 180_000);
  await adminFlush(d);
  const after = await costs(d);
  t.equal(after['rw']?.input_tokens, 1_000_000, 'remote write: 400k + 600k, nothing dropped or counted twice');
  t.equal(after['rw']?.cost_usd, 2.5, 'remote write: 1M at $2.5/M');
  t.equal(after['otel']?.input_tokens, 700_000, 'OTLP: 200k + the 500k since the last pre-restart point');
  t.equal(after['otel']?.cost_usd, 2.1, 'OTLP: 700k at $3/M');
  const prom = await promQuery(d, 'sum by (agent) (tallyd_llm_cost_usd_total{cost_source="computed"})', (T0 + 200_000) / 1000);
  t.same(
    Object.fromEntries(prom.map((s) => [s.metric['agent'], Number(s.value[1])])),
    { rw: 2.5, otel: 2.1 },
    'the stored cost counter equals the price of the true token increase',
  );
});

/** GPT_CALL is who made the call, as the span and the metric both say. */
const GPT_CALL = { 'gen_ai.agent.id': 'spanned', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o' };

/** otlpSpan sends one LLM call span (no parent: nothing to wait for) with `input` tokens, ending at tsMs. */
async function otlpSpan(d: Daemon, input: number, tsMs: number): Promise<void> {
  const body = TraceRequest.encode(TraceRequest.fromObject({
    resourceSpans: [{
      resource: { attributes: attrs({ 'service.name': 'agents' }) },
      scopeSpans: [{ spans: [{
        traceId: Buffer.alloc(16, 9), spanId: Buffer.alloc(8, 1), name: 'chat gpt-4o', kind: 3,
        startTimeUnixNano: nanos(tsMs - 500), endTimeUnixNano: nanos(tsMs), status: { code: 1 },
        attributes: attrs({ 'gen_ai.operation.name': 'chat', ...GPT_CALL, 'gen_ai.usage.input_tokens': input }),
      }] }],
    }],
  })).finish();
  const r = await fetch(`http://127.0.0.1:${d.ports.otlpHttp}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: body as unknown as BodyInit });
  if (r.status !== 200) throw new Error(`otlp traces: ${r.status} ${await r.text()}`);
}

/** otlpDelta sends one delta point of gen_ai.client.inference.usage.input_tokens for the same call. */
async function otlpDelta(d: Daemon, value: number, tsMs: number): Promise<void> {
  const body = metricsRequest([{
    name: 'gen_ai.client.inference.usage.input_tokens',
    sum: {
      aggregationTemporality: 1,
      isMonotonic: true,
      dataPoints: [{ attributes: attrs(GPT_CALL), startTimeUnixNano: nanos(tsMs - 60_000), timeUnixNano: nanos(tsMs), asInt: value }],
    },
  }]);
  const r = await fetch(`http://127.0.0.1:${d.ports.otlpHttp}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: body as unknown as BodyInit });
  if (r.status !== 200) throw new Error(`otlp: ${r.status} ${await r.text()}`);
}

t.test('tokens a span brought before a restart are not charged again when the metric for the same call arrives after it', async (t) => {
  const restartable = await pricedDaemon(t);
  let d = restartable.current;

  // One call of 400k input tokens: its span is exported at once, before the restart...
  await otlpSpan(d, 400_000, T0 + 60_000);
  await adminFlush(d);
  t.same(await costs(d).then((c) => [c['spanned']?.input_tokens, c['spanned']?.cost_usd]), [400_000, 1], 'the span: 400k at $2.5/M');

  t.equal(await d.stop(), 0, 'SIGTERM stops cleanly');
  d = await restartable.start();

  // ...its periodic metric export (delta) reaches the restarted daemon.
  await otlpDelta(d, 400_000, T0 + 90_000);
  await adminFlush(d);
  const after = await costs(d);
  t.equal(after['spanned']?.input_tokens, 400_000, 'the call counts once across the restart');
  t.equal(after['spanned']?.cost_usd, 1, 'charged once: 400k at $2.5/M');
  const prom = await promQuery(d, 'sum(tallyd_llm_cost_usd_total{cost_source="computed", agent="spanned"})', (T0 + 200_000) / 1000);
  t.equal(Number(prom[0]?.value[1]), 1, 'the stored cost counter too');
});
