import t from 'tap';
import { loadPriceTable, parsePriceTable } from '../../src/cost/prices.js';
import { BUILTIN_PRICES_YAML } from '../../src/cost/builtin-prices.js';

t.test('exact model match first, then the longest prefix; absent kind prices fall back', async (t) => {
  const p = parsePriceTable(`models:
  - {provider: openai, model: gpt-4o, input_per_mtok: 2.5, output_per_mtok: 10}
  - {provider: openai, model: gpt-4o-mini, input_per_mtok: 0.15, cached_input_per_mtok: 0.075, output_per_mtok: 0.6, reasoning_per_mtok: 1}
  - {provider: azure, model: gpt-4o, input_per_mtok: 3, output_per_mtok: 11}
`, 'test');
  const a = p.lookup('openai', 'gpt-4o-mini-2024-07-18', 0)!;
  t.equal(a.input * 1e6, 0.15, 'longest prefix gpt-4o-mini, not gpt-4o');
  t.equal(a.cacheRead * 1e6, 0.075);
  t.equal(a.cacheWrite * 1e6, 0.15, 'absent cache-write price is the input price');
  t.equal(a.reasoning * 1e6, 1);
  const b = p.lookup('OpenAI', 'GPT-4o', 0)!;
  t.equal(b.cacheRead * 1e6, 2.5, 'absent cached price is the input price');
  t.equal(b.reasoning * 1e6, 10, 'absent reasoning price is the output price');
  t.equal(p.lookup('azure', 'gpt-4o', 0)!.input * 1e6, 3, "the provider's own row wins");
  t.equal(p.lookup('', 'claude-x', 0), null, 'nothing prices an unknown model');
});

t.test('effective dates: the row in force at the time prices it', async (t) => {
  const p = parsePriceTable(`models:
  - {provider: x, model: m, input_per_mtok: 1, output_per_mtok: 1, effective_from: 2026-01-01}
  - {provider: x, model: m, input_per_mtok: 2, output_per_mtok: 2, effective_from: "2026-03-01T00:00:00Z"}
`, 'test');
  t.equal(p.lookup('x', 'm', Date.parse('2025-12-31T23:59:59Z')), null, 'before the first row: unpriced');
  t.equal(p.lookup('x', 'm', Date.parse('2026-02-28T23:59:59Z'))!.input * 1e6, 1);
  t.equal(p.lookup('x', 'm', Date.parse('2026-03-01T00:00:00Z'))!.input * 1e6, 2);
});

t.test('the built-in table loads and says where its prices come from, dated', async (t) => {
  const p = loadPriceTable(null);
  t.equal(p.source, 'built-in');
  t.ok(p.rows.length >= 10);
  t.match(BUILTIN_PRICES_YAML.split('\n')[0], /^# source: .*/);
  t.match(BUILTIN_PRICES_YAML, /\d{4}-\d{2}-\d{2}/);
  t.ok(p.lookup('anthropic', 'claude-sonnet-4-20250514', Date.now()), 'dated model names match by prefix');
});
