import t from 'tap';
import { writeFileSync } from 'node:fs';
import { alertStates, fill, harness, ruleFile, seriesAt, T0 } from './setup.js';

const MIN = 60_000;

t.test('an alert goes inactive → pending → firing after `for`, then resolves when the data recovers', async (t) => {
  const file = ruleFile(`groups:
  - name: g
    interval: 1m
    rules:
      - alert: HighErrors
        expr: errors > 10
        for: 2m
        labels:
          severity: page
        annotations:
          summary: "{{ $labels.provider }} at {{ $value | humanize }}"
`);
  const h = harness([file]);
  fill(h.store, { __name__: 'errors', provider: 'openai' }, T0 - 10 * MIN, T0 + 200_000, () => 1234567);
  fill(h.store, { __name__: 'errors', provider: 'openai' }, T0 + 210_000, T0 + 20 * MIN, () => 1);
  t.ok((await h.manager.start()).ok);
  await h.advance(1 * MIN);
  t.same(alertStates(h.manager), ['HighErrors pending'], 'pending at the first evaluation');
  await h.advance(1 * MIN);
  t.same(alertStates(h.manager), ['HighErrors pending'], 'still pending after 1m of a 2m for');
  await h.advance(1 * MIN);
  t.same(alertStates(h.manager), ['HighErrors firing'], 'firing once for has passed');
  const alerts = (h.manager.alertsData() as { alerts: Array<Record<string, unknown>> }).alerts;
  t.same(alerts[0]!['labels'], { alertname: 'HighErrors', provider: 'openai', severity: 'page' });
  t.same(alerts[0]!['annotations'], { summary: 'openai at 1.235M' });
  t.equal(alerts[0]!['activeAt'], new Date(T0 + MIN).toISOString().replace('.000Z', 'Z'));
  t.equal(alerts[0]!['value'], '1.234567e+06');
  const firing = seriesAt(h.store, 'ALERTS', T0 + 3 * MIN);
  t.same(firing, [{ labels: { __name__: 'ALERTS', alertname: 'HighErrors', alertstate: 'firing', provider: 'openai', severity: 'page' }, v: 1 }]);
  const forState = seriesAt(h.store, 'ALERTS_FOR_STATE', T0 + 3 * MIN);
  t.equal(forState[0]!.v, (T0 + MIN) / 1000, 'ALERTS_FOR_STATE holds activeAt in seconds');
  await h.advance(1 * MIN);
  t.same(alertStates(h.manager), [], 'resolved when the expression no longer returns the series');
  t.same(
    h.events.map((e) => `${e.state}@${(e.eventMs - T0) / MIN}`),
    ['pending@1', 'firing@3', 'resolved@4'],
  );
  t.equal(h.events[2]!.activeAtMs, T0 + MIN);
  await h.manager.stop();
});

t.test('keep_firing_for keeps a firing alert firing after its condition clears', async (t) => {
  const file = ruleFile(`groups:
  - name: g
    interval: 1m
    rules:
      - alert: Flappy
        expr: up == 0
        keep_firing_for: 2m
`);
  const h = harness([file]);
  fill(h.store, { __name__: 'up', job: 'db' }, T0 - 10 * MIN, T0 + 70_000, () => 0);
  fill(h.store, { __name__: 'up', job: 'db' }, T0 + 75_000, T0 + 20 * MIN, () => 1);
  await h.manager.start();
  await h.advance(MIN);
  t.same(alertStates(h.manager), ['Flappy firing'], 'for 0 fires at once');
  await h.advance(MIN); // condition gone at T0+2m: keepFiringSince = T0+2m
  t.same(alertStates(h.manager), ['Flappy firing']);
  const kept = (h.manager.alertsData() as { alerts: Array<Record<string, unknown>> }).alerts[0]!;
  t.equal(kept['keepFiringSince'], new Date(T0 + 2 * MIN).toISOString().replace('.000Z', 'Z'));
  await h.advance(MIN);
  t.same(alertStates(h.manager), ['Flappy firing'], 'still firing 1m into keep_firing_for');
  await h.advance(MIN);
  t.same(alertStates(h.manager), [], 'resolved once keep_firing_for has passed');
  t.same(h.events.map((e) => e.state), ['pending', 'firing', 'resolved']);
  await h.manager.stop();
});

t.test('a restart in the middle of `for` keeps the pending start time', async (t) => {
  const file = ruleFile(`groups:
  - name: g
    interval: 1m
    rules:
      - alert: Slow
        expr: latency > 1
        for: 3m
`);
  const first = harness([file]);
  fill(first.store, { __name__: 'latency' }, T0 - 10 * MIN, T0 + 30 * MIN, () => 5);
  await first.manager.start();
  await first.advance(2 * MIN);
  t.same(alertStates(first.manager), ['Slow pending']);
  await first.manager.stop();

  // A new process: same store and state table, time has moved on by 30 s.
  await first.clock.advance(30_000, async () => {});
  const second = harness([file], { store: first.store, state: first.state, clock: first.clock });
  await second.manager.start();
  t.same(alertStates(second.manager), ['Slow pending'], 'pending state restored before the first evaluation');
  await second.advance(30_000); // T0+3m
  t.same(alertStates(second.manager), ['Slow pending']);
  await second.advance(MIN); // T0+4m = activeAt (T0+1m) + 3m
  t.same(alertStates(second.manager), ['Slow firing'], 'fires 3m after the original start, not after the restart');
  t.equal(second.events.find((e) => e.state === 'firing')!.activeAtMs, T0 + MIN);
  await second.manager.stop();
});

