import { labelsKey, type Labels } from '../model/labels.js';
import type { QueryFunc } from '../query/promql/api.js';
import type { StateTable } from '../store/interface.js';
import { persistAlert, restoreAlert, type AlertEvent, type PersistedAlert } from './alert.js';
import type { Clock } from './clock.js';
import type { RulesLog } from './log.js';
import type { GroupDef } from './rule-file.js';
import { fnv1aString } from '../wire/fnv1a.js';
import { AlertingRule, newRule, type Rule, type TemplateContext } from './rule.js';

/**
 * RuleWriter writes one float sample a rule produced (recording output, ALERTS,
 * ALERTS_FOR_STATE) for a tenant at the evaluation time. It MAY return a promise: the group
 * awaits it before the next rule runs, so a writer that makes the sample queryable before
 * resolving lets later rules of the group read a recording rule's output, as in Prometheus.
 */
export type RuleWriter = (tenant: string, labels: Labels, value: number, tMs: number) => void | Promise<void>;

/** GroupDeps is what a group needs from its manager. */
export interface GroupDeps {
  readonly queryFn: QueryFunc;
  readonly write: RuleWriter;
  readonly tenant: string;
  readonly clock: Clock;
  readonly log: RulesLog;
  readonly state: StateTable;
  readonly templates: TemplateContext;
  /** notify runs after each evaluation round; it may mark rules dirty (sent state). */
  readonly notify: (group: Group, ts: number) => Promise<void>;
  readonly emit: (ev: AlertEvent) => void;
}

/** ALERT_STATE_PREFIX starts the StateTable keys holding alert state. */
export const ALERT_STATE_PREFIX = 'alert/';

/** groupOffsetMs spreads groups over their interval by a hash of file and name, as Prometheus does. */
export function groupOffsetMs(file: string, name: string, intervalMs: number): number {
  return fnv1aString(`${file};${name}`) % intervalMs;
}

/**
 * Group is a running rule group: it evaluates its rules in order at aligned times
 * (offset + k·interval), keeps alert state durable in the StateTable and hands the round to
 * the notifiers. Evaluation times are the scheduled ones, not the (later) wall-clock time.
 */
export class Group {
  readonly def: GroupDef;
  readonly key: string;
  readonly intervalMs: number;
  readonly offsetMs: number;
  readonly rules: Rule[];
  lastEvaluationMs = 0;
  evaluationSeconds = 0;
  private readonly deps: GroupDeps;
  private readonly ruleKeys: string[];
  private readonly dirty = new Set<number>();
  private timer: unknown = null;
  private running: Promise<void> | null = null;
  private stopped = true;

  constructor(def: GroupDef, intervalMs: number, offsetMs: number, deps: GroupDeps) {
    this.def = def;
    this.key = `${def.file};${def.name}`;
    this.intervalMs = intervalMs;
    this.offsetMs = offsetMs % intervalMs;
    this.deps = deps;
    this.rules = def.rules.map(newRule);
    const nth = new Map<string, number>();
    this.ruleKeys = def.rules.map((r) => {
      const n = nth.get(r.name) ?? 0;
      nth.set(r.name, n + 1);
      return `${ALERT_STATE_PREFIX}${this.key};${r.kind};${r.name};${n}`;
    });
  }

  /** stateKeys are the StateTable keys this group's alerting rules own. */
  stateKeys(): string[] {
    return this.ruleKeys.filter((_, i) => this.rules[i]!.kind === 'alert');
  }

  /** restore loads persisted alerts (after a restart): pending keeps its start, firing stays firing. */
  restore(): void {
    this.rules.forEach((rule, i) => {
      if (!(rule instanceof AlertingRule)) return;
      const saved = this.deps.state.get<{ alerts: PersistedAlert[] }>(this.ruleKeys[i]!);
      if (!saved || !Array.isArray(saved.alerts)) return;
      for (const p of saved.alerts) {
        const a = restoreAlert(p, labelsKey);
        rule.active.set(a.key, a);
      }
    });
  }

