import t from 'tap';
import { checkRuleFiles } from '../../src/rules/index.js';
import { alertStates, engine, fill, harness, T0 } from './setup.js';

const FILE = new URL('../../../examples/rules/llm-usage.yml', import.meta.url).pathname;
const MIN = 60_000;

t.test('examples/rules/llm-usage.yml passes check-rules', async (t) => {
  const r = checkRuleFiles([FILE], (e) => engine.parseCheck(e));
  t.same(r.errors, []);
  t.equal(r.groups.length, 1);
});

t.test('examples/rules/llm-usage.yml fires on usage that breaks it', async (t) => {
  const h = harness([FILE], { evaluationIntervalMs: 60_000 });
  const r = await h.manager.start();
  t.ok(r.ok, r.errors.join('\n'));
  const from = T0 - 25 * 60 * MIN, to = T0 + 40 * MIN;
  const sec = (x: number) => (x - from) / 1000;
  // 1000 tokens/s for a day is 86.4M tokens, over the 50M threshold.
  fill(h.store, { __name__: 'tallyd_llm_tokens_total', tenant: 't1', agent: 'a1', kind: 'input' }, from, to, (x) => sec(x) * 1000);
  // $0.01/s is $864 a day (over $200) and $25,920 a month (over the $10,000 budget).
  fill(h.store, { __name__: 'tallyd_llm_cost_usd_total', agent: 'a1', cost_source: 'computed' }, from, to, (x) => sec(x) * 0.01);
  // The reported cost must not trip the computed-cost alerts.
  fill(h.store, { __name__: 'tallyd_llm_cost_usd_total', agent: 'quiet', cost_source: 'reported' }, from, to, (x) => sec(x) * 10);
  fill(h.store, { __name__: 'mcp_tool_execute_seconds_count', tool_name: 'search', outcome: 'success' }, from, to, (x) => sec(x) * 9);
  fill(h.store, { __name__: 'mcp_tool_execute_seconds_count', tool_name: 'search', outcome: 'error' }, from, to, (x) => sec(x));
  fill(h.store, { __name__: 'tallyd_llm_unpriced_tokens_total', provider: 'acme', model: 'mystery-1' }, from, to, (x) => sec(x) * 3);
  await h.advance(20 * MIN);
  const firing = alertStates(h.manager).filter((s) => s.endsWith('firing'));
  t.same(firing, ['LLMBudgetBurnRateHigh firing', 'LLMDailyCostHigh firing', 'LLMDailyTokensHigh firing', 'LLMUnpricedUsage firing', 'MCPToolErrorRateHigh firing']);
  const alerts = (h.manager.alertsData() as { alerts: Array<{ labels: Record<string, string> }> }).alerts;
  t.notOk(alerts.some((a) => a.labels['agent'] === 'quiet'), 'reported cost is not added to the computed cost');
  await h.manager.stop();
});

t.test('examples/rules/llm-usage.yml stays quiet on normal usage', async (t) => {
  const h = harness([FILE], { evaluationIntervalMs: 60_000 });
  await h.manager.start();
  const from = T0 - 25 * 60 * MIN, to = T0 + 40 * MIN;
  const sec = (x: number) => (x - from) / 1000;
  fill(h.store, { __name__: 'tallyd_llm_tokens_total', tenant: 't1', agent: 'a1', kind: 'input' }, from, to, (x) => sec(x) * 10);
  fill(h.store, { __name__: 'tallyd_llm_cost_usd_total', agent: 'a1', cost_source: 'computed' }, from, to, (x) => sec(x) * 0.0001);
  fill(h.store, { __name__: 'mcp_tool_execute_seconds_count', tool_name: 'search', outcome: 'success' }, from, to, (x) => sec(x) * 9);
  await h.advance(20 * MIN);
  t.same(alertStates(h.manager).filter((s) => !s.endsWith('inactive')), []);
  await h.manager.stop();
});
