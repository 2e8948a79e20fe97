import t from 'tap';
import { SeriesRefs } from '../../src/pipeline/series-refs.js';
import { fnv1aString } from '../../src/wire/fnv1a.js';

t.test('every key stored is found again with its ref, across the growth of every column', async (t) => {
  const m = new SeriesRefs();
  const key = (i: number): string => `default\u00000\u0000__name__\u00fereqs_total\u00ffinstance\u00fehost-${i}\u00ff`;
  t.equal(m.get(key(0), fnv1aString(key(0))), -1, 'empty');
  for (let i = 0; i < 50_000; i++) m.set(key(i), fnv1aString(key(i)), i * 3 + 1);
  t.equal(m.size, 50_000);
  let wrong = 0;
  for (let i = 0; i < 50_000; i++) if (m.get(key(i), fnv1aString(key(i))) !== i * 3 + 1) wrong++;
  t.equal(wrong, 0, 'no key lost or mixed up');
  t.equal(m.get(key(50_000), fnv1aString(key(50_000))), -1, 'a key never stored');
  t.equal(m.get(key(7).slice(0, -1), fnv1aString(key(7).slice(0, -1))), -1, 'a prefix of a stored key');
});

t.test('keys with equal hashes are told apart by their text, wide or not', async (t) => {
  const m = new SeriesRefs();
  // One hash for all: every lookup walks the same probe chain and must compare the text.
  const keys = ['ab', 'a\u0100', 'a\u00ff', 'ab\u0000', '', 'é', '\u0100b', '日本', 'b'];
  keys.forEach((k, i) => m.set(k, 7, i));
  keys.forEach((k, i) => t.equal(m.get(k, 7), i, JSON.stringify(k)));
  t.equal(m.get('ba', 7), -1);
  t.equal(m.get('\u0101b', 7), -1, 'a wide key differing in the high byte of a code unit');
  t.equal(m.get('a\u0101', 7), -1, 'a wide key differing in the low byte');
  t.equal(m.get('ab', 8), -1, 'the same text under another hash is another key');
});
