/**
 * PromQL cases as data, hand-computed (or taken from Prometheus' promqltest files). Each row is
 * input series in promqltest `load` notation, an expression, an evaluation time (or a range) and
 * the expected result:
 *   - vector/matrix: lines `<series> <value(s)>` (`{}` for no labels; range values use load
 *     notation, `_` for a missing step);
 *   - `scalar <v>`; `empty` for no result;
 *   - `error` with a substring of the message and the QueryError type.
 * Times are seconds-or-duration strings as in promqltest ("10m").
 */
export interface Case {
  readonly name: string;
  readonly load: string;
  readonly expr: string;
  readonly at?: string;
  readonly range?: { readonly start: string; readonly end: string; readonly step: string };
  readonly expect?: string;
  readonly error?: { readonly type: string; readonly contains: string };
  readonly ordered?: boolean;
  /** Relative tolerance (default 1e-6, as promqltest). */
  readonly tolerance?: number;
  readonly maxSamples?: number;
}

const COUNTERS = `
load 1m
  http_requests_total{job="api", instance="0"} 0+10x10
  http_requests_total{job="api", instance="1"} 0+20x10
  http_requests_total{job="db", instance="0"} 0+5x10
`;

const GAUGE = `
load 1m
  g{a="x"} 10 8 6 4 2 0
`;

const RESETS = `
load 1m
  c 0 10 20 5 15
`;

const CLASSIC = `
load 1m
  req_bucket{le="0.1", job="a"} 0+1x10
  req_bucket{le="0.5", job="a"} 0+3x10
  req_bucket{le="1", job="a"} 0+4x10
  req_bucket{le="+Inf", job="a"} 0+5x10
  req_bucket{le="0.1", job="b"} 0+1x10
  req_bucket{le="0.5", job="b"} 0+1x10
  req_bucket{le="1", job="b"} 0+1x10
  req_bucket{le="+Inf", job="b"} 0+1x10
`;

const NATIVE = `
load_hist 1m
  lat{model="a", instance="0"} 0.2*10 | 0.2*10 | 0.2*10 | 0.2*10 | 0.2*10 | 0.2*10 | 0.2*10 | 0.2*10 | 0.2*10 | 0.2*10 | 0.2*10
  lat{model="a", instance="1"} 1*10 | 1*10 | 1*10 | 1*10 | 1*10 | 1*10 | 1*10 | 1*10 | 1*10 | 1*10 | 1*10
  lat{model="b", instance="0"} 0.5*2,3*2 | 0.5*2,3*2 | 0.5*2,3*2 | 0.5*2,3*2 | 0.5*2,3*2 | 0.5*2,3*2 | 0.5*2,3*2 | 0.5*2,3*2 | 0.5*2,3*2 | 0.5*2,3*2 | 0.5*2,3*2
`;

const MATCH = `
load 1m
  a{x="1", y="a"} 10
  a{x="1", y="b"} 20
  a{x="2", y="a"} 30
  b{x="1"} 2
  b{x="2"} 5
  c{x="1", z="zz"} 3
  c{x="2", z="yy"} 4
`;

