import type { SparseHistogram } from '../../model/hdr.js';
import { METRIC_NAME } from '../../model/labels.js';
import type { Querier, SelectHints, SelectResult } from '../../store/interface.js';
import { QueryError } from './api.js';
import { unwrapParens, type AtModifier, type Call, type Expr, type Subquery, type VectorSelector } from './ast.js';
import { evalAggregate } from './aggregate.js';
import { evalBinary } from './binary.js';
import type { EvalApi, Value } from './eval-api.js';
import { FUNCTIONS, type PromFunction } from './functions.js';
import type { Window } from './range-functions.js';
import { absentLabels, dropMetricName, mergeByLabels } from './series-ops.js';
import { hasStaleNaN, isStaleNaN, withoutStaleNaN } from './stale.js';
import { HistSource, StepSeries, type RangeData } from './value.js';

export type { Value } from './eval-api.js';

type RangeImpl = Extract<PromFunction['impl'], { kind: 'range' }>;

/** EvalContext is shared by an evaluation and its subquery evaluators. */
export interface EvalContext {
  readonly querier: Querier;
  readonly tenant: string;
  readonly lookbackMs: number;
  readonly deadlineMs: number;
  readonly maxSamples: number;
  readonly queryStartMs: number;
  readonly queryEndMs: number;
  readonly defaultSubqueryStepMs: number;
  /** Samples currently held, Prometheus' currentSamples. */
  samples: number;
  ticks: number;
  /** interrupt throws to stop the evaluation (cancellation); called with the deadline check. */
  readonly interrupt: (() => void) | null;
}

/** RangeArg is a range-vector function argument with the window parameters to cut it by. */
interface RangeArg {
  readonly data: RangeData[];
  readonly rangeMs: number;
  readonly offsetMs: number;
  readonly atMs: number | null;
}

const EMPTY_F64 = new Float64Array(0);

/**
 * Evaluator evaluates an AST over the steps start, start+interval, ..., <= end, like Prometheus'
 * evaluator: every node yields its value at all steps at once, so selectors read storage once
 * and per-series arrays are reused across steps.
 */
export class Evaluator implements EvalApi {
  readonly ctx: EvalContext;
  readonly startMs: number;
  readonly endMs: number;
  readonly intervalMs: number;
  readonly steps: number;
  /** Step passed to the querier's hints (0 for an instant query). */
  private readonly hintStepMs: number;

  constructor(ctx: EvalContext, startMs: number, endMs: number, intervalMs: number, hintStepMs: number) {
    this.ctx = ctx;
    this.startMs = startMs;
    this.endMs = endMs;
    this.intervalMs = intervalMs;
    this.steps = Math.floor((endMs - startMs) / intervalMs) + 1;
    this.hintStepMs = hintStepMs;
  }

  /** ts returns the timestamp of step i. */
  ts(i: number): number {
    return this.startMs + i * this.intervalMs;
  }

  /**
   * tick checks the deadline and cancellation once every few hundred units of work. A call that
   * finished a whole series passes its step count: a series of a fine-step subquery is tens of
   * thousands of steps, so counting it as one call let a 150-series query run 800 ms past a
   * 50 ms deadline without a single check.
   */
  tick(work = 1): void {
    this.ctx.ticks += work;
    if (this.ctx.ticks < 256) return;
    this.ctx.ticks = 0;
    if (Date.now() > this.ctx.deadlineMs) throw new QueryError('timeout', 'query timed out in expression evaluation');
    this.ctx.interrupt?.();
  }

  /** hold accounts for samples kept in memory and enforces maxSamples. */
  hold(n: number): void {
    this.ctx.samples += n;
    if (this.ctx.samples > this.ctx.maxSamples) {
      throw new QueryError('execution', 'query processing would load too many samples into memory in query execution');
    }
  }

  /** release forgets samples a finished operator no longer holds. */
  release(n: number): void {
    this.ctx.samples -= n;
  }

  /** releaseValue releases every sample of an operand value. */
  releaseValue(v: Value): void {
    if (v.kind === 'vector') {
      let n = 0;
      for (const s of v.series) n += s.count;
      this.release(n);
    }
  }

  /** holdSeries accounts for a freshly produced vector. */
  holdSeries(series: StepSeries[]): StepSeries[] {
    let n = 0;
    for (const s of series) n += s.count;
    this.hold(n);
    this.tick();
    return series;
  }

