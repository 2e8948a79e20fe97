import t from 'tap';
import { re2ToJs } from '../../../src/model/re2.js';
import { createEngine } from '../../../src/query/promql/engine.js';
import { loadSeries } from './load.js';

const full = (re: string, s: string): boolean => new RegExp(`^(?:${re2ToJs(re)})$`, 's').test(s);

t.test('RE2 inline case-insensitive flags match as in Prometheus', (tt) => {
  tt.ok(full('(?i:PRO).*', 'production'));
  tt.ok(full('(?i)prod', 'PROD'));
  tt.ok(full('a(?i)b', 'aB'));
  tt.notOk(full('a(?i)b', 'AB'), 'the flag applies only after it');
  tt.ok(full('((?i)x)y', 'Xy'));
  tt.notOk(full('((?i)x)y', 'XY'), 'the flag ends with its group');
  tt.ok(full('(?i)[a-c]+', 'AbC'));
  tt.ok(full('(?P<v>\\d+)', '42'), 'RE2 named groups');
  tt.equal(re2ToJs('api-.+'), 'api-.+', 'plain patterns are left untouched');
  tt.end();
});

t.test('selectors and label_replace accept RE2 flag syntax', (tt) => {
  const q = loadSeries('load 1m\n  m{g="Production"} 1\n  m{g="canary"} 2\n');
  const e = createEngine();
  const r = e.instant(q, 'd', 'm{g=~"(?i)production"}', 0);
  tt.equal(r.type === 'vector' ? r.samples.length : -1, 1);
  const l = e.instant(q, 'd', 'label_replace(m, "x", "$1", "g", "(?i)(prod).*")', 0);
  tt.same(l.type === 'vector' ? l.samples.map((s) => s.labels.find((x) => x.name === 'x')?.value ?? '') : [], ['Prod', '']);
  tt.end();
});

t.test('number literals with a trailing dot parse as Prometheus reads them', (tt) => {
  const e = createEngine();
  const q = loadSeries('');
  const r = e.instant(q, 'd', '1./4. + 2.', 0);
  tt.same(r.type === 'scalar' ? r.v : null, 2.25);
  const s = e.instant(q, 'd', '"2."', 0);
  tt.same(s.type === 'string' ? s.v : null, '2.', 'strings are not touched');
  tt.end();
});
