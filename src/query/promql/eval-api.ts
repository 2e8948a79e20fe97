import type { Expr, VectorSelector } from './ast.js';
import type { RangeData, StepSeries } from './value.js';

/** Value is what an expression evaluates to over all steps of an evaluator. */
export type Value =
  | { readonly kind: 'vector'; readonly series: StepSeries[] }
  | { readonly kind: 'scalar'; readonly vs: Float64Array }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'matrix'; readonly series: RangeData[] };

/**
 * EvalApi is what operators and functions (aggregate.ts, binary.ts, instant-functions.ts) may ask
 * of the evaluator. They depend on this interface, not on eval.ts, so the evaluator's imports of
 * them form no cycle.
 */
export interface EvalApi {
  /** Number of evaluation steps. */
  readonly steps: number;
  /** ts returns the timestamp (ms) of step i. */
  ts(i: number): number;
  eval(e: Expr): Value;
  evalVector(e: Expr): StepSeries[];
  /**
   * eachSeries streams the series of `e` into `visit` one at a time when `e` allows it, passing a
   * scratch series valid during the call only; false (nothing visited) when it does not.
   */
  eachSeries(e: Expr, visit: (s: StepSeries) => void): boolean;
  evalScalar(e: Expr): Float64Array;
  /** evalSelector evaluates an instant selector; `sampleTime` yields sample times, not values. */
  evalSelector(vs: VectorSelector, sampleTime: boolean): StepSeries[];
  /** holdSeries accounts for a freshly produced vector (samples limit) and checks the deadline. */
  holdSeries(series: StepSeries[]): StepSeries[];
  release(n: number): void;
  releaseValue(v: Value): void;
  /** tick checks the deadline and cancellation every few hundred units of work (a finished series counts its steps). */
  tick(work?: number): void;
}
