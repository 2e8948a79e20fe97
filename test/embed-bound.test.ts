import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from '../src/index.js';

t.test('bound counter, histogram and gauge handles write the series record() writes', { timeout: 120_000 }, async (t) => {
  const db = await open({ dataDir: mkdtempSync(join(tmpdir(), 'tallyd-embed-bound-')), flushInterval: '1s' });
  const labels = { model: 'gpt-4o', type: 'input' };
  const tokens = db.counter('tokens_total', labels);
  const lat = db.histogram('lat_seconds', { model: 'gpt-4o' });
  const inflight = db.gauge('inflight', { pool: 'a' });
  labels.type = 'changed after binding'; // the handle copied its labels
  for (let i = 1; i <= 10; i++) {
    t.ok(tokens.add(i));
    t.ok(db.record('tokens_total', 100, { type: 'input', model: 'gpt-4o' }));
    t.ok(lat.observe(i / 10));
  }
  t.ok(tokens.add(), 'add() defaults to 1');
  t.notOk(tokens.add(-1), 'a negative increment is refused');
  t.notOk(lat.observe(NaN), 'a NaN observation is refused');
  t.ok(inflight.set(3));
  t.ok(inflight.set(2));
  await db.flush();
  const one = async (expr: string): Promise<number> => {
    const v = await db.query(expr);
    if (v.type !== 'vector' || v.samples.length !== 1) throw new Error(`${expr}: ${JSON.stringify(v)}`);
    return v.samples[0]!.value;
  };
  t.equal(await one('sum(tokens_total{model="gpt-4o",type="input"})'), 55 + 1 + 1000, 'handle and record() add into one series');
  t.equal(await one('count(tokens_total)'), 1, 'no series under the label value changed after binding');
  t.equal(await one('sum(lat_seconds_count{model="gpt-4o"})'), 10);
  t.equal(await one('inflight{pool="a"}'), 2, 'the gauge holds its last value');
  await db.close();
  t.throws(() => tokens.add(1), /record after close/);
});
