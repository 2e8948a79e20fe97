// One run of the instrumented fake LLM workload for bench/overhead.ts, in its own process so its
// CPU is measured alone: about `--rate` calls/s for `--seconds`, each doing the CPU work of
// handling an LLM response (build and parse a JSON completion, count tokens) and, unless
// --mode=none, recording the seed metrics: request latency histogram, token counters by type
// (input, output), cost counter, MCP tool call latency histogram. Prints one JSON line.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const argv = process.argv.slice(2);
const opt = (name: string, d: string): string => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? d;
const MODE = opt('mode', 'none');
const SECONDS = Number(opt('seconds', '10'));
const RATE = Number(opt('rate', '1000'));
const TARGET = opt('target', '');

/** Recorder is one instrumentation path; each call records MEASUREMENTS_PER_CALL measurements. */
interface Recorder {
  call(model: string, tool: string, latencyS: number, inTok: number, outTok: number, cost: number, toolS: number): void;
  close(): Promise<void>;
}

const MEASUREMENTS_PER_CALL = 5;
const MODELS = ['gpt-4o', 'gpt-4o-mini', 'claude-sonnet', 'llama-70b'];
const TOOLS = ['search', 'fetch', 'sql', 'calendar', 'fs.read'];

async function otelRecorder(exporterKind: 'none' | 'otlp' | 'embedded'): Promise<Recorder> {
  const { MeterProvider, PeriodicExportingMetricReader, InMemoryMetricExporter, AggregationTemporality } = await import('@opentelemetry/sdk-metrics');
  let exporter;
  let closeTarget = async () => {};
  if (exporterKind === 'none') exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  else if (exporterKind === 'otlp') {
    const { OTLPMetricExporter } = await import('@opentelemetry/exporter-metrics-otlp-proto');
    exporter = new OTLPMetricExporter({ url: TARGET });
  } else {
    const { open } = await import('../src/index.js');
    const { TallydMetricExporter } = await import('../src/otel.js');
    const db = await open({ dataDir: mkdtempSync(join(tmpdir(), 'tallyd-overhead-')) });
    exporter = new TallydMetricExporter(db);
    closeTarget = () => db.close();
  }
  // With no export the reader never fires within the run: the SDK's recording cost alone.
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: exporterKind === 'none' ? 3_600_000 : 10_000 });
  const provider = new MeterProvider({ readers: [reader] });
  const meter = provider.getMeter('llm-app');
  const latency = meter.createHistogram('gen_ai.client.operation.duration', { unit: 's' });
  const tokens = meter.createCounter('gen_ai.client.token.usage', { unit: '{token}' });
  const cost = meter.createCounter('llm.cost', { unit: 'USD' });
  const tool = meter.createHistogram('mcp.tool.call.duration', { unit: 's' });
  return {
    call(model, t, latencyS, inTok, outTok, c, toolS) {
      latency.record(latencyS, { 'gen_ai.request.model': model });
      tokens.add(inTok, { 'gen_ai.request.model': model, 'gen_ai.token.type': 'input' });
      tokens.add(outTok, { 'gen_ai.request.model': model, 'gen_ai.token.type': 'output' });
      cost.add(c, { 'gen_ai.request.model': model });
      tool.record(toolS, { 'mcp.tool.name': t });
    },
    async close() {
      await provider.shutdown();
      await closeTarget();
    },
  };
}

async function statsdRecorder(): Promise<Recorder> {
  const { StatsD } = await import('hot-shots');
  const [host, port] = TARGET.split(':');
  const c = new StatsD({ host, port: Number(port), protocol: 'udp', maxBufferSize: 1400, bufferFlushInterval: 200 });
  return {
    call(model, t, latencyS, inTok, outTok, cost, toolS) {
      c.timing('llm_request_duration', latencyS * 1000, { model });
      c.increment('llm_tokens', inTok, { model, type: 'input' });
      c.increment('llm_tokens', outTok, { model, type: 'output' });
      c.increment('llm_cost_usd', cost, { model });
      c.timing('mcp_tool_call_duration', toolS * 1000, { tool: t });
    },
    close: () => new Promise<void>((resolve) => c.close(() => resolve())),
  };
}

async function embeddedRecorder(): Promise<Recorder> {
  const { open } = await import('../src/index.js');
  const db = await open({ dataDir: mkdtempSync(join(tmpdir(), 'tallyd-overhead-')) });
  return {
    call(model, t, latencyS, inTok, outTok, cost, toolS) {
      db.record('llm_request_duration_seconds', latencyS, { model }, 'histogram');
      db.record('llm_tokens_total', inTok, { model, type: 'input' });
      db.record('llm_tokens_total', outTok, { model, type: 'output' });
      db.record('llm_cost_usd_total', cost, { model });
      db.record('mcp_tool_call_duration_seconds', toolS, { tool: t }, 'histogram');
    },
    close: () => db.close(),
  };
}

/** fakeLlmCall is the workload's own work per call: a completion payload built, serialized and parsed. */
function fakeLlmCall(i: number): { inTok: number; outTok: number } {
  const messages = [];
  for (let k = 0; k < 8; k++) messages.push({ role: k % 2 ? 'assistant' : 'user', content: `turn ${k} of call ${i}: ` + 'lorem ipsum dolor sit amet '.repeat(6) });
  const body = JSON.stringify({ model: MODELS[i % 4], messages, tools: TOOLS.map((name) => ({ name, description: `the ${name} tool` })) });
  const parsed = JSON.parse(body) as { messages: Array<{ content: string }> };
  let inTok = 0;
  for (const m of parsed.messages) inTok += m.content.split(' ').length;
  return { inTok, outTok: 50 + (i % 200) };
}

const recorder: Recorder | null =
  MODE === 'none' ? null
  : MODE === 'otel-noexport' ? await otelRecorder('none')
  : MODE === 'otel-otlp' ? await otelRecorder('otlp')
  : MODE === 'otel-embedded' ? await otelRecorder('embedded')
  : MODE === 'statsd' ? await statsdRecorder()
  : MODE === 'embedded' ? await embeddedRecorder()
  : (() => { throw new Error(`unknown mode ${MODE}`); })();

// Pace: every 10 ms, the calls due by now (so the rate holds even when a tick is late).
const TICK = 10;
const t0 = performance.now();
const cpu0 = process.cpuUsage();
let calls = 0;
let recordNs = 0;
await new Promise<void>((resolve) => {
  const timer = setInterval(() => {
    const elapsed = performance.now() - t0;
    const due = Math.min(Math.floor((elapsed / 1000) * RATE), SECONDS * RATE);
    while (calls < due) {
      const i = calls++;
      const { inTok, outTok } = fakeLlmCall(i);
      if (recorder) {
        const r0 = process.hrtime.bigint();
        recorder.call(MODELS[i % 4]!, TOOLS[i % 5]!, 0.2 + (i % 100) / 50, inTok, outTok, (inTok * 2.5 + outTok * 10) / 1e6, 0.01 + (i % 30) / 100);
        recordNs += Number(process.hrtime.bigint() - r0);
      }
    }
    if (calls >= SECONDS * RATE) {
      clearInterval(timer);
      resolve();
    }
  }, TICK);
});
const cpu = process.cpuUsage(cpu0);
const wallMs = performance.now() - t0;
await recorder?.close();
process.stdout.write(JSON.stringify({ mode: MODE, calls, measurements: recorder ? calls * MEASUREMENTS_PER_CALL : 0, cpuUs: cpu.user + cpu.system, wallMs, recordNs }) + '\n');