  eval(e: Expr): Value {
    this.tick();
    switch (e.kind) {
      case 'number': {
        const vs = new Float64Array(this.steps);
        vs.fill(e.value);
        return { kind: 'scalar', vs };
      }
      case 'string':
        return { kind: 'string', value: e.value };
      case 'paren':
        return this.eval(e.expr);
      case 'vector':
        return { kind: 'vector', series: this.holdSeries(this.evalSelector(e, false)) };
      case 'matrix':
        return { kind: 'matrix', series: this.rangeAtStep0(this.selectRange(e.vs, e.rangeMs)) };
      case 'subquery':
        return { kind: 'matrix', series: this.rangeAtStep0(this.evalSubquery(e)) };
      case 'unary':
        return this.evalUnary(e.expr);
      case 'call':
        return this.evalCall(e);
      case 'aggregate':
        return evalAggregate(this, e);
      case 'binary':
        return evalBinary(this, e);
    }
  }

  /** evalVector evaluates an expression that type-checked as an instant vector. */
  evalVector(e: Expr): StepSeries[] {
    const v = this.eval(e);
    if (v.kind !== 'vector') throw new QueryError('internal', `expected instant vector, got ${v.kind}`);
    return v.series;
  }

  /** evalScalar evaluates an expression that type-checked as a scalar. */
  evalScalar(e: Expr): Float64Array {
    const v = this.eval(e);
    if (v.kind !== 'scalar') throw new QueryError('internal', `expected scalar, got ${v.kind}`);
    return v.vs;
  }

  private evalUnary(inner: Expr): Value {
    const v = this.eval(inner);
    if (v.kind === 'scalar') {
      const vs = new Float64Array(v.vs.length);
      for (let i = 0; i < vs.length; i++) vs[i] = -v.vs[i]!;
      return { kind: 'scalar', vs };
    }
    if (v.kind !== 'vector') throw new QueryError('internal', 'unary on non-vector');
    let dropped = false;
    for (const s of v.series) {
      const before = s.labels;
      s.labels = dropMetricName(s.labels);
      if (s.labels !== before) dropped = true;
      for (let i = 0; i < this.steps; i++) {
        if (s.present[i] === 0) continue;
        const h = s.h(i);
        if (h !== null) s.hs![i] = h.clone().scale(-1);
        else s.vs[i] = -s.vs[i]!;
      }
    }
    // Dropping the name can make two series equal, which Prometheus rejects.
    return dropped ? { kind: 'vector', series: mergeByLabels(v.series) } : v;
  }

  atMs(at: AtModifier | null): number | null {
    if (at === null) return null;
    if (at.kind === 'time') return at.ms;
    return at.kind === 'start' ? this.ctx.queryStartMs : this.ctx.queryEndMs;
  }

  private select(vs: VectorSelector, widthMs: number, rangeMs: number, thin = false, extremes: 'max' | 'min' | null = null): SelectResult {
    const at = this.atMs(vs.at);
    const minEff = (at ?? this.startMs) - vs.offsetMs;
    const maxEff = (at ?? this.endMs) - vs.offsetMs;
    try {
      const hints: SelectHints = { startMs: minEff - widthMs + 1, endMs: maxEff, stepMs: this.hintStepMs, rangeMs };
      return this.ctx.querier.select(this.ctx.tenant, vs.matchers, thin ? { ...hints, thin } : extremes !== null ? { ...hints, extremes } : hints);
    } catch (e) {
      if (e instanceof QueryError) throw e;
      throw new QueryError('internal', `storage error: ${(e as Error).message}`);
    }
  }

