import t from 'tap';
import { FNV_OFFSET, fnv1aBytes, fnv1aStep, fnv1aString } from '../../src/wire/fnv1a.js';
import { groupOffsetMs } from '../../src/rules/group.js';

// Reference values of 32-bit FNV-1a (the published test vectors: "" is the offset basis).
const VECTORS: Array<[string, number]> = [
  ['', 0x811c9dc5],
  ['a', 0xe40c292c],
  ['foobar', 0xbf9cf968],
];

t.test('fnv1aString and fnv1aBytes give the published FNV-1a 32-bit values', async (t) => {
  for (const [s, want] of VECTORS) {
    t.equal(fnv1aString(s), want, `string ${JSON.stringify(s)}`);
    const b = Buffer.from(`xx${s}yy`, 'latin1');
    t.equal(fnv1aBytes(b, 2, 2 + s.length) >>> 0, want, `bytes ${JSON.stringify(s)} inside a larger buffer`);
  }
});

t.test('the step, the byte run and a continued run agree', async (t) => {
  const b = Buffer.from('service:checkout', 'latin1');
  let h = FNV_OFFSET;
  for (const c of b) h = fnv1aStep(h, c);
  t.equal(fnv1aBytes(b, 0, b.length), h, 'one step per byte equals the run');
  t.equal(fnv1aBytes(b, 8, b.length, fnv1aBytes(b, 0, 8)), h, 'a run continued from a prefix equals the whole run');
});

t.test('rule group offsets are the FNV-1a of "file;name" modulo the interval', async (t) => {
  // 'rules.yml;api' hashes to 0xc67b4efb = 3329969915 (the value the offset had before the
  // hash moved to src/wire); 3329969915 % 60000 = 29915, so groups keep their evaluation times.
  t.equal(fnv1aString('rules.yml;api'), 3329969915);
  t.equal(groupOffsetMs('rules.yml', 'api', 60_000), 29915);
});
