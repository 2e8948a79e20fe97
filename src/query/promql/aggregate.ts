import { labelsKey, METRIC_NAME, withLabel, type Labels } from '../../model/labels.js';
import { QueryError } from './api.js';
import type { Aggregate } from './ast.js';
import type { EvalApi as Evaluator, Value } from './eval-api.js';
import { formatFloat, quantileOf } from './quantile.js';
import { StepSeries } from './value.js';
import { groupLabels, isSimpleOp, SimpleFold } from './aggregate-fold.js';

/**
 * Aggregation operators, following Prometheus' engine.go aggregation(): groups are formed once
 * per input series, then every step folds the present samples of each group.
 */

interface Groups {
  readonly groupOf: Int32Array;
  readonly labels: Labels[];
}

function formGroups(series: readonly StepSeries[], grouping: readonly string[], without: boolean): Groups {
  const names = new Set(grouping);
  if (without) names.add(METRIC_NAME);
  const groupOf = new Int32Array(series.length);
  const labels: Labels[] = [];
  const index = new Map<string, number>();
  for (let j = 0; j < series.length; j++) {
    const gl = groupLabels(series[j]!.labels, names, without);
    const key = labelsKey(gl);
    let g = index.get(key);
    if (g === undefined) {
      g = labels.length;
      labels.push(gl);
      index.set(key, g);
    }
    groupOf[j] = g;
  }
  return { groupOf, labels };
}

/** evalAggregate evaluates sum, avg, min, max, count, group, stddev, stdvar, topk, bottomk, quantile, count_values. */
export function evalAggregate(ev: Evaluator, a: Aggregate): Value {
  let param: Float64Array | null = null;
  let valueLabel = '';
  if (a.param !== null) {
    const p = ev.eval(a.param);
    if (p.kind === 'string') valueLabel = p.value;
    else if (p.kind === 'scalar') param = p.vs;
  }
  if (isSimpleOp(a.op)) {
    const fold = new SimpleFold(a, a.op, ev.steps);
    // Stream the input when the evaluator can (an aggregation over rate(x[5m]) never holds all
    // the rate series); otherwise fold the evaluated vector series by series.
    if (!ev.eachSeries(a.expr, (s) => fold.add(s))) {
      const series = ev.evalVector(a.expr);
      for (const s of series) {
        fold.add(s);
        ev.tick(ev.steps);
      }
      ev.releaseValue({ kind: 'vector', series });
    }
    return { kind: 'vector', series: ev.holdSeries(fold.finish()) };
  }
  const series = ev.evalVector(a.expr);
  let out: StepSeries[];
  switch (a.op) {
    case 'topk':
    case 'bottomk':
      out = topk(ev, series, a, param!);
      break;
    case 'count_values':
      out = countValues(ev, series, a, valueLabel);
      break;
    case 'quantile':
      out = quantileAgg(ev, series, a, param!);
      break;
    default:
      throw new QueryError('bad_data', `unknown aggregation ${a.op}`);
  }
  let held = 0;
  for (const s of series) held += s.count;
  ev.release(held);
  return { kind: 'vector', series: ev.holdSeries(out) };
}

/** kParam converts topk's parameter as Prometheus does, rejecting values that overflow int64. */
function kParam(v: number): number {
  if (Number.isNaN(v) || v >= 9223372036854775807 || v <= -9223372036854775808) {
    throw new QueryError('execution', `Scalar value ${formatFloat(v)} overflows int64`);
  }
  return Math.trunc(v);
}

