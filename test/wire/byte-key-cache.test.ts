import t from 'tap';
import { ByteKeyCache } from '../../src/wire/byte-key-cache.js';

t.test('a key is found again only for the same bytes and the same two ids, at any offset', async (t) => {
  const c = new ByteKeyCache<string>();
  // Lengths 0..9 cover whole words and every tail length; 150 is an OTLP attribute run.
  for (const len of [0, 1, 2, 3, 4, 5, 7, 8, 9, 150]) {
    const key = Uint8Array.from({ length: len }, (_, i) => (i * 37 + len) & 0xff);
    const a = new Uint8Array(len + 5); a.set(key, 3);
    t.equal(c.get(a, 3, 3 + len, 1, 2), undefined, `len ${len}: a miss first`);
    c.set(a, 3, 3 + len, 1, 2, `v${len}`);
    const b = new Uint8Array(len + 11); b.set(key, 10);
    t.equal(c.get(b, 10, 10 + len, 1, 2), `v${len}`, `len ${len}: a hit in another buffer at another offset`);
    t.equal(c.get(b, 10, 10 + len, 1, 3), undefined, `len ${len}: another id misses`);
    for (let i = 0; i < len; i++) {
      const d = b.slice();
      d[10 + i] = d[10 + i]! ^ 0x80;
      if (c.get(d, 10, 10 + len, 1, 2) !== undefined) t.fail(`len ${len}: byte ${i} changed still hits`);
    }
    if (len > 0) t.not(c.get(b, 10, 9 + len, 1, 2), `v${len}`, `len ${len}: a prefix is another key`);
  }
  t.equal(c.size, 10);
});

t.test('past maxEntries the cache starts over', async (t) => {
  const c = new ByteKeyCache<number>(3);
  const buf = Uint8Array.from([1, 2, 3, 4, 5]);
  for (let i = 0; i < 3; i++) { c.get(buf, i, i + 2, 0, 0); c.set(buf, i, i + 2, 0, 0, i); }
  t.equal(c.size, 3);
  c.get(buf, 3, 5, 0, 0); c.set(buf, 3, 5, 0, 0, 3);
  t.equal(c.size, 1);
  t.equal(c.get(buf, 0, 2, 0, 0), undefined);
  t.equal(c.get(buf, 3, 5, 0, 0), 3);
});
