// The embedded record() hot path alone (src/ingest/embedded/recorder.ts): CPU ns per measurement
// for the seed's 5 measurements per call (a latency histogram, two token counters, a cost counter,
// an MCP tool histogram; 4 models x 5 tools), with a sink that only counts, so the figure is the
// calling thread's lookup (site table) + clock read + in-place update and nothing else. Also the
// same calls with a string key built per call (what record() did before the lookup tables), for
// comparison. And the bound handles (Recorder.bind, what db.counter()/histogram() return), one per
// series. In a loop every line stays in cache: this is not the in-place cost (see
// lib/overhead-workload.ts), where the site table and one Float64Array per recorder made record()
// cheaper by touching fewer objects, a change this loop does not show.
// Run: npm run bench -- embedded-record [-- --calls=N]
import { Recorder } from '../src/ingest/embedded/recorder.js';
import type { IngestSink } from '../src/ingest/sink.js';
import { MetricKind } from '../src/model/metric-kind.js';

const argv = process.argv.slice(2);
const CALLS = Number(argv.find((a) => a.startsWith('--calls='))?.slice(8) ?? 1_000_000);
const MODELS = ['gpt-4o', 'gpt-4o-mini', 'claude-sonnet', 'llama-70b'];
const TOOLS = ['search', 'fetch', 'sql', 'calendar', 'fs.read'];
const BOUNDS = Float64Array.from([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);

let refs = 0, samples = 0;
const yes = (): boolean => (samples++, true);
const sink = {
  series: () => refs++, counter: yes, counterCumulative: yes, gaugeSet: yes, gaugeAdd: yes, observe: yes, setMember: yes,
  histogram: yes, histogramCumulative: yes, histogramBorrowed: yes, flush: () => undefined, accepting: () => true,
} as unknown as IngestSink;

type Rec = (name: string, value: number, labels: Record<string, string>, kind: MetricKind) => void;

function call(rec: Rec, i: number): void {
  const model = MODELS[i % 4]!, tool = TOOLS[i % 5]!;
  rec('llm_request_duration_seconds', 0.2 + (i % 100) / 50, { model }, MetricKind.Histogram);
  rec('llm_tokens_total', 1000 + (i % 7), { model, type: 'input' }, MetricKind.Counter);
  rec('llm_tokens_total', 50 + (i % 200), { model, type: 'output' }, MetricKind.Counter);
  rec('llm_cost_usd_total', 0.001, { model }, MetricKind.Counter);
  rec('mcp_tool_call_duration_seconds', 0.01 + (i % 30) / 100, { tool }, MetricKind.Histogram);
}

function measure(name: string, rec: Rec): void {
  for (let i = 0; i < 200_000; i++) call(rec, i);
  const c0 = process.cpuUsage();
  for (let i = 0; i < CALLS; i++) call(rec, i);
  const c = process.cpuUsage(c0);
  console.log(`${name.padEnd(46)} ${(((c.user + c.system) * 1000) / (CALLS * 5)).toFixed(1).padStart(7)} ns CPU per measurement`);
}

const r = new Recorder(sink, { tenant: 'default', resolutionMs: 10_000, drainIntervalMs: 1_000, boundsOf: () => BOUNDS });
measure('record() (site table, clock, update)', (n, v, l, k) => r.record(n, v, l, k));

// Bound handles: one per series, picked by the call site (no lookup at all).
const bound = MODELS.map((model) => ({
  lat: r.bind('llm_request_duration_seconds', { model }, MetricKind.Histogram),
  tin: r.bind('llm_tokens_total', { model, type: 'input' }, MetricKind.Counter),
  tout: r.bind('llm_tokens_total', { model, type: 'output' }, MetricKind.Counter),
  cost: r.bind('llm_cost_usd_total', { model }, MetricKind.Counter),
}));
const toolBound = TOOLS.map((tool) => r.bind('mcp_tool_call_duration_seconds', { tool }, MetricKind.Histogram));
{
  const run = (i: number): void => {
    const b = bound[i % 4]!;
    b.lat(0.2 + (i % 100) / 50);
    b.tin(1000 + (i % 7));
    b.tout(50 + (i % 200));
    b.cost(0.001);
    toolBound[i % 5]!(0.01 + (i % 30) / 100);
  };
  for (let i = 0; i < 200_000; i++) run(i);
  const c0 = process.cpuUsage();
  for (let i = 0; i < CALLS; i++) run(i);
  const c = process.cpuUsage(c0);
  console.log(`${'bound handles (clock, update)'.padEnd(46)} ${(((c.user + c.system) * 1000) / (CALLS * 5)).toFixed(1).padStart(7)} ns CPU per measurement`);
}

// The per-call string key of the previous record(), the rest as cheap as possible.
const byKey = new Map<string, { sum: number }>();
measure('string key built per call + Map.get (before)', (name, value, labels, kind) => {
  let key = name;
  for (const ln in labels) key += '\u0000' + ln + '\u0001' + labels[ln];
  key += '\u0002' + kind;
  let a = byKey.get(key);
  if (a === undefined) byKey.set(key, (a = { sum: 0 }));
  a.sum += value;
});
let t = 0;
measure('Date.now() alone (one per measurement)', () => {
  t += Date.now();
});
r.drain();
console.log(`(${refs} series, ${samples} drained samples)`);
