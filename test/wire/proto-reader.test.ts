import t from 'tap';
import protobuf from 'protobufjs';
import { DecodeError, Reader } from '../../src/wire/proto-reader.js';
import { RemoteWriteDecoder } from '../../src/ingest/remote-write/decode.js';
import { WriteRequest } from '../support/prompb.js';
import { RecordingSink } from '../ingest/otlp/recording-sink.js';

/** varint encodes an int64 as protobuf does (negative: ten bytes, two's complement), via protobufjs. */
function varint(v: number | string): Uint8Array {
  return protobuf.Writer.create().int64(v).finish();
}

function sfixed64(v: number | string): Uint8Array {
  return protobuf.Writer.create().sfixed64(v).finish();
}

t.test('a negative int64 varint (ten bytes) reads back as the negative number', async (t) => {
  const cases: Array<[string, number]> = [
    ['-5', -5], ['-1', -1], ['0', 0], ['5', 5], ['300', 300], ['-300', -300],
    ['4294967295', 4294967295], ['-4294967296', -4294967296], ['-1700000000000', -1700000000000],
    ['9007199254740991', 9007199254740991], ['-9007199254740991', -9007199254740991],
  ];
  for (const [wire, want] of cases) {
    const b = varint(wire);
    if (want < 0) t.equal(b.length, 10, `${wire} is ten bytes on the wire`);
    const r = new Reader(b);
    t.equal(r.int64(), want, `int64 ${wire}`);
    t.equal(r.pos, b.length, `int64 ${wire} consumes the whole varint`);
  }
});

t.test('a negative sfixed64 reads back as the negative number', async (t) => {
  for (const [wire, want] of [['-5', -5], ['-1', -1], ['7', 7], ['-4294967297', -4294967297]] as const) {
    t.equal(new Reader(sfixed64(wire)).sfixed64(), want, `sfixed64 ${wire}`);
  }
});

t.test('an int64 varint that is truncated or longer than ten bytes is a DecodeError', async (t) => {
  t.throws(() => new Reader(varint('-5').subarray(0, 9)).int64(), DecodeError);
  t.throws(() => new Reader(new Uint8Array(11).fill(0xff)).int64(), DecodeError);
});

t.test('a remote write sample with a negative timestamp reaches the sink with that timestamp', async (t) => {
  const sink = new RecordingSink();
  const dec = new RemoteWriteDecoder(sink);
  const body = WriteRequest.encode(WriteRequest.fromObject({
    timeseries: [{ labels: [{ name: '__name__', value: 'g' }], samples: [{ value: 1, timestamp: -5 }] }],
  })).finish();
  dec.decode(body, 'default');
  t.equal(sink.samples[0]?.tsMs, -5);
});