  /**
   * evalSelector evaluates an instant selector: at each step the latest sample in
   * (t - lookback, t] (t shifted by offset or pinned by @). With `sampleTime` the value is the
   * sample's own timestamp in seconds, for timestamp().
   */
  evalSelector(vs: VectorSelector, sampleTime: boolean): StepSeries[] {
    const lookback = this.ctx.lookbackMs;
    const res = this.select(vs, lookback, lookback);
    const at = this.atMs(vs.at);
    const out: StepSeries[] = [];
    const n = this.steps;
    for (const fs of res.floats) {
      const t = fs.timestamps, v = fs.values, len = t.length;
      const s = new StepSeries(fs.labels, n);
      let p = -1;
      for (let i = 0; i < n; i++) {
        const eff = (at ?? this.startMs + i * this.intervalMs) - vs.offsetMs;
        while (p + 1 < len && t[p + 1]! <= eff) p++;
        if (p >= 0 && t[p]! > eff - lookback) {
          const x = v[p]!;
          // A stale marker as the latest sample means the series has no value here.
          if (x !== x && isStaleNaN(x)) continue;
          s.set(i, sampleTime ? t[p]! / 1000 : x);
        }
      }
      if (s.count > 0) out.push(s);
      this.tick(n);
    }
    for (const hs of res.histograms) {
      const t = hs.timestamps, len = t.length;
      const src = new HistSource(hs.deltas, () => hs.base(), null);
      const s = new StepSeries(hs.labels, n);
      let p = -1;
      for (let i = 0; i < n; i++) {
        const eff = (at ?? this.startMs + i * this.intervalMs) - vs.offsetMs;
        while (p + 1 < len && t[p + 1]! <= eff) p++;
        if (p >= 0 && t[p]! > eff - lookback) {
          if (sampleTime) s.set(i, t[p]! / 1000);
          else s.setH(i, src.at(p));
        }
      }
      if (s.count > 0) out.push(s);
      this.tick(n);
    }
    return out;
  }

  /**
   * selectRange reads a range selector. With `thin` (a function that reads only the ends of a
   * window, evaluated at one time, whose window is then the whole selection) the querier may
   * thin the series (SelectHints.thin); with `extreme` (max_over_time, min_over_time, likewise)
   * summarize runs of them to their extreme (SelectHints.extremes). RangeData.samples keeps
   * their sample counts.
   */
  private selectRange(vs: VectorSelector, rangeMs: number, thin = false, extreme: 'max' | 'min' | null = null): RangeArg {
    const one = this.steps === 1;
    const res = this.select(vs, rangeMs, rangeMs, thin && one, one ? extreme : null);
    const data: RangeData[] = [];
    for (const fs of res.floats) {
      if (fs.count !== undefined) {
        // Thinned and summarized runs hold no stale marker; a part stitched to them unthinned
        // (too short to thin) may: it leaves the window and the count.
        if (!hasStaleNaN(fs.values)) data.push({ labels: fs.labels, t: fs.timestamps, v: fs.values, hist: null, samples: fs.count });
        else {
          const clean = withoutStaleNaN(fs.timestamps, fs.values);
          const samples = fs.count - (fs.values.length - clean.v.length);
          if (clean.t.length > 0) data.push({ labels: fs.labels, t: clean.t, v: clean.v, hist: null, samples });
        }
      } else if (hasStaleNaN(fs.values)) {
        // Range windows never contain stale markers.
        const clean = withoutStaleNaN(fs.timestamps, fs.values);
        if (clean.t.length > 0) data.push({ labels: fs.labels, t: clean.t, v: clean.v, hist: null });
      } else data.push({ labels: fs.labels, t: fs.timestamps, v: fs.values, hist: null });
    }
    for (const hs of res.histograms) data.push({ labels: hs.labels, t: hs.timestamps, v: EMPTY_F64, hist: new HistSource(hs.deltas, () => hs.base(), null) });
    return { data, rangeMs, offsetMs: vs.offsetMs, atMs: this.atMs(vs.at) };
  }

  private evalSubquery(sq: Subquery): RangeArg {
    const at = this.atMs(sq.at);
    const step = sq.stepMs > 0 ? sq.stepMs : this.ctx.defaultSubqueryStepMs;
    const minEff = (at ?? this.startMs) - sq.offsetMs;
    const maxEff = (at ?? this.endMs) - sq.offsetMs;
    let innerStart = step * Math.floor((minEff - sq.rangeMs) / step);
    if (innerStart < minEff - sq.rangeMs) innerStart += step;
    const data: RangeData[] = [];
    if (innerStart <= maxEff) {
      const inner = new Evaluator(this.ctx, innerStart, maxEff, step, step);
      const series = inner.evalVector(sq.expr);
      for (const s of series) {
        const t: number[] = [], v: number[] = [], hs: SparseHistogram[] = [];
        let floats = 0;
        for (let i = 0; i < inner.steps; i++) {
          if (s.present[i] === 0) continue;
          if (s.h(i) === null) floats++;
        }
        for (let i = 0; i < inner.steps; i++) {
          if (s.present[i] === 0) continue;
          const h = s.h(i);
          // A series mixing floats and histograms keeps its floats only.
          if (floats > 0) {
            if (h !== null) continue;
            t.push(inner.ts(i));
            v.push(s.vs[i]!);
          } else {
            t.push(inner.ts(i));
            hs.push(h!);
          }
        }
        data.push({ labels: s.labels, t, v: floats > 0 ? v : EMPTY_F64, hist: floats > 0 ? null : new HistSource(null, null, hs) });
      }
    }
    return { data, rangeMs: sq.rangeMs, offsetMs: sq.offsetMs, atMs: at };
  }