t.test('a recording rule feeds an alert rule later in the same group in the same round', async (t) => {
  const file = ruleFile(`groups:
  - name: slo
    interval: 30s
    rules:
      - record: job:errors:rate5m
        expr: sum by (job) (rate(errors_total[5m]))
      - alert: ErrorBudgetBurn
        expr: job:errors:rate5m > 0.5
        annotations:
          description: "{{ $labels.job }} burns {{ printf \\"%.2f\\" $value }}/s"
`);
  const h = harness([file]);
  fill(h.store, { __name__: 'errors_total', job: 'api', instance: 'a' }, T0 - 10 * MIN, T0 + 10 * MIN, (x) => (x - T0 + 10 * MIN) / 1000);
  await h.manager.start();
  await h.advance(30_000);
  const rec = seriesAt(h.store, 'job:errors:rate5m', T0 + 30_000);
  t.equal(rec.length, 1);
  t.same(rec[0]!.labels, { __name__: 'job:errors:rate5m', job: 'api' });
  t.ok(Math.abs(rec[0]!.v - 1) < 1e-9, 'the recorded rate is 1/s');
  t.same(alertStates(h.manager), ['ErrorBudgetBurn firing'], 'the alert saw the recorded series in the same round');
  const a = (h.manager.alertsData() as { alerts: Array<{ annotations: Record<string, string> }> }).alerts[0]!;
  t.equal(a.annotations['description'], 'api burns 1.00/s');
  await h.manager.stop();
});

t.test('a bad reload keeps the last good rules and reports file, line and reason', async (t) => {
  const file = ruleFile(`groups:
  - name: good
    rules:
      - alert: A
        expr: up == 0
`);
  const h = harness([file]);
  t.ok((await h.manager.start()).ok);
  writeFileSync(
    file,
    `groups:
  - name: good
    rules:
      - alert: A
        expr: up == 
`,
  );
  const r = await h.manager.reload();
  t.notOk(r.ok);
  t.match(r.errors[0], new RegExp(`^${file.replace(/[.\\/]/g, '\\$&')}:5: could not parse expression of rule A`));
  const data = h.manager.rulesData() as { groups: Array<{ name: string; rules: Array<{ query: string }> }>; lastReload: { success: boolean; errors: string[] } };
  t.equal(data.groups[0]!.rules[0]!.query, 'up == 0', 'the previous rule is still in force');
  t.equal(data.lastReload.success, false);
  t.match(data.lastReload.errors[0], /:5: could not parse expression/);
  t.ok(h.log.lines.some((l) => l.level === 'error' && l.fields?.['line'] === 5), 'the error is logged with its line');

  writeFileSync(file, `groups:\n  - name: better\n    rules:\n      - record: x:y\n        expr: vector(1)\n`);
  t.ok((await h.manager.reload()).ok, 'a fixed file is taken on the next reload');
  const after = h.manager.rulesData() as { groups: Array<{ name: string }>; lastReload: { success: boolean } };
  t.equal(after.groups[0]!.name, 'better');
  t.equal(after.lastReload.success, true);
  await h.manager.stop();
});

t.test('/api/v1/rules data has Prometheus shapes for alerting and recording rules', async (t) => {
  const file = ruleFile(`groups:
  - name: shapes
    interval: 15s
    rules:
      - record: r:x
        expr: vector(2)
        labels:
          team: a
      - alert: Always
        expr: vector(3) > 1
        for: 1m
        keep_firing_for: 30s
        labels:
          severity: info
        annotations:
          summary: value {{ $value }}
`);
  const h = harness([file]);
  await h.manager.start();
  await h.advance(15_000);
  const data = h.manager.rulesData() as { groups: Array<Record<string, unknown>> };
  const g = data.groups[0]!;
  t.equal(g['name'], 'shapes');
  t.equal(g['file'], file);
  t.equal(g['interval'], 15);
  t.equal(g['lastEvaluation'], new Date(T0 + 15_000).toISOString().replace('.000Z', 'Z'));
  t.type(g['evaluationTime'], 'number');
  const [rec, alert] = g['rules'] as Array<Record<string, unknown>>;
  t.match(rec, { name: 'r:x', query: 'vector(2)', labels: { team: 'a' }, health: 'ok', type: 'recording' });
  t.notOk('lastError' in rec!, 'lastError is omitted when empty');
  t.match(alert, {
    state: 'pending',
    name: 'Always',
    query: 'vector(3) > 1',
    duration: 60,
    keepFiringFor: 30,
    labels: { severity: 'info' },
    annotations: { summary: 'value {{ $value }}' },
    health: 'ok',
    type: 'alerting',
  });
  t.match((alert!['alerts'] as unknown[])[0], { labels: { alertname: 'Always', severity: 'info' }, annotations: { summary: 'value 3' }, state: 'pending', value: '3e+00' });
  const filtered = h.manager.rulesData('record') as { groups: Array<{ rules: unknown[] }> };
  t.equal(filtered.groups[0]!.rules.length, 1);
  await h.manager.stop();
});

