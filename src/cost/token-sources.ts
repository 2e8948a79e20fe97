import { getLabel, metricName, type Labels } from '../model/labels.js';
import { MetricKind } from '../model/metric-kind.js';
import { TokenKind } from './series-names.js';

/**
 * token-sources.ts recognises the series that carry LLM token counts (SPEC section 7) by their
 * Prometheus names after OTLP translation, and ranks the paths for de-duplication.
 */

/**
 * SourceRank orders the token paths. When several paths report tokens of one (tenant, model),
 * only the best-ranked path seen in the last DEDUP_WINDOW_MS is costed, so a call reported as a
 * span and as a metric counts once. Spans rank first: they carry per-call attribution (agent, tool
 * through the trace) and an SDK exports them seconds after the call, before its periodic metric
 * export. Among metrics the newest GenAI generation wins.
 */
export const enum SourceRank {
  Span = 0,
  InferenceUsage = 1,
  TokenUsage = 2,
  ProviderTokens = 3,
  Count = 4,
}

/** How a series' samples measure tokens. */
export const enum Measure {
  /** counter samples: the value is the token count (delta or cumulative). */
  Counter = 0,
  /** histogram samples: each observation is one call's tokens; tokens = sum, calls = count. */
  Histogram = 1,
}

/** TokenSource is what a recognised series contributes. */
export interface TokenSource {
  readonly kind: TokenKind;
  readonly rank: SourceRank;
  readonly measure: Measure;
  /** calls: whether the series' observations (histogram) or delta events count LLM calls. */
  readonly calls: boolean;
}

const INFERENCE_PREFIX = 'gen_ai_client_inference_usage_';
const INFERENCE_KINDS: Readonly<Record<string, TokenKind>> = {
  input_tokens: TokenKind.Input,
  output_tokens: TokenKind.Output,
  cache_read_input_tokens: TokenKind.CacheRead,
  cache_write_input_tokens: TokenKind.CacheWrite,
  cache_creation_input_tokens: TokenKind.CacheWrite,
  reasoning_output_tokens: TokenKind.Reasoning,
};

/** TYPE_KINDS maps `type` / `gen_ai_token_type` values to kinds (input counts include cache, output reasoning). */
const TYPE_KINDS: Readonly<Record<string, TokenKind>> = {
  prompt: TokenKind.Input,
  input: TokenKind.Input,
  completion: TokenKind.Output,
  output: TokenKind.Output,
  cache_read: TokenKind.CacheRead,
  cache_write: TokenKind.CacheWrite,
  cache_creation: TokenKind.CacheWrite,
  reasoning: TokenKind.Reasoning,
};

/** REPORTED_COST_METRIC is a sender's own cost counter, kept as cost_source="reported". */
export const REPORTED_COST_METRIC = 'llm_provider_cost_usd_total';

/**
 * tokenSource classifies a series; null for everything that is not a token series. `fromSpan`
 * says the series was derived from spans (SeriesOptions.origin). Cheap for the common case: a
 * name that starts neither `llm_provider_` nor `gen_ai_client_` is rejected after two compares.
 */
export function tokenSource(labels: Labels, kind: MetricKind, fromSpan: boolean): TokenSource | null {
  const name = metricName(labels);
  if (!name.startsWith('gen_ai_client_') && !name.startsWith('llm_provider_')) return null;
  if (name === 'llm_provider_tokens_total') {
    if (kind !== MetricKind.Counter) return null;
    const k = TYPE_KINDS[getLabel(labels, 'type')];
    return k === undefined ? null : { kind: k, rank: SourceRank.ProviderTokens, measure: Measure.Counter, calls: k === TokenKind.Input };
  }
  if (name === 'gen_ai_client_token_usage') {
    if (kind !== MetricKind.Histogram) return null;
    const k = TYPE_KINDS[getLabel(labels, 'gen_ai_token_type')];
    if (k === undefined) return null;
    return { kind: k, rank: fromSpan ? SourceRank.Span : SourceRank.TokenUsage, measure: Measure.Histogram, calls: k === TokenKind.Input };
  }
  if (name.startsWith(INFERENCE_PREFIX)) {
    const rest = name.slice(INFERENCE_PREFIX.length).replace(/_total$/, '');
    const k = INFERENCE_KINDS[rest];
    if (k === undefined) return null;
    if (kind === MetricKind.Counter) return { kind: k, rank: fromSpan ? SourceRank.Span : SourceRank.InferenceUsage, measure: Measure.Counter, calls: false };
    if (kind === MetricKind.Histogram) return { kind: k, rank: fromSpan ? SourceRank.Span : SourceRank.InferenceUsage, measure: Measure.Histogram, calls: k === TokenKind.Input };
  }
  return null;
}
