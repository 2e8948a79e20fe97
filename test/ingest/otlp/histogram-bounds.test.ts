import t from 'tap';
import protobuf from 'protobufjs';
import { OtlpReceiver } from '../../../src/ingest/otlp/receiver.js';
import { RecordingSink } from './recording-sink.js';
import { attrs, metricsRequest, nanos } from './build.js';

// The writer compares a point's packed explicit_bounds bytes with the bytes of its series' bucket
// layout and only decodes them when they differ. These tests pin the cases where the bytes are
// not the whole story: equal values in other bytes, bad values on a known series, and bounds sent
// unpacked or split over several fields (all legal protobuf).

const NOW = Date.now();

function histogramRequest(bounds: number[], counts: number[]): Uint8Array {
  return metricsRequest([{ name: 'h', histogram: { aggregationTemporality: 1, dataPoints: [{
    attributes: attrs({ a: '1' }), timeUnixNano: nanos(NOW), count: counts.reduce((x, y) => x + y, 0), sum: 1, bucketCounts: counts, explicitBounds: bounds,
  }] } }]);
}

/**
 * handBuilt encodes the same request with explicit_bounds written as `groups`: each group one
 * packed field, or with `unpacked` one fixed64-typed field per value.
 */
function handBuilt(groups: number[][], counts: number[], unpacked: boolean): Uint8Array {
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | 2).fork();                       // ResourceMetrics
  w.uint32((2 << 3) | 2).fork();                       //  ScopeMetrics
  w.uint32((2 << 3) | 2).fork();                       //   Metric
  w.uint32((1 << 3) | 2).string('h');
  w.uint32((9 << 3) | 2).fork();                       //    Histogram
  w.uint32((1 << 3) | 2).fork();                       //     HistogramDataPoint
  w.uint32((9 << 3) | 2).fork().uint32((1 << 3) | 2).string('a').uint32((2 << 3) | 2).fork().uint32((1 << 3) | 2).string('1').ldelim().ldelim();
  w.uint32((3 << 3) | 1).fixed64(nanos(NOW));
  w.uint32((4 << 3) | 1).fixed64(counts.reduce((x, y) => x + y, 0));
  w.uint32((5 << 3) | 1).double(1);
  w.uint32((6 << 3) | 2).fork();
  for (const c of counts) w.fixed64(c);
  w.ldelim();
  for (const g of groups) {
    if (unpacked) for (const b of g) w.uint32((7 << 3) | 1).double(b);
    else {
      w.uint32((7 << 3) | 2).fork();
      for (const b of g) w.double(b);
      w.ldelim();
    }
  }
  w.ldelim();                                          //     end point
  w.uint32((2 << 3) | 0).uint32(1);                    //     delta
  w.ldelim().ldelim().ldelim().ldelim();
  return w.finish();
}

t.test('bounds equal by value but not by bytes (-0 and 0) keep the series as it is', async (t) => {
  const sink = new RecordingSink();
  const rx = new OtlpReceiver({ sink });
  rx.exportMetrics(histogramRequest([0, 1], [1, 0, 0]), 'grpc');
  const res = rx.exportMetrics(histogramRequest([-0, 1], [0, 1, 0]), 'grpc');
  t.equal(res.rejected, 0);
  t.equal(sink.seriesCalls, 1, 'not redeclared');
  t.equal(sink.samples.length, 2);
});

t.test('a known series still refuses bounds that are not finite or not increasing', async (t) => {
  const sink = new RecordingSink();
  const rx = new OtlpReceiver({ sink });
  t.equal(rx.exportMetrics(histogramRequest([1, 2], [1, 0, 0]), 'grpc').rejected, 0);
  t.equal(rx.exportMetrics(histogramRequest([1, NaN], [1, 0, 0]), 'grpc').rejected, 1, 'NaN bound');
  t.equal(rx.exportMetrics(histogramRequest([1, Infinity], [1, 0, 0]), 'grpc').rejected, 1, 'infinite bound');
  t.equal(rx.exportMetrics(histogramRequest([2, 2], [1, 0, 0]), 'grpc').rejected, 1, 'repeated bound');
  t.equal(rx.exportMetrics(histogramRequest([1, 2], [1, 0]), 'grpc').rejected, 1, 'one bucket short');
  t.equal(rx.exportMetrics(histogramRequest([1, 2], [0, 0, 1]), 'grpc').rejected, 0, 'the first bounds again');
  t.equal(sink.seriesCalls, 1);
  t.same(sink.samples.map((s) => Array.from(s.h!.bounds!)), [[1, 2], [1, 2]]);
});

t.test('bounds sent unpacked or split over several packed fields read as one list', async (t) => {
  for (const [name, body] of [
    ['packed in one field', handBuilt([[0.5, 1, 5]], [1, 2, 3, 4], false)],
    ['packed in two fields', handBuilt([[0.5], [1, 5]], [1, 2, 3, 4], false)],
    ['packed, an empty field first', handBuilt([[], [0.5, 1, 5]], [1, 2, 3, 4], false)],
    ['unpacked', handBuilt([[0.5, 1, 5]], [1, 2, 3, 4], true)],
  ] as const) {
    const sink = new RecordingSink();
    const rx = new OtlpReceiver({ sink });
    const res = rx.exportMetrics(body, 'grpc');
    t.equal(res.rejected, 0, name);
    t.same(sink.series_[0]?.opts?.bounds, [0.5, 1, 5], `${name}: declared bounds`);
    t.same(Array.from(sink.samples[0]?.h?.classicCounts ?? []), [1, 2, 3, 4], `${name}: bucket counts`);
    // The same series again as one packed field: same bounds, no redeclaration.
    t.equal(rx.exportMetrics(handBuilt([[0.5, 1, 5]], [0, 0, 0, 1], false), 'grpc').rejected, 0);
    t.equal(sink.seriesCalls, 1, `${name}: the packed form afterwards is the same series and bounds`);
  }
});
