import type { Labels } from '../model/labels.js';

/**
 * dimensions.ts maps a series' labels to the cost dimensions of SPEC section 7. Each dimension
 * reads a list of labels; the first one present (non-empty) wins. The mapping is configurable
 * (config key `cost.dimensions`), the defaults are SPEC's.
 */

/** DIMENSIONS are the cost dimensions, in the order they appear in labels and answers. */
export const DIMENSIONS = ['agent', 'tenant', 'user', 'model', 'provider', 'tool', 'mcp_server'] as const;

/** Dimension is one cost dimension. */
export type Dimension = (typeof DIMENSIONS)[number];

/** DimensionMap lists, per dimension, the labels it reads in order of preference. */
export type DimensionMap = Readonly<Record<Dimension, readonly string[]>>;

/** DEFAULT_DIMENSION_LABELS is SPEC section 7's mapping. */
export const DEFAULT_DIMENSION_LABELS: DimensionMap = {
  agent: ['agent_id', 'gen_ai_agent_id', 'agent'],
  tenant: ['tenant_id', 'tenant', 'workspace'],
  user: ['user_id', 'user'],
  model: ['model', 'gen_ai_request_model', 'gen_ai_response_model'],
  provider: ['provider', 'gen_ai_provider_name', 'gen_ai_system'],
  tool: ['tool_name', 'gen_ai_tool_name', 'tool'],
  mcp_server: ['server_id', 'mcp_server_label', 'mcp_server'],
};

/** isDimension tells whether a name is one of DIMENSIONS. */
export function isDimension(name: string): name is Dimension {
  return (DIMENSIONS as readonly string[]).includes(name);
}

/**
 * dimensionMap merges configured overrides over the defaults; a dimension that is configured
 * reads exactly the configured labels (the caller validated names with isDimension).
 */
export function dimensionMap(overrides: Readonly<Partial<Record<Dimension, readonly string[]>>> = {}): DimensionMap {
  const out = { ...DEFAULT_DIMENSION_LABELS } as Record<Dimension, readonly string[]>;
  for (const d of DIMENSIONS) {
    const o = overrides[d];
    if (o !== undefined) out[d] = [...o];
  }
  return out;
}

/** DimensionValues holds one value per dimension ('' when no mapped label is present). */
export type DimensionValues = Record<Dimension, string>;

/** dimensionValues reads every dimension of a label set: the first mapped label present wins. */
export function dimensionValues(labels: Labels, map: DimensionMap): DimensionValues {
  const out = { agent: '', tenant: '', user: '', model: '', provider: '', tool: '', mcp_server: '' } as DimensionValues;
  for (const d of DIMENSIONS) {
    const names = map[d];
    for (let i = 0; i < names.length; i++) {
      const v = labelValue(labels, names[i]!);
      if (v !== '') {
        out[d] = v;
        break;
      }
    }
  }
  return out;
}

function labelValue(labels: Labels, name: string): string {
  for (let i = 0; i < labels.length; i++) if (labels[i]!.name === name) return labels[i]!.value;
  return '';
}
