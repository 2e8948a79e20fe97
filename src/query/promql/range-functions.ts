import type { SparseHistogram } from '../../model/hdr.js';
import { kahanAdd, quantileOf, type KahanState } from './quantile.js';
import { sumHistograms, type HistSource } from './value.js';

/**
 * Functions over a range-vector window, ported from Prometheus' promql/functions.go. A window is
 * the points [lo, hi) of one series whose timestamps fall in (rangeStart, rangeEnd].
 */

/** Window describes the evaluation of one step. */
export interface Window {
  rangeStartMs: number;
  rangeEndMs: number;
  rangeMs: number;
  /** The step's evaluation time (predict_linear's intercept). */
  stepMs: number;
  /** The scalar argument at this step (quantile_over_time, predict_linear). */
  param: number;
  /** How many samples the window holds: hi - lo, or more when the series was thinned (RangeData.samples). */
  samples: number;
}

/** FloatRangeFn computes one output value, or null for "no sample at this step". */
export type FloatRangeFn = (t: ArrayLike<number>, v: ArrayLike<number>, lo: number, hi: number, w: Window) => number | null;
/** HistRangeFn computes one output for a histogram window: a histogram, a float, or null. */
export type HistRangeFn = (h: HistSource, t: ArrayLike<number>, lo: number, hi: number, w: Window) => SparseHistogram | number | null;

const ks: KahanState = { sum: 0, c: 0 };

/** extrapolatedRate is Prometheus' extrapolatedRate for floats. */
function extrapolatedRate(t: ArrayLike<number>, v: ArrayLike<number>, lo: number, hi: number, w: Window, isCounter: boolean, isRate: boolean): number | null {
  // A thinned window keeps the first and last samples and both around every drop (see
  // RangeData.samples): the sums below are the full window's; the average interval takes its count.
  if (w.samples < 2) return null;
  const first = v[lo]!, last = v[hi - 1]!;
  let result = last - first;
  if (isCounter) {
    let prev = first;
    for (let i = lo + 1; i < hi; i++) {
      const cur = v[i]!;
      if (cur < prev) result += prev;
      prev = cur;
    }
  }
  const factor = extrapolationFactor(t[lo]!, t[hi - 1]!, w.samples - 1, w, isCounter && result > 0 && first >= 0 ? first / result : Infinity, isRate);
  return result * factor;
}

/**
 * extrapolationFactor scales an increase seen between the first and last sample to the whole
 * range: all the way to a boundary when a sample is within 1.1 average intervals of it, else by
 * half an interval; `zeroRatio` (first/increase of a counter) stops extrapolation below zero.
 */
