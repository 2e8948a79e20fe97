// Pre-encoded OTLP export requests for bench/otlp.ts: 1,000 points each, 5 attributes per point,
// cumulative sums and explicit-bucket histograms over 10k distinct series. Deterministic, so the
// server process and the client child build byte-identical payloads.
import { otlpType } from '../../src/ingest/otlp/proto.js';

export const POINTS_PER_REQUEST = 1000;
export const SERIES = 10_000;
const BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** buildRequests returns `n` encoded ExportMetricsServiceRequests cycling over every series. */
export function buildRequests(n: number, nowMs: number): Buffer[] {
  const Req = otlpType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest');
  const out: Buffer[] = [];
  const half = POINTS_PER_REQUEST / 2;
  const perMetric = SERIES / 2;
  const ns = (ms: number) => (BigInt(ms) * 1_000_000n).toString();
  for (let r = 0; r < n; r++) {
    const attrsOf = (i: number) => [
      { key: 'gen_ai.request.model', value: { stringValue: `model-${i % 20}` } },
      { key: 'agent.id', value: { stringValue: `agent-${i % 50}` } },
      { key: 'tenant', value: { stringValue: `tenant-${Math.floor(i / 50) % 10}` } },
      { key: 'tool.name', value: { stringValue: `tool-${i}` } },
      { key: 'outcome', value: { stringValue: i % 7 === 0 ? 'error' : 'ok' } },
    ];
    const sums = [], hists = [];
    for (let k = 0; k < half; k++) {
      const i = (r * half + k) % perMetric;
      sums.push({ attributes: attrsOf(i), startTimeUnixNano: ns(nowMs - 3_600_000), timeUnixNano: ns(nowMs), asInt: 1000 + r + i });
      const counts = BOUNDS.map((_, b) => (i + b) % 5).concat([1]);
      hists.push({
        attributes: attrsOf(i), startTimeUnixNano: ns(nowMs - 3_600_000), timeUnixNano: ns(nowMs),
        count: counts.reduce((a, b) => a + b, 0), sum: 12.5, bucketCounts: counts, explicitBounds: BOUNDS, min: 0.001, max: 9,
      });
    }
    out.push(Buffer.from(Req.encode(Req.fromObject({ resourceMetrics: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'bench' } }, { key: 'service.instance.id', value: { stringValue: 'i-1' } }] },
      scopeMetrics: [{ scope: { name: 'bench' }, metrics: [
        { name: 'llm.tool.calls', sum: { isMonotonic: true, aggregationTemporality: 2, dataPoints: sums } },
        { name: 'llm.tool.duration', unit: 's', histogram: { aggregationTemporality: 2, dataPoints: hists } },
      ] }],
    }] })).finish()));
  }
  return out;
}