  /** adoptState takes the alerts of the same rules (same name and position among equals) of `old`. */
  adoptState(old: Group): void {
    this.rules.forEach((rule, i) => {
      if (!(rule instanceof AlertingRule)) return;
      const j = old.ruleKeys.indexOf(this.ruleKeys[i]!);
      const prev = j >= 0 ? old.rules[j] : undefined;
      if (prev instanceof AlertingRule) {
        rule.active = prev.active;
        rule.health = prev.health;
        rule.lastError = prev.lastError;
        rule.lastEvaluationMs = prev.lastEvaluationMs;
        rule.evaluationSeconds = prev.evaluationSeconds;
      }
    });
  }

  /** markDirty asks for rule i's alerts to be persisted at the end of the round. */
  markDirty(rule: Rule): void {
    const i = this.rules.indexOf(rule);
    if (i >= 0) this.dirty.add(i);
  }

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) this.deps.clock.clearTimeout(this.timer);
    this.timer = null;
    if (this.running) await this.running;
  }

  /** idle resolves when no evaluation is running. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** nextEvalMs is the first aligned evaluation time after `now`. */
  nextEvalMs(now: number): number {
    const adj = now - this.offsetMs;
    const base = adj - (((adj % this.intervalMs) + this.intervalMs) % this.intervalMs);
    return base + this.offsetMs + this.intervalMs;
  }

  private schedule(): void {
    if (this.stopped) return;
    const now = this.deps.clock.now();
    const at = this.nextEvalMs(now);
    this.timer = this.deps.clock.setTimeout(() => {
      this.timer = null;
      if (this.stopped) return;
      const p: Promise<void> = this.evaluate(at)
        .catch((err) => this.deps.log.error('rule group evaluation failed', { group: this.def.name, file: this.def.file, err }))
        .finally(() => {
          if (this.running === p) this.running = null;
          this.schedule();
        });
      this.running = p;
    }, at - now);
  }

  /** evaluate runs one round at evaluation time `ts`: every rule in order, then notifications. */
  async evaluate(ts: number): Promise<void> {
    const started = performance.now();
    const { deps } = this;
    const group = { name: this.def.name, file: this.def.file };
    for (let i = 0; i < this.rules.length; i++) {
      const rule = this.rules[i]!;
      const t0 = performance.now();
      try {
        const vec = await deps.queryFn(rule.def.expr, ts);
        const out =
          rule instanceof AlertingRule
            ? (() => {
                const r = rule.evaluate(vec, ts, deps.templates, this.def.limit, group);
                if (r.changed) this.dirty.add(i);
                for (const ev of r.events) deps.emit(ev);
                return r.samples;
              })()
            : rule.outputs(vec, this.def.limit);
        const writes: Promise<void>[] = [];
        for (const s of out) {
          const w = deps.write(deps.tenant, s.labels, s.value, ts);
          if (w) writes.push(w);
        }
        if (writes.length > 0) await Promise.all(writes);
        rule.health = 'ok';
        rule.lastError = '';
      } catch (err) {
        rule.health = 'err';
        rule.lastError = (err as Error).message;
        deps.log.warn('rule evaluation failed', { group: this.def.name, rule: rule.name, err: rule.lastError });
      }
      rule.lastEvaluationMs = ts;
      rule.evaluationSeconds = (performance.now() - t0) / 1000;
    }
    await deps.notify(this, ts);
    await this.persist();
    this.lastEvaluationMs = ts;
    this.evaluationSeconds = (performance.now() - started) / 1000;
  }

  private async persist(): Promise<void> {
    if (this.dirty.size === 0) return;
    const puts: Promise<void>[] = [];
    for (const i of this.dirty) {
      const rule = this.rules[i];
      if (!(rule instanceof AlertingRule)) continue;
      const key = this.ruleKeys[i]!;
      if (rule.active.size === 0) puts.push(this.deps.state.remove(key));
      else puts.push(this.deps.state.put(key, { alerts: [...rule.active.values()].map(persistAlert) }));
    }
    this.dirty.clear();
    await Promise.all(puts);
  }
}
