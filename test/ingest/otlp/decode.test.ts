import t from 'tap';
import { OtlpReceiver } from '../../../src/ingest/otlp/receiver.js';
import { DecodeError } from '../../../src/wire/proto-reader.js';
import { jsonToProtobuf } from '../../../src/ingest/otlp/proto.js';
import { MetricKind } from '../../../src/model/metric-kind.js';
import { RecordingSink } from './recording-sink.js';
import { ACCEPTED, Refusal } from '../../../src/ingest/sink.js';
import { attrs, metricsRequest, nanos } from './build.js';

const NOW = Date.now();

function setup() {
  const sink = new RecordingSink();
  return { sink, rx: new OtlpReceiver({ sink }) };
}

t.test('an empty request is a success with nothing written', async (t) => {
  const { sink, rx } = setup();
  const res = rx.exportMetrics(new Uint8Array(0), 'grpc');
  t.same(res, { accepted: 0, rejected: 0, message: '' });
  t.equal(sink.samples.length, 0);
});

t.test('every point type reaches the sink with the right call', async (t) => {
  const { sink, rx } = setup();
  const p = (extra: Record<string, unknown>) => ({ attributes: attrs({ k: 'v' }), startTimeUnixNano: nanos(NOW - 60_000), timeUnixNano: nanos(NOW), ...extra });
  const res = rx.exportMetrics(metricsRequest([
    { name: 'temp', unit: 'Cel', gauge: { dataPoints: [p({ asDouble: 21.5 })] } },
    { name: 'threads', gauge: { dataPoints: [p({ asInt: 12 })] } },
    { name: 'reqs', sum: { isMonotonic: true, aggregationTemporality: 1, dataPoints: [p({ asInt: 4 })] } },
    { name: 'reqs.c', sum: { isMonotonic: true, aggregationTemporality: 2, dataPoints: [p({ asDouble: 40 })] } },
    { name: 'inflight', sum: { isMonotonic: false, aggregationTemporality: 1, dataPoints: [p({ asInt: -2 })] } },
    { name: 'conns', sum: { isMonotonic: false, aggregationTemporality: 2, dataPoints: [p({ asInt: 7 })] } },
    { name: 'lat', unit: 'ms', histogram: { aggregationTemporality: 2, dataPoints: [p({ count: 6, sum: 31, bucketCounts: [1, 2, 3], explicitBounds: [1, 10], min: 0.5, max: 20 })] } },
    { name: 'size', unit: 'By', exponentialHistogram: { aggregationTemporality: 1, dataPoints: [p({ count: 5, sum: 40, scale: 3, zeroCount: 1, positive: { offset: 16, bucketCounts: [1, 0, 3] } })] } },
    { name: 'rpc', unit: 's', summary: { dataPoints: [p({ count: 10, sum: 2.5, quantileValues: [{ quantile: 0.5, value: 0.2 }, { quantile: 0.99, value: 0.9 }] })] } },
  ]), 'grpc');
  t.same(res, { accepted: 9, rejected: 0, message: '' });
  const call = (name: string) => {
    const s = sink.byName(name)[0];
    if (!s) return null;
    return sink.samplesOf(s.ref).map((x) => [x.method, x.value, x.startMs]);
  };
  t.same(call('temp_celsius'), [['gaugeSet', 21.5, 0]], 'double gauge with unit suffix');
  t.same(call('threads'), [['gaugeSet', 12, 0]], 'int gauge');
  t.same(call('reqs_total'), [['counter', 4, 0]], 'delta monotonic sum adds an increment');
  t.same(call('reqs_c_total'), [['counterCumulative', 40, NOW - 60_000]], 'cumulative sum passes total and start time');
  t.same(call('inflight'), [['gaugeAdd', -2, 0]], 'delta non-monotonic sum moves a gauge');
  t.same(call('conns'), [['gaugeSet', 7, 0]], 'cumulative non-monotonic sum sets a gauge');
  const lat = sink.byName('lat_milliseconds')[0]!;
  t.equal(lat.kind, MetricKind.Histogram);
  t.same(lat.opts?.bounds, [1, 10]);
  const h = sink.samplesOf(lat.ref)[0]!.h!;
  t.same([h.count, h.sum, h.min, h.max], [6, 31, 0.5, 20]);
  t.same(Array.from(h.classicCounts!), [1, 2, 3], 'classic counts as sent');
  t.equal(h.countLE(10), 3, 'cumulative count at le=10 from the sender buckets');
  const size = sink.byName('size_bytes')[0]!;
  const eh = sink.samplesOf(size.ref)[0]!;
  t.equal(eh.method, 'histogram', 'delta exponential histogram');
  t.equal(eh.h!.count, 5);
  // scale 3: bucket 16 is (2^(16/8), 2^(17/8)] = (4, 4.36]; bucket 18 is (4.76, 5.19].
  const q = eh.h!.quantile(0.9);
  t.ok(q > 4.75 && q <= 5.19, `exponential buckets keep their position (p90 ${q})`);
  t.equal(eh.h!.countLE(0), 1, 'zero bucket at 0');
  t.same(call('rpc_seconds_sum'), [['counterCumulative', 2.5, NOW - 60_000]], 'summary _sum');
  t.same(call('rpc_seconds_count'), [['counterCumulative', 10, NOW - 60_000]], 'summary _count');
  const quantiles = sink.byName('rpc_seconds').map((s) => [s.labels['quantile'], s.kind, sink.samplesOf(s.ref)[0]!.value]);
  t.same(quantiles, [['0.5', MetricKind.Gauge, 0.2], ['0.99', MetricKind.Gauge, 0.9]], 'summary quantiles are gauges');
});

