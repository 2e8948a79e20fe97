import t from 'tap';
import { toOpenMetrics } from '../../../src/api/http/openmetrics.js';

t.test('Prometheus text becomes OpenMetrics with counter families named without _total', async (t) => {
  const text = [
    '# HELP llm_tokens_total Tokens.',
    '# TYPE llm_tokens_total counter',
    'llm_tokens_total{model="a"} 5',
    '# TYPE temp gauge',
    'temp 1.5',
    '# TYPE odd untyped',
    'odd 1',
    '',
  ].join('\n');
  t.equal(
    toOpenMetrics(text),
    ['# HELP llm_tokens Tokens.', '# TYPE llm_tokens counter', 'llm_tokens_total{model="a"} 5', '# TYPE temp gauge', 'temp 1.5', '# TYPE odd unknown', 'odd 1', '# EOF', ''].join('\n'),
  );
});
