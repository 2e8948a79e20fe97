import * as grpc from '@grpc/grpc-js';

/** OtlpGrpcClient sends pre-encoded OTLP ExportMetricsServiceRequest bodies as they are. */
export type OtlpGrpcClient = grpc.Client & {
  Export(body: Buffer, md: grpc.Metadata, cb: (err: grpc.ServiceError | null, res?: Buffer) => void): void;
  Export(body: Buffer, cb: (err: grpc.ServiceError | null, res?: Buffer) => void): void;
};

/**
 * otlpGrpcClient is a raw-bytes client of OTLP's MetricsService: tests encode the request
 * themselves (with protobufjs) so malformed and oversized bodies can be sent too.
 */
export function otlpGrpcClient(address: string, options: grpc.ClientOptions = {}): OtlpGrpcClient {
  const Ctor = grpc.makeGenericClientConstructor({
    Export: {
      path: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
      requestStream: false, responseStream: false,
      requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b,
      responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b,
    },
  } as unknown as grpc.ServiceDefinition, 'MetricsService');
  return new Ctor(address, grpc.credentials.createInsecure(), options) as unknown as OtlpGrpcClient;
}
