import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../integration/daemon.js';
import { checkRuleFiles } from '../../src/rules/check.js';
import { fill, harness, ruleFile, engine } from '../rules/setup.js';

const PROMTOOL = '/usr/bin/promtool';
const ALERTMANAGER = '/usr/bin/prometheus-alertmanager';
const fixtures = new URL('../../../test/rules/fixtures/', import.meta.url).pathname;

const skipPromtool = existsSync(PROMTOOL) ? false : `needs ${PROMTOOL} (Debian package prometheus); not installed`;
const skipAm = existsSync(ALERTMANAGER) ? false : `needs ${ALERTMANAGER} (Debian package prometheus-alertmanager); not installed`;

t.test('promtool check rules and checkRuleFiles agree on good and bad files', { skip: skipPromtool }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tallyd-interop-rules-'));
  const write = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const cases: Array<[string, boolean]> = [
    [join(fixtures, 'seed-000-llm-mcp.yml'), true],
    [join(fixtures, 'seed-001-llm-mcp.yml'), true],
    [join(fixtures, 'seed-004-cost-ops.yml'), true],
    [write('record.yml', 'groups:\n  - name: r\n    interval: 15s\n    rules:\n      - record: job:x:sum\n        expr: sum by (job) (x)\n        labels:\n          team: a\n'), true],
    [write('templates.yml', 'groups:\n  - name: t\n    rules:\n      - alert: T\n        expr: up == 0\n        for: 1m\n        annotations:\n          a: "{{ $value | humanizeDuration }} {{ printf \\"%.2f\\" $value }} {{ if gt $value 1.0 }}x{{ end }}"\n'), true],
    [write('bad-promql.yml', 'groups:\n  - name: a\n    rules:\n      - alert: X\n        expr: sum(rate(up[5m])\n'), false],
    [write('bad-yaml.yml', 'groups:\n  - name: a\n    rules:\n      - alert: X\n        expr: up\n       labels: {\n'), false],
    [write('bad-template.yml', 'groups:\n  - name: a\n    rules:\n      - alert: X\n        expr: up\n        annotations:\n          s: "{{ $value | nosuch }}"\n'), false],
    [write('dup-group.yml', 'groups:\n  - name: a\n    rules: []\n  - name: a\n    rules: []\n'), false],
    [write('bad-record-name.yml', 'groups:\n  - name: a\n    rules:\n      - record: a-b\n        expr: up\n'), false],
    [write('unknown-field.yml', 'groups:\n  - name: a\n    rules:\n      - alert: X\n        expr: up\n        severity: high\n'), false],
    [write('record-for.yml', 'groups:\n  - name: a\n    rules:\n      - record: a:b\n        expr: up\n        for: 5m\n'), false],
  ];
  for (const [file, good] of cases) {
    const p = spawnSync(PROMTOOL, ['check', 'rules', file], { encoding: 'utf8' });
    const ours = checkRuleFiles([file], (e) => engine.parseCheck(e));
    const name = file.split('/').pop();
    t.equal(p.status === 0, good, `promtool on ${name}: ${p.stdout}${p.stderr}`);
    t.equal(ours.errors.length === 0, good, `checkRuleFiles on ${name}: ${ours.errors.map((e) => e.reason).join('; ')}`);
  }
});

t.test('a real Alertmanager receives tallyd alerts', { skip: skipAm }, async (t) => {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tallyd-am-'));
  writeFileSync(join(dir, 'am.yml'), 'route:\n  receiver: "null"\nreceivers:\n  - name: "null"\n');
  const am = spawn(ALERTMANAGER, [`--config.file=${join(dir, 'am.yml')}`, `--storage.path=${dir}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address='], { stdio: 'ignore' });
  t.teardown(() => {
    am.kill('SIGTERM');
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      if ((await fetch(`${base}/-/ready`)).ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error('alertmanager did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  // Alertmanager drops alerts whose endsAt has passed, so this test evaluates at real time.
  const now = Date.now();
  const start = now - (now % 60_000);
  const { FakeClock } = await import('../rules/helpers.js');
  const clock = new FakeClock(start);
  const h = harness([ruleFile('groups:\n  - name: llm\n    interval: 15s\n    rules:\n      - alert: ProviderDown\n        expr: up{job="llm"} == 0\n        labels:\n          severity: critical\n        annotations:\n          summary: "{{ $labels.provider }} is down"\n')], {
    clock,
    notifiers: [{ type: 'alertmanager', url: base }],
    externalLabels: { cluster: 'eu-1' },
    externalURL: 'http://tallyd.example:9477',
  });
  fill(h.store, { __name__: 'up', job: 'llm', provider: 'openai' }, start - 600_000, start + 600_000, () => 0);
  await h.manager.start();
  await h.advance(15_000);
  let got: Array<{ labels: Record<string, string>; annotations: Record<string, string>; status: { state: string }; generatorURL: string }> = [];
  for (let i = 0; i < 50 && got.length === 0; i++) {
    got = (await (await fetch(`${base}/api/v2/alerts`)).json()) as typeof got;
    if (got.length === 0) await new Promise((r) => setTimeout(r, 100));
  }
  t.equal(got.length, 1, 'Alertmanager holds the alert');
  t.match(got[0], {
    labels: { alertname: 'ProviderDown', cluster: 'eu-1', job: 'llm', provider: 'openai', severity: 'critical' },
    annotations: { summary: 'openai is down' },
    status: { state: 'active' },
    generatorURL: /^http:\/\/tallyd\.example:9477\/graph\?g0\.expr=/,
  });
  await h.manager.stop();
});
