import t from 'tap';
import { formatPromFloat, parsePromTime } from '../../../src/api/http/prom-format.js';

t.test('floats render as Prometheus renders them', async (t) => {
  t.equal(formatPromFloat(1), '1');
  t.equal(formatPromFloat(0.1), '0.1');
  t.equal(formatPromFloat(1e21), '1000000000000000000000');
  t.equal(formatPromFloat(1.5e-7), '0.00000015');
  t.equal(formatPromFloat(-2.5e22), '-25000000000000000000000');
  t.equal(formatPromFloat(NaN), 'NaN');
  t.equal(formatPromFloat(Infinity), '+Inf');
  t.equal(formatPromFloat(-Infinity), '-Inf');
});

t.test('time parameters accept unix seconds and RFC 3339', async (t) => {
  t.equal(parsePromTime('1700000000'), 1_700_000_000_000);
  t.equal(parsePromTime('1700000000.123'), 1_700_000_000_123);
  t.equal(parsePromTime('2023-11-14T22:13:20Z'), 1_700_000_000_000);
  t.equal(parsePromTime('2023-11-14T22:13:20.5+00:00'), 1_700_000_000_500);
  t.equal(parsePromTime('yesterday'), null);
});
