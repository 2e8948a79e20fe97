import t from 'tap';
import { SeriesCache, keyHash, MISS } from '../../../src/ingest/statsd/series-cache.js';

/** at places `text` at `offset` in a buffer padded with `pad` bytes after it; it returns its view. */
function at(text: string, offset: number, pad: number, fill = 0x7c): DataView {
  const key = Buffer.from(text, 'latin1');
  const b = new Uint8Array(offset + key.length + pad).fill(fill);
  b.set(key, offset);
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** look finds name `n` tagged `g` (both at the given offset, tags right after the name). */
function look(c: SeriesCache, type: number, dv: DataView, off: number, nl: number, tl: number): number {
  const h = keyHash(type, dv, off, nl, off + nl, tl, -1, 0);
  return c.find(h, type, dv, off, nl, off + nl, tl, -1, 0);
}

t.test('a key is found again only for the same bytes, type and parts, at any offset and at a buffer end', async (t) => {
  // Every name and tag length 0-9 covers whole words and each 1-3 byte tail; pad 0 puts the
  // tail at the end of the buffer, where it cannot be read as one word.
  const c = new SeriesCache(1 << 20);
  let ref = 0;
  for (let nl = 1; nl <= 9; nl++) {
    for (let tl = 0; tl <= 9; tl++) {
      const text = Array.from({ length: nl + tl }, (_, i) => String.fromCharCode(97 + ((i * 7 + nl + tl) % 26))).join('');
      const first = at(text, 3, 5);
      t.equal(look(c, 1, first, 3, nl, tl), MISS, `${nl}+${tl}: a miss first`);
      c.insert(keyHash(1, first, 3, nl, 3 + nl, tl, -1, 0), 1, first, 3, nl, 3 + nl, tl, -1, 0, ref);
      for (const [off, pad, fill] of [[0, 0, 0], [1, 0, 0xff], [6, 1, 0x41], [7, 8, 0]] as const) {
        const dv = at(text, off, pad, fill);
        if (look(c, 1, dv, off, nl, tl) !== ref) t.fail(`${nl}+${tl}: no hit at offset ${off}, pad ${pad}`);
        if (look(c, 2, dv, off, nl, tl) !== MISS) t.fail(`${nl}+${tl}: another type hits`);
        if (tl > 0 && look(c, 1, dv, off, nl + 1, tl - 1) !== MISS) t.fail(`${nl}+${tl}: a byte moved from the tags to the name hits`);
        for (let i = 0; i < nl + tl; i++) {
          const d = at(text, off, pad, fill);
          d.setUint8(off + i, d.getUint8(off + i) ^ 0x20);
          if (look(c, 1, d, off, nl, tl) !== MISS) t.fail(`${nl}+${tl}: byte ${i} changed still hits`);
        }
      }
      ref++;
    }
  }
  t.equal(c.size, ref);
});

t.test('the container is part of the key', async (t) => {
  const c = new SeriesCache(100);
  const dv = at('req|abc|c1|c2', 0, 0);
  const put = (cs: number, ref: number) => c.insert(keyHash(1, dv, 0, 3, 4, 3, cs, 2), 1, dv, 0, 3, 4, 3, cs, 2, ref);
  const get = (cs: number) => c.find(keyHash(1, dv, 0, 3, 4, 3, cs, 2), 1, dv, 0, 3, 4, 3, cs, 2);
  put(8, 10);
  t.equal(get(8), 10);
  t.equal(get(11), MISS);
  t.equal(c.find(keyHash(1, dv, 0, 3, 4, 3, -1, 0), 1, dv, 0, 3, 4, 3, -1, 0), MISS, 'no container is another key');
});

t.test('tagged series keys spread over the table: short probe sequences at 100k keys', async (t) => {
  // The bench's DogStatsD shape: keys differing in a few digits in the middle of the tags.
  const c = new SeriesCache(1 << 20);
  for (let j = 0; j < 100_000; j++) {
    const name = 'llm.provider.requests';
    const tags = `model:model-${j % 10},agent_id:agent-${Math.floor(j / 10) % 50},tool_name:tool-${Math.floor(j / 500)},env:prod`;
    const dv = at(name + tags, 0, 0);
    const h = keyHash(1, dv, 0, name.length, name.length, tags.length, -1, 0);
    c.insert(h, 1, dv, 0, name.length, name.length, tags.length, -1, 0, j);
  }
  // A good hash at load <= 1/2 keeps the longest linear probe in the tens; a weak one (e.g. one
  // that drops the high bytes of words) piles keys into runs of hundreds.
  t.ok(c.maxProbe() <= 40, `longest probe ${c.maxProbe()}`);
});

t.test('past maxEntries the cache starts over and keeps working', async (t) => {
  const c = new SeriesCache(16);
  for (let i = 0; i < 40; i++) {
    const dv = at(`k${i}`, 0, 0);
    const nl = dv.byteLength;
    if (look(c, 1, dv, 0, nl, 0) === MISS) c.insert(keyHash(1, dv, 0, nl, 0, 0, -1, 0), 1, dv, 0, nl, 0, 0, -1, 0, i);
    t.equal(look(c, 1, dv, 0, nl, 0), i);
  }
  t.ok(c.size <= 16);
});
