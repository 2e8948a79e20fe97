// Remote read encoding: samples/s and heap bytes allocated per sample for the XOR chunk encoder,
// the SAMPLES answer (protobuf + snappy) and the STREAMED_XOR_CHUNKS answer (chunks + frames +
// CRC-32C), over 1,000 series of 720 samples (2 h at 10 s), counters and noisy gauges alike.
// Run: node --expose-gc dist/bench/remoteread.js [--series=N] [--samples=N] [--rounds=N]
import { mkdirSync, writeFileSync } from 'node:fs';
import { labelsFromRecord } from '../src/model/labels.js';
import { ChunkedFrameEncoder, encodeLabels, encodeReadResponse, type SeriesSlice } from '../src/query/remote-read/encode.js';
import { snappyCompress } from '../src/wire/snappy.js';
import { XorChunkWriter, MAX_SAMPLES_PER_CHUNK } from '../src/query/remote-read/xor-chunk.js';

const arg = (name: string, dflt: number): number => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.slice(name.length + 3)) : dflt;
};
const SERIES = arg('series', 1000);
const SAMPLES = arg('samples', 720);
const ROUNDS = arg('rounds', 3);

const slices: SeriesSlice[] = [];
for (let s = 0; s < SERIES; s++) {
  const ts = new Float64Array(SAMPLES);
  const vs = new Float64Array(SAMPLES);
  let v = 0;
  for (let i = 0; i < SAMPLES; i++) {
    ts[i] = 1_700_000_000_000 + i * 10_000 + (i % 17 === 0 ? 3 : 0);
    v = s % 2 === 0 ? v + ((i * 7919) % 13) : Math.sin(i + s) * 100;
    vs[i] = v;
  }
  const labels = encodeLabels(labelsFromRecord({ __name__: 'llm_tokens_total', agent: `agent-${s}`, model: 'gpt-4o', type: 'prompt' }));
  slices.push({ labels, timestamps: ts, values: vs, from: 0, to: SAMPLES });
}
const total = SERIES * SAMPLES;

function measure(name: string, fn: () => number): Record<string, number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  fn(); // warm up
  let best = Infinity, bytes = 0, alloc = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    gc?.();
    const heap0 = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    const t0 = process.hrtime.bigint();
    bytes = fn();
    const ns = Number(process.hrtime.bigint() - t0);
    const heap1 = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    best = Math.min(best, ns);
    alloc = Math.min(alloc, Math.max(0, heap1 - heap0));
  }
  const row = {
    samples_per_s: Math.round(total / (best / 1e9)),
    ns_per_sample: +(best / total).toFixed(1),
    out_bytes_per_sample: +(bytes / total).toFixed(3),
    heap_bytes_per_sample: gc ? +(alloc / total).toFixed(2) : NaN,
  };
  console.log(`${name.padEnd(28)} ${String(row.samples_per_s).padStart(12)} samples/s  ${String(row.ns_per_sample).padStart(6)} ns/sample  ${String(row.out_bytes_per_sample).padStart(7)} B out/sample  ${String(row.heap_bytes_per_sample).padStart(6)} B heap/sample`);
  return row;
}

const w = new XorChunkWriter();
const results: Record<string, unknown> = { series: SERIES, samples_per_series: SAMPLES };
results.xor_chunks = measure('xor chunk encode', () => {
  let bytes = 0;
  for (const s of slices) {
    for (let i = 0; i < SAMPLES; ) {
      w.reset();
      for (let k = 0; k < MAX_SAMPLES_PER_CHUNK && i < SAMPLES; k++, i++) w.append(s.timestamps[i]!, s.values[i]!);
      bytes += w.bytes().length;
    }
  }
  return bytes;
});
results.samples_response = measure('SAMPLES protobuf+snappy', () => snappyCompress(encodeReadResponse([slices])).length);
results.streamed_response = measure('STREAMED_XOR_CHUNKS frames', () => {
  const enc = new ChunkedFrameEncoder();
  let bytes = 0;
  for (const s of slices) for (const f of enc.frames(0, s)) bytes += f.length;
  return bytes;
});

// Compiled to <outDir>/bench/remoteread.js; results go to the source tree's bench/results/.
const dir = new URL('../../bench/results/', import.meta.url).pathname;
mkdirSync(dir, { recursive: true });
writeFileSync(dir + 'remoteread.json', JSON.stringify({ at: new Date().toISOString(), ...results }, null, 2));