t.test('a failing rule reports err health and does not stop the rules after it', async (t) => {
  const file = ruleFile(`groups:
  - name: g
    rules:
      - alert: Dup
        expr: label_replace(vector(1), "a", "x", "", "") or label_replace(vector(2), "b", "y", "", "")
        labels:
          a: same
          b: same
      - record: after:ok
        expr: vector(7)
`);
  const h = harness([file]);
  await h.manager.start();
  await h.advance(MIN);
  const rules = (h.manager.rulesData() as { groups: Array<{ rules: Array<Record<string, unknown>> }> }).groups[0]!.rules;
  t.equal(rules[0]!['health'], 'err');
  t.match(rules[0]!['lastError'], /same labelset/);
  t.equal(rules[1]!['health'], 'ok');
  t.same(seriesAt(h.store, 'after:ok', T0 + MIN).map((s) => s.v), [7]);
  await h.manager.stop();
});

t.test('groups evaluate at aligned times offset by a hash of file and name', async (t) => {
  const file = ruleFile(`groups:\n  - name: a\n    interval: 1m\n    rules:\n      - record: a:one\n        expr: vector(1)\n`);
  const h = harness([file], { groupOffset: undefined });
  await h.manager.start();
  await h.advance(2 * MIN);
  const s = [...h.store.data.values()].find((x) => x.labels.some((l) => l.value === 'a:one'))!;
  t.equal(s.ts.length, 2, 'two rounds in two minutes');
  t.equal(s.ts[1]! - s.ts[0]!, MIN);
  const offset = ((s.ts[0]! % MIN) + MIN) % MIN;
  // The same offset after a restart: the schedule depends only on file and group name.
  const again = harness([file], { groupOffset: undefined, clock: h.clock, state: h.state });
  await again.manager.start();
  await again.advance(MIN);
  const s2 = [...again.store.data.values()].find((x) => x.labels.some((l) => l.value === 'a:one'))!;
  t.equal(((s2.ts[0]! % MIN) + MIN) % MIN, offset);
  await h.manager.stop();
  await again.manager.stop();
});

t.test('every seed rule file loads and its alerts fire on data that breaks them', async (t) => {
  const { readdirSync } = await import('node:fs');
  const dir = new URL('../../../test/rules/fixtures/', import.meta.url).pathname;
  const files = readdirSync(dir).filter((f) => f.startsWith('seed-')).map((f) => dir + f);
  const h = harness(files, { evaluationIntervalMs: 30_000 });
  const r = await h.manager.start();
  t.ok(r.ok, r.errors.join('\n'));
  const data = h.manager.rulesData() as { groups: Array<{ rules: unknown[] }> };
  t.equal(data.groups.reduce((n, g) => n + g.rules.length, 0), 23, 'every rule of every seed block is loaded');
  // Break the orchestrator's WorkflowTimeout rule (rate of timeouts > 0 for 2m).
  fill(h.store, { __name__: 'orchestrator_errors_total', error_type: 'timeout' }, T0 - 10 * MIN, T0 + 10 * MIN, (x) => (x - T0 + 10 * MIN) / 1000);
  fill(h.store, { __name__: 'llm_provider_errors_total', provider: 'openai' }, T0 - 10 * MIN, T0 + 10 * MIN, (x) => (x - T0 + 10 * MIN) / 1000);
  await h.advance(3 * MIN);
  const firing = alertStates(h.manager).filter((s) => s.endsWith('firing'));
  t.ok(firing.includes('WorkflowTimeout firing'), firing.join(','));
  t.ok(firing.includes('HighProviderErrorRate firing'), firing.join(','));
  const alerts = (h.manager.alertsData() as { alerts: Array<{ labels: Record<string, string>; annotations: Record<string, string> }> }).alerts;
  const wt = alerts.find((a) => a.labels['alertname'] === 'WorkflowTimeout')!;
  t.match(wt.annotations['description'], /^[0-9.e+-]+ timeouts\/sec$/, 'the repaired unquoted template renders');
  const hp = alerts.find((a) => a.labels['alertname'] === 'HighProviderErrorRate')!;
  // A rate of 1/s computed in floating point may be 0.99999…, which Prometheus humanizes as 1000m.
  t.match(hp.annotations['summary'], /^Provider openai error rate: (1|1000m)\/sec$/);
  await h.manager.stop();
});
