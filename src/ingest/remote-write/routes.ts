import type { FastifyInstance, FastifyRequest } from 'fastify';
import { REFUSAL_NAMES, REFUSAL_TEXT, type IngestSink } from '../sink.js';
import { DEFAULT_TENANT } from '../../model/metric-kind.js';
import { DecodeError } from '../../wire/proto-reader.js';
import { remoteWriteRequestsRefused, remoteWriteSamplesReceived, remoteWriteSamplesRefused } from './metrics.js';
import { RemoteWriteDecoder, type RemoteWriteResult } from './decode.js';
import { snappyUncompress } from '../../wire/snappy.js';

/** RemoteWriteOptions configure remoteWriteRoutes. */
export interface RemoteWriteOptions {
  readonly sink: IngestSink;
  /** Largest accepted body, compressed and uncompressed (default 4 MiB). */
  readonly maxBytes?: number;
  /** Tenant of a request, as the server's auth hook resolved it (default: `default` for all). */
  readonly tenantOf?: (req: FastifyRequest) => string;
  /** Seconds a client is told to wait when the pipeline is saturated (default 1). */
  readonly retryAfterSeconds?: number;
}

/**
 * remoteWriteRoutes is an encapsulated fastify plugin serving `POST /api/v1/write`, Prometheus
 * remote write 1.0 (snappy block-compressed protobuf WriteRequest). Answers 204 when every sample
 * was accepted; 400 with a text reason for a malformed body or when samples were refused (the
 * accepted ones are kept; Prometheus does not retry a 400); 413 over `maxBytes`; 415 for remote
 * write 2.0 or another encoding; 503 with Retry-After while the pipeline is saturated.
 */
export async function remoteWriteRoutes(app: FastifyInstance, opts: RemoteWriteOptions): Promise<void> {
  const maxBytes = opts.maxBytes ?? 4 * 1024 * 1024;
  const decoder = new RemoteWriteDecoder(opts.sink);
  const retryAfter = String(opts.retryAfterSeconds ?? 1);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxBytes }, (_req, body, done) => done(null, body));

  // A body over the limit is refused by fastify before the handler runs: answered and counted here.
  app.setErrorHandler((err, _req, reply) => {
    if ((err as { statusCode?: number }).statusCode !== 413) throw err;
    remoteWriteRequestsRefused.labels('too_large').inc();
    return reply.code(413).type('text/plain').send(`request body exceeds the limit of ${maxBytes} bytes (limits.request_body_bytes)`);
  });

  app.post('/api/v1/write', { bodyLimit: maxBytes }, async (req, reply) => {
    const ct = String(req.headers['content-type'] ?? 'application/x-protobuf').toLowerCase();
    if (ct.includes('io.prometheus.write.v2')) {
      remoteWriteRequestsRefused.labels('unsupported_media_type').inc();
      return reply.code(415).type('text/plain').send('remote write 2.0 is not supported; send 1.0 (prometheus.WriteRequest)');
    }
    const enc = String(req.headers['content-encoding'] ?? 'snappy').toLowerCase();
    if (enc !== 'snappy') {
      remoteWriteRequestsRefused.labels('unsupported_media_type').inc();
      return reply.code(415).type('text/plain').send(`unsupported content-encoding ${enc}; remote write uses snappy`);
    }
    if (!opts.sink.accepting()) {
      remoteWriteRequestsRefused.labels('overloaded').inc();
      return reply.code(503).header('retry-after', retryAfter).type('text/plain').send('tallyd is overloaded; retry later');
    }
    const body = req.body as Buffer;
    let raw: Uint8Array;
    try {
      raw = snappyUncompress(body, maxBytes);
    } catch (err) {
      const msg = (err as Error).message;
      if (/length|large|exceed/i.test(msg)) {
        remoteWriteRequestsRefused.labels('too_large').inc();
        return reply.code(413).type('text/plain').send(`uncompressed body exceeds the limit of ${maxBytes} bytes`);
      }
      remoteWriteRequestsRefused.labels('malformed').inc();
      return reply.code(400).type('text/plain').send(`bad snappy body: ${msg}`);
    }
    let res: RemoteWriteResult;
    try {
      res = decoder.decode(raw, opts.tenantOf?.(req) ?? DEFAULT_TENANT);
    } catch (err) {
      if (err instanceof DecodeError) {
        remoteWriteRequestsRefused.labels('malformed').inc();
        return reply.code(400).type('text/plain').send(`malformed WriteRequest: ${err.message}`);
      }
      throw err;
    } finally {
      opts.sink.flush();
    }
    if (res.received > 0) remoteWriteSamplesReceived.inc(res.received);
    const parts: string[] = [];
    res.byReason.forEach((n, reason) => {
      if (n === 0) return;
      remoteWriteSamplesRefused.labels(REFUSAL_NAMES[reason]!).inc(n);
      parts.push(`${n} ${REFUSAL_NAMES[reason]} (${REFUSAL_TEXT[reason]})`);
    });
    if (parts.length > 0) return reply.code(400).type('text/plain').send(`${res.received - (res.refusedBadValue + res.refusedSeries + res.refusedPipeline + res.refusedUnsupported)} of ${res.received} samples accepted; refused: ${parts.join(', ')}`);
    return reply.code(204).send();
  });
}
