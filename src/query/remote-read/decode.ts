import { Matcher, type MatchType } from '../../model/matcher.js';
import { DecodeError, Reader, utf8String } from '../../wire/proto-reader.js';

/**
 * Decoding of Prometheus' remote-read `ReadRequest` (proto/prometheus/remote.proto). The request
 * is small; it is walked with the shared wire reader, which keeps int64 fields as plain numbers
 * (exact for any millisecond timestamp) without depending on how protobufjs is configured for Long.
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

const MATCH_TYPES: readonly MatchType[] = ['=', '!=', '=~', '!~'];

/** string reads a length-delimited UTF-8 field. */
function string(r: Reader): string {
  const e = r.len();
  const s = utf8String(r.buf, r.pos, e);
  r.pos = e;
  return s;
}

/** sub returns a reader over the next length-delimited field and moves `r` past it. */
function sub(r: Reader): Reader {
  const e = r.len();
  const m = new Reader(r.buf, r.pos, e);
  r.pos = e;
  return m;
}

/** skip skips a field; field number 0 is malformed. */
function skip(r: Reader, key: number): void {
  if (key >>> 3 === 0) throw new DecodeError('field number 0');
  r.skip(key & 7);
}

function decodeMatcher(r: Reader): Matcher {
  let type = 0, name = '', value = '';
  while (r.more()) {
    const key = r.uint32();
    switch (key) {
      case 8: type = r.uint32(); break;
      case 18: name = string(r); break;
      case 26: value = string(r); break;
      default: skip(r, key);
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
  while (r.more()) {
    const key = r.uint32();
    switch (key) {
      case 8: h.stepMs = r.int64(); break;
      case 18: h.func = string(r); break;
      case 24: h.startMs = r.int64(); break;
      case 32: h.endMs = r.int64(); break;
      case 42: h.grouping.push(string(r)); break;
      case 48: h.by = r.int64() !== 0; break;
      case 56: h.rangeMs = r.int64(); break;
      default: skip(r, key);
    }
  }
  return h;
}

function decodeQuery(r: Reader): ReadQuery {
  const q: ReadQuery = { startMs: 0, endMs: 0, matchers: [], hints: null };
  while (r.more()) {
    const key = r.uint32();
    switch (key) {
      case 8: q.startMs = r.int64(); break;
      case 16: q.endMs = r.int64(); break;
      case 26: q.matchers.push(decodeMatcher(sub(r))); break;
      case 34: q.hints = decodeHints(sub(r)); break;
      default: skip(r, key);
    }
  }
  return q;
}

/** decodeReadRequest parses an uncompressed `ReadRequest`; throws DecodeError (src/wire) when malformed. */
export function decodeReadRequest(buf: Uint8Array): ReadRequest {
  const r = new Reader(buf, 0, buf.length);
  const req: ReadRequest = { queries: [], acceptedResponseTypes: [] };
  while (r.more()) {
    const key = r.uint32();
    switch (key) {
      case 10: req.queries.push(decodeQuery(sub(r))); break;
      case 16: req.acceptedResponseTypes.push(r.uint32()); break;
      case 18: {
        // Packed repeated enum, as proto3 encoders write it.
        const p = sub(r);
        while (p.more()) req.acceptedResponseTypes.push(p.uint32());
        break;
      }
      default: skip(r, key);
    }
  }
  return req;
}
