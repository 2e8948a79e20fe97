/**
 * series-names.ts names the series tallyd derives for LLM cost (SPEC section 7) and the token
 * kinds it keeps apart. Analytics, re-pricing and the cost sink agree through these constants.
 */

/** COST_METRIC holds cost in USD with the dimension labels and `cost_source` computed|reported. */
export const COST_METRIC = 'tallyd_llm_cost_usd_total';
/**
 * TOKENS_METRIC holds the deduplicated tokens with the dimension labels and `kind`. The kinds are
 * disjoint, so summing them never counts a token twice: `input` is UNCACHED input, `output` is
 * output WITHOUT reasoning.
 */
export const TOKENS_METRIC = 'tallyd_llm_tokens_total';
/** CALLS_METRIC counts LLM calls with the dimension labels (where a source says how many). */
export const CALLS_METRIC = 'tallyd_llm_calls_total';
/** UNPRICED_METRIC counts tokens no price row covered, by provider and model. */
export const UNPRICED_METRIC = 'tallyd_llm_unpriced_tokens_total';

/** COST_SOURCE is the label that tells computed cost from the sender's reported cost. */
export const COST_SOURCE = 'cost_source';
/** KIND_LABEL is the token-kind label of TOKENS_METRIC. */
export const KIND_LABEL = 'kind';

/** TokenKind numbers the disjoint kinds stored in TOKENS_METRIC. */
export const enum TokenKind {
  Input = 0,
  CacheRead = 1,
  CacheWrite = 2,
  Output = 3,
  Reasoning = 4,
}

/** KIND_NAMES are the `kind` label values, indexed by TokenKind. */
export const KIND_NAMES = ['input', 'cache_read', 'cache_write', 'output', 'reasoning'] as const;
