import type { Labels } from '../../model/labels.js';
import { ProtoWriter, int64Size, lenFieldSize } from '../../query/remote-read/proto-writer.js';
import { encodeLabels } from '../../query/remote-read/encode.js';
import { snappyCompress } from '../../wire/snappy.js';

/** WireSeries is one TimeSeries of a WriteRequest: samples [from, to) of the arrays. */
export interface WireSeries {
  readonly labels: Labels;
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
  readonly from: number;
  readonly to: number;
}

function sampleSize(t: number): number {
  // double value = 1 (tag + 8 bytes), int64 timestamp = 2 (tag + varint).
  return 9 + 1 + int64Size(t);
}

/**
 * encodeWriteRequest writes a Prometheus remote write 1.0 `WriteRequest`
 * (proto/prometheus/remote.proto: `repeated TimeSeries timeseries = 1`; TimeSeries:
 * `repeated Label labels = 1`, `repeated Sample samples = 2`) and snappy-compresses it (block
 * format), which is the body a receiver expects with `Content-Encoding: snappy`.
 */
export function encodeWriteRequest(series: readonly WireSeries[]): Uint8Array {
  const w = new ProtoWriter(4096);
  for (const s of series) {
    const labels = encodeLabels(s.labels);
    let size = labels.length;
    for (let i = s.from; i < s.to; i++) size += lenFieldSize(sampleSize(s.timestamps[i]!));
    w.tag(1, 2);
    w.varint(size);
    w.raw(labels);
    for (let i = s.from; i < s.to; i++) {
      const t = s.timestamps[i]!;
      w.tag(2, 2);
      w.varint(sampleSize(t));
      w.tag(1, 1);
      w.double(s.values[i]!);
      w.tag(2, 0);
      w.int64(t);
    }
  }
  return snappyCompress(w.finish());
}
