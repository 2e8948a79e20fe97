import { SparseHistogram } from '../../../src/model/hdr.js';
import { labelsFromPairs, type Labels } from '../../../src/model/labels.js';
import { parseDurationMs, parseExpr } from '../../../src/query/promql/parse.js';
import { MemQuerier } from './mem-querier.js';

/**
 * A small loader for Prometheus' promqltest notation, adapted:
 *
 *   load 1m
 *     http_requests{job="api"} 0+10x10 _ 5 NaN
 *   load_hist 1m
 *     req_seconds{model="a"} 0.1,0.2*3 | _ | 1.5
 *
 * Float values: `a+bxN` / `a-bxN` expand to N+1 points, `_` skips a point, `_xN` skips N.
 * Histogram points are the observations recorded in that interval (`v*n` = n observations of v);
 * the series holds their running total, as a native histogram would.
 */

/** parseSeriesDesc parses `name{a="b"}` into labels. */
export function parseSeriesDesc(desc: string): Labels {
  const e = parseExpr(desc);
  if (e.kind !== 'vector') throw new Error(`not a series: ${desc}`);
  return labelsFromPairs(e.matchers.map((m) => [m.name, m.value] as const));
}

function splitDesc(line: string): [string, string] {
  const trimmed = line.trim();
  const brace = trimmed.indexOf('{');
  const space = trimmed.search(/\s/);
  if (brace >= 0 && (space < 0 || brace < space)) {
    const end = trimmed.indexOf('}', brace);
    return [trimmed.slice(0, end + 1), trimmed.slice(end + 1).trim()];
  }
  if (space < 0) return [trimmed, ''];
  return [trimmed.slice(0, space), trimmed.slice(space).trim()];
}

function parseValue(s: string): number {
  const l = s.toLowerCase();
  if (l === 'nan') return NaN;
  if (l === 'inf' || l === '+inf') return Infinity;
  if (l === '-inf') return -Infinity;
  return Number(s);
}

/** expandValues expands promqltest value notation; null marks a skipped point. */
export function expandValues(spec: string): Array<number | null> {
  const out: Array<number | null> = [];
  for (const tok of spec.split(/\s+/).filter((x) => x !== '')) {
    let m: RegExpExecArray | null;
    if (tok === '_') out.push(null);
    else if ((m = /^_x(\d+)$/.exec(tok))) for (let i = 0; i < Number(m[1]); i++) out.push(null);
    else if ((m = /^([-+]?[\d.eE]+|[-+]?Inf|NaN)([+-])([\d.eE]+)x(\d+)$/.exec(tok))) {
      const a = parseValue(m[1]!), b = Number(m[3]) * (m[2] === '-' ? -1 : 1), n = Number(m[4]);
      for (let i = 0; i <= n; i++) out.push(a + b * i);
    } else if ((m = /^([-+]?[\d.eE]+|[-+]?Inf|NaN)x(\d+)$/.exec(tok))) {
      for (let i = 0; i <= Number(m[2]); i++) out.push(parseValue(m[1]!));
    } else out.push(parseValue(tok));
  }
  return out;
}

/** loadSeries builds a MemQuerier from load / load_hist blocks; points start at t=0. */
export function loadSeries(text: string): MemQuerier {
  const q = new MemQuerier();
  let intervalMs = 0;
  let hist = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const head = /^(load|load_hist)\s+(\S+)$/.exec(line);
    if (head) {
      hist = head[1] === 'load_hist';
      intervalMs = parseDurationMs(head[2]!);
      continue;
    }
    const [desc, values] = splitDesc(line);
    const labels = parseSeriesDesc(desc);
    if (!hist) {
      const t: number[] = [], v: number[] = [];
      expandValues(values).forEach((x, i) => {
        if (x !== null) {
          t.push(i * intervalMs);
          v.push(x);
        }
      });
      q.addFloat(labels, t, v);
      continue;
    }
    const t: number[] = [], deltas: SparseHistogram[] = [];
    values.split('|').forEach((group, i) => {
      const g = group.trim();
      if (g === '_') return;
      const h = new SparseHistogram();
      for (const obs of g.split(',').map((x) => x.trim()).filter((x) => x !== '')) {
        const [v, n] = obs.split('*');
        h.record(Number(v), n === undefined ? 1 : Number(n));
      }
      t.push(i * intervalMs);
      deltas.push(h);
    });
    q.addHistogram(labels, t, deltas);
  }
  return q;
}
