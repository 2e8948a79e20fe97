import { labelsFromRecord, labelsKey, labelsToRecord, METRIC_NAME, withLabel, type Labels } from '../model/labels.js';
import type { Sample } from '../query/promql/api.js';
import type { Alert, AlertEvent } from './alert.js';
import type { RuleDef } from './rule-file.js';
import { expandRuleTemplate } from './template-funcs.js';
import type { Template, TemplateError } from './template.js';

/** Prometheus keeps a resolved alert this long so that Alertmanager hears about the resolution. */
export const RESOLVED_RETENTION_MS = 15 * 60_000;

/** OutputSample is a float sample a rule writes back (recording output, ALERTS, ALERTS_FOR_STATE). */
export interface OutputSample {
  readonly labels: Labels;
  readonly value: number;
}

/** RuleHealth is Prometheus' rule health as /api/v1/rules reports it. */
export type RuleHealth = 'unknown' | 'ok' | 'err';

/** TemplateContext is what label and annotation templates may see besides the sample. */
export interface TemplateContext {
  readonly externalLabels: Readonly<Record<string, string>>;
  readonly externalURL: string;
}

/** RuleBase holds what both kinds of rule report. */
abstract class RuleBase {
  readonly def: RuleDef;
  health: RuleHealth = 'unknown';
  lastError = '';
  lastEvaluationMs = 0;
  evaluationSeconds = 0;

  constructor(def: RuleDef) {
    this.def = def;
  }

  get name(): string {
    return this.def.name;
  }
}

/** RecordingRule evaluates its expression and names the result. */
export class RecordingRule extends RuleBase {
  readonly kind = 'record' as const;

  /** outputs maps the query result to the series to write; it throws on duplicate label sets. */
  outputs(vec: readonly Sample[], limit: number): OutputSample[] {
    const out: OutputSample[] = [];
    const seen = new Set<string>();
    for (const s of vec) {
      if (s.h !== null) continue; // the writer takes floats only
      let labels = withLabel(s.labels, METRIC_NAME, this.def.name);
      for (const [k, v] of Object.entries(this.def.labels)) labels = withLabel(labels, k, v);
      const key = labelsKey(labels);
      if (seen.has(key)) throw new Error('vector contains metrics with the same labelset after applying rule labels');
      seen.add(key);
      out.push({ labels, value: s.v });
    }
    if (limit > 0 && out.length > limit) throw new Error(`exceeded limit of ${limit} with ${out.length} series`);
    return out;
  }
}

/** AlertingRule runs Prometheus' alert state machine: inactive → pending → firing → resolved. */
export class AlertingRule extends RuleBase {
  readonly kind = 'alert' as const;
  /** Active and recently resolved alerts by labelsKey. */
  active = new Map<string, Alert>();
  private readonly templates = new Map<string, Template | TemplateError>();

  /** state is the rule's overall state: the most severe of its alerts. */
  state(): 'inactive' | 'pending' | 'firing' {
    let s: 'inactive' | 'pending' | 'firing' = 'inactive';
    for (const a of this.active.values()) {
      if (a.state === 'firing') return 'firing';
      if (a.state === 'pending') s = 'pending';
    }
    return s;
  }

