import type { SparseHistogram } from '../../model/hdr.js';
import { labelsKey, METRIC_NAME, onlyLabels, withLabel, withoutLabels, type Labels } from '../../model/labels.js';
import { QueryError } from './api.js';
import type { Aggregate } from './ast.js';
import type { EvalApi as Evaluator, Value } from './eval-api.js';
import { formatFloat, kahanAdd, quantileOf, type KahanState } from './quantile.js';
import { StepSeries, sumHistograms } from './value.js';

/**
 * Aggregation operators, following Prometheus' engine.go aggregation(): groups are formed once
 * per input series, then every step folds the present samples of each group.
 */

/** groupLabels returns the output labels of a series' group under by/without. */
function groupLabels(labels: Labels, names: ReadonlySet<string>, without: boolean): Labels {
  return without ? withoutLabels(labels, names) : onlyLabels(labels, names);
}

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
      out = simpleAgg(ev, series, a);
  }
  let held = 0;
  for (const s of series) held += s.count;
  ev.release(held);
  return { kind: 'vector', series: ev.holdSeries(out) };
}

function simpleAgg(ev: Evaluator, series: StepSeries[], a: Aggregate): StepSeries[] {
  const { groupOf, labels } = formGroups(series, a.grouping, a.without);
  const G = labels.length, n = ev.steps, op = a.op;
  const outs: Array<StepSeries | null> = new Array<StepSeries | null>(G).fill(null);
  const fcount = new Float64Array(G), hcount = new Float64Array(G);
  const val = new Float64Array(G), comp = new Float64Array(G), mean = new Float64Array(G);
  const incremental = new Uint8Array(G);
  const hists: SparseHistogram[][] = [];
  for (let g = 0; g < G; g++) hists.push([]);
  const ks: KahanState = { sum: 0, c: 0 };
  for (let i = 0; i < n; i++) {
    fcount.fill(0);
    hcount.fill(0);
    for (let j = 0; j < series.length; j++) {
      const s = series[j]!;
      if (s.present[i] === 0) continue;
      const g = groupOf[j]!;
      const h = s.h(i);
      if (h !== null) {
        hcount[g]!++;
        if (op === 'sum' || op === 'avg') hists[g]!.push(h);
        continue;
      }
      const f = s.vs[i]!;
      const c = ++fcount[g]!;
      if (c === 1) {
        // First float of the group at this step.
        val[g] = op === 'stddev' || op === 'stdvar' ? 0 : f;
        mean[g] = f;
        comp[g] = 0;
        incremental[g] = 0;
        continue;
      }
      switch (op) {
        case 'sum':
          ks.sum = val[g]!;
          ks.c = comp[g]!;
          kahanAdd(ks, f);
          val[g] = ks.sum;
          comp[g] = ks.c;
          break;
        case 'avg':
          if (incremental[g] === 0) {
            ks.sum = val[g]!;
            ks.c = comp[g]!;
            kahanAdd(ks, f);
            if (ks.sum !== Infinity && ks.sum !== -Infinity) {
              val[g] = ks.sum;
              comp[g] = ks.c;
              break;
            }
            incremental[g] = 1;
            mean[g] = val[g]! / (c - 1);
            comp[g] = comp[g]! / (c - 1);
          }
          {
            const q = (c - 1) / c;
            ks.sum = q * mean[g]!;
            ks.c = q * comp[g]!;
            kahanAdd(ks, f / c);
            mean[g] = ks.sum;
            comp[g] = ks.c;
          }
          break;
        case 'min':
          if (val[g]! > f || Number.isNaN(val[g]!)) val[g] = f;
          break;
        case 'max':
          if (val[g]! < f || Number.isNaN(val[g]!)) val[g] = f;
          break;
        case 'stddev':
        case 'stdvar': {
          const delta = f - mean[g]!;
          mean[g] = mean[g]! + delta / c;
          val[g] = val[g]! + delta * (f - mean[g]!);
          break;
        }
        default:
          break;
      }
    }
    for (let g = 0; g < G; g++) {
      const fc = fcount[g]!, hc = hcount[g]!;
      if (fc === 0 && hc === 0) continue;
      let o = outs[g]!;
      if (o === null) o = outs[g] = new StepSeries(labels[g]!, n);
      switch (op) {
        case 'count':
          o.set(i, fc + hc);
          break;
        case 'group':
          o.set(i, 1);
          break;
        case 'sum':
        case 'avg':
          if (hc > 0) {
            const list = hists[g]!;
            // A group mixing floats and histograms has no result (Prometheus annotates and drops it).
            if (fc === 0) {
              const h = sumHistograms(list, 0, list.length);
              o.setH(i, op === 'avg' ? h.scale(1 / hc) : h);
            }
            list.length = 0;
          } else if (op === 'sum') o.set(i, val[g]! + comp[g]!);
          else o.set(i, incremental[g] === 1 ? mean[g]! + comp[g]! : val[g]! / fc + comp[g]! / fc);
          break;
        case 'min':
        case 'max':
          if (fc > 0) o.set(i, val[g]!);
          break;
        case 'stdvar':
          if (fc > 0) o.set(i, val[g]! / fc);
          break;
        case 'stddev':
          if (fc > 0) o.set(i, Math.sqrt(val[g]! / fc));
          break;
        default:
          break;
      }
    }
    ev.tick();
  }
  const res: StepSeries[] = [];
  for (const o of outs) if (o !== null && o.count > 0) res.push(o);
  return res;
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
