import type { ValueType } from './ast.js';
import { INSTANT_FUNCTIONS, type InstantFn } from './instant-functions.js';
import { FLOAT_RANGE_FUNCTIONS, HIST_RANGE_FUNCTIONS, type FloatRangeFn, type HistRangeFn } from './range-functions.js';

/**
 * FunctionImpl is how a function is evaluated: an instant function gets the call; a range
 * function is applied per series and step to the window of its range-vector argument (float and,
 * where it has one, histogram implementation; `float` null is absent_over_time, which looks at
 * which steps have any series instead).
 */
export type FunctionImpl =
  | { readonly kind: 'instant'; readonly fn: InstantFn }
  | { readonly kind: 'range'; readonly matrixArg: number; readonly float: FloatRangeFn | null; readonly hist: HistRangeFn | null };

/**
 * PromFunction is one entry of the registry: signature as in Prometheus' parser/functions.go
 * (`variadic` 0 means exactly argTypes; N > 0 means the last argument may be omitted or repeated
 * up to N times in total; -1 means it repeats without bound), implementation and flags.
 */
export interface PromFunction {
  readonly name: string;
  readonly argTypes: readonly ValueType[];
  readonly variadic: number;
  readonly returnType: ValueType;
  readonly impl: FunctionImpl;
  /** The output keeps `__name__` (last_over_time), where most functions drop it. */
  readonly keepsMetricName: boolean;
  /** An instant result keeps evaluation order instead of being sorted by labels (sort*). */
  readonly keepsOrder: boolean;
  /** One argument is a range vector (`x[5m]`). */
  readonly takesRange: boolean;
  /**
   * The function reads of a float window only its first and last samples, their count and the
   * samples around each drop (rate, increase, delta, resets): a selection it reads whole may be
   * thinned (SelectHints.thin).
   */
  readonly readsEnds: boolean;
  /**
   * The function reads of a float window only its greatest or least sample and their count
   * (max_over_time, min_over_time): a selection it reads whole may be summarized
   * (SelectHints.extremes). Null for every other function.
   */
  readonly readsExtreme: 'max' | 'min' | null;
}

/** FunctionDef is the signature part of a registry entry (what the parser checks). */
export type FunctionDef = Pick<PromFunction, 'name' | 'argTypes' | 'variadic' | 'returnType'>;

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

const KEEPS_METRIC_NAME = new Set(['last_over_time']);
const KEEPS_ORDER = new Set(['sort', 'sort_desc', 'sort_by_label', 'sort_by_label_desc']);
const READS_ENDS = new Set(['rate', 'increase', 'delta', 'resets']);
const READS_EXTREME = new Map<string, 'max' | 'min'>([['max_over_time', 'max'], ['min_over_time', 'min']]);

function entry(name: string, argTypes: ValueType[], variadic: number, returnType: ValueType): PromFunction {
  const matrixArg = argTypes.indexOf('matrix');
  const impl: FunctionImpl = matrixArg >= 0
    ? { kind: 'range', matrixArg, float: FLOAT_RANGE_FUNCTIONS[name] ?? null, hist: HIST_RANGE_FUNCTIONS[name] ?? null }
    : { kind: 'instant', fn: INSTANT_FUNCTIONS[name]! };
  return { name, argTypes, variadic, returnType, impl, keepsMetricName: KEEPS_METRIC_NAME.has(name), keepsOrder: KEEPS_ORDER.has(name), takesRange: matrixArg >= 0, readsEnds: READS_ENDS.has(name), readsExtreme: READS_EXTREME.get(name) ?? null };
}

/**
 * FUNCTIONS is the PromQL function registry: every supported function's signature,
 * implementation and flags. The parser, the evaluator and the engine all read it; a test checks
 * that every entry is complete.
 */
export const FUNCTIONS: ReadonlyMap<string, PromFunction> = new Map(defs.map(([name, argTypes, variadic, returnType]) => [name, entry(name, argTypes, variadic, returnType)]));
