/**
 * Labels are a series' identity: name/value pairs sorted by name, with the metric name stored
 * under `__name__`, as in Prometheus. A Labels value is immutable once built; code that needs a
 * variant builds a new one with `LabelsBuilder` or `labelsFromRecord`.
 */
export interface Label {
  readonly name: string;
  readonly value: string;
}

/** Labels is a sorted (by name, unique names) array of labels. Empty values are never stored. */
export type Labels = readonly Label[];

/** METRIC_NAME is the reserved label that holds the metric name. */
export const METRIC_NAME = '__name__';

const SEP_PAIR = '\u00ff';
const SEP_KV = '\u00fe';

/** labelsFromRecord builds sorted Labels from a plain object, dropping empty values. */
export function labelsFromRecord(rec: Readonly<Record<string, string>>): Labels {
  const out: Label[] = [];
  for (const name of Object.keys(rec)) {
    const value = rec[name];
    if (value !== undefined && value !== '') out.push({ name, value });
  }
  out.sort(compareLabelByName);
  return out;
}

/** labelsFromPairs builds sorted Labels from [name, value] pairs; a later duplicate name wins. */
export function labelsFromPairs(pairs: ReadonlyArray<readonly [string, string]>): Labels {
  const rec: Record<string, string> = Object.create(null);
  for (const [n, v] of pairs) rec[n] = v;
  return labelsFromRecord(rec);
}

/** labelsToRecord returns a plain object view (for JSON responses). */
export function labelsToRecord(labels: Labels): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of labels) out[l.name] = l.value;
  return out;
}

/** compareLabelByName orders labels by name (code-unit order, as Prometheus sorts bytes for ASCII). */
export function compareLabelByName(a: Label, b: Label): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** labelsKey is the canonical string identity of a label set; equal labels give equal keys. */
export function labelsKey(labels: Labels): string {
  let s = '';
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    s += l.name + SEP_KV + l.value + SEP_PAIR;
  }
  return s;
}

/** labelsFromKey inverts labelsKey. */
export function labelsFromKey(key: string): Labels {
  const out: Label[] = [];
  if (key === '') return out;
  const parts = key.split(SEP_PAIR);
  for (let i = 0; i < parts.length - 1; i++) {
    const p = parts[i]!;
    const j = p.indexOf(SEP_KV);
    out.push({ name: p.slice(0, j), value: p.slice(j + 1) });
  }
  return out;
}

/** getLabel returns the value of a label, or '' when absent (Prometheus' convention). */
export function getLabel(labels: Labels, name: string): string {
  for (let i = 0; i < labels.length; i++) if (labels[i]!.name === name) return labels[i]!.value;
  return '';
}

/** metricName returns the `__name__` label. */
export function metricName(labels: Labels): string {
  return getLabel(labels, METRIC_NAME);
}

/** withLabel returns labels with `name` set to `value` ('' removes it). */
export function withLabel(labels: Labels, name: string, value: string): Labels {
  const out: Label[] = [];
  let placed = false;
  for (const l of labels) {
    if (l.name === name) {
      if (value !== '') out.push({ name, value });
      placed = true;
    } else {
      if (!placed && l.name > name) {
        if (value !== '') out.push({ name, value });
        placed = true;
      }
      out.push(l);
    }
  }
  if (!placed && value !== '') out.push({ name, value });
  return out;
}

/** withoutLabels returns labels minus the given names. */
export function withoutLabels(labels: Labels, names: ReadonlySet<string>): Labels {
  return labels.filter((l) => !names.has(l.name));
}

/** onlyLabels returns labels restricted to the given names. */
export function onlyLabels(labels: Labels, names: ReadonlySet<string>): Labels {
  return labels.filter((l) => names.has(l.name));
}

/** labelsEqual compares two label sets. */
export function labelsEqual(a: Labels, b: Labels): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i]!.name !== b[i]!.name || a[i]!.value !== b[i]!.value) return false;
  }
  return true;
}

/** compareLabels orders label sets the way Prometheus sorts series (pairwise by name, then value). */
export function compareLabels(a: Labels, b: Labels): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!, y = b[i]!;
    if (x.name !== y.name) return x.name < y.name ? -1 : 1;
    if (x.value !== y.value) return x.value < y.value ? -1 : 1;
  }
  return a.length - b.length;
}

/** formatLabels renders `name{a="b"}` the way Prometheus prints a series. */
export function formatLabels(labels: Labels): string {
  const name = metricName(labels);
  const parts: string[] = [];
  for (const l of labels) {
    if (l.name === METRIC_NAME) continue;
    parts.push(`${l.name}=${JSON.stringify(l.value)}`);
  }
  return `${name}{${parts.join(', ')}}`;
}

/** sanitizeMetricName maps characters outside [a-zA-Z0-9_:] to '_' (and a leading digit). */
export function sanitizeMetricName(name: string): string {
  let out = name.replace(/[^a-zA-Z0-9_:]/g, '_');
  if (out.length > 0 && out.charCodeAt(0) >= 48 && out.charCodeAt(0) <= 57) out = '_' + out;
  return out;
}

/** sanitizeLabelName maps characters outside [a-zA-Z0-9_] to '_' (and a leading digit). */
export function sanitizeLabelName(name: string): string {
  let out = name.replace(/[^a-zA-Z0-9_]/g, '_');
  if (out.length > 0 && out.charCodeAt(0) >= 48 && out.charCodeAt(0) <= 57) out = '_' + out;
  return out;
}
