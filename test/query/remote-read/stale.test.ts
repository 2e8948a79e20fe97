import t from 'tap';
import { STALE_NAN } from '../../../src/model/stale.js';
import { encodeLabels, encodeReadResponse } from '../../../src/query/remote-read/encode.js';
import { XorChunkWriter } from '../../../src/query/remote-read/xor-chunk.js';

/**
 * Remote read hands a stale marker on as Prometheus writes it: the NaN with bits
 * 0x7ff0000000000002 exactly (Prometheus' value.IsStaleNaN compares all 64 bits), even though
 * JavaScript may have quieted the NaN on its way through the store (0x7ff8000000000002).
 */

function contains(hay: Uint8Array, needle: number[]): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let k = 0; k < needle.length; k++) if (hay[i + k] !== needle[k]) continue outer;
    return true;
  }
  return false;
}

const quieted = new DataView(new ArrayBuffer(8));
quieted.setBigUint64(0, 0x7ff8000000000002n);
const QUIET_STALE = quieted.getFloat64(0);

t.test('SAMPLES responses carry stale markers with their exact bits', async (t) => {
  for (const v of [STALE_NAN, QUIET_STALE]) {
    const body = encodeReadResponse([[{ labels: encodeLabels([{ name: '__name__', value: 'up' }]), timestamps: Float64Array.of(1000, 2000), values: Float64Array.of(1, v), from: 0, to: 2 }]]);
    t.ok(contains(body, [0x09, 0x02, 0, 0, 0, 0, 0, 0xf0, 0x7f]), 'Sample.value is 0x7ff0000000000002 (little-endian)');
  }
  const plain = encodeReadResponse([[{ labels: encodeLabels([{ name: '__name__', value: 'up' }]), timestamps: Float64Array.of(1000), values: Float64Array.of(NaN), from: 0, to: 1 }]]);
  t.notOk(contains(plain, [0x02, 0, 0, 0, 0, 0, 0xf0, 0x7f]), 'an ordinary NaN is not turned into a marker');
});

t.test('XOR chunks carry stale markers with their exact bits', async (t) => {
  const w = new XorChunkWriter();
  w.reset();
  w.append(1000, QUIET_STALE);
  t.ok(contains(w.bytes(), [0x7f, 0xf0, 0, 0, 0, 0, 0, 0x02]), "the first sample's raw 64 bits are the marker's");
});
