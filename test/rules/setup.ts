import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine } from '../../src/query/promql/engine.js';
import type { Sample } from '../../src/query/promql/api.js';
import { labelsToRecord } from '../../src/model/labels.js';
import type { AlertEvent } from '../../src/rules/alert.js';
import { RuleManager, type RuleManagerOptions } from '../../src/rules/manager.js';
import type { RulesLog } from '../../src/rules/log.js';
import { FakeClock, MemSeriesStore, MemStateTable } from './helpers.js';

/** T0 is a minute boundary, so groups with offset 0 evaluate at T0 + k·interval. */
export const T0 = 1_699_999_980_000;

export const engine = createEngine();

/** queryFnFor evaluates with the real PromQL engine over an in-memory store. */
export function queryFnFor(store: MemSeriesStore) {
  return async (expr: string, t: number): Promise<Sample[]> => {
    const r = engine.instant(store, 'default', expr, t);
    if (r.type === 'vector') return r.samples;
    if (r.type === 'scalar') return [{ labels: [], t, v: r.v, h: null }];
    return [];
  };
}

/** ruleFile writes rule text to a fresh temporary file and returns its path. */
export function ruleFile(text: string, name = 'rules.yml'): string {
  const dir = mkdtempSync(join(tmpdir(), 'tallyd-rules-'));
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** MemLog records log lines for assertions. */
export class MemLog implements RulesLog {
  lines: Array<{ level: string; msg: string; fields?: Readonly<Record<string, unknown>> }> = [];
  debug(msg: string, fields?: Readonly<Record<string, unknown>>) { this.lines.push({ level: 'debug', msg, fields }); }
  info(msg: string, fields?: Readonly<Record<string, unknown>>) { this.lines.push({ level: 'info', msg, fields }); }
  warn(msg: string, fields?: Readonly<Record<string, unknown>>) { this.lines.push({ level: 'warn', msg, fields }); }
  error(msg: string, fields?: Readonly<Record<string, unknown>>) { this.lines.push({ level: 'error', msg, fields }); }
}

/** Harness is one manager over shared store, state and clock (a "process" of tallyd). */
export interface Harness {
  readonly manager: RuleManager;
  readonly store: MemSeriesStore;
  readonly state: MemStateTable;
  readonly clock: FakeClock;
  readonly events: AlertEvent[];
  readonly log: MemLog;
  /** advance moves the clock, running due evaluations and deliveries. */
  advance(ms: number): Promise<void>;
}

export function harness(
  files: string[],
  opts: Partial<RuleManagerOptions> & { store?: MemSeriesStore; state?: MemStateTable; clock?: FakeClock } = {},
): Harness {
  const store = opts.store ?? new MemSeriesStore();
  const state = opts.state ?? new MemStateTable();
  const clock = opts.clock ?? new FakeClock(T0);
  const log = new MemLog();
  const manager = new RuleManager({
    files,
    queryFn: queryFnFor(store),
    parseCheck: (e) => engine.parseCheck(e),
    write: (_tenant, labels, v, t) => store.add(labels, t, v),
    state,
    clock,
    log,
    groupOffset: () => 0,
    ...opts,
  });
  const events: AlertEvent[] = [];
  manager.events.on('alert', (ev: AlertEvent) => events.push(ev));
  return { manager, store, state, clock, events, log, advance: (ms) => clock.advance(ms, () => manager.idle()) };
}

/** fill writes a series every 15 s over [from, to]. */
export function fill(store: MemSeriesStore, labels: Record<string, string>, from: number, to: number, value: (t: number) => number): void {
  for (let t = from; t <= to; t += 15_000) store.add(labels, t, value(t));
}

/** stateOf lists `alertname state` of /api/v1/alerts. */
export function alertStates(m: RuleManager): string[] {
  const d = m.alertsData() as { alerts: Array<{ labels: Record<string, string>; state: string }> };
  return d.alerts.map((a) => `${a.labels['alertname']} ${a.state}`).sort();
}

/** seriesAt returns the values of series named `name` written at time t, with labels. */
export function seriesAt(store: MemSeriesStore, name: string, t: number): Array<{ labels: Record<string, string>; v: number }> {
  const out: Array<{ labels: Record<string, string>; v: number }> = [];
  for (const s of store.data.values()) {
    const rec = labelsToRecord(s.labels);
    if (rec['__name__'] !== name) continue;
    const i = s.ts.indexOf(t);
    if (i >= 0) out.push({ labels: rec, v: s.vs[i]! });
  }
  return out;
}
