import t from 'tap';
import { formatPromFloat, parsePromTime } from '../../../src/api/http/prom-format.js';

t.test('floats render as Prometheus renders them', async (t) => {
  t.equal(formatPromFloat(1), '1');
  t.equal(formatPromFloat(0.1), '0.1');
  t.equal(formatPromFloat(1e21), '1e+21');
  t.equal(formatPromFloat(1.5e-7), '1.5e-07');
  t.equal(formatPromFloat(-2.5e22), '-2.5e+22');
  t.equal(formatPromFloat(123456789012345680000), '123456789012345680000');
  t.equal(formatPromFloat(0.000001), '0.000001');
  t.equal(formatPromFloat(-0), '-0');
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
