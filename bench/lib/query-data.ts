/**
 * The query benchmark's workload: the seed documents' LLM-provider and MCP metrics with realistic
 * label cardinalities, one day of 10 s windows written into a real store through its Appender,
 * one commit per hour of data (what a catching-up pipeline does).
 *
 * Rare outcomes and error counters get a window only when something happened in it, as the
 * pipeline writes them, so their series have gaps (and the store's gap samples) like real data.
 */
import { SparseHistogram } from '../../src/model/hdr.js';
import { labelsFromRecord, type Labels } from '../../src/model/labels.js';
import { MetricKind } from '../../src/model/metric-kind.js';
import type { Appender, SeriesMeta, Store } from '../../src/store/interface.js';

/** The raw resolution: the default flush interval. */
export const RES_MS = 10_000;

/** Shape says how many of each label value the workload has. */
export interface Shape {
  /** Models per provider (three providers). */
  readonly modelsPerProvider: number;
  readonly agents: number;
  readonly mcpServers: number;
  readonly toolsPerServer: number;
}

/** FULL_SHAPE makes about 1k stored series; QUICK_SHAPE about a quarter of that. */
export const FULL_SHAPE: Shape = { modelsPerProvider: 4, agents: 18, mcpServers: 8, toolsPerServer: 6 };
export const QUICK_SHAPE: Shape = { modelsPerProvider: 2, agents: 6, mcpServers: 4, toolsPerServer: 4 };

const PROVIDERS = ['openai', 'anthropic', 'gemini'];
const OUTCOMES = ['success', 'error', 'timeout', 'rate_limited'];
const MCP_OUTCOMES = ['success', 'error', 'timeout'];
const ERROR_TYPES = ['auth', 'rate_limit', 'invalid_request', 'server_error', 'timeout'];
const MCP_ERROR_KINDS = ['validation', 'execution'];
/** The seed documents' explicit bucket boundaries. */
const LLM_BOUNDS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120];
const MCP_BOUNDS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Deterministic pseudo-random numbers so runs compare. */
let seed = 12345;
function rnd(): number {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  return seed / 4294967296;
}
function normal(): number {
  return Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
}

/** Gen writes one series' window for window index w (or nothing when idle then). */
type Gen = (app: Appender, id: number, w: number, ts: number) => void;

interface SeriesDef {
  readonly labels: Labels;
  readonly kind: MetricKind;
  readonly meta: SeriesMeta | undefined;
  readonly gen: Gen;
}

/** histWindow records `n` log-normal observations around `median` seconds with classic buckets. */
function histWindow(bounds: Float64Array, n: number, median: number, spread: number): SparseHistogram {
  const h = new SparseHistogram(8);
  const cc = new Float64Array(bounds.length + 1);
  for (let i = 0; i < n; i++) {
    const x = Math.round(median * Math.exp(spread * normal()) * 1e4) / 1e4;
    h.record(x);
    let b = 0;
    while (b < bounds.length && x > bounds[b]!) b++;
    cc[b]!++;
  }
  h.bounds = bounds;
  h.classicCounts = cc;
  return h;
}

/** poisson draws a small Poisson count (Knuth), for observations per window. */
function poisson(mean: number): number {
  const l = Math.exp(-mean);
  let k = 0, p = 1;
  do {
    k++;
    p *= rnd();
  } while (p > l);
  return k - 1;
}

