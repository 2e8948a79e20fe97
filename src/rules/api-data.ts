import { labelsToRecord } from '../model/labels.js';
import type { Alert } from './alert.js';
import { formatFloat } from './go-format.js';
import type { Group } from './group.js';
import { GO_ZERO_TIME, rfc3339 } from './payload.js';
import { AlertingRule } from './rule.js';

/**
 * Builders of the `data` objects of /api/v1/rules and /api/v1/alerts, in Prometheus' shapes
 * (web/api/v1 RuleGroup, AlertingRule, RecordingRule, Alert). Durations are seconds; an alert's
 * value is a string in Go's %e form (`"1.5e+00"`), as Prometheus sends it.
 */

/** ApiAlert is one alert as the HTTP API shows it. */
export interface ApiAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  activeAt: string;
  keepFiringSince?: string;
  value: string;
}

/** ReloadStatus is the outcome of the last (re)load, shown as `data.lastReload`. */
export interface ReloadStatus {
  success: boolean;
  time: string;
  errors: string[];
}

function apiAlert(a: Alert): ApiAlert {
  const out: ApiAlert = {
    labels: labelsToRecord(a.labels),
    annotations: a.annotations,
    state: a.state as 'pending' | 'firing',
    activeAt: rfc3339(a.activeAtMs),
    value: formatFloat(a.value, 'e', -1),
  };
  if (a.keepFiringSinceMs !== 0) out.keepFiringSince = rfc3339(a.keepFiringSinceMs);
  return out;
}

function activeAlerts(rule: AlertingRule): ApiAlert[] {
  const out: ApiAlert[] = [];
  for (const a of rule.active.values()) if (a.state !== 'inactive') out.push(apiAlert(a));
  return out;
}

const when = (ms: number) => (ms === 0 ? GO_ZERO_TIME : rfc3339(ms));

/** buildRulesData returns the `data` of GET /api/v1/rules; `type` filters as `?type=alert|record`. */
export function buildRulesData(groups: readonly Group[], lastReload: ReloadStatus | null, type?: 'alert' | 'record'): Record<string, unknown> {
  const out = groups.map((g) => ({
    name: g.def.name,
    file: g.def.file,
    rules: g.rules
      .filter((r) => !type || r.kind === type)
      .map((r) => {
        const common = {
          name: r.name,
          query: r.def.expr,
          labels: { ...r.def.labels },
          health: r.health,
          ...(r.lastError ? { lastError: r.lastError } : {}),
          evaluationTime: r.evaluationSeconds,
          lastEvaluation: when(r.lastEvaluationMs),
        };
        if (r instanceof AlertingRule) {
          return {
            state: r.state(),
            name: r.name,
            query: r.def.expr,
            duration: r.def.forMs / 1000,
            keepFiringFor: r.def.keepFiringForMs / 1000,
            labels: { ...r.def.labels },
            annotations: { ...r.def.annotations },
            alerts: activeAlerts(r),
            health: r.health,
            ...(r.lastError ? { lastError: r.lastError } : {}),
            evaluationTime: r.evaluationSeconds,
            lastEvaluation: when(r.lastEvaluationMs),
            type: 'alerting',
          };
        }
        return { ...common, type: 'recording' };
      }),
    interval: g.intervalMs / 1000,
    limit: g.def.limit,
    evaluationTime: g.evaluationSeconds,
    lastEvaluation: when(g.lastEvaluationMs),
  }));
  const data: Record<string, unknown> = { groups: out };
  if (lastReload) data['lastReload'] = lastReload;
  return data;
}

/** buildAlertsData returns the `data` of GET /api/v1/alerts: every pending and firing alert. */
export function buildAlertsData(groups: readonly Group[]): { alerts: ApiAlert[] } {
  const alerts: ApiAlert[] = [];
  for (const g of groups) for (const r of g.rules) if (r instanceof AlertingRule) alerts.push(...activeAlerts(r));
  return { alerts };
}
