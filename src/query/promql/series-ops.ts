import { labelsKey, METRIC_NAME, withLabel, type Labels } from '../../model/labels.js';
import type { VectorSelector } from './ast.js';
import { QueryError } from './api.js';
import type { StepSeries } from './value.js';

/*
 * Helpers the evaluator and the operator/function files share; they live here so those files
 * do not import the evaluator (no import cycle).
 */

/** sameLabelsetError is Prometheus' error for two output series with equal labels at one step. */
export function sameLabelsetError(): QueryError {
  return new QueryError('execution', 'vector cannot contain metrics with the same labelset');
}

/** dropMetricName removes `__name__` (returning the same array when there is none). */
export function dropMetricName(labels: Labels): Labels {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i]!.name === METRIC_NAME) return labels.filter((l) => l.name !== METRIC_NAME);
  }
  return labels;
}

/**
 * mergeByLabels joins output series with equal labels (they may fill different steps) and fails
 * as Prometheus does when two of them have a sample at the same step.
 */
export function mergeByLabels(series: StepSeries[]): StepSeries[] {
  if (series.length < 2) return series;
  const byKey = new Map<string, StepSeries>();
  const out: StepSeries[] = [];
  for (const s of series) {
    const key = labelsKey(s.labels);
    const prev = byKey.get(key);
    if (prev === undefined) {
      byKey.set(key, s);
      out.push(s);
      continue;
    }
    for (let i = 0; i < s.present.length; i++) {
      if (s.present[i] === 0) continue;
      if (prev.present[i] === 1) throw sameLabelsetError();
      const h = s.h(i);
      if (h !== null) prev.setH(i, h);
      else prev.set(i, s.vs[i]!);
    }
  }
  return out;
}

/**
 * absentLabels derives absent()'s output labels from the selector's equality matchers, dropping a
 * label matched twice, as Prometheus' createLabelsForAbsentFunction does.
 */
export function absentLabels(vs: VectorSelector | null): Labels {
  if (vs === null) return [];
  let out: Labels = [];
  const has = new Set<string>();
  for (const m of vs.matchers) {
    if (m.name === METRIC_NAME) continue;
    if (m.type === '=' && !has.has(m.name)) {
      out = withLabel(out, m.name, m.value);
      has.add(m.name);
    } else {
      out = withLabel(out, m.name, '');
    }
  }
  return out;
}