function defs(shape: Shape): SeriesDef[] {
  const out: SeriesDef[] = [];
  const llmBounds = Float64Array.from(LLM_BOUNDS), mcpBounds = Float64Array.from(MCP_BOUNDS);
  const models: Array<{ provider: string; model: string; speed: number; price: number }> = [];
  for (const provider of PROVIDERS) {
    for (let m = 0; m < shape.modelsPerProvider; m++) models.push({ provider, model: `${provider}-model-${m}`, speed: 0.6 + m * 0.7, price: 0.000002 * (1 + m * 3) });
  }
  for (const { provider, model, speed } of models) {
    OUTCOMES.forEach((outcome, o) => {
      // Successes nearly every window; the rarer outcomes only now and then.
      const mean = o === 0 ? 4 : [0, 0.08, 0.03, 0.05][o]!;
      out.push({
        labels: labelsFromRecord({ __name__: 'llm_provider_request_seconds', provider, model, outcome }),
        kind: MetricKind.Histogram,
        meta: { bounds: LLM_BOUNDS, unit: 'seconds', help: 'Provider API call latency' },
        gen: (app, id, _w, ts) => {
          const n = poisson(mean);
          if (n > 0) app.histogram(id, ts, histWindow(llmBounds, n, o === 2 ? 30 : speed, 0.6));
        },
      });
    });
    for (const type of ['prompt', 'completion']) {
      for (let a = 0; a < shape.agents; a++) {
        out.push({
          labels: labelsFromRecord({ __name__: 'llm_provider_tokens_total', provider, model, type, agent: `agent-${a}` }),
          kind: MetricKind.Counter,
          meta: undefined,
          gen: (app, id, _w, ts) => app.counter(id, ts, Math.floor(rnd() * (type === 'prompt' ? 400 : 120) * (1 + (a % 5)))),
        });
      }
    }
    for (let a = 0; a < shape.agents; a++) {
      out.push({
        labels: labelsFromRecord({ __name__: 'llm_provider_cost_usd_total', provider, model, agent: `agent-${a}` }),
        kind: MetricKind.Counter,
        meta: undefined,
        gen: (app, id, _w, ts) => app.counter(id, ts, rnd() * 0.01 * (1 + (a % 5))),
      });
    }
    for (const error_type of ERROR_TYPES) {
      out.push({
        labels: labelsFromRecord({ __name__: 'llm_provider_errors_total', provider, model, error_type }),
        kind: MetricKind.Counter,
        meta: undefined,
        gen: (app, id, _w, ts) => {
          if (rnd() < 0.1) app.counter(id, ts, 1 + Math.floor(rnd() * 3));
        },
      });
    }
  }
  for (let s = 0; s < shape.mcpServers; s++) {
    const server_id = `mcp-server-${s}`;
    for (let k = 0; k < shape.toolsPerServer; k++) {
      const tool_name = `tool_${k}`;
      MCP_OUTCOMES.forEach((outcome, o) => {
        const mean = [1.5, 0.1, 0.02][o]!;
        out.push({
          labels: labelsFromRecord({ __name__: 'mcp_tool_execute_seconds', server_id, tool_name, outcome }),
          kind: MetricKind.Histogram,
          meta: { bounds: MCP_BOUNDS, unit: 'seconds', help: 'MCP tool execution latency' },
          gen: (app, id, _w, ts) => {
            const n = poisson(mean);
            if (n > 0) app.histogram(id, ts, histWindow(mcpBounds, n, o === 2 ? 10 : 0.05 * (1 + k), 0.9));
          },
        });
      });
      for (const error_kind of MCP_ERROR_KINDS) {
        out.push({
          labels: labelsFromRecord({ __name__: 'mcp_tool_errors_total', server_id, tool_name, error_kind }),
          kind: MetricKind.Counter,
          meta: undefined,
          gen: (app, id, _w, ts) => {
            if (rnd() < 0.05) app.counter(id, ts, 1);
          },
        });
      }
    }
    let conns = 10;
    out.push({
      labels: labelsFromRecord({ __name__: 'mcp_server_connections_active', server_id }),
      kind: MetricKind.Gauge,
      meta: undefined,
      gen: (app, id, _w, ts) => {
        conns = Math.max(0, conns + Math.floor(rnd() * 5) - 2);
        app.gauge(id, ts, conns, conns, conns, conns, 1);
      },
    });
  }
  for (let a = 0; a < shape.agents; a++) {
    let sessions = 5;
    out.push({
      labels: labelsFromRecord({ __name__: 'agent_sessions_active', agent: `agent-${a}` }),
      kind: MetricKind.Gauge,
      meta: undefined,
      gen: (app, id, _w, ts) => {
        sessions = Math.max(0, sessions + Math.floor(rnd() * 3) - 1);
        app.gauge(id, ts, sessions, sessions, sessions, sessions, 1);
      },
    });
  }
  return out;
}

/** LoadStats describe what was written. */
export interface LoadStats {
  readonly series: Record<'counter' | 'gauge' | 'histogram', number>;
  readonly windows: number;
  readonly points: number;
  readonly seconds: number;
}

/**
 * load writes the windows [startMs, endMs) of every series of `shape` into `store`, committing
 * once per hour of data.
 */
export async function load(store: Store, shape: Shape, startMs: number, endMs: number): Promise<LoadStats> {
  const t0 = performance.now();
  const ds = defs(shape);
  const ids: number[] = [];
  {
    const app = store.appender();
    for (const d of ds) ids.push(app.seriesId('default', d.labels, d.kind, d.meta));
    await app.commit();
  }
  let points = 0;
  const noSeriesId = (): number => {
    throw new Error('series are created up front');
  };
  const perCommit = 3_600_000 / RES_MS;
  const windows = Math.floor((endMs - startMs) / RES_MS);
  for (let w0 = 0; w0 < windows; w0 += perCommit) {
    const app = store.appender();
    // Count points by forwarding through a tally, so idle windows are not counted.
    const tally: Appender = {
      seriesId: noSeriesId,
      counter: (id, ts, inc) => { points++; app.counter(id, ts, inc); },
      gauge: (id, ts, l, mi, ma, s, c) => { points++; app.gauge(id, ts, l, mi, ma, s, c); },
      histogram: (id, ts, h) => { points++; app.histogram(id, ts, h); },
      commit: () => app.commit(),
      rollback: () => app.rollback(),
    };
    for (let w = w0; w < Math.min(windows, w0 + perCommit); w++) {
      const ts = startMs + w * RES_MS;
      for (let j = 0; j < ds.length; j++) ds[j]!.gen(tally, ids[j]!, w, ts);
    }
    await app.commit();
  }
  const series = { counter: 0, gauge: 0, histogram: 0 };
  for (const d of ds) series[d.kind === MetricKind.Counter ? 'counter' : d.kind === MetricKind.Gauge ? 'gauge' : 'histogram']++;
  return { series, windows, points, seconds: (performance.now() - t0) / 1000 };
}
