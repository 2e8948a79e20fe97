import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, type Daemon } from './daemon.js';
import { RULES, loadLlmData } from '../interop/fixtures/llm-data.js';

// The API calls the dashboard page makes, made here the same way (same expressions, same step
// rule), so a change in the API that would blank a panel fails without a browser.
const ui = new URL('../../../src/ui/js/', import.meta.url).href;
const { VIEWS } = (await import(`${ui}views.js`)) as { VIEWS: Record<string, { panels: Array<{ id: string; kind: string; periods?: string[]; emptyIsGood?: boolean; queries: Array<{ expr: string }> }> }> };
const { expand, stepFor } = (await import(`${ui}state.js`)) as {
  expand(expr: string, o: { step: number; rangeSec: number }): string;
  stepFor(start: number, end: number, px: number): { step: number; start: number; end: number };
};

const WIDTH = 1232; // a wide panel at 1280x720
const RANGE_KINDS = new Set(['line', 'stacked', 'bars', 'timeline']);
const INSTANT_KINDS = new Set(['heatmap', 'barlist', 'table', 'usage']);

async function get(d: Daemon, path: string, params: Record<string, string | number>) {
  const u = new URL(`${d.url}${path}`);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, String(v));
  const r = await fetch(u);
  return { status: r.status, body: (await r.json()) as any };
}

let d: Daemon;
t.before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tallyd-dash-api-'));
  writeFileSync(join(dir, 'rules.yml'), RULES);
  d = await startDaemon({ args: ['--rules', join(dir, 'rules.yml')] });
  await loadLlmData(d);
  await new Promise((res) => setTimeout(res, 2500)); // a few rounds of the 1 s rule group
});
t.teardown(() => d?.stop());

t.test('query_range answers every chart of every view at no more points than pixels', async (t) => {
  const end = Math.floor(Date.now() / 1000);
  for (const [view, v] of Object.entries(VIEWS)) {
    for (const p of v.panels.filter((x) => RANGE_KINDS.has(x.kind))) {
      const { step, start, end: e } = stepFor(end - 3600, end, WIDTH);
      let series = 0;
      for (const q of p.queries) {
        const r = await get(d, '/api/v1/query_range', { query: expand(q.expr, { step, rangeSec: 3600 }), start, end: e, step });
        t.equal(r.status, 200, `${view}/${p.id}: ${r.body.error ?? 'ok'}`);
        t.equal(r.body.data.resultType, 'matrix');
        for (const s of r.body.data.result) t.ok(s.values.length <= WIDTH, `${view}/${p.id}: ${s.values.length} points for ${WIDTH}px`);
        series += r.body.data.result.length;
      }
      t.ok(series > 0, `${view}/${p.id}: series for the data sent`);
    }
  }
});

t.test('instant queries of heatmap, bar lists and tables answer vectors', async (t) => {
  const end = Math.floor(Date.now() / 1000);
  for (const [view, v] of Object.entries(VIEWS)) {
    for (const p of v.panels.filter((x) => INSTANT_KINDS.has(x.kind))) {
      for (const q of p.queries) {
        const expr = p.periods ? q.expr.replaceAll('$__range', p.periods[0]!) : expand(q.expr, { step: 60, rangeSec: 3600 });
        const r = await get(d, '/api/v1/query', { query: expr, time: end });
        t.equal(r.status, 200, `${view}/${p.id}: ${r.body.error ?? 'ok'}`);
        t.equal(r.body.data.resultType, 'vector');
        if (!p.emptyIsGood) t.ok(r.body.data.result.length > 0, `${view}/${p.id}: rows for the data sent`);
      }
    }
  }
  const heat = await get(d, '/api/v1/query', { query: expand(VIEWS.mcp!.panels.find((p) => p.id === 'mcp-heatmap')!.queries[0]!.expr, { step: 60, rangeSec: 3600 }), time: end });
  const cells = heat.body.data.result.map((r: any) => `${r.metric.server_id}/${r.metric.tool_name}`).sort();
  t.same(cells, ['fs/read_file', 'github/create_issue', 'github/search', 'web/fetch'], 'one heatmap cell per server and tool');
  for (const r of heat.body.data.result) t.ok(Number(r.value[1]) > 0.01 && Number(r.value[1]) < 1, `p95 of ${r.metric.tool_name} is ${r.value[1]} s`);
});

t.test('the hour-of-day and cost-trend fallbacks answer on the page\'s own expressions', async (t) => {
  const end = Math.ceil(Date.now() / 1000 / 1800) * 1800;
  const hours = VIEWS.usage!.panels.find((p) => p.id === 'usage-hours')!;
  const r = await get(d, '/api/v1/query_range', { query: hours.queries[0]!.expr, start: end - 7200, end, step: 1800 });
  const total = r.body.data.result[0].values.reduce((s: number, [, v]: [number, string]) => s + Number(v), 0);
  // 4 tools x 3 calls a minute for an hour, sampled by 30-minute increases (with extrapolation).
  t.ok(total > 600 && total < 800, `tool calls folded by hour add up (${total})`);
  const trend = await get(d, '/api/v1/query_range', { query: 'sum by (tenant) (rate(tallyd_llm_cost_usd_total{tenant!=""}[600s])) * 300', start: end - 3600, end, step: 300 });
  t.same(trend.body.data.result.map((s: any) => s.metric.tenant).sort(), ['acme', 'globex']);
});

t.test('/api/v1/alerts gives the fields the alerts page reads', async (t) => {
  const r = await get(d, '/api/v1/alerts', {});
  t.equal(r.status, 200);
  const alerts = r.body.data.alerts as Array<{ labels: Record<string, string>; annotations: Record<string, string>; state: string; activeAt: string; value: string }>;
  const firing = alerts.filter((a) => a.state === 'firing');
  const pending = alerts.filter((a) => a.state === 'pending');
  t.same(firing.map((a) => a.labels.provider).sort(), ['anthropic', 'gemini', 'openai']);
  t.equal(pending[0]?.labels.alertname, 'SlowToolExecution');
  for (const a of alerts) {
    t.ok(Number.isFinite(Date.parse(a.activeAt)), 'activeAt is a time');
    t.ok(Number.isFinite(Number(a.value)), 'value is a number');
    t.type(a.annotations.summary, 'string');
  }
  const end = Math.floor(Date.now() / 1000);
  const { step, start, end: e } = stepFor(end - 3600, end, WIDTH * 0.65);
  const hist = await get(d, '/api/v1/query_range', { query: 'ALERTS', start, end: e, step });
  const states = new Set(hist.body.data.result.map((s: any) => s.metric.alertstate));
  t.same([...states].sort(), ['firing', 'pending'], 'the ALERTS series hold the history the timeline draws');
});
