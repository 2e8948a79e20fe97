import { gunzipSync, inflateSync } from 'node:zlib';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { formatAddress, parseAddress } from '../../config/address.js';
import { DEFAULT_TENANT } from '../../model/metric-kind.js';
import { OtlpReceiver, type ExportResult } from './receiver.js';
import { encodeExportResponse, exportResponseJson, jsonToProtobuf, type ExportKind } from './proto.js';
import { DEFAULT_MAX_BYTES, rateLimited, type OtlpLog, type OtlpServerHandle, type OtlpServerOptions } from './options.js';
import { DecodeError } from '../../wire/proto-reader.js';
import { otlpRequestsRefused } from './metrics.js';
import { TENANT_HEADER, type Principal } from '../../model/auth.js';
import { installLingeringClose } from '../../wire/linger.js';
import { readTls } from '../../wire/tls.js';

const PROTOBUF = 'application/x-protobuf';
const JSON_TYPE = 'application/json';

/** HttpError is a request refused with an HTTP status (400, 413, 415, 503). */
class HttpError extends Error {
  readonly status: number;
  readonly reason: string;
  constructor(status: number, reason: string, message: string) {
    super(message);
    this.status = status;
    this.reason = reason;
  }
}

/**
 * startOtlpHttp serves OTLP/HTTP on its own fastify instance: `POST /v1/metrics` and
 * `POST /v1/traces` with `application/x-protobuf` or `application/json` bodies, optionally gzip
 * (or deflate) encoded. Answers 200 with an Export response in the request's encoding, 400 for a
 * malformed body, 413 over `maxBytes` (compressed or not), 415 for another media type, 503 with
 * Retry-After while the sink is not accepting. Error bodies are `google.rpc.Status`, as OTLP asks.
 */
export async function startOtlpHttp(opts: OtlpServerOptions): Promise<OtlpServerHandle> {
  const addr = parseAddress(opts.address);
  if (addr === null) throw new Error(`otlp-http: bad address ${JSON.stringify(opts.address)}`);
  if (addr.port === 0 && opts.ephemeral !== true) return { address: null, port: 0, close: async () => undefined };
  const app = buildOtlpHttp(opts);
  await app.listen({ host: addr.host, port: addr.port });
  const a = app.server.address();
  const port = typeof a === 'object' && a !== null ? a.port : addr.port;
  const tls = opts.tls ?? null;
  return {
    address: formatAddress({ host: addr.host, port }),
    port,
    reloadTls: () => {
      if (tls) (app.server as import('node:https').Server).setSecureContext(readTls(tls));
    },
    close: () => app.close(),
  };
}

/** buildOtlpHttp builds the fastify instance without listening (for inject-based tests). */
export function buildOtlpHttp(opts: Omit<OtlpServerOptions, 'address'>): FastifyInstance {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const receiver = opts.receiver ?? new OtlpReceiver({ sink: opts.sink, promoteResourceAttributes: opts.promoteResourceAttributes });
  const defaultTenant = opts.tenant ?? DEFAULT_TENANT;
  const retryAfter = String(opts.retryAfterSeconds ?? 1);
  const warn = rateLimited(opts.log);
  const app = (opts.tls ? Fastify({ bodyLimit: maxBytes, logger: false, https: readTls(opts.tls) }) : Fastify({ bodyLimit: maxBytes, logger: false })) as unknown as FastifyInstance;
  installLingeringClose(app);
  const principals = new WeakMap<FastifyRequest, Principal>();
  const auth = opts.auth;
  if (auth?.enabled) {
    app.addHook('onRequest', async (req, reply) => {
      const h = (name: string) => { const v = req.headers[name]; return Array.isArray(v) ? v[0] : v; };
      const r = auth.authenticate(h('authorization'), 'ingest', h(TENANT_HEADER));
      if (r.ok) {
        principals.set(req, r.principal);
        return;
      }
      const status = r.failure.kind === 'unauthenticated' ? 401 : 403;
      otlpRequestsRefused.labels('http', r.failure.kind).inc();
      if (status === 401) void reply.header('www-authenticate', 'Bearer realm="tallyd"');
      sendStatus(reply, isJson(req) ? 'json' : 'protobuf', status, r.failure.message);
      return reply;
    });
  }
  app.removeAllContentTypeParsers();
  app.addContentTypeParser([PROTOBUF, JSON_TYPE], { parseAs: 'buffer', bodyLimit: maxBytes }, (_req, body, done) => done(null, body));
  app.addContentTypeParser('*', (_req, _payload, done) => done(new HttpError(415, 'unsupported_media_type', `unsupported content type; send ${PROTOBUF} or ${JSON_TYPE}`)));

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    let status = 500, reason = 'internal', message = 'internal error';
    if (err instanceof HttpError) ({ status, reason, message } = err);
    else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') ({ status, reason, message } = { status: 413, reason: 'too_large', message: `request body exceeds the limit of ${maxBytes} bytes` });
    else if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') ({ status, reason, message } = { status: 415, reason: 'unsupported_media_type', message: err.message });
    else if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) ({ status, reason, message } = { status: err.statusCode, reason: 'malformed', message: err.message });
    else warn('OTLP/HTTP export failed', { err: err.message });
    otlpRequestsRefused.labels('http', reason).inc();
    if (status === 503) void reply.header('retry-after', retryAfter);
    sendStatus(reply, isJson(req) ? 'json' : 'protobuf', status, message);
  });

  const route = (kind: ExportKind) => async (req: FastifyRequest, reply: FastifyReply) => {
    if (!receiver.accepting()) throw new HttpError(503, 'overloaded', 'tallyd is overloaded; retry later');
    const json = isJson(req);
    const raw = decompress(req.body as Buffer, String(req.headers['content-encoding'] ?? 'identity'), maxBytes);
    const tenant = principals.get(req)?.tenant ?? defaultTenant;
    let res: ExportResult;
    try {
      const body = json ? jsonToProtobuf(kind, parseJson(raw)) : raw;
      res = kind === 'metrics' ? receiver.exportMetrics(body, 'http', tenant) : receiver.exportTraces(body, 'http', tenant);
    } catch (err) {
      if (err instanceof HttpError) throw err;
      if (err instanceof DecodeError) {
        warnMalformed(warn, kind, err as Error);
        throw new HttpError(400, err.reason, `malformed ${kind} export request: ${err.message}`);
      }
      throw err;
    }
    if (json) return reply.code(200).header('content-type', JSON_TYPE).send(JSON.stringify(exportResponseJson(kind, res.rejected, res.message)));
    return reply.code(200).header('content-type', PROTOBUF).send(Buffer.from(encodeExportResponse(kind, res.rejected, res.message)));
  };
  app.post('/v1/metrics', route('metrics'));
  app.post('/v1/traces', route('traces'));
  return app;
}

