import { SparseHistogram } from '../../model/hdr.js';
import { getLabel, labelsKey, METRIC_NAME, onlyLabels, withLabel, withoutLabels, type Labels } from '../../model/labels.js';
import { QueryError } from './api.js';
import { isComparison, isSetOperator, type Binary, type BinaryOp, type VectorMatching } from './ast.js';
import type { EvalApi as Evaluator, Value } from './eval-api.js';
import { dropMetricName, mergeByLabels, sameLabelsetError } from './series-ops.js';
import { StepSeries } from './value.js';

/**
 * Binary operators, following Prometheus' engine.go: scalar/scalar, vector/scalar and
 * vector/vector with one-to-one, many-to-one, one-to-many and set matching.
 */

/** shouldDropMetricName: arithmetic drops the name, comparisons keep it (unless `bool`). */
function shouldDropMetricName(op: BinaryOp): boolean {
  return op === '+' || op === '-' || op === '*' || op === '/' || op === '%' || op === '^' || op === 'atan2';
}

/** goPow is Math.pow with Go's special cases (Pow(1, NaN) = 1, Pow(-1, ±Inf) = 1). */
function goPow(x: number, y: number): number {
  if (x === 1 || y === 0) return 1;
  if (x === -1 && (y === Infinity || y === -Infinity)) return 1;
  return Math.pow(x, y);
}

/** floatOp applies an arithmetic operator; comparisons return 1/0 (kept/dropped). */
export function floatOp(op: BinaryOp, l: number, r: number): number {
  switch (op) {
    case '+': return l + r;
    case '-': return l - r;
    case '*': return l * r;
    case '/': return l / r;
    case '%': return l % r;
    case '^': return goPow(l, r);
    case 'atan2': return Math.atan2(l, r);
    case '==': return l === r ? 1 : 0;
    case '!=': return l !== r ? 1 : 0;
    case '>': return l > r ? 1 : 0;
    case '<': return l < r ? 1 : 0;
    case '>=': return l >= r ? 1 : 0;
    case '<=': return l <= r ? 1 : 0;
    default: throw new QueryError('internal', `operator ${op} not allowed on floats`);
  }
}

/** histOp combines histogram operands; null means "no result" (an unsupported combination). */
function histOp(op: BinaryOp, fl: number, fr: number, hl: SparseHistogram | null, hr: SparseHistogram | null): SparseHistogram | null {
  if (hl !== null && hr !== null) {
    if (op === '+') return hl.clone().add(hr);
    if (op === '-') return hl.clone().sub(hr);
    return null;
  }
  if (hl !== null) {
    if (op === '*') return hl.clone().scale(fr);
    if (op === '/') return hl.clone().scale(1 / fr);
    return null;
  }
  if (hr !== null && op === '*') return hr.clone().scale(fl);
  return null;
}

/** evalBinary evaluates a binary expression at every step. */
export function evalBinary(ev: Evaluator, b: Binary): Value {
  const lv = ev.eval(b.lhs);
  const rv = ev.eval(b.rhs);
  const n = ev.steps;
  if (lv.kind === 'scalar' && rv.kind === 'scalar') {
    const vs = new Float64Array(n);
    for (let i = 0; i < n; i++) vs[i] = floatOp(b.op, lv.vs[i]!, rv.vs[i]!);
    return { kind: 'scalar', vs };
  }
  let out: StepSeries[];
  if (lv.kind === 'vector' && rv.kind === 'scalar') out = vectorScalar(ev, b, lv.series, rv.vs, false);
  else if (lv.kind === 'scalar' && rv.kind === 'vector') out = vectorScalar(ev, b, rv.series, lv.vs, true);
  else if (lv.kind === 'vector' && rv.kind === 'vector') {
    out = isSetOperator(b.op) ? setOp(ev, b, lv.series, rv.series) : vectorVector(ev, b, lv.series, rv.series);
  } else throw new QueryError('internal', 'binary expression on unexpected operand types');
  ev.releaseValue(lv);
  ev.releaseValue(rv);
  return { kind: 'vector', series: ev.holdSeries(out) };
}

