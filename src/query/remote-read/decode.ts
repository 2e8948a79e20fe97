import { Matcher, type MatchType } from '../../model/matcher.js';

/**
 * Decoding of Prometheus' remote-read `ReadRequest` (proto/prometheus/remote.proto). The request
 * is small, so a direct wire reader is enough; it keeps int64 fields as plain numbers (exact for
 * any millisecond timestamp) without depending on how protobufjs is configured for Long.
 */

/** ResponseType values of `ReadRequest.ResponseType`. */
export const SAMPLES = 0;
export const STREAMED_XOR_CHUNKS = 1;

/** ReadHints mirrors `prometheus.ReadHints`. */
export interface ReadHints {
  stepMs: number;
  func: string;
  startMs: number;
  endMs: number;
  grouping: string[];
  by: boolean;
  rangeMs: number;
}

/** ReadQuery mirrors `prometheus.Query`, with matchers already compiled. */
export interface ReadQuery {
  startMs: number;
  endMs: number;
  matchers: Matcher[];
  hints: ReadHints | null;
}

/** ReadRequest mirrors `prometheus.ReadRequest`. */
export interface ReadRequest {
  queries: ReadQuery[];
  acceptedResponseTypes: number[];
}

/** DecodeError reports a malformed request body; the route answers 400. */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

const MATCH_TYPES: readonly MatchType[] = ['=', '!=', '=~', '!~'];

class Reader {
  private readonly buf: Uint8Array;
  pos: number;
  readonly end: number;

  constructor(buf: Uint8Array, pos: number, end: number) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  /** varint reads up to 64 bits; values with the top bit set read as negative int64. */
  varint(): number {
    let lo = 0, hi = 0, shift = 0;
    const buf = this.buf;
    for (;;) {
      if (this.pos >= this.end) throw new DecodeError('truncated varint');
      const b = buf[this.pos++]!;
      if (shift < 28) lo |= (b & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >>> 4;
      } else if (shift < 64) hi |= (b & 0x7f) << (shift - 32);
      else throw new DecodeError('varint longer than 10 bytes');
      if (b < 0x80) break;
      shift += 7;
    }
    lo >>>= 0;
    return (hi | 0) * 4294967296 + lo;
  }

  sub(): Reader {
    const len = this.varint();
    const start = this.pos;
    if (len < 0 || start + len > this.end) throw new DecodeError('length-delimited field overruns its message');
    this.pos = start + len;
    return new Reader(this.buf, start, start + len);
  }

  string(): string {
    const r = this.sub();
    return Buffer.from(this.buf.buffer, this.buf.byteOffset + r.pos, r.end - r.pos).toString('utf8');
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0: this.varint(); break;
      case 1: this.pos += 8; break;
      case 2: this.sub(); break;
      case 5: this.pos += 4; break;
      default: throw new DecodeError(`unsupported wire type ${wireType}`);
    }
    if (this.pos > this.end) throw new DecodeError('field overruns its message');
  }

  done(): boolean {
    return this.pos >= this.end;
  }
}

function decodeMatcher(r: Reader): Matcher {
  let type = 0, name = '', value = '';
  while (!r.done()) {
    const key = r.varint();
    switch (key) {
      case 8: type = r.varint(); break;
      case 18: name = r.string(); break;
      case 26: value = r.string(); break;
      default: r.skip(key & 7);
    }
  }
  const t = MATCH_TYPES[type];
  if (t === undefined) throw new DecodeError(`unknown matcher type ${type}`);
  try {
    return new Matcher(t, name, value);
  } catch (err) {
    throw new DecodeError(`invalid regular expression in matcher ${name}${t}${JSON.stringify(value)}: ${(err as Error).message}`);
  }
}

function decodeHints(r: Reader): ReadHints {
  const h: ReadHints = { stepMs: 0, func: '', startMs: 0, endMs: 0, grouping: [], by: false, rangeMs: 0 };
  while (!r.done()) {
    const key = r.varint();
    switch (key) {
      case 8: h.stepMs = r.varint(); break;
      case 18: h.func = r.string(); break;
      case 24: h.startMs = r.varint(); break;
      case 32: h.endMs = r.varint(); break;
      case 42: h.grouping.push(r.string()); break;
      case 48: h.by = r.varint() !== 0; break;
      case 56: h.rangeMs = r.varint(); break;
      default: r.skip(key & 7);
    }
  }
  return h;
}

function decodeQuery(r: Reader): ReadQuery {
  const q: ReadQuery = { startMs: 0, endMs: 0, matchers: [], hints: null };
  while (!r.done()) {
    const key = r.varint();
    switch (key) {
      case 8: q.startMs = r.varint(); break;
      case 16: q.endMs = r.varint(); break;
      case 26: q.matchers.push(decodeMatcher(r.sub())); break;
      case 34: q.hints = decodeHints(r.sub()); break;
      default: r.skip(key & 7);
    }
  }
  return q;
}

/** decodeReadRequest parses an uncompressed `ReadRequest`; throws DecodeError when malformed. */
export function decodeReadRequest(buf: Uint8Array): ReadRequest {
  const r = new Reader(buf, 0, buf.length);
  const req: ReadRequest = { queries: [], acceptedResponseTypes: [] };
  while (!r.done()) {
    const key = r.varint();
    switch (key) {
      case 10: req.queries.push(decodeQuery(r.sub())); break;
      case 16: req.acceptedResponseTypes.push(r.varint()); break;
      case 18: {
        // Packed repeated enum, as proto3 encoders write it.
        const p = r.sub();
        while (!p.done()) req.acceptedResponseTypes.push(p.varint());
        break;
      }
      default: r.skip(key & 7);
    }
  }
  return req;
}
