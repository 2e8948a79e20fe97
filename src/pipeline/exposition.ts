import { MetricKind, metricKindName } from '../model/metric-kind.js';
import { METRIC_NAME } from '../model/labels.js';
import type { ExposedFamily } from './protocol.js';
import type { SeriesSlot } from './series-slot.js';

/**
 * The Prometheus text format (0.0.4) of live series. Workers render their own series into
 * per-family text; the router merges families across workers so each metric name gets one
 * `# HELP` and one `# TYPE` line.
 */

/** escapeLabelValue escapes backslash, double quote and newline, as the text format requires. */
export function escapeLabelValue(v: string): string {
  return /[\\"\n]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : v;
}

/** escapeHelp escapes backslash and newline in a HELP text. */
export function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** formatValue renders a sample value the way Prometheus parses it. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function labelText(slot: SeriesSlot): string {
  if (slot.labelText !== null) return slot.labelText;
  let s = '';
  for (const l of slot.labels) {
    if (l.name === METRIC_NAME) continue;
    s += (s === '' ? '' : ',') + l.name + '="' + escapeLabelValue(l.value) + '"';
  }
  return (slot.labelText = s);
}

function braces(pairs: string): string {
  return pairs === '' ? '' : '{' + pairs + '}';
}

/** renderSlot returns a series' sample lines. */
function renderSlot(slot: SeriesSlot): string {
  const name = slot.name, pairs = labelText(slot);
  switch (slot.kind) {
    case MetricKind.Counter:
      return `${name}${braces(pairs)} ${formatValue(slot.total)}\n`;
    case MetricKind.Gauge:
      return slot.hasCurrent ? `${name}${braces(pairs)} ${formatValue(slot.current)}\n` : '';
    case MetricKind.Histogram: {
      const sep = pairs === '' ? '' : pairs + ',';
      const b = slot.bounds, c = slot.classic!;
      let s = '', cum = 0;
      for (let i = 0; i < b.length; i++) {
        cum += c[i]!;
        s += `${name}_bucket{${sep}le="${formatValue(b[i]!)}"} ${formatValue(cum)}\n`;
      }
      s += `${name}_bucket{${sep}le="+Inf"} ${formatValue(cum + c[b.length]!)}\n`;
      s += `${name}_sum${braces(pairs)} ${formatValue(slot.hSum)}\n`;
      s += `${name}_count${braces(pairs)} ${formatValue(slot.hCount)}\n`;
      return s;
    }
  }
}

/** exposeSlots renders series into families; a name already typed differently keeps its first type. */
export function exposeSlots(slots: readonly SeriesSlot[]): ExposedFamily[] {
  const fams = new Map<string, ExposedFamily>();
  for (const slot of slots) {
    const type = metricKindName(slot.kind);
    const f = fams.get(slot.name);
    if (f === undefined) {
      fams.set(slot.name, [slot.name, type, slot.meta.help ?? '', renderSlot(slot)]);
    } else if (f[1] === type) {
      f[3] += renderSlot(slot);
      if (f[2] === '' && slot.meta.help) f[2] = slot.meta.help;
    }
  }
  return [...fams.values()];
}

/** mergeFamilies joins the workers' families into one text page, sorted by metric name. */
export function mergeFamilies(perWorker: readonly ExposedFamily[][]): string {
  const fams = new Map<string, ExposedFamily>();
  for (const list of perWorker) {
    for (const f of list) {
      const have = fams.get(f[0]);
      if (have === undefined) fams.set(f[0], [f[0], f[1], f[2], f[3]]);
      else if (have[1] === f[1]) {
        have[3] += f[3];
        if (have[2] === '') have[2] = f[2];
      }
    }
  }
  const names = [...fams.keys()].sort();
  let out = '';
  for (const n of names) {
    const f = fams.get(n)!;
    if (f[3] === '') continue;
    const help = f[2] !== '' ? f[2] : `${f[1]} ${n} aggregated by tallyd`;
    out += `# HELP ${n} ${escapeHelp(help)}\n# TYPE ${n} ${f[1]}\n${f[3]}`;
  }
  return out;
}
