import t from 'tap';
import { expandRuleTemplate, parseRuleTemplate } from '../../src/rules/template-funcs.js';
import { formatFloat, sprintf } from '../../src/rules/go-format.js';

const data = (value: number) => ({
  labels: { __name__: 'http_errors', instance: 'web-1:9090', job: 'api', path: '/v1/chat' },
  externalLabels: { cluster: 'eu-1' },
  externalURL: 'http://tallyd.example:9477',
  value,
});
const render = (text: string, value = 1234567) => expandRuleTemplate('__alert_T', text, data(value));

// Expected outputs are Prometheus' (template/template_test.go and Go's fmt), not ours.
const cases: Array<[string, number, string]> = [
  ['{{ $value | humanize }}', 1234567, '1.235M'],
  ['{{ humanize $value }}', 0, '0'],
  ['{{ humanize $value }}', 999, '999'],
  ['{{ humanize $value }}', 1000, '1k'],
  ['{{ humanize $value }}', 12345, '12.35k'],
  ['{{ humanize $value }}', 0.0012, '1.2m'],
  ['{{ humanize $value }}', 0.000001, '1u'],
  ['{{ humanize $value }}', -1234567, '-1.235M'],
  ['{{ humanize $value }}', 1.5e27, '1500Y'],
  ['{{ humanize $value }}', NaN, 'NaN'],
  ['{{ humanize $value }}', Infinity, '+Inf'],
  ['{{ humanize "1234.5" }}', 0, '1.234k'],
  ['{{ humanize1024 $value }}', 1048576, '1Mi'],
  ['{{ humanize1024 $value }}', 1024, '1ki'],
  ['{{ humanize1024 $value }}', 1500, '1.465ki'],
  ['{{ humanize1024 $value }}', 0.5, '0.5'],
  ['{{ humanize1024 $value }}', 1, '1'],
  ['{{ humanizeDuration $value }}', 0, '0s'],
  ['{{ humanizeDuration $value }}', 1.5, '1.5s'],
  ['{{ humanizeDuration $value }}', 59, '59s'],
  ['{{ humanizeDuration $value }}', 61, '1m 1s'],
  ['{{ humanizeDuration $value }}', 3601, '1h 0m 1s'],
  ['{{ humanizeDuration $value }}', 90061, '1d 1h 1m 1s'],
  ['{{ humanizeDuration $value }}', -90061, '-1d 1h 1m 1s'],
  ['{{ humanizeDuration $value }}', 0.002, '2ms'],
  ['{{ humanizeDuration $value }}', 0.0000033, '3.3us'],
  ['{{ humanizePercentage $value }}', 0.1234567, '12.35%'],
  ['{{ humanizePercentage $value }}', 0.05, '5%'],
  ['{{ humanizePercentage $value }}', 1, '100%'],
  ['{{ humanizeTimestamp $value }}', 1435065584.128, '2015-06-23 13:19:44.128 +0000 UTC'],
  ['{{ printf "%s" $labels.job }}', 0, 'api'],
  ['{{ printf "%d" 42 }}', 0, '42'],
  ['{{ printf "%05d|%-4d|%+d" 42 7 3 }}', 0, '00042|7   |+3'],
  ['{{ printf "%f" $value }}', 1.5, '1.500000'],
  ['{{ printf "%.2f" $value }}', 2.675, '2.67'],
  ['{{ printf "%.0f" $value }}', 2.5, '2'],
  ['{{ printf "%.1f%%" $value }}', 99.95, '100.0%'],
  ['{{ printf "%v" $value }}', 0.1, '0.1'],
  ['{{ printf "%g" $value }}', 1e21, '1e+21'],
  ['{{ printf "%g" $value }}', 123456789, '1.23456789e+08'],
  ['{{ printf "%g" $value }}', 0.00001, '1e-05'],
  ['{{ printf "%.3g" $value }}', 1234, '1.23e+03'],
  ['{{ printf "%e" $value }}', 1234.5678, '1.234568e+03'],
  ['{{ printf "%d" $value }}', 1.5, '%!d(float64=1.5)'],
  ['{{ printf "%s %s" "a" }}', 0, 'a %!s(MISSING)'],
  ['{{ $value }}', 1234567, '1.234567e+06'],
  ['{{ $value }}', 123456, '123456'],
  ['{{ $value }}', 0.5, '0.5'],
  ['{{ $value }}', 0.00001, '1e-05'],
  ['{{ .Value }}', 3, '3'],
  ['{{ $labels.instance | title }}', 0, 'Web-1:9090'],
  ['{{ title "hello wide world" }}', 0, 'Hello Wide World'],
  ['{{ toUpper $labels.job }}', 0, 'API'],
  ['{{ toLower "MiXeD" }}', 0, 'mixed'],
  ['{{ $labels.job }}/{{ .Labels.path }}', 0, 'api//v1/chat'],
  ['{{ $labels.nope }}', 0, ''],
  ['{{ $externalLabels.cluster }} {{ $externalURL }}', 0, 'eu-1 http://tallyd.example:9477'],
  ['{{ .ExternalLabels.cluster }}', 0, 'eu-1'],
  ['{{ if gt $value 10.0 }}high{{ else }}low{{ end }}', 11, 'high'],
  ['{{ if gt $value 10.0 }}high{{ else if gt $value 5.0 }}mid{{ else }}low{{ end }}', 6, 'mid'],
  ['{{ if eq $labels.job "api" }}yes{{ end }}', 0, 'yes'],
  ['{{ if and (gt $value 1.0) (lt $value 3.0) }}in{{ end }}', 2, 'in'],
  ['{{ if not $labels.nope }}absent{{ end }}', 0, 'absent'],
  ['{{ range $k, $v := $labels }}{{ $k }}={{ $v }},{{ end }}', 0, '__name__=http_errors,instance=web-1:9090,job=api,path=/v1/chat,'],
  ['{{ range $labels }}[{{ . }}]{{ end }}', 0, '[http_errors][web-1:9090][api][/v1/chat]'],
  ['{{ with $labels.job }}job {{ . }}{{ end }}', 0, 'job api'],
  ['{{ $x := humanize $value }}value={{ $x }}', 2048, 'value=2.048k'],
  ['a {{- " b " -}} c', 0, 'a b c'],
  ['{{/* a comment */}}x', 0, 'x'],
  ['{{ reReplaceAll "(.*):.*" "$1" $labels.instance }}', 0, 'web-1'],
  ['{{ if match "^web-" $labels.instance }}web{{ end }}', 0, 'web'],
  ['{{ stripPort $labels.instance }}', 0, 'web-1'],
  ['{{ len $labels }}', 0, '4'],
  ['{{ index $labels "job" }}', 0, 'api'],
  ['{{ print "a" 1 2 "b" }}', 0, 'a1 2b'],
  ['no template here', 0, 'no template here'],
];

