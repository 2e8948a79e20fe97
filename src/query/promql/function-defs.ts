import type { ValueType } from './ast.js';

/**
 * FunctionDef is a function's signature as in Prometheus' parser/functions.go: `variadic` 0 means
 * exactly argTypes; N > 0 means the last argument may be omitted or repeated up to N times in
 * total; -1 means the last argument repeats without bound.
 */
export interface FunctionDef {
  readonly name: string;
  readonly argTypes: readonly ValueType[];
  readonly variadic: number;
  readonly returnType: ValueType;
}

const V: ValueType = 'vector';
const M: ValueType = 'matrix';
const S: ValueType = 'scalar';
const STR: ValueType = 'string';

const defs: Array<[string, ValueType[], number, ValueType]> = [
  ['abs', [V], 0, V], ['absent', [V], 0, V], ['absent_over_time', [M], 0, V],
  ['acos', [V], 0, V], ['acosh', [V], 0, V], ['asin', [V], 0, V], ['asinh', [V], 0, V],
  ['atan', [V], 0, V], ['atanh', [V], 0, V], ['avg_over_time', [M], 0, V], ['ceil', [V], 0, V],
  ['changes', [M], 0, V], ['clamp', [V, S, S], 0, V], ['clamp_max', [V, S], 0, V], ['clamp_min', [V, S], 0, V],
  ['cos', [V], 0, V], ['cosh', [V], 0, V], ['count_over_time', [M], 0, V],
  ['days_in_month', [V], 1, V], ['day_of_month', [V], 1, V], ['day_of_week', [V], 1, V], ['day_of_year', [V], 1, V],
  ['deg', [V], 0, V], ['delta', [M], 0, V], ['deriv', [M], 0, V], ['exp', [V], 0, V],
  ['floor', [V], 0, V], ['histogram_avg', [V], 0, V], ['histogram_count', [V], 0, V],
  ['histogram_fraction', [S, S, V], 0, V], ['histogram_quantile', [S, V], 0, V], ['histogram_sum', [V], 0, V],
  ['histogram_stddev', [V], 0, V], ['histogram_stdvar', [V], 0, V],
  ['hour', [V], 1, V], ['idelta', [M], 0, V], ['increase', [M], 0, V], ['irate', [M], 0, V],
  ['label_replace', [V, STR, STR, STR, STR], 0, V], ['label_join', [V, STR, STR, STR], -1, V],
  ['last_over_time', [M], 0, V], ['ln', [V], 0, V], ['log10', [V], 0, V], ['log2', [V], 0, V],
  ['max_over_time', [M], 0, V], ['min_over_time', [M], 0, V], ['minute', [V], 1, V], ['month', [V], 1, V],
  ['pi', [], 0, S], ['predict_linear', [M, S], 0, V], ['present_over_time', [M], 0, V],
  ['quantile_over_time', [S, M], 0, V], ['rad', [V], 0, V], ['rate', [M], 0, V], ['resets', [M], 0, V],
  ['round', [V, S], 1, V], ['scalar', [V], 0, S], ['sgn', [V], 0, V], ['sin', [V], 0, V], ['sinh', [V], 0, V],
  ['sort', [V], 0, V], ['sort_desc', [V], 0, V], ['sort_by_label', [V, STR], -1, V], ['sort_by_label_desc', [V, STR], -1, V],
  ['sqrt', [V], 0, V], ['stddev_over_time', [M], 0, V], ['stdvar_over_time', [M], 0, V], ['sum_over_time', [M], 0, V],
  ['tan', [V], 0, V], ['tanh', [V], 0, V], ['time', [], 0, S], ['timestamp', [V], 0, V], ['vector', [S], 0, V],
  ['year', [V], 1, V],
];

/** FUNCTIONS maps every supported function name to its signature. */
export const FUNCTIONS: ReadonlyMap<string, FunctionDef> = new Map(
  defs.map(([name, argTypes, variadic, returnType]) => [name, { name, argTypes, variadic, returnType }]),
);
