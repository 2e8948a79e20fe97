import t from 'tap';
import { AnalyticsParamError, parseRange } from '../../src/cost/analytics-params.js';

const NOW = Date.parse('2026-12-06T12:00:00Z');

t.test('period ends now; from/to take RFC 3339 or unix seconds', async (t) => {
  t.same(parseRange({ period: '7d' }, NOW), { fromMs: NOW - 7 * 86_400_000, toMs: NOW, groupBy: [], stepMs: 0 });
  t.same(parseRange({}, NOW).fromMs, NOW - 30 * 86_400_000, 'default 30d');
  const r = parseRange({ from: '2026-11-01T00:00:00Z', to: String(Date.parse('2026-12-05T00:00:00Z') / 1000 + 0.5), group_by: 'agent,model', step: '1d' }, NOW);
  t.same(r, { fromMs: Date.parse('2026-11-01T00:00:00Z'), toMs: Date.parse('2026-12-05T00:00:00Z') + 500, groupBy: ['agent', 'model'], stepMs: 86_400_000 });
  t.same(parseRange({ period: '1h', to: '2026-12-01T00:00:00Z' }, NOW).fromMs, Date.parse('2026-11-30T23:00:00Z'), 'period before to');
  t.same(parseRange({ group_by: ['tool', 'mcp_server,tool'] }, NOW).groupBy, ['tool', 'mcp_server'], 'repeated and comma-separated, deduplicated');
});

t.test('bad parameters are refused, naming the parameter', async (t) => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ period: '30 days' }, /"period"/],
    [{ period: '0s' }, /"period"/],
    [{ from: 'last tuesday' }, /"from"/],
    [{ to: '2026-13-45T00:00:00Z' }, /"to"/],
    [{ from: '1764979200', to: '1764979100' }, /must be after/],
    [{ group_by: 'agent,planet' }, /"group_by".*planet/],
    [{ step: '-1d' }, /"step"/],
    [{ period: '90d', step: '1s' }, /more than 11000 points/],
  ];
  for (const [q, re] of cases) t.throws(() => parseRange(q, NOW), { message: re }, JSON.stringify(q));
  t.throws(() => parseRange({ period: 'x' }, NOW), AnalyticsParamError);
});
