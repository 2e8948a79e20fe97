import t from 'tap';
import { editDistance, nearest } from '../../src/config/suggest.js';

t.test('editDistance counts insertions, deletions and substitutions', async (t) => {
  t.equal(editDistance('', ''), 0);
  t.equal(editDistance('statsd', 'statsd'), 0);
  t.equal(editDistance('stasd', 'statsd'), 1);
  t.equal(editDistance('grcp', 'grpc'), 2);
  t.equal(editDistance('kitten', 'sitting'), 3);
});

t.test('nearest picks the closest flag and refuses far-fetched ones', async (t) => {
  const flags = ['data-dir', 'http', 'grpc', 'otlp-grpc', 'otlp-http', 'statsd', 'log-level'];
  t.equal(nearest('otlp-htp', flags), 'otlp-http');
  t.equal(nearest('loglevel', flags), 'log-level');
  t.equal(nearest('data', flags), 'data-dir');
  t.equal(nearest('qqqqqqqqqq', flags), null);
});
