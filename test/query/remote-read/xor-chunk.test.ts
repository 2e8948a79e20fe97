import t, { type Test } from 'tap';
import { XorChunkWriter } from '../../../src/query/remote-read/xor-chunk.js';
import { decodeXorChunk, sameFloat } from './xor-decode.js';

function encode(ts: number[], vs: number[]): Uint8Array {
  const w = new XorChunkWriter(4);
  for (let i = 0; i < ts.length; i++) w.append(ts[i]!, vs[i]!);
  return w.bytes().slice();
}

function roundTrip(t: Test, name: string, ts: number[], vs: number[]): void {
  const d = decodeXorChunk(encode(ts, vs));
  t.same(d.timestamps, ts, `${name}: timestamps survive`);
  const bad = vs.findIndex((v, i) => !sameFloat(v, d.values[i]!));
  t.equal(bad, -1, `${name}: values survive bit for bit`);
}

t.test('a one-sample chunk is the count header, zig-zag varint time and raw float bits', async (t) => {
  t.same([...encode([1], [1.0])], [0x00, 0x01, 0x02, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0]);
});

t.test('a repeated value after a time delta costs one bit', async (t) => {
  // Header (2), zig-zag varint of 1000 (d0 0f), float bits (8); then the delta 1000 as uvarint
  // (e8 07) and the unchanged value as a single 0 bit, padded to a byte.
  t.same([...encode([1000, 2000], [1, 1])].slice(2, 4), [0xd0, 0x0f]);
  t.same([...encode([1000, 2000], [1, 1])].slice(12), [0xe8, 0x07, 0x00]);
  t.equal(encode([1000, 2000], [1, 1])[1], 2, 'the header counts two samples');
});

t.test('regular scrapes, jitter, gaps and every delta-of-delta bucket decode back exactly', async (t) => {
  const base = 1_700_000_000_000;
  const ts: number[] = [base];
  const steps = [15000, 15000, 15001, 14999, 15000, 8192 + 15000, 15000 - 8191, 70000, 600000, 3_600_000_000, 1, 0, 15000];
  for (const s of steps) ts.push(ts[ts.length - 1]! + s);
  const vs = ts.map((_, i) => i * 1.5);
  roundTrip(t, 'buckets', ts, vs);
});

t.test('special and extreme float values decode back bit for bit', async (t) => {
  const vs = [0, -0, NaN, Infinity, -Infinity, Number.MAX_VALUE, Number.MIN_VALUE, -1e-300, 1, 1, 2, 1e300, 0.1 + 0.2, 42];
  const ts = vs.map((_, i) => 1000 * i);
  roundTrip(t, 'floats', ts, vs);
  // Prometheus' stale marker is a NaN with a payload; it must not become a plain NaN.
  const stale = new Float64Array(new BigUint64Array([0x7ff0000000000002n]).buffer)[0]!;
  roundTrip(t, 'stale marker', [1, 2, 3], [1, stale, 2]);
});

t.test('random counters and gauges over 120 samples decode back exactly', async (t) => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let round = 0; round < 50; round++) {
    const ts: number[] = [];
    const vs: number[] = [];
    let time = Math.floor(rnd() * 2e12);
    let v = 0;
    for (let i = 0; i < 120; i++) {
      time += Math.floor(rnd() < 0.9 ? 10000 : rnd() * 1e7);
      v = round % 2 === 0 ? v + Math.floor(rnd() * 100) : rnd() * 10 ** Math.floor(rnd() * 20 - 10);
      ts.push(time);
      vs.push(v);
    }
    const d = decodeXorChunk(encode(ts, vs));
    if (JSON.stringify(d.timestamps) !== JSON.stringify(ts) || d.values.some((x, i) => !sameFloat(x, vs[i]!))) {
      t.fail(`round ${round} did not round-trip`);
      return;
    }
  }
  t.pass('50 random chunks round-trip');
});

t.test('timestamps before 1970 (negative) encode as zig-zag varints', async (t) => {
  roundTrip(t, 'negative', [-5000, -4000, -2500, 0, 10], [1, 2, 3, 4, 5]);
});

t.test('reset reuses the buffer and starts a clean chunk', async (t) => {
  const w = new XorChunkWriter(4);
  for (let i = 0; i < 100; i++) w.append(i * 1000, Math.sin(i));
  w.reset();
  w.append(1, 1.0);
  t.same([...w.bytes()], [0x00, 0x01, 0x02, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0]);
  t.equal(w.minT, 1);
  t.equal(w.maxT, 1);
});
