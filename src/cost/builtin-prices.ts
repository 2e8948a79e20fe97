/**
 * BUILTIN_PRICES_YAML is the price table tallyd uses when `--pricing` is not given. Prices drift:
 * check them against your invoices and override with `--pricing FILE` (same shape), which replaces
 * this table entirely.
 */
export const BUILTIN_PRICES_YAML = `# source: OpenAI, Anthropic and Google Gemini public API list prices (standard tier, USD per
# million tokens), as published on the providers' pricing pages on 2025-08-20.
models:
  - {provider: openai, model: gpt-5, input_per_mtok: 1.25, cached_input_per_mtok: 0.125, output_per_mtok: 10}
  - {provider: openai, model: gpt-5-mini, input_per_mtok: 0.25, cached_input_per_mtok: 0.025, output_per_mtok: 2}
  - {provider: openai, model: gpt-5-nano, input_per_mtok: 0.05, cached_input_per_mtok: 0.005, output_per_mtok: 0.4}
  - {provider: openai, model: gpt-4.1, input_per_mtok: 2, cached_input_per_mtok: 0.5, output_per_mtok: 8}
  - {provider: openai, model: gpt-4.1-mini, input_per_mtok: 0.4, cached_input_per_mtok: 0.1, output_per_mtok: 1.6}
  - {provider: openai, model: gpt-4.1-nano, input_per_mtok: 0.1, cached_input_per_mtok: 0.025, output_per_mtok: 0.4}
  - {provider: openai, model: gpt-4o, input_per_mtok: 2.5, cached_input_per_mtok: 1.25, output_per_mtok: 10}
  - {provider: openai, model: gpt-4o-mini, input_per_mtok: 0.15, cached_input_per_mtok: 0.075, output_per_mtok: 0.6}
  - {provider: openai, model: o1, input_per_mtok: 15, cached_input_per_mtok: 7.5, output_per_mtok: 60}
  - {provider: openai, model: o3, input_per_mtok: 2, cached_input_per_mtok: 0.5, output_per_mtok: 8}
  - {provider: openai, model: o3-mini, input_per_mtok: 1.1, cached_input_per_mtok: 0.55, output_per_mtok: 4.4}
  - {provider: openai, model: o4-mini, input_per_mtok: 1.1, cached_input_per_mtok: 0.275, output_per_mtok: 4.4}
  - {provider: anthropic, model: claude-opus-4-1, input_per_mtok: 15, cached_input_per_mtok: 1.5, cache_write_per_mtok: 18.75, output_per_mtok: 75}
  - {provider: anthropic, model: claude-opus-4, input_per_mtok: 15, cached_input_per_mtok: 1.5, cache_write_per_mtok: 18.75, output_per_mtok: 75}
  - {provider: anthropic, model: claude-sonnet-4, input_per_mtok: 3, cached_input_per_mtok: 0.3, cache_write_per_mtok: 3.75, output_per_mtok: 15}
  - {provider: anthropic, model: claude-3-7-sonnet, input_per_mtok: 3, cached_input_per_mtok: 0.3, cache_write_per_mtok: 3.75, output_per_mtok: 15}
  - {provider: anthropic, model: claude-3-5-sonnet, input_per_mtok: 3, cached_input_per_mtok: 0.3, cache_write_per_mtok: 3.75, output_per_mtok: 15}
  - {provider: anthropic, model: claude-3-5-haiku, input_per_mtok: 0.8, cached_input_per_mtok: 0.08, cache_write_per_mtok: 1, output_per_mtok: 4}
  - {provider: anthropic, model: claude-3-haiku, input_per_mtok: 0.25, cached_input_per_mtok: 0.03, cache_write_per_mtok: 0.3, output_per_mtok: 1.25}
  - {provider: gemini, model: gemini-2.5-pro, input_per_mtok: 1.25, cached_input_per_mtok: 0.31, output_per_mtok: 10}
  - {provider: gemini, model: gemini-2.5-flash, input_per_mtok: 0.3, cached_input_per_mtok: 0.075, output_per_mtok: 2.5}
  - {provider: gemini, model: gemini-2.0-flash, input_per_mtok: 0.1, cached_input_per_mtok: 0.025, output_per_mtok: 0.4}
`;