function topk(ev: Evaluator, series: StepSeries[], a: Aggregate, param: Float64Array): StepSeries[] {
  const { groupOf, labels } = formGroups(series, a.grouping, a.without);
  const G = labels.length, n = ev.steps;
  const bottom = a.op === 'bottomk';
  const outs: Array<StepSeries | null> = new Array<StepSeries | null>(series.length).fill(null);
  const order: number[] = [];
  const heaps: number[][] = [];
  for (let g = 0; g < G; g++) heaps.push([]);
  for (let i = 0; i < n; i++) {
    const kf = kParam(param[i]!);
    if (kf < 1) continue;
    let present = 0;
    for (const s of series) if (s.present[i] === 1) present++;
    const k = Math.min(kf, present);
    for (const hp of heaps) hp.length = 0;
    const val = (j: number): number => series[j]!.vs[i]!;
    // Go's container/heap over vectorByValueHeap (topk) / vectorByReverseValueHeap (bottomk).
    const less = (hp: number[], x: number, y: number): boolean => {
      const fx = val(hp[x]!), fy = val(hp[y]!);
      if (Number.isNaN(fx)) return true;
      return bottom ? fx > fy : fx < fy;
    };
    const up = (hp: number[], j: number): void => {
      for (;;) {
        const p = j > 0 ? (j - 1) >> 1 : 0;
        if (p === j || !less(hp, j, p)) break;
        const t = hp[p]!; hp[p] = hp[j]!; hp[j] = t;
        j = p;
      }
    };
    const down = (hp: number[], i0: number): boolean => {
      let x = i0;
      const len = hp.length;
      for (;;) {
        const j1 = 2 * x + 1;
        if (j1 >= len) break;
        let j = j1;
        const j2 = j1 + 1;
        if (j2 < len && less(hp, j2, j1)) j = j2;
        if (!less(hp, j, x)) break;
        const t = hp[x]!; hp[x] = hp[j]!; hp[j] = t;
        x = j;
      }
      return x > i0;
    };
    for (let j = 0; j < series.length; j++) {
      const s = series[j]!;
      if (s.present[i] === 0 || s.h(i) !== null) continue;
      const hp = heaps[groupOf[j]!]!;
      const f = s.vs[i]!;
      if (hp.length < k) {
        hp.push(j);
        up(hp, hp.length - 1);
      } else if (hp.length > 0) {
        const top = val(hp[0]!);
        if ((bottom ? top > f : top < f) || (Number.isNaN(top) && !Number.isNaN(f))) {
          hp[0] = j;
          if (k > 1 && !down(hp, 0)) up(hp, 0);
        }
      }
    }
    for (const hp of heaps) {
      // Highest first for topk, lowest first for bottomk; NaN last.
      hp.sort((x, y) => {
        const fx = val(x), fy = val(y);
        if (Number.isNaN(fx)) return Number.isNaN(fy) ? 0 : 1;
        if (Number.isNaN(fy)) return -1;
        return bottom ? fx - fy : fy - fx;
      });
      for (const j of hp) {
        let o = outs[j]!;
        if (o === null) {
          o = outs[j] = new StepSeries(series[j]!.labels, n);
          order.push(j);
        }
        o.set(i, val(j));
      }
    }
    ev.tick();
  }
  return order.map((j) => outs[j]!);
}

function quantileAgg(ev: Evaluator, series: StepSeries[], a: Aggregate, param: Float64Array): StepSeries[] {
  const { groupOf, labels } = formGroups(series, a.grouping, a.without);
  const G = labels.length, n = ev.steps;
  const outs: Array<StepSeries | null> = new Array<StepSeries | null>(G).fill(null);
  const vals: number[][] = [];
  for (let g = 0; g < G; g++) vals.push([]);
  for (let i = 0; i < n; i++) {
    for (const v of vals) v.length = 0;
    for (let j = 0; j < series.length; j++) {
      const s = series[j]!;
      if (s.present[i] === 1 && s.h(i) === null) vals[groupOf[j]!]!.push(s.vs[i]!);
    }
    for (let g = 0; g < G; g++) {
      if (vals[g]!.length === 0) continue;
      let o = outs[g]!;
      if (o === null) o = outs[g] = new StepSeries(labels[g]!, n);
      o.set(i, quantileOf(param[i]!, vals[g]!));
    }
  }
  return outs.filter((o): o is StepSeries => o !== null);
}

const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function countValues(ev: Evaluator, series: StepSeries[], a: Aggregate, valueLabel: string): StepSeries[] {
  if (!LABEL_NAME_RE.test(valueLabel)) throw new QueryError('execution', `invalid label name ${JSON.stringify(valueLabel)}`);
  const { groupOf, labels } = formGroups(series, a.grouping, a.without);
  const n = ev.steps;
  const outs = new Map<string, StepSeries>();
  const keyOf = new Map<string, Labels>();
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < series.length; j++) {
      const s = series[j]!;
      if (s.present[i] === 0 || s.h(i) !== null) continue;
      const g = groupOf[j]!;
      const str = formatFloat(s.vs[i]!);
      const ck = g + '\u0000' + str;
      let ol = keyOf.get(ck);
      if (ol === undefined) {
        ol = withLabel(labels[g]!, valueLabel, str);
        keyOf.set(ck, ol);
      }
      const key = labelsKey(ol);
      let o = outs.get(key);
      if (o === undefined) {
        o = new StepSeries(ol, n);
        outs.set(key, o);
      }
      o.set(i, (o.present[i] === 1 ? o.vs[i]! : 0) + 1);
    }
  }
  return [...outs.values()];
}