function warnMalformed(warn: OtlpLog, kind: ExportKind, err: Error): void {
  warn('malformed OTLP/HTTP request', { kind, err: err.message });
}

function isJson(req: FastifyRequest): boolean {
  const ct = req.headers['content-type'];
  return typeof ct === 'string' && ct.toLowerCase().startsWith(JSON_TYPE);
}

/** MAX_JSON_DEPTH bounds the nesting of an OTLP/JSON body ([ and { levels); OTLP itself needs ~20 plus its AnyValues. */
export const MAX_JSON_DEPTH = 256;

function parseJson(raw: Buffer): unknown {
  // Refused before parsing: what walks the parsed body (id rewriting, protobufjs) recurses.
  checkJsonDepth(raw, MAX_JSON_DEPTH);
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new DecodeError(`invalid JSON: ${(err as Error).message}`);
  }
}

/**
 * checkJsonDepth throws DecodeError (reason `too_deep`) when the JSON text nests arrays and
 * objects deeper than `max`. One pass over the bytes, brackets inside strings ignored; it does not
 * validate (JSON.parse does), so unbalanced input only has to be no deeper than `max`.
 */
export function checkJsonDepth(b: Uint8Array, max: number): void {
  let depth = 0;
  for (let i = 0, n = b.length; i < n; i++) {
    const c = b[i]!;
    if (c === 0x22) {
      // Skip the string: to the next quote not escaped by a backslash.
      for (i++; i < n; i++) {
        const d = b[i]!;
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) throw new DecodeError(`JSON body nested deeper than ${max} levels`, 'too_deep');
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
}

/** decompress undoes Content-Encoding, refusing (413) to inflate past maxBytes. */
function decompress(body: Buffer, encoding: string, maxBytes: number): Buffer {
  const enc = encoding.trim().toLowerCase();
  if (enc === 'identity' || enc === '') return body;
  if (enc !== 'gzip' && enc !== 'deflate') throw new HttpError(415, 'unsupported_media_type', `unsupported content-encoding ${encoding}`);
  try {
    return enc === 'gzip' ? gunzipSync(body, { maxOutputLength: maxBytes }) : inflateSync(body, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      throw new HttpError(413, 'too_large', `decompressed request exceeds the limit of ${maxBytes} bytes`);
    }
    throw new HttpError(400, 'malformed', `bad ${enc} body: ${(err as Error).message}`);
  }
}

/** sendStatus answers with a google.rpc.Status body (code 0 field omitted; message only). */
function sendStatus(reply: FastifyReply, enc: 'json' | 'protobuf', status: number, message: string): void {
  const code = GRPC_CODE[status] ?? 2;
  if (enc === 'json') {
    void reply.code(status).header('content-type', JSON_TYPE).send(JSON.stringify({ code, message }));
    return;
  }
  const msg = Buffer.from(message, 'utf8');
  const out: number[] = [0x08, code, 0x12];
  let n = msg.length;
  while (n >= 0x80) { out.push((n & 0x7f) | 0x80); n >>>= 7; }
  out.push(n);
  void reply.code(status).header('content-type', PROTOBUF).send(Buffer.concat([Buffer.from(out), msg]));
}

/** The gRPC code a google.rpc.Status carries for each HTTP status we send. */
const GRPC_CODE: Record<number, number> = { 400: 3, 401: 16, 403: 7, 413: 8, 415: 3, 503: 14, 500: 13, 404: 5 };