  /** rangeAtStep0 cuts a range argument at the first step: an instant query's matrix result. */
  private rangeAtStep0(arg: RangeArg): RangeData[] {
    const eff = (arg.atMs ?? this.startMs) - arg.offsetMs;
    const out: RangeData[] = [];
    let held = 0;
    for (const d of arg.data) {
      const { lo, hi } = windowBounds(d.t, eff - arg.rangeMs, eff);
      if (lo >= hi) continue;
      const t: number[] = [], v: number[] = [], hs: SparseHistogram[] = [];
      for (let i = lo; i < hi; i++) {
        t.push(d.t[i]!);
        if (d.hist !== null) hs.push(d.hist.at(i));
        else v.push(d.v[i]!);
      }
      held += hi - lo;
      out.push({ labels: d.labels, t, v, hist: d.hist !== null ? new HistSource(null, null, hs) : null });
    }
    this.hold(held);
    return out;
  }

  /** evalRangeArg evaluates a MatrixSelector or Subquery function argument. */
  evalRangeArg(e: Expr, thin = false, extreme: 'max' | 'min' | null = null): RangeArg {
    const u = unwrapParens(e);
    if (u.kind === 'matrix') return this.selectRange(u.vs, u.rangeMs, thin, extreme);
    if (u.kind === 'subquery') return this.evalSubquery(u);
    throw new QueryError('internal', `expected range vector, got ${u.kind}`);
  }

  private evalCall(c: Call): Value {
    const f = FUNCTIONS.get(c.name);
    if (f === undefined) throw new QueryError('bad_data', `function ${JSON.stringify(c.name)} is not supported`);
    if (f.impl.kind === 'instant') return f.impl.fn(this, c);
    return this.evalRangeFunction(c, f, f.impl);
  }

  /** evalRangeFunction applies a range-vector function at every step, window by window. */
  private evalRangeFunction(c: Call, f: PromFunction, impl: RangeImpl): Value {
    const param = this.rangeFunctionParam(c, impl);
    const arg = this.evalRangeArg(c.args[impl.matrixArg]!, f.readsEnds, f.readsExtreme);
    if (impl.float === null) return { kind: 'vector', series: this.holdSeries(this.absentOverTime(c, arg)) };
    const keepName = f.keepsMetricName;
    const w: Window = { rangeStartMs: 0, rangeEndMs: 0, rangeMs: arg.rangeMs, stepMs: 0, param: 0, samples: 0 };
    const out: StepSeries[] = [];
    for (const d of arg.data) {
      if (d.hist !== null && impl.hist === null) continue;
      const s = new StepSeries(keepName ? d.labels : dropMetricName(d.labels), this.steps);
      this.fillRangeSeries(s, d, arg, impl, param, w);
      if (s.count > 0) out.push(s);
      this.tick(this.steps);
    }
    return { kind: 'vector', series: this.holdSeries(keepName ? out : mergeByLabels(out)) };
  }

  /**
   * eachSeries streams a range function over a plain range selector (`rate(x[5m])`) one output
   * series at a time, in the order evalVector would return them, so an aggregation over it holds
   * one series instead of all of them. The series passed to `visit` is scratch, valid during the
   * call only. It declines (false, nothing visited) for any other expression, and when dropping
   * the metric name could make two outputs collide (a selector without a fixed name), which needs
   * evalVector's merge.
   */
  eachSeries(e: Expr, visit: (s: StepSeries) => void): boolean {
    const c = unwrapParens(e);
    if (c.kind !== 'call') return false;
    const f = FUNCTIONS.get(c.name);
    if (f === undefined || f.impl.kind !== 'range' || f.impl.float === null) return false;
    const impl = f.impl;
    const m = unwrapParens(c.args[impl.matrixArg]!);
    if (m.kind !== 'matrix') return false;
    const keepName = f.keepsMetricName;
    if (!keepName && !m.vs.matchers.some((x) => x.name === METRIC_NAME && x.type === '=')) return false;
    const param = this.rangeFunctionParam(c, impl);
    const arg = this.selectRange(m.vs, m.rangeMs, f.readsEnds, f.readsExtreme);
    const w: Window = { rangeStartMs: 0, rangeEndMs: 0, rangeMs: arg.rangeMs, stepMs: 0, param: 0, samples: 0 };
    const s = new StepSeries([], this.steps);
    // Samples are counted as if every series were held, as evalVector holds them, so the
    // samples limit refuses the same queries Prometheus refuses.
    let held = 0;
    for (const d of arg.data) {
      if (d.hist !== null && impl.hist === null) continue;
      s.reset(keepName ? d.labels : dropMetricName(d.labels));
      this.fillRangeSeries(s, d, arg, impl, param, w);
      if (s.count > 0) {
        this.hold(s.count);
        held += s.count;
        visit(s);
      }
      this.tick(this.steps);
    }
    this.release(held);
    return true;
  }

