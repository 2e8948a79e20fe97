import { labelsToRecord, type Labels } from '../model/labels.js';
import type { Alert } from './alert.js';

/**
 * The JSON bodies tallyd sends: Alertmanager's API v2 alert list (what Prometheus posts) and
 * Alertmanager's webhook message, version 4 (what a webhook receiver expects).
 */

/** rfc3339 formats unix ms as Go marshals time.Time: fractional seconds only when non-zero. */
export function rfc3339(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.endsWith('.000Z') ? iso.slice(0, -5) + 'Z' : iso;
}

/** GO_ZERO_TIME is Go's zero time.Time, which Alertmanager sends as endsAt of a firing alert. */
export const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

/**
 * fingerprint is Prometheus' LabelSet.Fingerprint: FNV-1a 64 over sorted names and values, each
 * followed by 0xff, printed as 16 hex digits (what Alertmanager puts in webhook messages).
 */
export function fingerprint(labels: Labels): string {
  let h = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  const mask = 0xffffffffffffffffn;
  const sorted = [...labels].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const l of sorted) {
    for (const part of [l.name, l.value]) {
      for (const b of Buffer.from(part, 'utf8')) {
        h ^= BigInt(b);
        h = (h * prime) & mask;
      }
      h ^= 0xffn;
      h = (h * prime) & mask;
    }
  }
  return h.toString(16).padStart(16, '0');
}

/** generatorURL links an alert to its expression, as Prometheus' TableLinkForExpression. */
export function generatorURL(externalURL: string, expr: string): string {
  const q = encodeURIComponent(expr).replace(/%20/g, '+').replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
  return `${externalURL.replace(/\/$/, '')}/graph?g0.expr=${q}&g0.tab=1`;
}

/** withExternalLabels adds external labels the alert does not already have, as Prometheus' notifier. */
export function withExternalLabels(labels: Labels, ext: Readonly<Record<string, string>>): Record<string, string> {
  const rec = labelsToRecord(labels);
  for (const [k, v] of Object.entries(ext)) if (!(k in rec) && v !== '') rec[k] = v;
  return rec;
}

/** AmAlert is one element of Alertmanager's POST /api/v2/alerts body. */
export interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
}

/** amAlert builds what Prometheus sends for an alert at `ts`: endsAt is the resolution or `validUntil`. */
export function amAlert(a: Alert, expr: string, externalURL: string, ext: Readonly<Record<string, string>>, validUntilMs: number): AmAlert {
  return {
    labels: withExternalLabels(a.labels, ext),
    annotations: { ...a.annotations },
    startsAt: rfc3339(a.firedAtMs || a.activeAtMs),
    endsAt: rfc3339(a.resolvedAtMs !== 0 ? a.resolvedAtMs : validUntilMs),
    generatorURL: generatorURL(externalURL, expr),
  };
}

/** WebhookAlert is one alert of a webhook message. */
export interface WebhookAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

/** WebhookMessage is Alertmanager's webhook body, version 4. */
export interface WebhookMessage {
  version: '4';
  groupKey: string;
  truncatedAlerts: number;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: WebhookAlert[];
}

/** webhookAlert renders one alert; a firing alert's endsAt is Go's zero time, as Alertmanager sends. */
export function webhookAlert(a: Alert, expr: string, externalURL: string, ext: Readonly<Record<string, string>>): WebhookAlert {
  const labels = withExternalLabels(a.labels, ext);
  const resolved = a.state === 'inactive';
  return {
    status: resolved ? 'resolved' : 'firing',
    labels,
    annotations: { ...a.annotations },
    startsAt: rfc3339(a.firedAtMs || a.activeAtMs),
    endsAt: resolved ? rfc3339(a.resolvedAtMs) : GO_ZERO_TIME,
    generatorURL: generatorURL(externalURL, expr),
    fingerprint: fingerprint(Object.entries(labels).map(([name, value]) => ({ name, value }))),
  };
}

function common(maps: ReadonlyArray<Record<string, string>>): Record<string, string> {
  if (maps.length === 0) return {};
  const out: Record<string, string> = { ...maps[0]! };
  for (let i = 1; i < maps.length; i++) {
    for (const k of Object.keys(out)) if (maps[i]![k] !== out[k]) delete out[k];
  }
  return out;
}

/**
 * webhookMessage groups alerts of one rule group into a webhook body. Groups are keyed by the
 * rule group (`groupLabels: {rule_group}`), since tallyd has no Alertmanager routing tree.
 */
export function webhookMessage(groupName: string, groupFile: string, alerts: WebhookAlert[], receiver: string, externalURL: string): WebhookMessage {
  return {
    version: '4',
    groupKey: `{}:{rule_group=${JSON.stringify(groupName)}, rule_file=${JSON.stringify(groupFile)}}`,
    truncatedAlerts: 0,
    status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    receiver,
    groupLabels: { rule_group: groupName },
    commonLabels: common(alerts.map((a) => a.labels)),
    commonAnnotations: common(alerts.map((a) => a.annotations)),
    externalURL,
    alerts,
  };
}
