import t from 'tap';
import { decodeReadRequest } from '../../../src/query/remote-read/decode.js';
import { DecodeError } from '../../../src/wire/proto-reader.js';
import { loadPrompb } from './prompb-client.js';

const ReadRequest = loadPrompb().lookupType('prometheus.ReadRequest');

t.test('a ReadRequest written by protobufjs decodes through the shared wire reader', async (t) => {
  const body = ReadRequest.encode(ReadRequest.fromObject({
    queries: [{
      startTimestampMs: -1_000, endTimestampMs: 1_700_000_000_000,
      matchers: [{ type: 0, name: '__name__', value: 'up' }, { type: 2, name: 'job', value: 'api|db' }],
      hints: { stepMs: 15_000, func: 'rate', startMs: -1_000, endMs: 1_700_000_000_000, grouping: ['job', 'ünïcode'], by: true, rangeMs: 300_000 },
    }],
    acceptedResponseTypes: [1, 0],
  })).finish();
  const req = decodeReadRequest(body);
  t.equal(req.queries.length, 1);
  const q = req.queries[0]!;
  t.equal(q.startMs, -1_000, 'a negative int64 start');
  t.equal(q.endMs, 1_700_000_000_000);
  t.same(q.matchers.map((m) => [m.type, m.name, m.value]), [['=', '__name__', 'up'], ['=~', 'job', 'api|db']]);
  t.same(q.hints, { stepMs: 15_000, func: 'rate', startMs: -1_000, endMs: 1_700_000_000_000, grouping: ['job', 'ünïcode'], by: true, rangeMs: 300_000 });
  t.same(req.acceptedResponseTypes, [1, 0], 'packed enums');
});

t.test('a malformed ReadRequest is a DecodeError', async (t) => {
  t.throws(() => decodeReadRequest(Uint8Array.from([0x0a, 0x05, 0x08])), DecodeError, 'a field running past the end');
  t.throws(() => decodeReadRequest(Uint8Array.from([0x00, 0x01])), DecodeError, 'field number 0');
  t.throws(() => decodeReadRequest(Uint8Array.from([0x10, 0xff])), DecodeError, 'a truncated varint');
});
