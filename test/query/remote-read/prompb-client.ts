import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import protobuf from 'protobufjs';

/**
 * A remote-read client for tests built only from the published pieces a real client would use:
 * the .proto files under proto/prometheus (through protobufjs), snappyjs, and a bitwise
 * CRC-32C written here independently of the server's table-driven one.
 */

const snappy = createRequire(import.meta.url)('snappyjs') as {
  compress(b: Uint8Array): Uint8Array;
  uncompress(b: Uint8Array): Uint8Array;
};

/** repoFile finds a file relative to the repository root, from src or compiled dist-* trees. */
export function repoFile(rel: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const p = join(dir, rel);
    if (existsSync(p)) return p;
    const up = dirname(dir);
    if (up === dir) throw new Error(`${rel} not found above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** loadPrompb loads prometheus.ReadRequest and friends from proto/prometheus/remote.proto. */
export function loadPrompb(): protobuf.Root {
  const root = new protobuf.Root();
  const dir = dirname(repoFile('proto/prometheus/remote.proto'));
  root.resolvePath = (_origin, target) => join(dir, target.replace(/^.*\//, ''));
  root.loadSync('remote.proto', { keepCase: false });
  return root;
}

/** QuerySpec is one query of a test ReadRequest. */
export interface QuerySpec {
  startTimestampMs: number;
  endTimestampMs: number;
  matchers: Array<{ type: number; name: string; value: string }>;
  hints?: { stepMs?: number; startMs?: number; endMs?: number; rangeMs?: number; func?: string };
}

/** readRequestBody encodes and snappy-compresses a ReadRequest. */
export function readRequestBody(root: protobuf.Root, queries: QuerySpec[], acceptedResponseTypes: number[] = []): Uint8Array<ArrayBuffer> {
  const T = root.lookupType('prometheus.ReadRequest');
  const msg = T.create({ queries, acceptedResponseTypes });
  return new Uint8Array(snappy.compress(T.encode(msg).finish()));
}

/** decodeReadResponse inflates and decodes a SAMPLES answer into plain objects. */
export function decodeReadResponse(root: protobuf.Root, body: Uint8Array): {
  results: Array<{ timeseries: Array<{ labels: Array<{ name: string; value: string }>; samples: Array<{ value: number; timestamp: number }> }> }>;
} {
  const T = root.lookupType('prometheus.ReadResponse');
  const obj = T.toObject(T.decode(snappy.uncompress(body)), { longs: Number, defaults: true, arrays: true });
  return obj as ReturnType<typeof decodeReadResponse>;
}

function crc32cBitwise(b: Uint8Array): number {
  let c = ~0 >>> 0;
  for (const byte of b) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0x82f63b78 & -(c & 1));
  }
  return ~c >>> 0;
}

/** ChunkedFrame is one decoded STREAMED_XOR_CHUNKS frame. */
export interface ChunkedFrame {
  size: number;
  queryIndex: number;
  chunkedSeries: Array<{
    labels: Array<{ name: string; value: string }>;
    chunks: Array<{ minTimeMs: number; maxTimeMs: number; type: number; data: Uint8Array }>;
  }>;
}

/** decodeFrames splits a streamed answer into frames, checking every length and checksum. */
export function decodeFrames(root: protobuf.Root, body: Uint8Array): ChunkedFrame[] {
  const T = root.lookupType('prometheus.ChunkedReadResponse');
  const frames: ChunkedFrame[] = [];
  let p = 0;
  while (p < body.length) {
    let len = 0, shift = 0;
    for (;;) {
      const b = body[p++]!;
      len += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (b < 0x80) break;
    }
    const crc = ((body[p]! << 24) | (body[p + 1]! << 16) | (body[p + 2]! << 8) | body[p + 3]!) >>> 0;
    p += 4;
    const msg = body.subarray(p, p + len);
    if (msg.length !== len) throw new Error('truncated frame');
    if (crc32cBitwise(msg) !== crc) throw new Error('frame checksum mismatch');
    p += len;
    const obj = T.toObject(T.decode(msg), { longs: Number, enums: Number, defaults: true, arrays: true }) as Omit<ChunkedFrame, 'size'>;
    frames.push({ size: len, queryIndex: obj.queryIndex, chunkedSeries: obj.chunkedSeries });
  }
  return frames;
}
