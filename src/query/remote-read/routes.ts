import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Querier } from '../../store/interface.js';
import { DecodeError, SAMPLES, STREAMED_XOR_CHUNKS, decodeReadRequest, type ReadRequest } from './decode.js';
import { ChunkedFrameEncoder, DEFAULT_MAX_BYTES_IN_FRAME, encodeReadResponse, type SeriesSlice } from './encode.js';
import { sampleCount, selectForRead } from './select.js';
import { snappyCompress, snappyUncompress } from '../../wire/snappy.js';

/** RemoteReadOptions configure `remoteReadRoutes`. */
export interface RemoteReadOptions {
  /** querier returns the querier to read through (called once per request). */
  readonly querier: () => Querier;
  /** tenantOf names the tenant a request may read; it throws (answered 401/403) to refuse. */
  readonly tenantOf: (req: FastifyRequest) => string;
  /** Frame size target for STREAMED_XOR_CHUNKS; default 1 MiB, as Prometheus. */
  readonly maxBytesInFrame?: number;
  /** Most samples one SAMPLES answer may hold (Prometheus' remote-read sample limit); default 5e7. */
  readonly sampleLimit?: number;
  /** Largest accepted request body, compressed and uncompressed; default 4 MiB. */
  readonly bodyLimit?: number;
}

/** SAMPLES_CONTENT_TYPE and STREAMED_CONTENT_TYPE are the two answers' Content-Type headers. */
export const SAMPLES_CONTENT_TYPE = 'application/x-protobuf';
export const STREAMED_CONTENT_TYPE = 'application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse';

/** negotiateResponseType picks the first accepted type tallyd supports; SAMPLES when none listed. */
export function negotiateResponseType(accepted: readonly number[]): number | null {
  if (accepted.length === 0) return SAMPLES;
  for (const t of accepted) if (t === SAMPLES || t === STREAMED_XOR_CHUNKS) return t;
  return null;
}

function statusOf(err: unknown): number {
  const code = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' && code >= 400 && code < 600 ? code : 500;
}

function* streamFrames(req: ReadRequest, querier: Querier, tenant: string, maxBytesInFrame: number): Generator<Buffer> {
  const enc = new ChunkedFrameEncoder(maxBytesInFrame);
  for (let qi = 0; qi < req.queries.length; qi++) {
    // One query at a time, so memory holds one query's series, not the whole answer.
    const series = selectForRead(querier, tenant, req.queries[qi]!);
    for (const s of series) {
      for (const f of enc.frames(qi, s)) yield Buffer.from(f.buffer, f.byteOffset, f.byteLength);
    }
  }
}

/**
 * remoteReadRoutes serves Prometheus remote read on `POST /api/v1/read`: a snappy-compressed
 * `prometheus.ReadRequest` in, and either a snappy-compressed `ReadResponse` (SAMPLES) or a
 * stream of CRC-framed `ChunkedReadResponse` messages with XOR chunks (STREAMED_XOR_CHUNKS)
 * out, chosen by the request's `accepted_response_types`. Errors answer as Prometheus does:
 * plain text, 400 for a bad request, 500 otherwise.
 */
export async function remoteReadRoutes(app: FastifyInstance, opts: RemoteReadOptions): Promise<void> {
  const bodyLimit = opts.bodyLimit ?? 4 * 1024 * 1024;
  const maxBytesInFrame = opts.maxBytesInFrame ?? DEFAULT_MAX_BYTES_IN_FRAME;
  const sampleLimit = opts.sampleLimit ?? 50_000_000;

  // The body is snappy bytes whatever Content-Type a client sends; this plugin is encapsulated,
  // so replacing the parsers here leaves the rest of the server's routes alone.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_req, body, done) => done(null, body));

  app.post('/api/v1/read', async (req: FastifyRequest, reply: FastifyReply) => {
    const fail = (code: number, message: string) => reply.code(code).type('text/plain; charset=utf-8').send(message + '\n');
    let tenant: string;
    try {
      tenant = opts.tenantOf(req);
    } catch (err) {
      return fail(statusOf(err), (err as Error).message);
    }
    const body = req.body;
    if (!(body instanceof Uint8Array) || body.length === 0) return fail(400, 'empty remote read request body');
    let rr: ReadRequest;
    try {
      rr = decodeReadRequest(snappyUncompress(body, bodyLimit));
    } catch (err) {
      const msg = err instanceof DecodeError ? err.message : `snappy: ${(err as Error).message}`;
      return fail(400, msg);
    }
    const type = negotiateResponseType(rr.acceptedResponseTypes);
    if (type === null) {
      return fail(400, `server does not support any of the requested response types: ${rr.acceptedResponseTypes.join(', ')}; supported: SAMPLES, STREAMED_XOR_CHUNKS`);
    }
    const querier = opts.querier();

    if (type === SAMPLES) {
      let results: SeriesSlice[][];
      try {
        results = [];
        let samples = 0;
        for (const q of rr.queries) {
          const slices = selectForRead(querier, tenant, q);
          samples += sampleCount(slices);
          if (samples > sampleLimit) return fail(400, `exceeded sample limit (${sampleLimit})`);
          results.push(slices);
        }
      } catch (err) {
        return fail(statusOf(err), (err as Error).message);
      }
      const out = snappyCompress(encodeReadResponse(results));
      return reply
        .code(200)
        .header('Content-Type', SAMPLES_CONTENT_TYPE)
        .header('Content-Encoding', 'snappy')
        .send(Buffer.from(out.buffer, out.byteOffset, out.byteLength));
    }

    // Select the first query before answering, so that a failing querier still gets a status.
    const frames = streamFrames(rr, querier, tenant, maxBytesInFrame);
    let first: IteratorResult<Buffer>;
    try {
      first = frames.next();
    } catch (err) {
      return fail(statusOf(err), (err as Error).message);
    }
    const stream = Readable.from(
      (function* () {
        if (!first.done) yield first.value;
        yield* frames;
      })(),
      { objectMode: false },
    );
    return reply.code(200).header('Content-Type', STREAMED_CONTENT_TYPE).send(stream);
  });
}
