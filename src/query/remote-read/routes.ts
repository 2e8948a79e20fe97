import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { QueryError } from '../promql/api.js';
import type { QueryRunner } from '../pool/runner.js';
import { SAMPLES, STREAMED_XOR_CHUNKS, decodeReadRequest, type ReadRequest } from './decode.js';
import { DecodeError } from '../../wire/proto-reader.js';
import { DEFAULT_MAX_BYTES_IN_FRAME } from './encode.js';
import { snappyUncompress } from '../../wire/snappy.js';

/** RemoteReadOptions configure `remoteReadRoutes`. */
export interface RemoteReadOptions {
  /** queries runs the read off the main thread (the query worker pool). */
  readonly queries: QueryRunner;
  /** Longest a read may run; default 30 s (`limits.query_timeout`). */
  readonly timeoutMs?: number;
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

/** STATUS_BY_QUERY_ERROR is how a failed read job answers: as Prometheus, 400 for the caller's fault. */
const STATUS_BY_QUERY_ERROR: Readonly<Record<QueryError['type'], number>> = {
  bad_data: 400,
  execution: 422,
  timeout: 503,
  canceled: 503,
  unavailable: 503,
  internal: 500,
};

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
  const timeoutMs = opts.timeoutMs ?? 30_000;

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
    let raw: Uint8Array;
    try {
      raw = snappyUncompress(body, bodyLimit);
      rr = decodeReadRequest(raw);
    } catch (err) {
      const msg = err instanceof DecodeError ? err.message : `snappy: ${(err as Error).message}`;
      return fail(400, msg);
    }
    const type = negotiateResponseType(rr.acceptedResponseTypes);
    if (type === null) {
      return fail(400, `server does not support any of the requested response types: ${rr.acceptedResponseTypes.join(', ')}; supported: SAMPLES, STREAMED_XOR_CHUNKS`);
    }
    // Selection and encoding run on a query worker; the answer comes back as bytes.
    const ac = new AbortController();
    reply.raw.once('close', () => {
      if (!reply.raw.writableEnded) ac.abort();
    });
    let bytes: Uint8Array;
    try {
      bytes = await opts.queries.run('remoteRead', { tenant, request: raw, responseType: type, sampleLimit, maxBytesInFrame }, { deadlineMs: Date.now() + timeoutMs, signal: ac.signal });
    } catch (err) {
      return fail(err instanceof QueryError ? STATUS_BY_QUERY_ERROR[err.type] : statusOf(err), (err as Error).message);
    }
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (type === SAMPLES) {
      return reply.code(200).header('Content-Type', SAMPLES_CONTENT_TYPE).header('Content-Encoding', 'snappy').send(buf);
    }
    return reply.code(200).header('Content-Type', STREAMED_CONTENT_TYPE).send(buf);
  });
}
