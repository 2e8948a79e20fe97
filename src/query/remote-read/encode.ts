import type { Labels } from '../../model/labels.js';
import { crc32c } from './crc32c.js';
import { ProtoWriter, int64Size, lenFieldSize, varintSize } from './proto-writer.js';
import { MAX_SAMPLES_PER_CHUNK, XorChunkWriter } from './xor-chunk.js';

/**
 * Encoders for the two remote-read answers (proto/prometheus/remote.proto): `ReadResponse` for
 * SAMPLES and framed `ChunkedReadResponse` messages for STREAMED_XOR_CHUNKS.
 */

/** SeriesSlice is the part [from, to) of one series' samples that answers a query. */
export interface SeriesSlice {
  /** labels as encoded `repeated Label labels = 1` fields (see encodeLabels). */
  readonly labels: Uint8Array;
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
  readonly from: number;
  readonly to: number;
}

/** DEFAULT_MAX_BYTES_IN_FRAME is Prometheus' --storage.remote.read-max-bytes-in-frame default. */
export const DEFAULT_MAX_BYTES_IN_FRAME = 1048576;

const utf8 = new TextEncoder();

/** encodeLabels writes labels as the `repeated Label labels = 1` field of TimeSeries and ChunkedSeries. */
export function encodeLabels(labels: Labels): Uint8Array {
  const w = new ProtoWriter(64);
  for (let i = 0; i < labels.length; i++) {
    const name = utf8.encode(labels[i]!.name);
    const value = utf8.encode(labels[i]!.value);
    w.tag(1, 2);
    w.varint(lenFieldSize(name.length) + lenFieldSize(value.length));
    w.lenBytes(1, name);
    w.lenBytes(2, value);
  }
  return w.finish();
}

function sampleSize(t: number): number {
  return 9 + 1 + int64Size(t);
}

function timeSeriesSize(s: SeriesSlice): number {
  let n = s.labels.length;
  const ts = s.timestamps;
  for (let i = s.from; i < s.to; i++) n += 2 + sampleSize(ts[i]!);
  return n;
}

/** encodeReadResponse writes a `ReadResponse` with one QueryResult per query, in query order. */
export function encodeReadResponse(results: ReadonlyArray<readonly SeriesSlice[]>): Uint8Array {
  const tsSizes: number[][] = [];
  const qrSizes: number[] = [];
  let total = 0;
  for (const series of results) {
    const sizes: number[] = [];
    let qr = 0;
    for (const s of series) {
      const n = timeSeriesSize(s);
      sizes.push(n);
      qr += lenFieldSize(n);
    }
    tsSizes.push(sizes);
    qrSizes.push(qr);
    total += lenFieldSize(qr);
  }
  const w = new ProtoWriter(total);
  for (let q = 0; q < results.length; q++) {
    const series = results[q]!;
    w.tag(1, 2);
    w.varint(qrSizes[q]!);
    for (let k = 0; k < series.length; k++) {
      const s = series[k]!;
      w.tag(1, 2);
      w.varint(tsSizes[q]![k]!);
      w.raw(s.labels);
      const ts = s.timestamps, vs = s.values;
      for (let i = s.from; i < s.to; i++) {
        const t = ts[i]!;
        w.tag(2, 2);
        w.varint(sampleSize(t));
        w.tag(1, 1);
        w.double(vs[i]!);
        w.tag(2, 0);
        w.int64(t);
      }
    }
  }
  return w.buf.length === w.pos ? w.buf : w.finish();
}

/**
 * ChunkedFrameEncoder turns series into framed `ChunkedReadResponse` messages. Like Prometheus,
 * a frame holds chunks of one series only; a series whose chunks pass `maxBytesInFrame` (minus
 * its labels) is split over several frames, each carrying the labels again. A frame may exceed
 * the limit by at most one chunk.
 */
export class ChunkedFrameEncoder {
  private readonly chunk = new XorChunkWriter();
  private readonly chunks = new ProtoWriter(4096);
  private readonly frame = new ProtoWriter(4096);
  private readonly maxBytesInFrame: number;

  constructor(maxBytesInFrame = DEFAULT_MAX_BYTES_IN_FRAME) {
    this.maxBytesInFrame = maxBytesInFrame;
  }

  /** frames yields each frame of one series (fresh buffers the caller may keep). */
  *frames(queryIndex: number, s: SeriesSlice): Generator<Uint8Array> {
    const budget = this.maxBytesInFrame - s.labels.length;
    let left = budget;
    const chunks = this.chunks;
    chunks.reset();
    const ts = s.timestamps, vs = s.values;
    let i = s.from;
    while (i < s.to) {
      const c = this.chunk;
      c.reset();
      let last = -Infinity;
      for (; i < s.to && c.count < MAX_SAMPLES_PER_CHUNK; i++) {
        const t = ts[i]!;
        // A chunk cannot hold time going backwards; the querier's contract rules it out anyway.
        if (t < last) continue;
        c.append(t, vs[i]!);
        last = t;
      }
      if (c.count === 0) break;
      const data = c.bytes();
      const body = 1 + int64Size(c.minT) + 1 + int64Size(c.maxT) + 2 + lenFieldSize(data.length);
      const before = chunks.pos;
      chunks.tag(2, 2);
      chunks.varint(body);
      chunks.tag(1, 0);
      chunks.int64(c.minT);
      chunks.tag(2, 0);
      chunks.int64(c.maxT);
      chunks.tag(3, 0);
      chunks.varint(1); // Chunk.Encoding XOR
      chunks.lenBytes(4, data);
      left -= chunks.pos - before;
      if (left <= 0 && i < s.to) {
        yield this.seal(queryIndex, s.labels);
        chunks.reset();
        left = budget;
      }
    }
    if (chunks.pos > 0) yield this.seal(queryIndex, s.labels);
  }

  private seal(queryIndex: number, labels: Uint8Array): Uint8Array {
    const series = labels.length + this.chunks.pos;
    const msg = lenFieldSize(series) + (queryIndex !== 0 ? 1 + varintSize(queryIndex) : 0);
    const f = this.frame;
    f.reset();
    f.ensure(varintSize(msg) + 4 + msg);
    f.varint(msg);
    const crcAt = f.pos;
    f.pos += 4;
    const start = f.pos;
    f.tag(1, 2);
    f.varint(series);
    f.raw(labels);
    f.raw(this.chunks.buf.subarray(0, this.chunks.pos));
    if (queryIndex !== 0) {
      f.tag(2, 0);
      f.varint(queryIndex);
    }
    const crc = crc32c(f.buf, start, f.pos);
    f.buf[crcAt] = crc >>> 24;
    f.buf[crcAt + 1] = (crc >>> 16) & 0xff;
    f.buf[crcAt + 2] = (crc >>> 8) & 0xff;
    f.buf[crcAt + 3] = crc & 0xff;
    return f.finish();
  }
}
