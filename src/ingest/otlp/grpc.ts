import * as grpc from '@grpc/grpc-js';
import { formatAddress, parseAddress } from '../../config/address.js';
import { DEFAULT_TENANT } from '../../model/metric-kind.js';
import { OtlpReceiver, type ExportResult } from './receiver.js';
import { encodeExportResponse, type ExportKind } from './proto.js';
import { DEFAULT_MAX_BYTES, rateLimited, type OtlpServerHandle, type OtlpServerOptions } from './options.js';
import { DecodeError } from '../../wire/proto-reader.js';
import { otlpRequestsRefused } from './metrics.js';
import { TENANT_HEADER } from '../../model/auth.js';
import { ReloadableGrpcCredentials } from '../../wire/tls.js';

const METRICS_PATH = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';
const TRACES_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

const identity = (b: Buffer): Buffer => b;
const toBuffer = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

/**
 * A service definition with raw Buffer (de)serializers: grpc-js hands us the request bytes and
 * our walker decodes them, so no protobufjs object graph is ever built on the hot path.
 */
function rawService(path: string): grpc.ServiceDefinition {
  return {
    Export: {
      path,
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: toBuffer,
      responseDeserialize: identity,
      originalName: 'export',
    },
  } as unknown as grpc.ServiceDefinition;
}

/**
 * startOtlpGrpc serves OTLP/gRPC (`MetricsService/Export`, `TraceService/Export`) on its own
 * gRPC server. Answers: OK (with partial_success when points were refused), INVALID_ARGUMENT for
 * a malformed body, RESOURCE_EXHAUSTED over `maxBytes` (grpc-js enforces it, also after gzip),
 * UNAVAILABLE while the sink is not accepting.
 */
export async function startOtlpGrpc(opts: OtlpServerOptions): Promise<OtlpServerHandle> {
  const addr = parseAddress(opts.address);
  if (addr === null) throw new Error(`otlp-grpc: bad address ${JSON.stringify(opts.address)}`);
  if (addr.port === 0 && opts.ephemeral !== true) return { address: null, port: 0, close: async () => undefined };
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const receiver = opts.receiver ?? new OtlpReceiver({ sink: opts.sink, promoteResourceAttributes: opts.promoteResourceAttributes });
  const defaultTenant = opts.tenant ?? DEFAULT_TENANT;
  const auth = opts.auth?.enabled ? opts.auth : null;
  const warn = rateLimited(opts.log);
  const server = new grpc.Server({
    'grpc.max_receive_message_length': maxBytes,
    'grpc.max_send_message_length': 1024 * 1024,
  });

  const handler = (kind: ExportKind) => (call: grpc.ServerUnaryCall<Buffer, Uint8Array>, callback: grpc.sendUnaryData<Uint8Array>) => {
    let tenant = defaultTenant;
    if (auth !== null) {
      const md = (key: string) => { const v = call.metadata.get(key)[0]; return typeof v === 'string' ? v : undefined; };
      const r = auth.authenticate(md('authorization'), 'ingest', md(TENANT_HEADER));
      if (!r.ok) {
        otlpRequestsRefused.labels('grpc', r.failure.kind).inc();
        callback({ code: r.failure.kind === 'unauthenticated' ? grpc.status.UNAUTHENTICATED : grpc.status.PERMISSION_DENIED, details: r.failure.message });
        return;
      }
      tenant = r.principal.tenant;
    }
    if (!receiver.accepting()) {
      otlpRequestsRefused.labels('grpc', 'overloaded').inc();
      callback({ code: grpc.status.UNAVAILABLE, details: 'tallyd is overloaded; retry later' });
      return;
    }
    const body = call.request;
    if (body.length > maxBytes) {
      otlpRequestsRefused.labels('grpc', 'too_large').inc();
      callback({ code: grpc.status.RESOURCE_EXHAUSTED, details: `request of ${body.length} bytes exceeds the limit of ${maxBytes}` });
      return;
    }
    let res: ExportResult;
    try {
      res = kind === 'metrics' ? receiver.exportMetrics(body, 'grpc', tenant) : receiver.exportTraces(body, 'grpc', tenant);
    } catch (err) {
      if (err instanceof DecodeError) {
        otlpRequestsRefused.labels('grpc', err.reason).inc();
        warn('malformed OTLP/gRPC request', { kind, err: err.message });
        callback({ code: grpc.status.INVALID_ARGUMENT, details: `malformed ${kind} export request: ${err.message}` });
      } else {
        warn('OTLP/gRPC export failed', { kind, err: (err as Error).message });
        callback({ code: grpc.status.INTERNAL, details: 'internal error' });
      }
      return;
    }
    callback(null, encodeExportResponse(kind, res.rejected, res.message));
  };

  server.addService(rawService(METRICS_PATH), { Export: handler('metrics') });
  server.addService(rawService(TRACES_PATH), { Export: handler('traces') });
  const tls = opts.tls ? new ReloadableGrpcCredentials(opts.tls) : null;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(formatAddress(addr), tls ? tls.credentials : grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  const bound = formatAddress({ host: addr.host, port });
  return {
    address: bound,
    port,
    reloadTls: () => tls?.reload(),
    close: () =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => server.forceShutdown(), 5_000);
        force.unref();
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}