function vectorScalar(ev: Evaluator, b: Binary, series: StepSeries[], sc: Float64Array, swap: boolean): StepSeries[] {
  const n = ev.steps, op = b.op, cmp = isComparison(op);
  const drop = shouldDropMetricName(op) || b.returnBool;
  const out: StepSeries[] = [];
  for (const s of series) {
    const o = new StepSeries(drop ? dropMetricName(s.labels) : s.labels, n);
    for (let i = 0; i < n; i++) {
      if (s.present[i] === 0) continue;
      const h = s.h(i);
      const x = s.vs[i]!, y = sc[i]!;
      if (h !== null) {
        if (cmp) continue;
        const r = swap ? histOp(op, y, 0, null, h) : histOp(op, 0, y, h, null);
        if (r !== null) o.setH(i, r);
        continue;
      }
      const r = swap ? floatOp(op, y, x) : floatOp(op, x, y);
      if (!cmp) o.set(i, r);
      else if (b.returnBool) o.set(i, r);
      else if (r === 1) o.set(i, x);
    }
    if (o.count > 0) out.push(o);
  }
  return drop ? mergeByLabels(out) : out;
}

/** signatures maps each series to a small integer identifying its matching labels. */
function signatures(series: readonly StepSeries[], m: VectorMatching, index: Map<string, number>): Int32Array {
  const names = new Set(m.labels);
  if (!m.on) names.add(METRIC_NAME);
  const sigs = new Int32Array(series.length);
  for (let j = 0; j < series.length; j++) {
    const l = series[j]!.labels;
    const key = labelsKey(m.on ? onlyLabels(l, names) : withoutLabels(l, names));
    let id = index.get(key);
    if (id === undefined) {
      id = index.size;
      index.set(key, id);
    }
    sigs[j] = id;
  }
  return sigs;
}

function setOp(ev: Evaluator, b: Binary, lhs: StepSeries[], rhs: StepSeries[]): StepSeries[] {
  const m = b.matching!;
  const index = new Map<string, number>();
  const ls = signatures(lhs, m, index), rs = signatures(rhs, m, index);
  const n = ev.steps;
  const stamp = new Int32Array(index.size).fill(-1);
  const outL = lhs.map((s) => new StepSeries(s.labels, n));
  const outR = rhs.map((s) => new StepSeries(s.labels, n));
  for (let i = 0; i < n; i++) {
    if (b.op === 'or') {
      for (let j = 0; j < lhs.length; j++) {
        if (lhs[j]!.present[i] === 0) continue;
        stamp[ls[j]!] = i;
        copyPoint(lhs[j]!, outL[j]!, i);
      }
      for (let j = 0; j < rhs.length; j++) {
        if (rhs[j]!.present[i] === 1 && stamp[rs[j]!] !== i) copyPoint(rhs[j]!, outR[j]!, i);
      }
      continue;
    }
    for (let j = 0; j < rhs.length; j++) if (rhs[j]!.present[i] === 1) stamp[rs[j]!] = i;
    const want = b.op === 'and';
    for (let j = 0; j < lhs.length; j++) {
      if (lhs[j]!.present[i] === 1 && (stamp[ls[j]!] === i) === want) copyPoint(lhs[j]!, outL[j]!, i);
    }
  }
  const out = outL.filter((s) => s.count > 0);
  for (const s of outR) if (s.count > 0) out.push(s);
  return b.op === 'or' ? mergeByLabels(out) : out;
}

function copyPoint(from: StepSeries, to: StepSeries, i: number): void {
  const h = from.h(i);
  if (h !== null) to.setH(i, h);
  else to.set(i, from.vs[i]!);
}

/** formatLabelSet renders labels as Prometheus' labels.String(): {a="b", c="d"}. */
function formatLabelSet(l: Labels): string {
  return '{' + l.map((x) => `${x.name}=${JSON.stringify(x.value)}`).join(', ') + '}';
}

