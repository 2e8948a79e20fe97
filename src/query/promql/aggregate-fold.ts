import type { SparseHistogram } from '../../model/hdr.js';
import { labelsKey, METRIC_NAME, onlyLabels, withoutLabels, type Labels } from '../../model/labels.js';
import type { Aggregate } from './ast.js';
import { kahanAdd, type KahanState } from './quantile.js';
import { StepSeries, sumHistograms } from './value.js';

/** The aggregations a SimpleFold computes: the ones that fold each sample into a running value. */
export type SimpleOp = 'sum' | 'avg' | 'min' | 'max' | 'count' | 'group' | 'stddev' | 'stdvar';

/** isSimpleOp says whether `op` folds sample by sample (no k, no quantile, no value labels). */
export function isSimpleOp(op: string): op is SimpleOp {
  return op === 'sum' || op === 'avg' || op === 'min' || op === 'max' || op === 'count' || op === 'group' || op === 'stddev' || op === 'stdvar';
}

/** groupLabels returns the output labels of a series' group under by/without. */
export function groupLabels(labels: Labels, names: ReadonlySet<string>, without: boolean): Labels {
  return without ? withoutLabels(labels, names) : onlyLabels(labels, names);
}

/** One group's running state, one slot per step; arrays an operator does not need stay empty. */
interface GroupState {
  readonly labels: Labels;
  /** Float and histogram samples folded at each step. */
  readonly fc: Uint32Array;
  readonly hc: Uint32Array;
  readonly val: Float64Array;
  /** Kahan compensation (sum, avg). */
  readonly comp: Float64Array;
  /** Running mean (avg past overflow, stddev, stdvar). */
  readonly mean: Float64Array;
  /** 1 once avg switched to the incremental mean because the plain sum overflowed. */
  readonly incr: Uint8Array;
  /** Histogram samples of sum/avg per step, in input order. */
  hists: Map<number, SparseHistogram[]> | null;
}

const NONE_F64 = new Float64Array(0);
const NONE_U8 = new Uint8Array(0);

/**
 * SimpleFold computes sum, avg, min, max, count, group, stddev and stdvar by folding input
 * series one at a time into per-(group, step) state, as Prometheus' aggregation() folds each
 * step's samples in input order: the additions for one group and step happen in the same order
 * either way, so results are bit-identical, and the input never has to be held whole — an
 * aggregation over `rate(x[5m])` streams the rate series through (Evaluator.eachSeries).
 */
export class SimpleFold {
  private readonly op: SimpleOp;
  private readonly n: number;
  private readonly names: ReadonlySet<string>;
  private readonly without: boolean;
  private readonly groups: GroupState[] = [];
  private readonly index = new Map<string, GroupState>();
  private readonly ks: KahanState = { sum: 0, c: 0 };

  constructor(a: Aggregate, op: SimpleOp, steps: number) {
    this.op = op;
    this.n = steps;
    const names = new Set(a.grouping);
    if (a.without) names.add(METRIC_NAME);
    this.names = names;
    this.without = a.without;
  }