export const CASES: readonly Case[] = [
  // Selectors, lookback, offset, @.
  { name: 'an instant selector returns the latest sample with its name', load: COUNTERS, expr: 'http_requests_total{job="api"}', at: '10m',
    expect: 'http_requests_total{job="api", instance="0"} 100\nhttp_requests_total{job="api", instance="1"} 200' },
  { name: 'regex and negative matchers select by label', load: COUNTERS, expr: 'http_requests_total{job=~"d.*", instance!~"1"}', at: '10m',
    expect: 'http_requests_total{job="db", instance="0"} 50' },
  { name: 'a sample stays visible for just under five minutes of lookback', load: COUNTERS, expr: 'http_requests_total{job="db"}', at: '14m59s',
    expect: 'http_requests_total{job="db", instance="0"} 50' },
  { name: 'lookback is left-open: a sample exactly 5m old is gone', load: COUNTERS, expr: 'http_requests_total{job="db"}', at: '15m', expect: 'empty' },
  { name: 'offset shifts the selection back in time', load: COUNTERS, expr: 'http_requests_total{job="db"} offset 5m', at: '10m',
    expect: 'http_requests_total{job="db", instance="0"} 25' },
  { name: '@ pins the selection to a timestamp', load: COUNTERS, expr: 'http_requests_total{job="db"} @ 180', at: '10m',
    expect: 'http_requests_total{job="db", instance="0"} 15' },
  { name: '@ and offset combine', load: COUNTERS, expr: 'http_requests_total{job="db"} offset 1m @ 180', at: '10m',
    expect: 'http_requests_total{job="db", instance="0"} 10' },
  { name: '@ start() is the range start at every step', load: COUNTERS, expr: 'http_requests_total{job="db"} @ start()', range: { start: '2m', end: '4m', step: '1m' },
    expect: 'http_requests_total{job="db", instance="0"} 10 10 10' },
  { name: '@ end() is the range end at every step', load: COUNTERS, expr: 'http_requests_total{job="db"} @ end()', range: { start: '2m', end: '4m', step: '1m' },
    expect: 'http_requests_total{job="db", instance="0"} 20 20 20' },
  { name: 'a range selector at the top of an instant query returns the raw window', load: GAUGE, expr: 'g[3m]', at: '5m',
    expect: 'g{a="x"} 4@180 2@240 0@300' },
  { name: '__name__ regex selects several metrics', load: MATCH, expr: '{__name__=~"b|c", x="2"}', at: '0',
    expect: 'b{x="2"} 5\nc{x="2", z="yy"} 4' },

  // rate / increase / delta and friends.
  { name: 'rate extrapolates to the window start when the first sample is within 1.1 intervals', load: COUNTERS, expr: 'rate(http_requests_total{job="api"}[5m])', at: '10m',
    expect: '{job="api", instance="0"} 0.16666666666666666\n{job="api", instance="1"} 0.3333333333333333' },
  { name: 'increase over five minutes of a steady counter', load: COUNTERS, expr: 'increase(http_requests_total{job="db"}[5m])', at: '10m',
    expect: '{job="db", instance="0"} 25' },
  { name: 'a counter reset adds the pre-reset value and extrapolation stops at zero', load: RESETS, expr: 'increase(c[5m])', at: '4m', expect: '{} 35' },
  { name: 'resets counts decreases', load: RESETS, expr: 'resets(c[5m])', at: '4m', expect: '{} 1' },
  { name: 'changes counts value changes', load: RESETS, expr: 'changes(c[5m])', at: '4m', expect: '{} 4' },
  { name: 'irate uses the last two samples', load: RESETS, expr: 'irate(c[5m])', at: '4m', expect: '{} 0.16666666666666666' },
  { name: 'irate after a reset uses the post-reset value', load: RESETS, expr: 'irate(c[5m])', at: '3m', expect: '{} 0.08333333333333333' },
  { name: 'idelta is the difference of the last two samples', load: RESETS, expr: 'idelta(c[5m])', at: '3m', expect: '{} -15' },
  { name: 'rate needs two samples in the window', load: RESETS, expr: 'rate(c[1m])', at: '4m', expect: 'empty' },
  { name: 'delta of a gauge extrapolates without counter handling', load: GAUGE, expr: 'delta(g[5m])', at: '5m', expect: '{a="x"} -10' },
  { name: 'deriv is the regression slope per second', load: GAUGE, expr: 'deriv(g[5m])', at: '5m', expect: '{a="x"} -0.03333333333333333' },
  { name: 'predict_linear extrapolates from the evaluation time', load: GAUGE, expr: 'predict_linear(g[5m], 60)', at: '5m', expect: '{a="x"} -2' },
  { name: 'rate over a range query steps through time', load: COUNTERS, expr: 'rate(http_requests_total{job="db"}[5m])', range: { start: '5m', end: '10m', step: '1m' },
    expect: '{job="db", instance="0"} 0.08333333333333333x5' },

  // _over_time.
  { name: 'avg_over_time', load: GAUGE, expr: 'avg_over_time(g[5m])', at: '5m', expect: '{a="x"} 4' },
  { name: 'min_over_time', load: GAUGE, expr: 'min_over_time(g[5m])', at: '5m', expect: '{a="x"} 0' },
  { name: 'max_over_time', load: GAUGE, expr: 'max_over_time(g[5m])', at: '5m', expect: '{a="x"} 8' },
  { name: 'sum_over_time', load: GAUGE, expr: 'sum_over_time(g[5m])', at: '5m', expect: '{a="x"} 20' },
  { name: 'count_over_time', load: GAUGE, expr: 'count_over_time(g[5m])', at: '5m', expect: '{a="x"} 5' },
  { name: 'stdvar_over_time', load: GAUGE, expr: 'stdvar_over_time(g[5m])', at: '5m', expect: '{a="x"} 8' },
  { name: 'stddev_over_time', load: GAUGE, expr: 'stddev_over_time(g[5m])', at: '5m', expect: '{a="x"} 2.8284271247461903' },
  { name: 'quantile_over_time interpolates between ranks', load: GAUGE, expr: 'quantile_over_time(0.9, g[5m])', at: '5m', expect: '{a="x"} 7.2' },
  { name: 'last_over_time keeps the metric name', load: GAUGE, expr: 'last_over_time(g[5m])', at: '5m', expect: 'g{a="x"} 0' },
  { name: 'present_over_time', load: GAUGE, expr: 'present_over_time(g[5m])', at: '5m', expect: '{a="x"} 1' },
  { name: 'absent_over_time of a missing series has the equality labels', load: GAUGE, expr: 'absent_over_time(nope{a="y", b=~"z"}[5m])', at: '5m', expect: '{a="y"} 1' },
  { name: 'absent_over_time of a present series is empty', load: GAUGE, expr: 'absent_over_time(g[5m])', at: '5m', expect: 'empty' },

  // Subqueries.
  { name: 'a subquery evaluates its inner expression at absolute step multiples', load: GAUGE, expr: 'sum_over_time(g[4m:1m])', at: '5m', expect: '{a="x"} 12' },
  { name: 'a subquery window before the data sees only existing steps', load: GAUGE, expr: 'max_over_time(g[10m:2m])', at: '5m', expect: '{a="x"} 10' },
  { name: 'rate over a subquery of a counter', load: COUNTERS, expr: 'max_over_time(rate(http_requests_total{job="db"}[2m])[4m:1m])', at: '10m',
    expect: '{job="db", instance="0"} 0.08333333333333333' },
  { name: 'a subquery with offset', load: GAUGE, expr: 'min_over_time(g[2m:1m] offset 2m)', at: '5m', expect: '{a="x"} 4' },

  // Absent, scalar, vector, time.
  { name: 'absent of a missing selector takes its equality labels', load: GAUGE, expr: 'absent(nonexistent{job="x", env=~"p.*"})', at: '1m', expect: '{job="x"} 1' },
  { name: 'absent of a present selector is empty', load: GAUGE, expr: 'absent(g)', at: '1m', expect: 'empty' },
  { name: 'scalar of one sample is its value', load: GAUGE, expr: 'scalar(g)', at: '1m', expect: 'scalar 8' },
  { name: 'scalar of several samples is NaN', load: COUNTERS, expr: 'scalar(http_requests_total)', at: '1m', expect: 'scalar NaN' },
  { name: 'vector of a scalar has no labels', load: GAUGE, expr: 'vector(3)', at: '1m', expect: '{} 3' },
  { name: 'time is the evaluation time in seconds', load: GAUGE, expr: 'time()', at: '90s', expect: 'scalar 90' },
  { name: 'timestamp of a selector is the sample time', load: GAUGE, expr: 'timestamp(g)', at: '150s', expect: '{a="x"} 120' },
  { name: 'time in a range query', load: GAUGE, expr: 'time()', range: { start: '0', end: '2m', step: '1m' }, expect: '{} 0 60 120' },

  // Math and clamping.
  { name: 'abs drops the metric name', load: 'load 1m\n  m{a="n"} -2.5\n  m{a="p"} 2.5', expr: 'abs(m)', at: '0', expect: '{a="n"} 2.5\n{a="p"} 2.5' },
  { name: 'round halves up', load: 'load 1m\n  m{a="n"} -2.5\n  m{a="p"} 2.5', expr: 'round(m)', at: '0', expect: '{a="n"} -2\n{a="p"} 3' },
  { name: 'round to a nearest multiple', load: 'load 1m\n  m 17', expr: 'round(m, 5)', at: '0', expect: '{} 15' },
  { name: 'ceil and floor', load: 'load 1m\n  m 1.5', expr: 'ceil(m) + floor(m)', at: '0', expect: '{} 3' },
  { name: 'sqrt exp ln', load: 'load 1m\n  m 4', expr: 'sqrt(m) + ln(exp(m))', at: '0', expect: '{} 6' },
  { name: 'log2 and log10', load: 'load 1m\n  m 8', expr: 'log2(m) * log10(vector(100))', at: '0', expect: '{} 6' },
  { name: 'sgn keeps zero', load: 'load 1m\n  m{a="1"} -3\n  m{a="2"} 0\n  m{a="3"} 7', expr: 'sgn(m)', at: '0', expect: '{a="1"} -1\n{a="2"} 0\n{a="3"} 1' },
  { name: 'clamp limits both ways', load: 'load 1m\n  m{a="1"} -3\n  m{a="2"} 3\n  m{a="3"} 7', expr: 'clamp(m, 0, 5)', at: '0', expect: '{a="1"} 0\n{a="2"} 3\n{a="3"} 5' },
  { name: 'clamp with max below min is empty', load: 'load 1m\n  m 3', expr: 'clamp(m, 5, 0)', at: '0', expect: 'empty' },
  { name: 'clamp_min and clamp_max', load: 'load 1m\n  m{a="1"} -3\n  m{a="3"} 7', expr: 'clamp_min(m, 0) + clamp_max(m, 5)', at: '0', expect: '{a="1"} -3\n{a="3"} 12' },

  // Dates.
  { name: 'hour and minute of a timestamp', load: '', expr: 'hour(vector(18420)) * 100 + minute(vector(18420))', at: '0', expect: '{} 507' },
  { name: 'year month day_of_month', load: '', expr: 'year(vector(3456000)) * 10000 + month(vector(3456000)) * 100 + day_of_month(vector(3456000))', at: '0', expect: '{} 19700210' },
  { name: 'day_of_week of the epoch is Thursday', load: '', expr: 'day_of_week(vector(0))', at: '0', expect: '{} 4' },
  { name: 'days_in_month and day_of_year', load: '', expr: 'days_in_month(vector(3456000)) * 1000 + day_of_year(vector(3456000))', at: '0', expect: '{} 28041' },
  { name: 'hour() without argument uses the evaluation time', load: '', expr: 'hour()', at: '9000', expect: '{} 2' },

  // Labels.
  { name: 'label_replace copies a capture group and keeps the name', load: 'load 1m\n  up{job="api-server"} 1', expr: 'label_replace(up, "foo", "$1", "job", "(.*)-server")', at: '0',
    expect: 'up{job="api-server", foo="api"} 1' },
  { name: 'label_replace without a match leaves the series', load: 'load 1m\n  up{job="api-server"} 1', expr: 'label_replace(up, "foo", "$1", "job", "nomatch(.*)")', at: '0',
    expect: 'up{job="api-server"} 1' },
  { name: 'label_join joins source labels', load: 'load 1m\n  up{a="x", b="y"} 1', expr: 'label_join(up, "c", "-", "a", "b")', at: '0', expect: 'up{a="x", b="y", c="x-y"} 1' },
  { name: 'label_replace creating a duplicate labelset fails', load: 'load 1m\n  up{a="x"} 1\n  up{a="y"} 2', expr: 'label_replace(up, "a", "z", "a", ".*")', at: '0',
    error: { type: 'execution', contains: 'vector cannot contain metrics with the same labelset' } },

  // Aggregations.
  { name: 'sum without grouping', load: COUNTERS, expr: 'sum(http_requests_total)', at: '10m', expect: '{} 350' },
  { name: 'sum by job', load: COUNTERS, expr: 'sum by (job) (http_requests_total)', at: '10m', expect: '{job="api"} 300\n{job="db"} 50' },
  { name: 'sum without instance drops the name', load: COUNTERS, expr: 'sum without (instance) (http_requests_total)', at: '10m', expect: '{job="api"} 300\n{job="db"} 50' },
  { name: 'avg by job', load: COUNTERS, expr: 'avg(http_requests_total) by (job)', at: '10m', expect: '{job="api"} 150\n{job="db"} 50' },
  { name: 'count, min, max', load: COUNTERS, expr: 'count(http_requests_total) * 1000 + max(http_requests_total) + min(http_requests_total) / 1000', at: '10m', expect: '{} 3200.05' },
  { name: 'group yields 1 per group', load: COUNTERS, expr: 'group by (job) (http_requests_total)', at: '10m', expect: '{job="api"} 1\n{job="db"} 1' },
  { name: 'stddev and stdvar', load: COUNTERS, expr: 'stddev by (job) (http_requests_total)', at: '10m', expect: '{job="api"} 50\n{job="db"} 0' },
  { name: 'stdvar', load: COUNTERS, expr: 'stdvar by (job) (http_requests_total)', at: '10m', expect: '{job="api"} 2500\n{job="db"} 0' },
  { name: 'topk returns the largest, highest first, with their names', load: COUNTERS, expr: 'topk(2, http_requests_total)', at: '10m', ordered: true,
    expect: 'http_requests_total{job="api", instance="1"} 200\nhttp_requests_total{job="api", instance="0"} 100' },
  { name: 'bottomk by group', load: COUNTERS, expr: 'bottomk by (job) (1, http_requests_total)', at: '10m',
    expect: 'http_requests_total{job="api", instance="0"} 100\nhttp_requests_total{job="db", instance="0"} 50' },
  { name: 'topk keeps the first of tied series', load: 'load 1m\n  t{a="1"} 5\n  t{a="2"} 5\n  t{a="3"} 5', expr: 'topk(1, t)', at: '0', expect: 't{a="1"} 5' },
  { name: 'topk with k below one is empty', load: COUNTERS, expr: 'topk(0, http_requests_total)', at: '10m', expect: 'empty' },
  { name: 'quantile aggregation', load: COUNTERS, expr: 'quantile(0.5, http_requests_total)', at: '10m', expect: '{} 100' },
  { name: 'count_values counts equal values', load: 'load 1m\n  v{a="1"} 1\n  v{a="2"} 1\n  v{a="3"} 2.5', expr: 'count_values("val", v)', at: '0', expect: '{val="1"} 2\n{val="2.5"} 1' },
  { name: 'aggregation over NaN: max ignores NaN unless only NaN', load: 'load 1m\n  v{a="1"} NaN\n  v{a="2"} 3', expr: 'max(v)', at: '0', expect: '{} 3' },
  { name: 'sum with NaN is NaN', load: 'load 1m\n  v{a="1"} NaN\n  v{a="2"} 3', expr: 'sum(v)', at: '0', expect: '{} NaN' },
  { name: 'aggregating nothing is empty', load: COUNTERS, expr: 'sum(nothing)', at: '10m', expect: 'empty' },

  // Binary operators.
  { name: 'arithmetic with a scalar drops the name', load: COUNTERS, expr: 'http_requests_total{job="db"} * 2', at: '10m', expect: '{job="db", instance="0"} 100' },
  { name: 'a comparison filters and keeps the name', load: COUNTERS, expr: 'http_requests_total > 90', at: '10m',
    expect: 'http_requests_total{job="api", instance="0"} 100\nhttp_requests_total{job="api", instance="1"} 200' },
  { name: 'a scalar on the left of a comparison keeps the vector value', load: COUNTERS, expr: '90 < http_requests_total', at: '10m',
    expect: 'http_requests_total{job="api", instance="0"} 100\nhttp_requests_total{job="api", instance="1"} 200' },
  { name: 'bool comparisons return 0/1 without the name', load: COUNTERS, expr: 'http_requests_total > bool 90', at: '10m',
    expect: '{job="api", instance="0"} 1\n{job="api", instance="1"} 1\n{job="db", instance="0"} 0' },
  { name: 'scalar comparisons need bool', load: '', expr: '1 > bool 2', at: '0', expect: 'scalar 0' },
  { name: 'power is right associative', load: '', expr: '2 ^ 3 ^ 2', at: '0', expect: 'scalar 512' },
  { name: 'unary minus binds looser than power', load: '', expr: '-1 ^ 2', at: '0', expect: 'scalar -1' },
  { name: 'modulo and precedence', load: '', expr: '10 % 3 + 2 * 3', at: '0', expect: 'scalar 7' },
  { name: 'one-to-one matching ignoring a label', load: MATCH, expr: 'a{y="a"} / ignoring(y) b', at: '0', expect: '{x="1"} 5\n{x="2"} 6' },
  { name: 'group_left keeps the many side labels', load: MATCH, expr: 'a / on(x) group_left b', at: '0', expect: '{x="1", y="a"} 5\n{x="1", y="b"} 10\n{x="2", y="a"} 6' },
  { name: 'group_left copies extra labels from the one side', load: MATCH, expr: 'a * on(x) group_left(z) c', at: '0',
    expect: '{x="1", y="a", z="zz"} 30\n{x="1", y="b", z="zz"} 60\n{x="2", y="a", z="yy"} 120' },
  { name: 'group_right mirrors group_left', load: MATCH, expr: 'b - on(x) group_right a', at: '0', expect: '{x="1", y="a"} -8\n{x="1", y="b"} -18\n{x="2", y="a"} -25' },
  { name: 'vector comparison keeps the left value', load: MATCH, expr: 'a > on(x) group_left b * 6', at: '0', expect: 'a{x="1", y="b"} 20' },
  { name: 'many-to-many matching is an error', load: MATCH, expr: 'b / on(x) a', at: '0',
    error: { type: 'execution', contains: 'many-to-many matching not allowed: matching labels must be unique on one side' } },
  { name: 'one-to-one with several matches asks for group_left', load: MATCH, expr: 'a / on(x) b', at: '0',
    error: { type: 'execution', contains: 'multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)' } },
  { name: 'and keeps left samples with a match', load: COUNTERS, expr: 'http_requests_total and on(job) http_requests_total{instance="1"}', at: '10m',
    expect: 'http_requests_total{job="api", instance="0"} 100\nhttp_requests_total{job="api", instance="1"} 200' },
  { name: 'unless drops left samples with a match', load: COUNTERS, expr: 'http_requests_total unless http_requests_total{job="api"}', at: '10m',
    expect: 'http_requests_total{job="db", instance="0"} 50' },
  { name: 'or adds unmatched right samples', load: COUNTERS, expr: 'http_requests_total{job="db"} or vector(1)', at: '10m',
    expect: 'http_requests_total{job="db", instance="0"} 50\n{} 1' },
  { name: 'dropping names into equal labelsets is an error', load: 'load 1m\n  x{a="1"} 1\n  y{a="1"} 2', expr: 'abs({__name__=~"x|y"})', at: '0',
    error: { type: 'execution', contains: 'vector cannot contain metrics with the same labelset' } },
  { name: 'binary operations in a range query match per step', load: COUNTERS, expr: 'http_requests_total{job="api", instance="1"} - on(job) http_requests_total{job="api", instance="0"}', range: { start: '0', end: '3m', step: '1m' },
    expect: '{job="api"} 0 10 20 30' },

  // Classic histograms.
  { name: 'histogram_quantile interpolates inside the bucket', load: CLASSIC, expr: 'histogram_quantile(0.5, req_bucket{job="a"})', at: '10m', expect: '{job="a"} 0.4' },
  { name: 'histogram_quantile in the lowest bucket starts at zero', load: CLASSIC, expr: 'histogram_quantile(0.05, req_bucket{job="a"})', at: '10m', expect: '{job="a"} 0.025' },
  { name: 'histogram_quantile in the +Inf bucket answers the highest finite bound', load: CLASSIC, expr: 'histogram_quantile(0.99, req_bucket{job="a"})', at: '10m', expect: '{job="a"} 1' },
  { name: 'histogram_quantile over rate by job', load: CLASSIC, expr: 'histogram_quantile(0.5, sum by (job, le) (rate(req_bucket[5m])))', at: '10m', expect: '{job="a"} 0.4\n{job="b"} 0.05' },
  { name: 'histogram_quantile above 1 is +Inf', load: CLASSIC, expr: 'histogram_quantile(1.5, req_bucket{job="a"})', at: '10m', expect: '{job="a"} +Inf' },
  { name: 'histogram_quantile without +Inf bucket is NaN', load: CLASSIC, expr: 'histogram_quantile(0.5, req_bucket{job="a", le!="+Inf"})', at: '10m', expect: '{job="a"} NaN' },
  { name: 'histogram_quantile forces monotonic buckets', load: 'load 1m\n  r_bucket{le="0.1"} 10\n  r_bucket{le="0.5"} 8\n  r_bucket{le="+Inf"} 20', expr: 'histogram_quantile(0.5, r_bucket)', at: '0', expect: '{} 0.1' },

  // Native (bare) histograms.
  { name: 'histogram_count and histogram_sum read cumulative totals', load: NATIVE, expr: 'histogram_count(lat{model="a", instance="0"}) + histogram_sum(lat{model="a", instance="0"})', at: '2m',
    expect: '{model="a", instance="0"} 36' },
  { name: 'rate of a histogram extrapolates like a float counter', load: NATIVE, expr: 'histogram_count(rate(lat{model="a", instance="0"}[5m]))', at: '10m',
    expect: '{model="a", instance="0"} 0.16666666666666666' },
  { name: 'histogram_quantile of a summed histogram rate', load: NATIVE, expr: 'histogram_quantile(0.25, sum by (model) (rate(lat[5m])))', at: '10m', tolerance: 1e-3,
    expect: '{model="a"} 0.2\n{model="b"} 0.5' },
  { name: 'histogram_quantile 0.99 reaches the top observations', load: NATIVE, expr: 'histogram_quantile(0.99, sum by (model) (rate(lat[5m])))', at: '10m', tolerance: 1e-3,
    expect: '{model="a"} 1\n{model="b"} 3' },
  { name: 'increase of a histogram', load: NATIVE, expr: 'histogram_count(increase(lat{model="b"}[5m]))', at: '10m', expect: '{model="b", instance="0"} 20' },
  { name: 'histogram_fraction of a histogram', load: NATIVE, expr: 'histogram_fraction(0, 1, lat{model="b"})', at: '10m', tolerance: 1e-3, expect: '{model="b", instance="0"} 0.5' },
  { name: 'histogram rate in a range query', load: NATIVE, expr: 'histogram_count(sum(rate(lat[2m])))', range: { start: '5m', end: '7m', step: '1m' },
    expect: '{} 0.4x2' },

  // Errors.
  { name: 'an unclosed brace is a parse error', load: '', expr: 'foo{', at: '0', error: { type: 'bad_data', contains: 'parse error' } },
  { name: 'rate of an instant vector is a type error', load: '', expr: 'rate(foo)', at: '0', error: { type: 'bad_data', contains: 'expected type range vector in call to function "rate", got instant vector' } },
  { name: 'scalar comparison without bool is refused', load: '', expr: '1 > 2', at: '0', error: { type: 'bad_data', contains: 'comparisons between scalars must use BOOL modifier' } },
  { name: 'unknown functions are named', load: '', expr: 'nosuch(foo)', at: '0', error: { type: 'bad_data', contains: 'unknown function with name "nosuch"' } },
  { name: 'an empty selector is refused', load: '', expr: '{job=~".*"}', at: '0', error: { type: 'bad_data', contains: 'vector selector must contain at least one non-empty matcher' } },
  { name: 'a range vector is refused in a range query', load: '', expr: 'foo[5m]', range: { start: '0', end: '1m', step: '1m' },
    error: { type: 'bad_data', contains: 'invalid expression type "range vector" for range query, must be Scalar or instant Vector' } },
  { name: 'set operators refuse scalars', load: '', expr: '1 and vector(1)', at: '0', error: { type: 'bad_data', contains: 'set operator "and" not allowed in binary scalar expression' } },
  { name: 'too many samples fails like Prometheus', load: COUNTERS, expr: 'http_requests_total', at: '10m', maxSamples: 2,
    error: { type: 'execution', contains: 'query processing would load too many samples into memory in query execution' } },
];
