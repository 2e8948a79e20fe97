import { DecodeError, Reader, WT_I64, WT_LEN, WT_VARINT, utf8String } from './wire.js';

/**
 * attributes.ts turns OTLP KeyValue bytes into strings. It runs on a series cache miss and for
 * resources and spans, never per data point of a known series.
 */

/** AttributeVisitor receives one attribute as a string value ('' for an empty value). */
export type AttributeVisitor = (key: string, value: string) => void;


/**
 * forEachAttribute decodes a run of KeyValue fields (any field number, tags included) in
 * [start, end) and calls `visit` with the value rendered as Prometheus' OTLP translation does.
 */
export function forEachAttribute(buf: Uint8Array, start: number, end: number, visit: AttributeVisitor): void {
  const rd = new Reader(buf, start, end);
  while (rd.more()) {
    const tag = rd.uint32();
    if ((tag & 7) !== WT_LEN) {
      rd.skip(tag & 7);
      continue;
    }
    const e = rd.len();
    decodeKeyValue(buf, rd.pos, e, visit);
    rd.pos = e;
  }
}

/**
 * forEachAttributeField decodes the repeated KeyValue field `field` of the message in [start, end)
 * (a Resource's attributes are field 1, a Span's field 9) and skips every other field.
 */
export function forEachAttributeField(buf: Uint8Array, start: number, end: number, field: number, visit: AttributeVisitor): void {
  const rd = new Reader(buf, start, end);
  const want = (field << 3) | WT_LEN;
  while (rd.more()) {
    const tag = rd.uint32();
    if (tag !== want) {
      if (tag >>> 3 === 0) throw new DecodeError('field number 0');
      rd.skip(tag & 7);
      continue;
    }
    const e = rd.len();
    decodeKeyValue(buf, rd.pos, e, visit);
    rd.pos = e;
  }
}

function decodeKeyValue(buf: Uint8Array, start: number, end: number, visit: AttributeVisitor): void {
  const rd = new Reader(buf, start, end);
  let key = '';
  let value = '';
  while (rd.more()) {
    const tag = rd.uint32();
    if (tag === ((1 << 3) | WT_LEN)) {
      const e = rd.len();
      key = utf8String(buf, rd.pos, e);
      rd.pos = e;
    } else if (tag === ((2 << 3) | WT_LEN)) {
      const e = rd.len();
      value = anyValueString(buf, rd.pos, e);
      rd.pos = e;
    } else {
      if (tag >>> 3 === 0) throw new DecodeError('field number 0');
      rd.skip(tag & 7);
    }
  }
  visit(key, value);
}

/** anyValueString renders an AnyValue as a label value (strings as is, the rest as JSON). */
export function anyValueString(buf: Uint8Array, start: number, end: number): string {
  const v = anyValue(buf, start, end);
  return typeof v === 'string' ? v : v === null ? '' : JSON.stringify(v);
}

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

function anyValue(buf: Uint8Array, start: number, end: number): Json {
  const rd = new Reader(buf, start, end);
  let out: Json = null;
  while (rd.more()) {
    const tag = rd.uint32();
    switch (tag) {
      case (1 << 3) | WT_LEN: { const e = rd.len(); out = utf8String(buf, rd.pos, e); rd.pos = e; break; }
      case (2 << 3) | WT_VARINT: out = rd.uint32() !== 0; break;
      case (3 << 3) | WT_VARINT: out = int64String(rd); break;
      case (4 << 3) | WT_I64: out = formatDouble(rd.double()); break;
      case (5 << 3) | WT_LEN: {
        const e = rd.len();
        const arr: Json[] = [];
        const inner = new Reader(buf, rd.pos, e);
        while (inner.more()) {
          const t = inner.uint32();
          if (t === ((1 << 3) | WT_LEN)) {
            const ie = inner.len();
            arr.push(anyValue(buf, inner.pos, ie));
            inner.pos = ie;
          } else inner.skip(t & 7);
        }
        out = arr;
        rd.pos = e;
        break;
      }
      case (6 << 3) | WT_LEN: {
        const e = rd.len();
        const obj: { [k: string]: Json } = {};
        forEachAttribute(buf, rd.pos, e, (k, v) => { obj[k] = v; });
        out = obj;
        rd.pos = e;
        break;
      }
      case (7 << 3) | WT_LEN: { const e = rd.len(); out = Buffer.from(buf.buffer, buf.byteOffset + rd.pos, e - rd.pos).toString('base64'); rd.pos = e; break; }
      default:
        if (tag >>> 3 === 0) throw new DecodeError('field number 0');
        rd.skip(tag & 7);
    }
  }
  return out;
}

/** int64String renders a varint int64 exactly (values past 2^53 keep every digit). */
function int64String(rd: Reader): string {
  const start = rd.pos;
  rd.skip(WT_VARINT);
  let v = 0n;
  let shift = 0n;
  for (let p = start; p < rd.pos; p++) {
    v |= BigInt(rd.buf[p]! & 0x7f) << shift;
    shift += 7n;
  }
  return BigInt.asIntN(64, v).toString();
}

/** formatDouble renders a double as Go's strconv.FormatFloat(v, 'f', -1, 64) would for common values. */
function formatDouble(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

