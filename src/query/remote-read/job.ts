import { QueryError } from '../promql/api.js';
import type { JobContext } from '../pool/job.js';
import { SAMPLES, decodeReadRequest } from './decode.js';
import { ChunkedFrameEncoder, encodeReadResponse, type SeriesSlice } from './encode.js';
import { sampleCount, selectForRead } from './select.js';
import { snappyCompress } from '../../wire/snappy.js';

/** ReadJobParams are one remote read request, already checked on the main thread. */
export interface ReadJobParams {
  readonly tenant: string;
  /** The uncompressed `prometheus.ReadRequest` bytes (re-decoded here: Matchers do not cross threads). */
  readonly request: Uint8Array;
  /** The negotiated response type, SAMPLES or STREAMED_XOR_CHUNKS. */
  readonly responseType: number;
  readonly sampleLimit: number;
  readonly maxBytesInFrame: number;
}

function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * readJob answers a remote read on a query worker: a snappy-compressed ReadResponse (SAMPLES),
 * or the CRC-framed ChunkedReadResponse stream as one buffer (STREAMED_XOR_CHUNKS). Over the
 * sample limit is QueryError('bad_data'), answered 400 as Prometheus does.
 */
export function readJob(ctx: JobContext, p: ReadJobParams): Uint8Array {
  const rr = decodeReadRequest(p.request);
  if (p.responseType === SAMPLES) {
    const results: SeriesSlice[][] = [];
    let samples = 0;
    for (const q of rr.queries) {
      const slices = selectForRead(ctx.querier, p.tenant, q);
      samples += sampleCount(slices);
      if (samples > p.sampleLimit) throw new QueryError('bad_data', `exceeded sample limit (${p.sampleLimit})`);
      results.push(slices);
      ctx.checkpoint();
    }
    return snappyCompress(encodeReadResponse(results));
  }
  const enc = new ChunkedFrameEncoder(p.maxBytesInFrame);
  const frames: Uint8Array[] = [];
  for (let qi = 0; qi < rr.queries.length; qi++) {
    for (const s of selectForRead(ctx.querier, p.tenant, rr.queries[qi]!)) {
      for (const f of enc.frames(qi, s)) frames.push(f);
      ctx.checkpoint();
    }
  }
  return concat(frames);
}