  /**
   * evaluate applies one query result at evaluation time `ts`, as Prometheus' AlertingRule.Eval:
   * new label sets start pending, pending ones fire after `for`, missing ones resolve (after
   * `keep_firing_for` when firing), resolved ones are dropped after 15 minutes. It returns the
   * ALERTS and ALERTS_FOR_STATE samples and the state changes; `changed` says whether anything
   * that must be persisted moved.
   */
  evaluate(vec: readonly Sample[], ts: number, ctx: TemplateContext, limit: number, group: { name: string; file: string }): { samples: OutputSample[]; events: AlertEvent[]; changed: boolean } {
    const events: AlertEvent[] = [];
    let changed = false;
    const seen = new Map<string, { labels: Labels; annotations: Record<string, string>; value: number }>();
    const tmplName = `__alert_${this.def.name}`;
    for (const s of vec) {
      const value = s.h !== null ? NaN : s.v;
      const data = { labels: labelsToRecord(s.labels), externalLabels: ctx.externalLabels, externalURL: ctx.externalURL, value };
      let labels = withLabel(s.labels, METRIC_NAME, '');
      for (const [k, v] of Object.entries(this.def.labels)) labels = withLabel(labels, k, expandRuleTemplate(tmplName, v, data, this.templates));
      labels = withLabel(labels, 'alertname', this.def.name);
      const annotations: Record<string, string> = {};
      for (const [k, v] of Object.entries(this.def.annotations)) annotations[k] = expandRuleTemplate(tmplName, v, data, this.templates);
      const key = labelsKey(labels);
      if (seen.has(key)) throw new Error('vector contains metrics with the same labelset after applying alert labels');
      seen.set(key, { labels, annotations, value });
    }
    for (const [key, r] of seen) {
      const a = this.active.get(key);
      if (a && a.state !== 'inactive') {
        a.value = r.value;
        a.annotations = r.annotations;
        continue;
      }
      // A new alert, or one that resolved and came back: Prometheus starts it afresh.
      this.active.set(key, {
        labels: r.labels,
        key,
        annotations: r.annotations,
        state: 'pending',
        value: r.value,
        activeAtMs: ts,
        firedAtMs: 0,
        resolvedAtMs: 0,
        lastSentAtMs: 0,
        keepFiringSinceMs: 0,
        notified: a ? a.notified : '',
      });
      changed = true;
    }
    const samples: OutputSample[] = [];
    let activeCount = 0;
    for (const [key, a] of this.active) {
      if (!seen.has(key)) {
        let keepFiring = false;
        if (a.state === 'firing' && this.def.keepFiringForMs > 0) {
          if (a.keepFiringSinceMs === 0) {
            a.keepFiringSinceMs = ts;
            changed = true;
          }
          if (ts - a.keepFiringSinceMs < this.def.keepFiringForMs) keepFiring = true;
        }
        if (a.state === 'pending' || (a.resolvedAtMs !== 0 && ts - a.resolvedAtMs > RESOLVED_RETENTION_MS)) {
          this.active.delete(key);
          changed = true;
        }
        if (a.state !== 'inactive' && !keepFiring) {
          a.state = 'inactive';
          a.resolvedAtMs = ts;
          events.push(this.event(a, 'resolved', ts, group));
          changed = true;
        }
        if (!keepFiring) continue;
      } else if (a.keepFiringSinceMs !== 0) {
        a.keepFiringSinceMs = 0;
        changed = true;
      }
      activeCount++;
      if (a.state === 'pending' && a.activeAtMs === ts) events.push(this.event(a, 'pending', ts, group));
      if (a.state === 'pending' && ts - a.activeAtMs >= this.def.forMs) {
        a.state = 'firing';
        a.firedAtMs = ts;
        events.push(this.event(a, 'firing', ts, group));
        changed = true;
      }
      samples.push({ labels: alertsLabels(a.labels, a.state), value: 1 });
      samples.push({ labels: withLabel(a.labels, METRIC_NAME, 'ALERTS_FOR_STATE'), value: a.activeAtMs / 1000 });
    }
    if (limit > 0 && activeCount > limit) {
      this.active.clear();
      throw new Error(`exceeded limit of ${limit} with ${activeCount} alerts`);
    }
    return { samples, events, changed };
  }

  private event(a: Alert, state: AlertEvent['state'], ts: number, group: { name: string; file: string }): AlertEvent {
    return {
      alertname: this.def.name,
      state,
      labels: labelsToRecord(a.labels),
      annotations: { ...a.annotations },
      value: a.value,
      activeAtMs: a.activeAtMs,
      eventMs: ts,
      group: group.name,
      file: group.file,
    };
  }
}

function alertsLabels(labels: Labels, state: string): Labels {
  return withLabel(withLabel(labels, METRIC_NAME, 'ALERTS'), 'alertstate', state);
}

/** Rule is either kind of rule. */
export type Rule = RecordingRule | AlertingRule;

/** newRule builds the runtime rule of a definition. */
export function newRule(def: RuleDef): Rule {
  return def.kind === 'record' ? new RecordingRule(def) : new AlertingRule(def);
}

/** ruleLabels returns a rule's static labels as sorted Labels (for the API). */
export function ruleLabels(def: RuleDef): Labels {
  return labelsFromRecord(def.labels);
}