function extrapolationFactor(firstT: number, lastT: number, intervals: number, w: Window, zeroRatio: number, isRate: boolean): number {
  let durationToStart = (firstT - w.rangeStartMs) / 1000;
  let durationToEnd = (w.rangeEndMs - lastT) / 1000;
  const sampledInterval = (lastT - firstT) / 1000;
  const avg = sampledInterval / intervals;
  const threshold = avg * 1.1;
  let extrapolateTo = sampledInterval;
  if (durationToStart >= threshold) durationToStart = avg / 2;
  if (zeroRatio !== Infinity) {
    const durationToZero = sampledInterval * zeroRatio;
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  extrapolateTo += durationToStart;
  if (durationToEnd >= threshold) durationToEnd = avg / 2;
  extrapolateTo += durationToEnd;
  let factor = extrapolateTo / sampledInterval;
  if (isRate) factor /= w.rangeMs / 1000;
  return factor;
}

function instantValue(t: ArrayLike<number>, v: ArrayLike<number>, lo: number, hi: number, isRate: boolean): number | null {
  if (hi - lo < 2) return null;
  const last = v[hi - 1]!, prev = v[hi - 2]!;
  const dt = t[hi - 1]! - t[hi - 2]!;
  if (dt === 0) return null;
  let r = last - prev;
  if (isRate && last < prev) r = last;
  if (isRate) r /= dt / 1000;
  return r;
}

/** linearRegression is Prometheus' Kahan-compensated least squares; x in seconds from interceptMs. */
export function linearRegression(t: ArrayLike<number>, v: ArrayLike<number>, lo: number, hi: number, interceptMs: number): [number, number] {
  let n = 0;
  const sx: KahanState = { sum: 0, c: 0 }, sy: KahanState = { sum: 0, c: 0 }, sxy: KahanState = { sum: 0, c: 0 }, sx2: KahanState = { sum: 0, c: 0 };
  const initY = v[lo]!;
  let constY = true;
  for (let i = lo; i < hi; i++) {
    const y = v[i]!;
    if (constY && i > lo && y !== initY) constY = false;
    n++;
    const x = (t[i]! - interceptMs) / 1000;
    kahanAdd(sx, x);
    kahanAdd(sy, y);
    kahanAdd(sxy, x * y);
    kahanAdd(sx2, x * x);
  }
  if (constY) {
    if (!Number.isFinite(initY) && !Number.isNaN(initY)) return [NaN, NaN];
    return [0, initY];
  }
  const sumX = sx.sum + sx.c, sumY = sy.sum + sy.c, sumXY = sxy.sum + sxy.c, sumX2 = sx2.sum + sx2.c;
  const covXY = sumXY - (sumX * sumY) / n;
  const varX = sumX2 - (sumX * sumX) / n;
  const slope = covXY / varX;
  const intercept = sumY / n - (slope * sumX) / n;
  return [slope, intercept];
}

function avgOverTime(v: ArrayLike<number>, lo: number, hi: number): number {
  let sum = v[lo]!, kc = 0, mean = 0, count = 1;
  let incremental = false;
  for (let i = lo + 1; i < hi; i++) {
    const f = v[i]!;
    count = i - lo + 1;
    if (!incremental) {
      ks.sum = sum;
      ks.c = kc;
      kahanAdd(ks, f);
      if (Number.isFinite(ks.sum) || Number.isNaN(ks.sum)) {
        sum = ks.sum;
        kc = ks.c;
        continue;
      }
      incremental = true;
      mean = sum / (count - 1);
      kc /= count - 1;
    }
    const q = (count - 1) / count;
    ks.sum = q * mean;
    ks.c = q * kc;
    kahanAdd(ks, f / count);
    mean = ks.sum;
    kc = ks.c;
  }
  if (incremental) return mean + kc;
  return sum / count + kc / count;
}

function varianceOverTime(v: ArrayLike<number>, lo: number, hi: number): number {
  let count = 0;
  const mean: KahanState = { sum: 0, c: 0 }, aux: KahanState = { sum: 0, c: 0 };
  for (let i = lo; i < hi; i++) {
    const f = v[i]!;
    count++;
    const delta = f - (mean.sum + mean.c);
    kahanAdd(mean, delta / count);
    kahanAdd(aux, delta * (f - (mean.sum + mean.c)));
  }
  return (aux.sum + aux.c) / count;
}

/** FLOAT_RANGE_FUNCTIONS are the float implementations keyed by function name. */
export const FLOAT_RANGE_FUNCTIONS: Readonly<Record<string, FloatRangeFn>> = {
  rate: (t, v, lo, hi, w) => extrapolatedRate(t, v, lo, hi, w, true, true),
  increase: (t, v, lo, hi, w) => extrapolatedRate(t, v, lo, hi, w, true, false),
  delta: (t, v, lo, hi, w) => extrapolatedRate(t, v, lo, hi, w, false, false),
  irate: (t, v, lo, hi) => instantValue(t, v, lo, hi, true),
  idelta: (t, v, lo, hi) => instantValue(t, v, lo, hi, false),
  changes: (_t, v, lo, hi) => {
    let changes = 0;
    let prev = v[lo]!;
    for (let i = lo + 1; i < hi; i++) {
      const cur = v[i]!;
      if (!(cur === prev || (Number.isNaN(cur) && Number.isNaN(prev)))) changes++;
      prev = cur;
    }
    return changes;
  },
  resets: (_t, v, lo, hi) => {
    let resets = 0;
    let prev = v[lo]!;
    for (let i = lo + 1; i < hi; i++) {
      const cur = v[i]!;
      if (cur < prev) resets++;
      prev = cur;
    }
    return resets;
  },
  deriv: (t, v, lo, hi) => (hi - lo < 2 ? null : linearRegression(t, v, lo, hi, t[lo]!)[0]),
  predict_linear: (t, v, lo, hi, w) => {
    if (hi - lo < 2) return null;
    const [slope, intercept] = linearRegression(t, v, lo, hi, w.stepMs);
    return slope * w.param + intercept;
  },
  avg_over_time: (_t, v, lo, hi) => avgOverTime(v, lo, hi),
  sum_over_time: (_t, v, lo, hi) => {
    ks.sum = 0;
    ks.c = 0;
    for (let i = lo; i < hi; i++) kahanAdd(ks, v[i]!);
    return ks.sum + ks.c;
  },
  count_over_time: (_t, _v, lo, hi) => hi - lo,
  min_over_time: (_t, v, lo, hi) => {
    let m = v[lo]!;
    for (let i = lo + 1; i < hi; i++) if (v[i]! < m || Number.isNaN(m)) m = v[i]!;
    return m;
  },
  max_over_time: (_t, v, lo, hi) => {
    let m = v[lo]!;
    for (let i = lo + 1; i < hi; i++) if (v[i]! > m || Number.isNaN(m)) m = v[i]!;
    return m;
  },
  stddev_over_time: (_t, v, lo, hi) => Math.sqrt(varianceOverTime(v, lo, hi)),
  stdvar_over_time: (_t, v, lo, hi) => varianceOverTime(v, lo, hi),
  last_over_time: (_t, v, _lo, hi) => v[hi - 1]!,
  present_over_time: () => 1,
  quantile_over_time: (_t, v, lo, hi, w) => {
    const vals: number[] = [];
    for (let i = lo; i < hi; i++) vals.push(v[i]!);
    return quantileOf(w.param, vals);
  },
};

/** HIST_RANGE_FUNCTIONS are the histogram implementations; functions missing here skip histograms. */
export const HIST_RANGE_FUNCTIONS: Readonly<Record<string, HistRangeFn>> = {
  rate: (h, t, lo, hi, w) => histRate(h, t, lo, hi, w, true),
  increase: (h, t, lo, hi, w) => histRate(h, t, lo, hi, w, false),
  delta: (h, t, lo, hi, w) => histRate(h, t, lo, hi, w, false),
  irate: (h, t, lo, hi) => histInstant(h, t, lo, hi, true),
  idelta: (h, t, lo, hi) => histInstant(h, t, lo, hi, false),
  count_over_time: (_h, _t, lo, hi) => hi - lo,
  present_over_time: () => 1,
  last_over_time: (h, _t, _lo, hi) => h.at(hi - 1),
  resets: () => 0,
  changes: (h, _t, lo, hi) => {
    let n = 0;
    for (let i = lo + 1; i < hi; i++) {
      const d = h.deltas !== null ? h.deltas[i]! : h.increase(i - 1, i);
      if (d.count !== 0 || d.sum !== 0) n++;
    }
    return n;
  },
  sum_over_time: (h, _t, lo, hi) => sumCumulative(h, lo, hi),
  avg_over_time: (h, _t, lo, hi) => sumCumulative(h, lo, hi).scale(1 / (hi - lo)),
};

function sumCumulative(h: HistSource, lo: number, hi: number): SparseHistogram {
  const list: SparseHistogram[] = [];
  for (let i = lo; i < hi; i++) list.push(h.at(i));
  return sumHistograms(list, 0, list.length);
}

function histRate(h: HistSource, t: ArrayLike<number>, lo: number, hi: number, w: Window, isRate: boolean): SparseHistogram | null {
  if (hi - lo < 2) return null;
  // Prometheus does not apply the counter zero-point clamp to histograms.
  const factor = extrapolationFactor(t[lo]!, t[hi - 1]!, hi - lo - 1, w, Infinity, isRate);
  return h.windowIncrease(lo, hi - 1).scale(factor);
}

function histInstant(h: HistSource, t: ArrayLike<number>, lo: number, hi: number, isRate: boolean): SparseHistogram | null {
  if (hi - lo < 2) return null;
  const dt = t[hi - 1]! - t[hi - 2]!;
  if (dt === 0) return null;
  const d = h.increase(hi - 2, hi - 1);
  return isRate ? d.scale(1000 / dt) : d;
}
