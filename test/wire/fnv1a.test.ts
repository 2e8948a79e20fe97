import t from 'tap';
import { FNV_OFFSET, fnv1aStep, fnv1aString } from '../../src/wire/fnv1a.js';
import { groupOffsetMs } from '../../src/rules/group.js';

// Reference values of 32-bit FNV-1a (the published test vectors: "" is the offset basis).
const VECTORS: Array<[string, number]> = [
  ['', 0x811c9dc5],
  ['a', 0xe40c292c],
  ['foobar', 0xbf9cf968],
];

t.test('fnv1aString and the byte step give the published FNV-1a 32-bit values', async (t) => {
  for (const [s, want] of VECTORS) {
    t.equal(fnv1aString(s), want, `string ${JSON.stringify(s)}`);
    let h = FNV_OFFSET;
    for (const c of Buffer.from(s, 'latin1')) h = fnv1aStep(h, c);
    t.equal(h >>> 0, want, `bytes ${JSON.stringify(s)}, one step each`);
  }
});

t.test('rule group offsets are the FNV-1a of "file;name" modulo the interval', async (t) => {
  // 'rules.yml;api' hashes to 0xc67b4efb = 3329969915 (the value the offset had before the
  // hash moved to src/wire); 3329969915 % 60000 = 29915, so groups keep their evaluation times.
  t.equal(fnv1aString('rules.yml;api'), 3329969915);
  t.equal(groupOffsetMs('rules.yml', 'api', 60_000), 29915);
});
