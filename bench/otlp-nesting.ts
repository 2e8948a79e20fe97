// OTLP attributes nested as kvlistValues: one gauge point whose only attribute is a kvlistValue
// DEPTH levels deep, decoded by the receiver into a counting sink. Reports the body size, the time
// and RSS the decode took and the longest label value it produced, per depth. Rendering each level
// to a string and quoting it into its parent once doubled the value per level (24 levels: a
// 294-byte body, about a second, +187 MiB, an 83,886,172-character label); past 64 levels the
// request is refused (too_deep).
// Run: node dist/bench/otlp-nesting.js [--depths=10,20,24,64]
import { mkdirSync, writeFileSync } from 'node:fs';
import type { Labels } from '../src/model/labels.js';
import type { MetricKind } from '../src/model/metric-kind.js';
import { OtlpReceiver } from '../src/ingest/otlp/receiver.js';
import { jsonToProtobuf } from '../src/ingest/otlp/proto.js';
import { CountingSink } from './lib/statsd-counting-sink.js';

const depthsArg = process.argv.find((a) => a.startsWith('--depths='))?.slice('--depths='.length) ?? '10,20,24,64';
const depths = depthsArg.split(',').map(Number);

/** LabelMeasuringSink counts like CountingSink and keeps the longest label value it was given. */
class LabelMeasuringSink extends CountingSink {
  longestLabelValue = 0;
  override series(tenant: string, labels: Labels, kind: MetricKind): number {
    for (const l of labels) this.longestLabelValue = Math.max(this.longestLabelValue, l.value.length);
    return super.series(tenant, labels, kind);
  }
}

function body(depth: number): Uint8Array {
  let v: unknown = { stringValue: '"' };
  for (let i = 0; i < depth; i++) v = { kvlistValue: { values: [{ key: 'k', value: v }] } };
  const point = { attributes: [{ key: 'a', value: v }], timeUnixNano: String(BigInt(Date.now()) * 1_000_000n), asDouble: 1 };
  return jsonToProtobuf('metrics', { resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'g', gauge: { dataPoints: [point] } }] }] }] });
}

const rows = [];
for (const depth of depths) {
  const sink = new LabelMeasuringSink();
  const rx = new OtlpReceiver({ sink });
  const b = body(depth);
  (globalThis as { gc?: () => void }).gc?.();
  const rss0 = process.memoryUsage().rss;
  const t0 = process.hrtime.bigint();
  let outcome = 'accepted';
  try {
    rx.exportMetrics(b, 'grpc');
  } catch (e) {
    outcome = `refused: ${(e as Error).message}`;
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const row = { depth, bodyBytes: b.length, ms: +ms.toFixed(2), rssDeltaMiB: +((process.memoryUsage().rss - rss0) / 2 ** 20).toFixed(1), longestLabelValue: sink.longestLabelValue, outcome };
  rows.push(row);
  console.log(`depth ${String(depth).padStart(3)}: ${String(b.length).padStart(5)} B body, ${row.ms.toFixed(2).padStart(8)} ms, +${row.rssDeltaMiB} MiB, longest label value ${row.longestLabelValue} chars, ${outcome}`);
}
mkdirSync(new URL('../../bench/results/', import.meta.url), { recursive: true });
writeFileSync(new URL('../../bench/results/otlp-nesting.json', import.meta.url), JSON.stringify({ scenario: 'otlp-nesting', date: new Date().toISOString(), rows }, null, 2) + '\n');