  /** add folds every present sample of `s` into its group; `s` may be reused after the call. */
  add(s: StepSeries): void {
    const g = this.groupOf(s.labels);
    const op = this.op, n = this.n, present = s.present, vs = s.vs;
    const { fc, hc, val, comp, mean, incr } = g;
    const ks = this.ks;
    const withHists = s.hs !== null;
    for (let i = 0; i < n; i++) {
      if (present[i] === 0) continue;
      if (withHists) {
        const h = s.hs![i]!;
        if (h !== null) {
          hc[i]!++;
          if (op === 'sum' || op === 'avg') {
            const m = (g.hists ??= new Map());
            const list = m.get(i);
            if (list === undefined) m.set(i, [h]);
            else list.push(h);
          }
          continue;
        }
      }
      const f = vs[i]!;
      const c = ++fc[i]!;
      if (c === 1) {
        // First float of the group at this step.
        if (op === 'count' || op === 'group') continue;
        val[i] = op === 'stddev' || op === 'stdvar' ? 0 : f;
        if (mean.length > 0) mean[i] = f;
        if (comp.length > 0) comp[i] = 0;
        if (incr.length > 0) incr[i] = 0;
        continue;
      }
      switch (op) {
        case 'sum':
          ks.sum = val[i]!;
          ks.c = comp[i]!;
          kahanAdd(ks, f);
          val[i] = ks.sum;
          comp[i] = ks.c;
          break;
        case 'avg':
          if (incr[i] === 0) {
            ks.sum = val[i]!;
            ks.c = comp[i]!;
            kahanAdd(ks, f);
            if (ks.sum !== Infinity && ks.sum !== -Infinity) {
              val[i] = ks.sum;
              comp[i] = ks.c;
              break;
            }
            incr[i] = 1;
            mean[i] = val[i]! / (c - 1);
            comp[i] = comp[i]! / (c - 1);
          }
          {
            const q = (c - 1) / c;
            ks.sum = q * mean[i]!;
            ks.c = q * comp[i]!;
            kahanAdd(ks, f / c);
            mean[i] = ks.sum;
            comp[i] = ks.c;
          }
          break;
        case 'min':
          if (val[i]! > f || Number.isNaN(val[i]!)) val[i] = f;
          break;
        case 'max':
          if (val[i]! < f || Number.isNaN(val[i]!)) val[i] = f;
          break;
        case 'stddev':
        case 'stdvar': {
          const delta = f - mean[i]!;
          mean[i] = mean[i]! + delta / c;
          val[i] = val[i]! + delta * (f - mean[i]!);
          break;
        }
        default:
          break;
      }
    }
  }

  /** finish returns one series per group that has a value at some step, in first-seen order. */
  finish(): StepSeries[] {
    const out: StepSeries[] = [];
    const op = this.op, n = this.n;
    for (const g of this.groups) {
      const o = new StepSeries(g.labels, n);
      const { fc: fcs, hc: hcs, val, comp, mean, incr } = g;
      for (let i = 0; i < n; i++) {
        const fc = fcs[i]!, hc = hcs[i]!;
        if (fc === 0 && hc === 0) continue;
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
              // A group mixing floats and histograms has no result (Prometheus annotates and drops it).
              if (fc === 0) {
                const list = g.hists!.get(i)!;
                const h = sumHistograms(list, 0, list.length);
                o.setH(i, op === 'avg' ? h.scale(1 / hc) : h);
              }
            } else if (op === 'sum') o.set(i, val[i]! + comp[i]!);
            else o.set(i, incr[i] === 1 ? mean[i]! + comp[i]! : val[i]! / fc + comp[i]! / fc);
            break;
          case 'min':
          case 'max':
            if (fc > 0) o.set(i, val[i]!);
            break;
          case 'stdvar':
            if (fc > 0) o.set(i, val[i]! / fc);
            break;
          case 'stddev':
            if (fc > 0) o.set(i, Math.sqrt(val[i]! / fc));
            break;
          default:
            break;
        }
      }
      if (o.count > 0) out.push(o);
    }
    return out;
  }

  private groupOf(labels: Labels): GroupState {
    const gl = groupLabels(labels, this.names, this.without);
    const key = labelsKey(gl);
    let g = this.index.get(key);
    if (g === undefined) {
      const op = this.op, n = this.n;
      const needsVal = op !== 'count' && op !== 'group';
      g = {
        labels: gl,
        fc: new Uint32Array(n),
        hc: new Uint32Array(n),
        val: needsVal ? new Float64Array(n) : NONE_F64,
        comp: op === 'sum' || op === 'avg' ? new Float64Array(n) : NONE_F64,
        mean: op === 'avg' || op === 'stddev' || op === 'stdvar' ? new Float64Array(n) : NONE_F64,
        incr: op === 'avg' ? new Uint8Array(n) : NONE_U8,
        hists: null,
      };
      this.groups.push(g);
      this.index.set(key, g);
    }
    return g;
  }
}
