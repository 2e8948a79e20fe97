import t from 'tap';
import { writeFileSync } from 'node:fs';
import { RuleManager } from '../../src/rules/manager.js';
import { TenantRules, tenantNotifiers, tenantStateTable } from '../../src/rules/tenant-rules.js';
import type { NotifierSpec } from '../../src/rules/notify.js';
import { FakeClock, MemSeriesStore, MemStateTable } from './helpers.js';
import { engine, queryFnFor, ruleFile, T0 } from './setup.js';

t.test('notifications of a non-default tenant name it in X-Scope-OrgID; a configured header wins', async (t) => {
  const specs: NotifierSpec[] = [
    { type: 'alertmanager', url: 'http://am:9093', headers: { Authorization: 'Bearer x' } },
    { type: 'webhook', url: 'http://hook/', headers: { 'x-scope-orgid': 'ops' } },
    { type: 'webhook', url: 'http://plain/' },
  ];
  t.same(tenantNotifiers(specs, 'default', 'default'), specs, 'the default tenant\'s notifiers are unchanged');
  t.same(tenantNotifiers(specs, 'team-a', 'default').map((s) => s.headers), [
    { Authorization: 'Bearer x', 'X-Scope-OrgID': 'team-a' },
    { 'x-scope-orgid': 'ops' },
    { 'X-Scope-OrgID': 'team-a' },
  ]);
  t.same(specs[0]!.headers, { Authorization: 'Bearer x' }, 'the configured specs are not modified');
  t.equal(tenantStateTable('default', 'default'), 'rules', 'the default tenant keeps the state table it always had');
  t.equal(tenantStateTable('team-a', 'default'), 'rules/team-a');
});

t.test('TenantRules: each tenant runs its own files over its own data; a bad file keeps only its tenant\'s last good rules', async (t) => {
  const stores = new Map([['default', new MemSeriesStore()], ['a', new MemSeriesStore()], ['b', new MemSeriesStore()]]);
  stores.get('a')!.add({ __name__: 'up' }, T0 - 1000, 1);
  const clock = new FakeClock(T0);
  const fileOf = (group: string, expr: string) => ruleFile(`groups:\n  - name: ${group}\n    interval: 1s\n    rules:\n      - alert: Up_${group}\n        expr: ${expr}\n`);
  const fD = fileOf('gd', 'vector(1)');
  const fA = fileOf('ga', 'up == 1');
  const fB = fileOf('gb', 'up == 1');
  const rules = new TenantRules({
    defaultTenant: 'default',
    defaultFiles: [fD],
    tenantFiles: { a: [fA], b: [fB] },
    make: (tenant, files) => new RuleManager({
      files,
      tenant,
      queryFn: queryFnFor(stores.get(tenant)!),
      parseCheck: (e) => engine.parseCheck(e),
      write: (_t, labels, v, ts) => stores.get(tenant)!.add(labels, ts, v),
      state: new MemStateTable(),
      clock,
      groupOffset: () => 0,
    }),
  });
  const events: Array<{ alertname: string; tenant?: string }> = [];
  rules.events.on('alert', (ev: { alertname: string; tenant?: string }) => events.push(ev));
  t.same(rules.tenants(), ['default', 'a', 'b']);
  const started = await rules.start();
  t.ok(started.ok);
  await clock.advance(1000, () => rules.idle());
  const names = (tenant: string) => ((rules.rulesData(tenant) as { groups: Array<{ name: string }> }).groups).map((g) => g.name);
  const alerts = (tenant: string) => ((rules.alertsData(tenant) as { alerts: Array<{ labels: Record<string, string> }> }).alerts).map((a) => a.labels['alertname']);
  t.same([names('default'), names('a'), names('b')], [['gd'], ['ga'], ['gb']]);
  t.same(alerts('a'), ['Up_ga'], 'a\'s rule fired on a\'s data');
  t.same(alerts('b'), [], 'b\'s same rule has no data in b');
  t.same(rules.rulesData('c'), { groups: [] }, 'a tenant without rule files has none');
  t.same(rules.alertsData('c'), { alerts: [] });
  t.same([...new Set(events.map((e) => `${e.tenant} ${e.alertname}`))].sort(), ['a Up_ga', 'default Up_gd'], 'events carry their tenant');

  writeFileSync(fA, 'groups:\n  - name: broken\n    rules:\n      - alert: X\n        expr: sum(\n');
  writeFileSync(fB, 'groups:\n  - name: gb2\n    rules:\n      - record: r\n        expr: vector(2)\n');
  const r = await rules.reload();
  t.equal(r.ok, false, 'not ok: one tenant refused its files');
  t.match(r.errors[0], /^tenant a: .*:5:/, 'the error names the tenant');
  t.equal(r.errors.length, 1, 'only a\'s file failed');
  t.equal(r.byTenant.get('b')?.ok, true);
  t.same([names('a'), names('b')], [['ga'], ['gb2']], 'a keeps its last good rules, b took its new file');
  await rules.stop();
});
