// Load generator child for bench/otlp.ts: `node otlp-client.js ADDRESS SECONDS STREAMS NOW_MS`.
// Each stream is its own gRPC channel sending pre-encoded requests back to back (one in flight
// per stream); prints {acked, unavailable, errors} points and its CPU µs while sending as JSON.
import * as grpc from '@grpc/grpc-js';
import { buildRequests, POINTS_PER_REQUEST, SERIES } from './otlp-payload.js';

const [address, secondsText, streamsText, nowText] = process.argv.slice(2);
const seconds = Number(secondsText), streams = Number(streamsText);
const requests = buildRequests((2 * SERIES) / POINTS_PER_REQUEST, Number(nowText));
const id = (b: Buffer) => b;
const Client = grpc.makeGenericClientConstructor({
  Export: { path: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export', requestStream: false, responseStream: false, requestSerialize: id, requestDeserialize: id, responseSerialize: id, responseDeserialize: id },
} as unknown as grpc.ServiceDefinition, 'MetricsService');

let acked = 0, unavailable = 0, errors = 0;
const deadline = Date.now() + seconds * 1000;
const cpu0 = process.cpuUsage();
process.stdout.write('ready\n');
await Promise.all(Array.from({ length: streams }, (_, s) => new Promise<void>((resolve) => {
  const c = new Client(address!, grpc.credentials.createInsecure(), { 'grpc.channel_id': s } as grpc.ChannelOptions) as unknown as { Export: (b: Buffer, cb: (e: grpc.ServiceError | null) => void) => void; close(): void };
  let i = s;
  const next = (): void => {
    if (Date.now() >= deadline) {
      c.close();
      resolve();
      return;
    }
    c.Export(requests[i++ % requests.length]!, (err) => {
      if (err === null) acked += POINTS_PER_REQUEST;
      else if (err.code === grpc.status.UNAVAILABLE) unavailable += POINTS_PER_REQUEST;
      else errors += POINTS_PER_REQUEST;
      if (err !== null && err.code === grpc.status.UNAVAILABLE) setTimeout(next, 1);
      else next();
    });
  };
  next();
})));
const cpu = process.cpuUsage(cpu0);
process.stdout.write(JSON.stringify({ acked, unavailable, errors, cpuUs: cpu.user + cpu.system }) + '\n');