t.test('NaN, infinite and negative counter values are refused and reported', async (t) => {
  const { sink, rx } = setup();
  const p = (v: number) => ({ attributes: attrs({ k: 'v' }), timeUnixNano: nanos(NOW), asDouble: v });
  const res = rx.exportMetrics(metricsRequest([
    { name: 'c', sum: { isMonotonic: true, aggregationTemporality: 1, dataPoints: [p(1), p(NaN), p(Infinity), p(-3)] } },
    { name: 'g', gauge: { dataPoints: [p(-3), p(NaN)] } },
  ]), 'http');
  t.equal(res.accepted, 2);
  t.equal(res.rejected, 4);
  t.match(res.message, /4 data points refused: 4 bad_value/);
  t.same(sink.samples.map((s) => s.value), [1, -3], 'a negative gauge is fine');
});

t.test('points refused by the sink for their timestamp or by a limit are counted in partial success', async (t) => {
  const { sink, rx } = setup();
  sink.refuseSample = (ts) => ts < NOW - 86_400_000;
  sink.refuseSeries = (l) => l['k'] === 'blocked';
  const res = rx.exportMetrics(metricsRequest([
    { name: 'g', gauge: { dataPoints: [
      { attributes: attrs({ k: 'a' }), timeUnixNano: nanos(NOW), asDouble: 1 },
      { attributes: attrs({ k: 'a' }), timeUnixNano: nanos(NOW - 2 * 86_400_000), asDouble: 1 },
      { attributes: attrs({ k: 'blocked' }), timeUnixNano: nanos(NOW), asDouble: 1 },
    ] } },
  ]), 'grpc');
  t.same([res.accepted, res.rejected], [1, 2]);
  t.match(res.message, /1 series_limit/);
  t.match(res.message, /1 pipeline/);
});

