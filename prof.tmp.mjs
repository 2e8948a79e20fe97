import { buildRequests } from './dist-otlp/bench/otlp-payload.js';
import { OtlpReceiver } from './dist-otlp/src/ingest/otlp/receiver.js';
const reqs = buildRequests(20, Date.now());
let calls = 0; const sink = { series: () => calls++, counter: () => true, counterCumulative: () => true, gaugeSet: () => true, gaugeAdd: () => true, observe: () => true, setMember: () => true, histogram: () => true, histogramCumulative: () => true, flush() {}, accepting: () => true };
const rx = new OtlpReceiver({ sink });
for (const kind of ['all']) {
  const t0 = performance.now(); let n = 0;
  while (performance.now() - t0 < 4000) { rx.exportMetrics(reqs[n % 20], 'grpc'); n++; }
  console.log(kind, calls, Math.round(n * 1000 / ((performance.now() - t0) / 1000)), 'points/s');
}