  /** rangeFunctionParam evaluates a range function's scalar parameter (quantile_over_time's φ). */
  private rangeFunctionParam(c: Call, impl: RangeImpl): Float64Array | null {
    let param: Float64Array | null = null;
    for (let i = 0; i < c.args.length; i++) if (i !== impl.matrixArg) param = this.evalScalar(c.args[i]!);
    return param;
  }

  /** fillRangeSeries sets every step of `s` to the function's value over that step's window of `d`. */
  private fillRangeSeries(s: StepSeries, d: RangeData, arg: RangeArg, impl: RangeImpl, param: Float64Array | null, w: Window): void {
    const floatFn = impl.float!, histFn = impl.hist;
    const n = this.steps;
    const t = d.t, len = t.length;
    let lo = 0, hi = 0;
    for (let i = 0; i < n; i++) {
      const ts = this.startMs + i * this.intervalMs;
      const eff = (arg.atMs ?? ts) - arg.offsetMs;
      const start = eff - arg.rangeMs;
      if (arg.atMs !== null && i > 0) {
        lo = 0;
        hi = 0;
      }
      while (hi < len && t[hi]! <= eff) hi++;
      while (lo < hi && t[lo]! <= start) lo++;
      if (lo >= hi) continue;
      let samples = hi - lo;
      if (d.samples !== undefined) {
        // A thinned series is one window's whole selection (selectRange).
        if (lo !== 0 || hi !== len) throw new QueryError('internal', 'a thinned series spans more than one window');
        samples = d.samples;
      }
      // Prometheus counts a window's points while the function runs.
      if (this.ctx.samples + samples > this.ctx.maxSamples) this.hold(samples);
      w.samples = samples;
      w.rangeStartMs = start;
      w.rangeEndMs = eff;
      w.stepMs = ts;
      w.param = param !== null ? param[i]! : 0;
      if (d.hist === null) {
        const r = floatFn(t, d.v, lo, hi, w);
        if (r !== null) s.set(i, r);
      } else {
        const r = histFn!(d.hist, t, lo, hi, w);
        if (r === null) continue;
        if (typeof r === 'number') s.set(i, r);
        else s.setH(i, r);
      }
    }
  }

  private absentOverTime(c: Call, arg: RangeArg): StepSeries[] {
    const n = this.steps;
    const seen = new Uint8Array(n);
    for (const d of arg.data) {
      let lo = 0, hi = 0;
      for (let i = 0; i < n; i++) {
        const eff = (arg.atMs ?? this.ts(i)) - arg.offsetMs;
        if (arg.atMs !== null && i > 0) { lo = 0; hi = 0; }
        while (hi < d.t.length && d.t[hi]! <= eff) hi++;
        while (lo < hi && d.t[lo]! <= eff - arg.rangeMs) lo++;
        if (lo < hi) seen[i] = 1;
      }
    }
    const inner = unwrapParens(c.args[0]!);
    const s = new StepSeries(absentLabels(inner.kind === 'matrix' ? inner.vs : null), n);
    for (let i = 0; i < n; i++) if (seen[i] === 0) s.set(i, 1);
    return s.count > 0 ? [s] : [];
  }
}

/** windowBounds returns [lo, hi) of the sorted timestamps in (start, end]. */
export function windowBounds(t: ArrayLike<number>, start: number, end: number): { lo: number; hi: number } {
  let lo = 0, hi = t.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (t[mid]! <= start) lo = mid + 1;
    else hi = mid;
  }
  let e = lo;
  while (e < t.length && t[e]! <= end) e++;
  return { lo, hi: e };
}


