import t from 'tap';
import { labelsKey, type Labels } from '../../../src/model/labels.js';
import { QueryError, type QueryResult } from '../../../src/query/promql/api.js';
import { createEngine } from '../../../src/query/promql/engine.js';
import { parseDurationMs } from '../../../src/query/promql/parse.js';
import { CASES, type Case } from './cases.js';
import { expandValues, loadSeries, parseSeriesDesc } from './load.js';

const engine = createEngine();

function close(a: number, b: number, tol: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b) return true;
  return Math.abs(a - b) <= tol * Math.max(Math.abs(a), Math.abs(b));
}

function timeMs(s: string): number {
  return parseDurationMs(s);
}

interface Row {
  labels: Labels;
  /** [timestamp or null, value] pairs; null timestamps are compared by position. */
  points: Array<[number | null, number]>;
}

function parseExpected(c: Case): Row[] {
  if (c.expect === 'empty') return [];
  return c.expect!.split('\n').map((line) => {
    const trimmed = line.trim();
    const end = trimmed.startsWith('{') || /^[a-zA-Z_:][a-zA-Z0-9_:]*\{/.test(trimmed) ? trimmed.indexOf('}') + 1 : trimmed.search(/\s/);
    const desc = trimmed.slice(0, end), rest = trimmed.slice(end).trim();
    const labels = desc === '{}' ? [] : parseSeriesDesc(desc);
    const points: Array<[number | null, number]> = [];
    if (rest.includes('@')) {
      for (const tok of rest.split(/\s+/)) {
        const [v, ts] = tok.split('@');
        points.push([Number(ts) * 1000, expandValues(v!)[0]!]);
      }
    } else {
      const start = c.range ? timeMs(c.range.start) : 0;
      const step = c.range ? timeMs(c.range.step) : 0;
      expandValues(rest).forEach((v, i) => {
        if (v !== null) points.push([c.range ? start + i * step : null, v]);
      });
    }
    return { labels, points };
  });
}

function actualRows(r: QueryResult): Row[] {
  switch (r.type) {
    case 'vector':
      return r.samples.map((s) => ({ labels: s.labels, points: [[null, s.v]] }));
    case 'matrix':
      return r.series.map((s) => ({ labels: s.labels, points: s.timestamps.map((ts, i) => [ts, s.values[i]!] as [number, number]) }));
    default:
      return [];
  }
}

function fmt(rows: Row[]): string {
  return rows.map((r) => `${labelsKey(r.labels).replace(/\u00fe/g, '=').replace(/\u00ff/g, ',')} ${r.points.map(([ts, v]) => (ts === null ? `${v}` : `${v}@${ts}`)).join(' ')}`).join('\n');
}

for (const c of CASES) {
  t.test(c.name, (tt) => {
    const q = loadSeries(c.load);
    let result: QueryResult;
    try {
      result = c.range
        ? engine.range(q, 'default', c.expr, timeMs(c.range.start), timeMs(c.range.end), timeMs(c.range.step), { maxSamples: c.maxSamples })
        : engine.instant(q, 'default', c.expr, timeMs(c.at ?? '0'), { maxSamples: c.maxSamples });
    } catch (e) {
      if (!c.error) throw e;
      tt.ok(e instanceof QueryError, 'a QueryError');
      tt.equal((e as QueryError).type, c.error.type, 'error type');
      tt.match((e as Error).message, c.error.contains);
      tt.end();
      return;
    }
    if (c.error) {
      tt.fail(`expected error ${c.error.contains}, got ${JSON.stringify(result)}`);
      tt.end();
      return;
    }
    if (c.expect!.startsWith('scalar ')) {
      tt.equal(result.type, 'scalar');
      const want = expandValues(c.expect!.slice(7))[0]!;
      tt.ok(result.type === 'scalar' && close(result.v, want, c.tolerance ?? 1e-6), `scalar ${result.type === 'scalar' ? result.v : '?'} = ${want}`);
      tt.end();
      return;
    }
    const want = parseExpected(c);
    const got = actualRows(result);
    const key = (r: Row) => labelsKey(r.labels);
    if (!c.ordered) {
      want.sort((a, b) => (key(a) < key(b) ? -1 : 1));
      got.sort((a, b) => (key(a) < key(b) ? -1 : 1));
    }
    let ok = want.length === got.length;
    for (let i = 0; ok && i < want.length; i++) {
      const w = want[i]!, g = got[i]!;
      if (key(w) !== key(g) || w.points.length !== g.points.length) ok = false;
      for (let j = 0; ok && j < w.points.length; j++) {
        const [wt, wv] = w.points[j]!, [gt, gv] = g.points[j]!;
        if ((wt !== null && wt !== gt) || !close(gv, wv, c.tolerance ?? 1e-6)) ok = false;
      }
    }
    tt.ok(ok, `${c.expr}\n--- want\n${fmt(want)}\n--- got\n${fmt(got)}`);
    tt.end();
  });
}