for (const [text, value, want] of cases) {
  t.equal(render(text, value), want, `${text} of ${value} renders as Prometheus does`);
}

t.test('templates that do not parse are reported with Go-style messages', async (t) => {
  t.throws(() => parseRuleTemplate('__alert_X', '{{ nosuchfunc $value }}'), /template: __alert_X:1: function "nosuchfunc" not defined/);
  t.throws(() => parseRuleTemplate('__alert_X', '{{ $value '), /unclosed action/);
  t.throws(() => parseRuleTemplate('__alert_X', '{{ if $value }}x'), /unexpected EOF/);
  t.throws(() => parseRuleTemplate('__alert_X', '{{ $nope }}'), /undefined variable "\$nope"/);
  t.throws(() => parseRuleTemplate('__alert_X', 'line1\n{{ end }}'), /__alert_X:2: unexpected \{\{end\}\}/);
});

t.test('a template that fails while running renders Prometheus error text instead of failing the rule', async (t) => {
  t.match(render('{{ humanize "abc" }}'), /^<error expanding template: .*humanize.*invalid syntax>$/);
  t.match(render('{{ $value.Foo }}'), /^<error expanding template: /);
});

t.test('Go float formatting rounds exact ties to even and prints exponents with two digits', async (t) => {
  t.equal(formatFloat(12345, 'g', 4), '1.234e+04');
  t.equal(formatFloat(0.125, 'f', 2), '0.12');
  t.equal(formatFloat(0.375, 'f', 2), '0.38');
  t.equal(formatFloat(1, 'e', -1), '1e+00');
  t.equal(formatFloat(-0.5, 'e', -1), '-5e-01');
  t.equal(formatFloat(5e-324, 'g', -1), '5e-324');
  t.equal(formatFloat(1e100, 'f', 0), '10000000000000000159028911097599180468360808563945281389781327557747838772170381060813469985856815104');
  t.equal(sprintf('%6.2f|%-6s|%q', [3.14159, 'ab', 'x"y']), '  3.14|ab    |"x\\"y"');
});
