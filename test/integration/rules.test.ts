import t from 'tap';
import { createServer } from 'node:http';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { adminFlush, promQuery, startDaemon } from './daemon.js';

const BIN = new URL('../../../bin/tallyd.js', import.meta.url).pathname;

t.test('an alert rule fires on StatsD data and reaches a webhook; a recording rule is queryable', async (t) => {
  const received: Array<{ version: string; status: string; alerts: Array<{ labels: Record<string, string>; annotations: Record<string, string>; status: string }> }> = [];
  const hook = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      received.push(JSON.parse(body));
      res.end('ok');
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => hook.close());
  const hookPort = (hook.address() as { port: number }).port;

  const dir = mkdtempSync(join(tmpdir(), 'tallyd-rules-'));
  const rulesFile = join(dir, 'rules.yml');
  writeFileSync(rulesFile, `groups:
  - name: llm
    interval: 1s
    rules:
      - record: job:llm_errors:sum
        expr: sum(llm_provider_errors_total)
      - alert: LLMErrorsHigh
        expr: job:llm_errors:sum > 5
        labels:
          severity: page
        annotations:
          summary: "{{ $value | humanize }} provider errors"
`);
  const cfg = join(dir, 'tallyd.yml');
  writeFileSync(cfg, `notifiers:\n  - type: webhook\n    url: http://127.0.0.1:${hookPort}/hook\n`);
  const check = spawnSync(process.execPath, [BIN, 'check-rules', rulesFile], { encoding: 'utf8' });
  t.equal(check.status, 0, `check-rules accepts the file: ${check.stdout}${check.stderr}`);

  const d = await startDaemon({ args: ['--rules', rulesFile, '--config', cfg] });
  t.teardown(() => d.stop());
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.send('llm.provider.errors:7|c|#provider:openai', d.ports.statsd, '127.0.0.1', () => r()));
  s.close();
  await new Promise((r) => setTimeout(r, 300));
  await adminFlush(d);

  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && !received.some((b) => b.status === 'firing')) await new Promise((r) => setTimeout(r, 200));
  const firing = received.find((b) => b.status === 'firing');
  t.ok(firing, 'webhook received a firing notification');
  t.equal(firing?.version, '4');
  t.equal(firing?.alerts[0]?.labels['alertname'], 'LLMErrorsHigh');
  t.equal(firing?.alerts[0]?.labels['severity'], 'page');
  t.equal(firing?.alerts[0]?.annotations['summary'], '7 provider errors');

  const alerts = (await (await fetch(`${d.url}/api/v1/alerts`)).json()) as { data: { alerts: Array<{ state: string; labels: Record<string, string> }> } };
  t.ok(alerts.data.alerts.some((a) => a.state === 'firing' && a.labels['alertname'] === 'LLMErrorsHigh'), '/api/v1/alerts lists the firing alert');
  // The recording rule runs before the alert in each round, on its own snapshot: when the StatsD
  // window commits between the two, the alert fires in that round and the recording rule sees
  // the data one round (1 s) later, as in Prometheus. So wait up to a few rounds for it.
  let rec = await promQuery(d, 'job:llm_errors:sum');
  for (const until = Date.now() + 10_000; rec.length === 0 && Date.now() < until; rec = await promQuery(d, 'job:llm_errors:sum')) {
    await new Promise((r) => setTimeout(r, 200));
  }
  t.equal(Number(rec[0]?.value[1]), 7, `recording rule output is queryable: ${JSON.stringify(rec)} at ${Date.now()}`);
  const ALERTS = await promQuery(d, 'ALERTS{alertstate="firing"}');
  t.equal(ALERTS[0]?.metric['alertname'], 'LLMErrorsHigh', 'ALERTS series written');
});

t.test('check-rules names file, line and reason for a bad rule', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tallyd-rules-bad-'));
  const f = join(dir, 'bad.yml');
  writeFileSync(f, 'groups:\n  - name: g\n    rules:\n      - alert: Broken\n        expr: sum(rate(x[5m]) by\n');
  const r = spawnSync(process.execPath, [BIN, 'check-rules', f], { encoding: 'utf8' });
  t.equal(r.status, 1);
  t.match(r.stderr, new RegExp(`${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:5`), 'names the file and the line of the bad expression');
});

t.test('a bad rule file on reload keeps the last good rules; SIGHUP reloads a fixed one', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tallyd-reload-'));
  const f = join(dir, 'rules.yml');
  writeFileSync(f, 'groups:\n  - name: g\n    rules:\n      - record: a:sum\n        expr: sum(a_total)\n');
  const d = await startDaemon({ args: ['--rules', f] });
  t.teardown(() => d.stop());
  const names = async () => {
    const r = (await (await fetch(`${d.url}/api/v1/rules`)).json()) as { data: { groups: Array<{ rules: Array<{ name: string }> }>; lastReload?: { success: boolean; errors: string[] } } };
    return { rules: r.data.groups.flatMap((g) => g.rules.map((x) => x.name)), last: r.data.lastReload };
  };
  t.same((await names()).rules, ['a:sum']);

  writeFileSync(f, 'groups:\n  - name: g\n    rules:\n      - record: b:sum\n        expr: sum(b_total\n');
  const bad = await fetch(`${d.url}/-/reload`, { method: 'POST' });
  t.equal(bad.status, 500, 'POST /-/reload refuses the bad file');
  const after = await names();
  t.same(after.rules, ['a:sum'], 'the last good rules stay in force');
  t.equal(after.last?.success, false, '/api/v1/rules says the reload failed');

  writeFileSync(f, 'groups:\n  - name: g\n    rules:\n      - record: b:sum\n        expr: sum(b_total)\n');
  d.proc.kill('SIGHUP');
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && (await names()).rules[0] !== 'b:sum') await new Promise((r) => setTimeout(r, 100));
  t.same((await names()).rules, ['b:sum'], 'SIGHUP loaded the fixed file');
});
