import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import protobuf from 'protobufjs';
import { repoFile } from '../query/remote-read/prompb-client.js';
import { freePort } from './free-port.js';

const snappy = createRequire(import.meta.url)('snappyjs') as { uncompress(b: Uint8Array): Uint8Array };

/** ReceivedSample is one decoded sample with its series' labels. */
export interface ReceivedSample {
  readonly labels: Record<string, string>;
  readonly t: number;
  readonly v: number;
}

/** ReceivedRequest is one POST as the receiver saw it. */
export interface ReceivedRequest {
  readonly headers: IncomingMessage['headers'];
  readonly samples: ReceivedSample[];
}

/**
 * RemoteWriteReceiver is a Prometheus remote write 1.0 endpoint for tests: it decodes each body
 * (snappy + prompb.WriteRequest, from proto/prometheus/remote.proto) and keeps every sample.
 * `status` makes it answer something else (503 for "down but listening"); `stop()` and
 * `start()` take it off and back on the same port.
 */
export class RemoteWriteReceiver {
  readonly requests: ReceivedRequest[] = [];
  status = 200;
  port = 0;
  private server: Server | null = null;
  private readonly type: protobuf.Type;

  constructor() {
    const root = new protobuf.Root();
    const dir = dirname(repoFile('proto/prometheus/remote.proto'));
    root.resolvePath = (_o, target) => join(dir, target.replace(/^.*\//, ''));
    root.loadSync('remote.proto', { keepCase: false });
    root.resolveAll();
    this.type = root.lookupType('prometheus.WriteRequest');
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/api/v1/write`;
  }

  /** samples lists every received sample, in arrival order. */
  samples(): ReceivedSample[] {
    return this.requests.flatMap((r) => r.samples);
  }

  async start(): Promise<void> {
    if (this.port === 0) this.port = await freePort();
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (this.status !== 200) {
          res.writeHead(this.status).end('unavailable');
          return;
        }
        const raw = snappy.uncompress(Buffer.concat(chunks));
        const msg = this.type.toObject(this.type.decode(raw), { longs: Number, defaults: true }) as {
          timeseries: Array<{ labels: Array<{ name: string; value: string }>; samples: Array<{ value: number; timestamp: number }> }>;
        };
        const samples: ReceivedSample[] = [];
        for (const ts of msg.timeseries) {
          const labels = Object.fromEntries(ts.labels.map((l) => [l.name, l.value]));
          for (const s of ts.samples) samples.push({ labels, t: Number(s.timestamp), v: s.value });
        }
        this.requests.push({ headers: req.headers, samples });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.server = server;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