t.test('the sink\'s refusal code names each refused point: too_old and kind_mismatch in one request', async (t) => {
  const { sink, rx } = setup();
  // As the pipeline answers: a point older than every tier is too_old; a sample for a series the
  // sink holds under another kind is kind_mismatch.
  sink.judge = (ref, ts) => (ts < NOW - 86_400_000 ? Refusal.TooOld : sink.series_[ref]?.labels['k'] === 'mixed' ? Refusal.KindMismatch : ACCEPTED);
  const res = rx.exportMetrics(metricsRequest([
    { name: 'g', gauge: { dataPoints: [
      { attributes: attrs({ k: 'a' }), timeUnixNano: nanos(NOW), asDouble: 1 },
      { attributes: attrs({ k: 'a' }), timeUnixNano: nanos(NOW - 2 * 86_400_000), asDouble: 2 },
      { attributes: attrs({ k: 'mixed' }), timeUnixNano: nanos(NOW), asDouble: 3 },
      { attributes: attrs({ k: 'mixed' }), timeUnixNano: nanos(NOW), asDouble: 4 },
    ] } },
  ]), 'grpc');
  t.same([res.accepted, res.rejected], [1, 3]);
  t.match(res.message, /3 data points refused: .*1 too_old \(timestamp older than every tier's retention\)/);
  t.match(res.message, /2 kind_mismatch \(the series exists with another metric kind\)/);
  t.notMatch(res.message, /pipeline/, 'no generic reason when the sink named one');
  t.same(sink.samples.map((s) => s.value), [1], 'only the accepted point reached the sink');
});

t.test('a known series is resolved from its bytes: series() is called once across requests', async (t) => {
  const { sink, rx } = setup();
  const req = (v: number) => metricsRequest([{ name: 'g', gauge: { dataPoints: [
    { attributes: attrs({ a: '1', b: '2' }), timeUnixNano: nanos(NOW), asDouble: v },
    { attributes: attrs({ a: '1', b: '3' }), timeUnixNano: nanos(NOW), asDouble: v },
  ] } }]);
  for (let i = 0; i < 5; i++) rx.exportMetrics(req(i), 'grpc');
  t.equal(sink.seriesCalls, 2);
  t.equal(sink.samples.length, 10);
  t.same(sink.series_.map((s) => s.labels['b']), ['2', '3']);
});

t.test('attributes interleaved with other fields resolve to the same series', async (t) => {
  const { sink, rx } = setup();
  rx.exportMetrics(metricsRequest([{ name: 'g', gauge: { dataPoints: [{ attributes: attrs({ a: '1', b: '2' }), timeUnixNano: nanos(NOW), asDouble: 1 }] } }]), 'grpc');
  // Hand-build a NumberDataPoint: attribute a, time, attribute b, value.
  const kv = (k: string, v: string) => Buffer.concat([Buffer.from([0x0a, k.length]), Buffer.from(k), Buffer.from([0x12, v.length + 2, 0x0a, v.length]), Buffer.from(v)]);
  const field = (tag: number, payload: Buffer) => Buffer.concat([Buffer.from([tag, payload.length]), payload]);
  const time = Buffer.alloc(9); time[0] = (3 << 3) | 1; time.writeBigUInt64LE(BigInt(NOW) * 1_000_000n, 1);
  const val = Buffer.alloc(9); val[0] = (4 << 3) | 1; val.writeDoubleLE(2, 1);
  const point = Buffer.concat([field((7 << 3) | 2, kv('a', '1')), time, field((7 << 3) | 2, kv('b', '2')), val]);
  const gauge = field((1 << 3) | 2, point);
  const metric = Buffer.concat([field((1 << 3) | 2, Buffer.from('g')), field((5 << 3) | 2, gauge)]);
  const scope = field((2 << 3) | 2, metric);
  const resource = field((1 << 3) | 2, field((1 << 3) | 2, kv('service.name', 'svc')));
  const rm = field((1 << 3) | 2, Buffer.concat([resource, field((2 << 3) | 2, scope)]));
  const res = rx.exportMetrics(rm, 'grpc');
  t.same(res, { accepted: 1, rejected: 0, message: '' });
  t.equal(sink.series_.length, 1, 'one series');
  t.same(sink.samples.map((s) => [s.ref, s.value]), [[0, 1], [0, 2]]);
});

t.test('unknown fields at every level are skipped', async (t) => {
  const { sink, rx } = setup();
  const unknown = Buffer.from([(99 << 3 & 0x7f) | 0x80 | 0, 99 >> 4, 0x05, (100 << 3 & 0x7f) | 0x80 | 5, 100 >> 4, 1, 2, 3, 4, (101 << 3 & 0x7f) | 0x80 | 2, 101 >> 4, 2, 0xff, 0xfe]);
  const base = Buffer.from(metricsRequest([{ name: 'g', gauge: { dataPoints: [{ attributes: attrs({ a: '1' }), timeUnixNano: nanos(NOW), asDouble: 1 }] } }]));
  const res = rx.exportMetrics(Buffer.concat([unknown, base, unknown]), 'grpc');
  t.same(res, { accepted: 1, rejected: 0, message: '' });
  t.equal(sink.samples[0]?.value, 1);
});

t.test('a huge attribute value is kept whole', async (t) => {
  const { sink, rx } = setup();
  const big = 'x'.repeat(1 << 20);
  rx.exportMetrics(metricsRequest([{ name: 'g', gauge: { dataPoints: [{ attributes: attrs({ big }), timeUnixNano: nanos(NOW), asDouble: 1 }] } }]), 'grpc');
  t.equal(sink.series_[0]?.labels['big']?.length, 1 << 20);
});

t.test('truncated and garbage bodies raise DecodeError, never another failure', async (t) => {
  const { rx } = setup();
  const full = metricsRequest([
    { name: 'lat', unit: 'ms', histogram: { aggregationTemporality: 2, dataPoints: [{ attributes: attrs({ k: 'v' }), timeUnixNano: nanos(NOW), count: 3, sum: 3, bucketCounts: [1, 2], explicitBounds: [1] }] } },
    { name: 'g', gauge: { dataPoints: [{ attributes: attrs({ k: 'v' }), timeUnixNano: nanos(NOW), asDouble: 1 }] } },
  ]);
  let decodeErrors = 0, other = 0;
  for (let cut = 1; cut < full.length; cut++) {
    try {
      rx.exportMetrics(full.subarray(0, cut), 'grpc');
    } catch (err) {
      if (err instanceof DecodeError) decodeErrors++;
      else other++;
    }
  }
  t.equal(other, 0, 'no truncation crashes');
  t.ok(decodeErrors > full.length / 2, `most truncations are reported malformed (${decodeErrors}/${full.length - 1})`);
  let seed = 42;
  const rnd = () => ((seed = Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0) / 2 ** 32;
  other = 0;
  for (let i = 0; i < 2000; i++) {
    const g = new Uint8Array(1 + Math.floor(rnd() * 64));
    for (let j = 0; j < g.length; j++) g[j] = Math.floor(rnd() * 256);
    try {
      rx.exportMetrics(g, 'grpc');
    } catch (err) {
      if (!(err instanceof DecodeError)) other++;
    }
  }
  t.equal(other, 0, 'random garbage never crashes the decoder');
});

t.test('a point flagged NO_RECORDED_VALUE ends its series at its time, as a stale marker', async (t) => {
  const { sink, rx } = setup();
  const g = (flags: number, at: number) => ({ attributes: attrs({ a: '1' }), timeUnixNano: nanos(at), asDouble: 1, flags });
  const res = rx.exportMetrics(metricsRequest([{ name: 'g', gauge: { dataPoints: [g(0, NOW - 1000), g(1, NOW)] } }]), 'grpc');
  t.same(res, { accepted: 2, rejected: 0, message: '' });
  t.equal(sink.samples.length, 1, 'the flagged point records no value');
  t.same(sink.stales, [{ ref: sink.samples[0]!.ref, tsMs: NOW }], 'it ends the same series at its own time');
});

t.test('a histogram whose bounds change is redeclared with the new bounds', async (t) => {
  const { sink, rx } = setup();
  const req = (bounds: number[]) => metricsRequest([{ name: 'h', histogram: { aggregationTemporality: 1, dataPoints: [{ attributes: attrs({ a: '1' }), timeUnixNano: nanos(NOW), count: 1, sum: 1, bucketCounts: bounds.map(() => 0).concat([1]), explicitBounds: bounds }] } }]);
  rx.exportMetrics(req([1, 2]), 'grpc');
  rx.exportMetrics(req([1, 2]), 'grpc');
  rx.exportMetrics(req([5]), 'grpc');
  t.equal(sink.seriesCalls, 2);
  t.same(sink.samples.map((s) => Array.from(s.h!.bounds!)), [[1, 2], [1, 2], [5]]);
  const bad = rx.exportMetrics(metricsRequest([{ name: 'h', histogram: { aggregationTemporality: 1, dataPoints: [{ attributes: attrs({ a: '1' }), timeUnixNano: nanos(NOW), count: 1, bucketCounts: [1, 0, 0], explicitBounds: [2, 1] }] } }]), 'grpc');
  t.equal(bad.rejected, 1, 'unsorted bounds are refused');
});

t.test('a negative as_int gauge reads -5 through the protobuf and the OTLP/JSON paths', async (t) => {
  const { sink, rx } = setup();
  const point = (asInt: number | string) => ({ attributes: attrs({ k: 'v' }), timeUnixNano: nanos(NOW), asInt });
  rx.exportMetrics(metricsRequest([{ name: 'neg_pb', gauge: { dataPoints: [point(-5)] } }]), 'grpc');
  rx.exportMetrics(jsonToProtobuf('metrics', JSON.parse(JSON.stringify({
    resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'neg_json', gauge: { dataPoints: [point('-5')] } }] }] }],
  }))), 'http');
  for (const name of ['neg_pb', 'neg_json']) {
    const s = sink.byName(name)[0];
    t.same(s && sink.samplesOf(s.ref).map((x) => [x.method, x.value]), [['gaugeSet', -5]], name);
  }
});