/** resultMetric is Prometheus' resultMetric: the output labels of a matched pair. */
function resultMetric(lhs: Labels, rhs: Labels, b: Binary): Labels {
  const m = b.matching!;
  let out = lhs;
  if (shouldDropMetricName(b.op)) out = dropMetricName(out);
  if (m.card === 'one-to-one') {
    const names = new Set(m.labels);
    out = m.on ? onlyLabels(out, names) : withoutLabels(out, names);
  }
  for (const ln of m.include) out = withLabel(out, ln, getLabel(rhs, ln));
  if (b.returnBool) out = dropMetricName(out);
  return out;
}

function vectorVector(ev: Evaluator, b: Binary, lhsIn: StepSeries[], rhsIn: StepSeries[]): StepSeries[] {
  const m = b.matching!;
  const swapped = m.card === 'one-to-many';
  const lhs = swapped ? rhsIn : lhsIn, rhs = swapped ? lhsIn : rhsIn;
  const index = new Map<string, number>();
  const ls = signatures(lhs, m, index), rs = signatures(rhs, m, index);
  const n = ev.steps, op = b.op, cmp = isComparison(op);
  const nsig = index.size;
  const rStamp = new Int32Array(nsig).fill(-1), rAt = new Int32Array(nsig), lStamp = new Int32Array(nsig).fill(-1);
  const pairOut = new Map<number, StepSeries>();
  const byLabels = new Map<string, StepSeries>();
  const out: StepSeries[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < rhs.length; j++) {
      if (rhs[j]!.present[i] === 0) continue;
      const sig = rs[j]!;
      if (rStamp[sig] === i) {
        const side = swapped ? 'left' : 'right';
        const matched = m.on ? onlyLabels(rhs[j]!.labels, new Set(m.labels)) : withoutLabels(rhs[j]!.labels, new Set([...m.labels, METRIC_NAME]));
        throw new QueryError('execution', `found duplicate series for the match group ${formatLabelSet(matched)} on the ${side} hand-side of the operation: [${formatLabelSet(rhs[j]!.labels)}, ${formatLabelSet(rhs[rAt[sig]!]!.labels)}];many-to-many matching not allowed: matching labels must be unique on one side`);
      }
      rStamp[sig] = i;
      rAt[sig] = j;
    }
    for (let j = 0; j < lhs.length; j++) {
      const l = lhs[j]!;
      if (l.present[i] === 0) continue;
      const sig = ls[j]!;
      if (rStamp[sig] !== i) continue;
      const rj = rAt[sig]!;
      const r = rhs[rj]!;
      let fl = l.vs[i]!, fr = r.vs[i]!, hl = l.h(i), hr = r.h(i);
      if (swapped) {
        const tf = fl; fl = fr; fr = tf;
        const th = hl; hl = hr; hr = th;
      }
      let value = 0;
      let h: SparseHistogram | null = null;
      if (hl !== null || hr !== null) {
        if (cmp) continue;
        h = histOp(op, fl, fr, hl, hr);
        if (h === null) continue;
      } else {
        const res = floatOp(op, fl, fr);
        if (!cmp) value = res;
        else if (b.returnBool) value = res;
        else if (res === 1) value = fl;
        else continue;
      }
      if (m.card === 'one-to-one') {
        if (lStamp[sig] === i) throw new QueryError('execution', 'multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)');
        lStamp[sig] = i;
      }
      const pk = j * rhs.length + rj;
      let o = pairOut.get(pk);
      if (o === undefined) {
        const labels = resultMetric(l.labels, r.labels, b);
        const key = labelsKey(labels);
        o = byLabels.get(key);
        if (o === undefined) {
          o = new StepSeries(labels, n);
          byLabels.set(key, o);
          out.push(o);
        }
        pairOut.set(pk, o);
      }
      if (o.present[i] === 1) {
        if (m.card !== 'one-to-one') throw new QueryError('execution', 'multiple matches for labels: grouping labels must ensure unique matches');
        throw sameLabelsetError();
      }
      if (h !== null) o.setH(i, h);
      else o.set(i, value);
    }
    ev.tick();
  }
  return out;
}
