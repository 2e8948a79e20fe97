import { DecodeError, Reader, WT_I64, WT_LEN, WT_VARINT, utf8String } from '../../wire/proto-reader.js';

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
  const rendered = asLabelValues(visit);
  const rd = new Reader(buf, start, end);
  while (rd.more()) {
    const tag = rd.uint32();
    if ((tag & 7) !== WT_LEN) {
      rd.skip(tag & 7);
      continue;
    }
    const e = rd.len();
    decodeKeyValue(buf, rd.pos, e, 1, rendered);
    rd.pos = e;
  }
}

/**
 * forEachAttributeField decodes the repeated KeyValue field `field` of the message in [start, end)
 * (a Resource's attributes are field 1, a Span's field 9) and skips every other field.
 */
export function forEachAttributeField(buf: Uint8Array, start: number, end: number, field: number, visit: AttributeVisitor): void {
  const rendered = asLabelValues(visit);
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
    decodeKeyValue(buf, rd.pos, e, 1, rendered);
    rd.pos = e;
  }
}

/** asLabelValues adapts a string visitor to decoded values, rendered as label values. */
function asLabelValues(visit: AttributeVisitor): (key: string, value: Json) => void {
  return (key, value) => visit(key, labelValue(value));
}

/** labelValue renders a decoded AnyValue as a label value: strings as is, none as '', the rest as JSON. */
function labelValue(v: Json): string {
  return typeof v === 'string' ? v : v === null ? '' : JSON.stringify(v);
}

/**
 * decodeKeyValue decodes one KeyValue in [start, end) and calls `visit` with its key and its value
 * decoded at `depth` (null when absent).
 */
function decodeKeyValue(buf: Uint8Array, start: number, end: number, depth: number, visit: (key: string, value: Json) => void): void {
  const rd = new Reader(buf, start, end);
  let key = '';
  let value: Json = null;
  while (rd.more()) {
    const tag = rd.uint32();
    if (tag === ((1 << 3) | WT_LEN)) {
      const e = rd.len();
      key = utf8String(buf, rd.pos, e);
      rd.pos = e;
    } else if (tag === ((2 << 3) | WT_LEN)) {
      const e = rd.len();
      value = anyValue(buf, rd.pos, e, depth);
      rd.pos = e;
    } else {
      if (tag >>> 3 === 0) throw new DecodeError('field number 0');
      rd.skip(tag & 7);
    }
  }
  visit(key, value);
}

/**
 * MAX_ANY_VALUE_DEPTH bounds how deep AnyValues may nest (arrayValue and kvlistValue inside each
 * other); the attribute's own value is level 1. Deeper is a malformed request (reason `too_deep`):
 * no sender needs it, and each level costs a stack frame here.
 */
export const MAX_ANY_VALUE_DEPTH = 64;

/**
 * anyValueString renders an AnyValue as a label value: strings as is, the rest as JSON, nested
 * arrays and maps as nested JSON (as pdata's AsString does). The value is built as one tree and
 * stringified once, so the cost is linear in its bytes: rendering each level to a string and
 * quoting it into its parent doubled the escapes per level (a 300-byte body of 24 nested
 * kvlistValues took a second and 190 MiB).
 */
export function anyValueString(buf: Uint8Array, start: number, end: number): string {
  return labelValue(anyValue(buf, start, end, 1));
}

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

function anyValue(buf: Uint8Array, start: number, end: number, depth: number): Json {
  if (depth > MAX_ANY_VALUE_DEPTH) throw new DecodeError(`attribute value nested deeper than ${MAX_ANY_VALUE_DEPTH} levels`, 'too_deep');
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
            arr.push(anyValue(buf, inner.pos, ie, depth + 1));
            inner.pos = ie;
          } else {
            if (t >>> 3 === 0) throw new DecodeError('field number 0');
            inner.skip(t & 7);
          }
        }
        out = arr;
        rd.pos = e;
        break;
      }
      case (6 << 3) | WT_LEN: {
        const e = rd.len();
        out = kvlist(buf, rd.pos, e, depth + 1);
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

/** kvlist builds a KeyValueList's map; its values are at `depth`. Null prototype: a key `__proto__` is a key. */
function kvlist(buf: Uint8Array, start: number, end: number, depth: number): { [k: string]: Json } {
  const obj = Object.create(null) as { [k: string]: Json };
  // As for labels, an absent or empty value inside a map renders as "".
  const put = (key: string, value: Json): void => {
    obj[key] = value === null ? '' : value;
  };
  const rd = new Reader(buf, start, end);
  while (rd.more()) {
    const tag = rd.uint32();
    if ((tag & 7) !== WT_LEN) {
      if (tag >>> 3 === 0) throw new DecodeError('field number 0');
      rd.skip(tag & 7);
      continue;
    }
    const e = rd.len();
    decodeKeyValue(buf, rd.pos, e, depth, put);
    rd.pos = e;
  }
  return obj;
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

