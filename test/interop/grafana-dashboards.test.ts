import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, type Daemon } from '../integration/daemon.js';
import { RULES, loadLlmData } from './fixtures/llm-data.js';

const root = new URL('../../../', import.meta.url).pathname;
const dir = join(root, 'dashboards');

interface Target { expr: string; instant?: boolean; legendFormat?: string }
interface Panel { id: number; type: string; title: string; datasource: { type: string; uid: string }; targets: Target[]; gridPos: { x: number; y: number; w: number; h: number } }
interface Dashboard { uid: string; title: string; panels: Panel[]; templating: { list: Array<{ name: string; type: string; query: string; current?: { value?: string } }> } }

const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
const boards = files.map((f) => ({ file: f, d: JSON.parse(readFileSync(join(dir, f), 'utf8')) as Dashboard }));


t.test('dashboards are importable as they are', async (t) => {
  t.same(files, ['tallyd-alerts.json', 'tallyd-llm.json', 'tallyd-mcp.json', 'tallyd-usage.json']);
  const uids = new Set<string>();
  for (const { file, d } of boards) {
    t.notOk(uids.has(d.uid), `${file}: unique uid`);
    uids.add(d.uid);
    const ds = d.templating.list.find((v) => v.name === 'DS_PROMETHEUS');
    t.equal(ds?.type, 'datasource', `${file}: has the DS_PROMETHEUS data-source variable`);
    t.equal(ds?.query, 'prometheus');
    const ids = new Set<number>();
    for (const p of d.panels) {
      t.notOk(ids.has(p.id), `${file}: panel id ${p.id} unique`);
      ids.add(p.id);
      t.same(p.datasource, { type: 'prometheus', uid: '${DS_PROMETHEUS}' }, `${file}/${p.title}: uses the variable`);
      t.ok(p.gridPos.x + p.gridPos.w <= 24, `${file}/${p.title}: fits the 24-column grid`);
      t.ok(p.targets.length > 0 && p.targets.every((x) => x.expr.length > 0), `${file}/${p.title}: has queries`);
    }
  }
  const gen = spawnSync(process.execPath, [join(root, 'scripts/gen-dashboards.mjs'), '--check'], { encoding: 'utf8' });
  t.equal(gen.status, 0, `dashboards/ is what src/ui/js/views.js generates ${gen.stdout}`);
});

function grafanaVars(expr: string, d: Dashboard): string {
  const group = d.templating.list.find((v) => v.name === 'group')?.current?.value ?? 'agent';
  return expr
    .replaceAll('$__rate_interval', '5m')
    .replaceAll('$__interval', '5m')
    .replaceAll('$__range', '2h')
    .replaceAll('$group', group);
}

async function run(dm: Daemon, path: string, params: Record<string, string>) {
  const u = new URL(`${dm.url}${path}`);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  const r = await fetch(u);
  return { status: r.status, body: (await r.json()) as { status: string; error?: string; data: { resultType: string; result: unknown[] } } };
}

t.test('every panel query runs against tallyd loaded with the data the dashboards show', async (t) => {
  const rulesDir = mkdtempSync(join(tmpdir(), 'tallyd-grafana-'));
  writeFileSync(join(rulesDir, 'rules.yml'), RULES);
  const dm = await startDaemon({ args: ['--rules', join(rulesDir, 'rules.yml')] });
  t.teardown(() => dm.stop());
  await loadLlmData(dm, 90);
  // Give the 1 s rule group a few rounds so ALERTS has a history: wait until the alert was firing
  // 10 s ago (a loaded machine may take longer than the group's interval to start), then three
  // more rounds. Not "firing now": a window keeps its last point (SPEC section 4), so while the
  // alert's first 10 s window is open its only sample is the latest round's, stamped after the
  // whole second a panel's range query ends at, and the panels would find nothing.
  const alertDeadline = Date.now() + 45_000;
  const firedBefore = () => String(Math.floor(Date.now() / 1000) - 10);
  while ((await run(dm, '/api/v1/query', { query: 'ALERTS{alertstate="firing"}', time: firedBefore() })).body.data.result.length === 0) {
    if (Date.now() > alertDeadline) throw new Error('no alert fired within 35 s of the data arriving');
    await new Promise((res) => setTimeout(res, 250));
  }
  await new Promise((res) => setTimeout(res, 3000));
  await fetch(`${dm.url}/api/v1/admin/compact`, { method: 'POST' });
  let count = 0;
  for (const { file, d } of boards) {
    for (const p of d.panels) {
      for (const target of p.targets) {
        const expr = grafanaVars(target.expr, d);
        const end = Math.floor(Date.now() / 1000);
        const r = target.instant
          ? await run(dm, '/api/v1/query', { query: expr, time: String(end) })
          : await run(dm, '/api/v1/query_range', { query: expr, start: String(end - 7200), end: String(end), step: '60' });
        t.equal(r.status, 200, `${file}/${p.title}: ${expr} answers 200 ${r.body.error ?? ''}`);
        t.equal(r.body.status, 'success', `${file}/${p.title}: success`);
        t.ok(r.body.data.result.length > 0, `${file}/${p.title}: ${expr} returns series for the data sent`);
        count++;
      }
    }
  }
  t.ok(count >= 25, `${count} panel queries checked`);
});
