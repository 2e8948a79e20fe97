import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkRuleFiles } from '../../src/rules/check.js';
import { formatProblem } from '../../src/rules/rule-file.js';
import { engine } from './setup.js';

const parseCheck = (e: string) => engine.parseCheck(e);

function dirWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tallyd-check-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

t.test('every seed rule block loads, with a warning where it is not valid YAML for Prometheus', async (t) => {
  const dir = new URL('../../../test/rules/fixtures/', import.meta.url).pathname;
  const r = checkRuleFiles([join(dir, 'seed-*.yml')], parseCheck);
  t.equal(r.files.length, 5);
  t.same(r.errors, []);
  t.same(
    r.groups.map((g) => `${g.name}:${g.rules.length}`),
    ['llm_providers:3', 'mcp_tools:2', 'llm_providers:3', 'mcp_tools:2', 'llm_orchestrator_alerts:4', 'llm-cost-ops-alerts:6', 'slo:3'],
  );
  t.same(
    r.warnings.map((w) => `${w.file.split('/').pop()}:${w.line}`),
    ['seed-003-orchestrator.yml:23', 'seed-004-slo.yml:20'],
  );
  const slo = r.groups.find((g) => g.name === 'slo')!;
  t.same(slo.rules.map((x) => x.name), ['slo:availability:ratio', 'slo:latency:ratio', 'SLOViolation-Availability'], 'top-level rules join the last group');
  t.equal(slo.intervalMs, 30_000);
  t.equal(slo.rules[2]!.forMs, 3_600_000);
  t.equal(slo.rules[2]!.line, 20);
});

const bad: Array<[string, string, number, RegExp]> = [
  ['bad YAML', 'groups:\n  - name: a\n    rules:\n      - alert: X\n        expr: up\n       labels: {\n', 6, /^yaml: /],
  ['bad PromQL', 'groups:\n  - name: a\n    rules:\n      - alert: X\n        expr: sum(rate(up[5m])\n', 5, /could not parse expression of rule X/],
  ['bad template', 'groups:\n  - name: a\n    rules:\n      - alert: X\n        expr: up == 0\n        annotations:\n          summary: "{{ $value | nosuch }}"\n', 7, /function "nosuch" not defined/],
  ['duplicate group names', 'groups:\n  - name: a\n    rules: []\n  - name: a\n    rules: []\n', 4, /groupname: "a" is repeated in the same file/],
  ['unknown field', 'groups:\n  - name: a\n    rules:\n      - alert: X\n        expr: up\n        severity: high\n', 6, /field severity not found/],
  ['record with for', 'groups:\n  - name: a\n    rules:\n      - record: a:b\n        expr: up\n        for: 5m\n', 6, /invalid field 'for' in recording rule/],
  ['bad record name', 'groups:\n  - name: a\n    rules:\n      - record: a-b\n        expr: up\n', 4, /invalid recording rule name: a-b/],
  ['bad duration', 'groups:\n  - name: a\n    rules:\n      - alert: X\n        expr: up\n        for: 5 minutes\n', 6, /not a valid duration string/],
  ['both alert and record', 'groups:\n  - name: a\n    rules:\n      - alert: X\n        record: y\n        expr: up\n', 4, /only one of 'record' and 'alert'/],
  ['missing expr', 'groups:\n  - name: a\n    rules:\n      - alert: X\n', 4, /field 'expr' must be set/],
];

for (const [what, text, line, reason] of bad) {
  t.test(`check-rules names file, line and reason for ${what}`, async (t) => {
    const dir = dirWith({ 'r.yml': text });
    const r = checkRuleFiles([join(dir, 'r.yml')], parseCheck);
    t.ok(r.errors.length >= 1, 'an error is reported');
    const e = r.errors[0]!;
    t.equal(e.file, join(dir, 'r.yml'));
    t.equal(e.line, line);
    t.match(e.reason, reason);
    t.match(formatProblem(e), new RegExp(`^${join(dir, 'r.yml').replace(/[.\\/]/g, '\\$&')}:${line}: `));
    t.same(r.groups, [], 'no groups come out of a file with errors');
  });
}

t.test('check-rules reports a missing file and errors from several files at once', async (t) => {
  const dir = dirWith({
    'a.yml': 'groups:\n  - name: a\n    rules:\n      - alert: X\n        expr: up ==\n',
    'b.yml': 'groups:\n  - name: b\n    rules:\n      - record: r:1\n        expr: vector(1)\n',
  });
  const r = checkRuleFiles([join(dir, '*.yml'), join(dir, 'missing.yml')], parseCheck);
  t.same(r.files, [join(dir, 'a.yml'), join(dir, 'b.yml'), join(dir, 'missing.yml')], 'globs expand sorted');
  t.same(r.errors.map((e) => [e.file.split('/').pop(), e.line]), [['a.yml', 5], ['missing.yml', 0]]);
  t.match(r.errors[1]!.reason, /ENOENT/);
});

t.test('a glob that matches nothing is not an error, as in Prometheus', async (t) => {
  const dir = dirWith({});
  const r = checkRuleFiles([join(dir, '*.rules.yml')], parseCheck);
  t.same(r.files, []);
  t.same(r.errors, []);
});
