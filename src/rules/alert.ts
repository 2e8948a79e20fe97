import type { Labels } from '../model/labels.js';

/** AlertState is Prometheus' alert state; a resolved alert is `inactive` with `resolvedAtMs` set. */
export type AlertState = 'inactive' | 'pending' | 'firing';

/**
 * Alert is one active (or recently resolved) instance of an alerting rule, keyed by its labels.
 * Times are unix ms; 0 means "not set" (Go's zero time.Time in Prometheus' rules.Alert).
 */
export interface Alert {
  labels: Labels;
  /** labelsKey(labels): the alert's identity inside its rule. */
  readonly key: string;
  annotations: Record<string, string>;
  state: AlertState;
  value: number;
  activeAtMs: number;
  firedAtMs: number;
  resolvedAtMs: number;
  lastSentAtMs: number;
  keepFiringSinceMs: number;
  /** What the webhook receivers were last told about this alert ('' = nothing yet). */
  notified: '' | 'firing' | 'resolved';
}

/** PersistedAlert is an Alert as stored in the StateTable (JSON). */
export interface PersistedAlert {
  readonly labels: Array<[string, string]>;
  readonly annotations: Record<string, string>;
  readonly state: AlertState;
  readonly value: number | string;
  readonly activeAtMs: number;
  readonly firedAtMs: number;
  readonly resolvedAtMs: number;
  readonly lastSentAtMs: number;
  readonly keepFiringSinceMs: number;
  readonly notified: '' | 'firing' | 'resolved';
}

/** persistAlert turns an alert into JSON-safe state (NaN and infinities as strings). */
export function persistAlert(a: Alert): PersistedAlert {
  return {
    labels: a.labels.map((l) => [l.name, l.value]),
    annotations: a.annotations,
    state: a.state,
    value: Number.isFinite(a.value) ? a.value : String(a.value),
    activeAtMs: a.activeAtMs,
    firedAtMs: a.firedAtMs,
    resolvedAtMs: a.resolvedAtMs,
    lastSentAtMs: a.lastSentAtMs,
    keepFiringSinceMs: a.keepFiringSinceMs,
    notified: a.notified,
  };
}

/** restoreAlert rebuilds an alert from persisted state. */
export function restoreAlert(p: PersistedAlert, key: (labels: Labels) => string): Alert {
  const labels = p.labels.map(([name, value]) => ({ name, value }));
  return {
    labels,
    key: key(labels),
    annotations: { ...p.annotations },
    state: p.state,
    value: typeof p.value === 'number' ? p.value : Number(p.value),
    activeAtMs: p.activeAtMs,
    firedAtMs: p.firedAtMs,
    resolvedAtMs: p.resolvedAtMs,
    lastSentAtMs: p.lastSentAtMs,
    keepFiringSinceMs: p.keepFiringSinceMs,
    notified: p.notified,
  };
}

/** AlertEvent is one alert state change, as the gRPC WatchAlerts stream sends it. */
export interface AlertEvent {
  readonly alertname: string;
  readonly state: 'pending' | 'firing' | 'resolved';
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly value: number;
  readonly activeAtMs: number;
  readonly eventMs: number;
  /** The rule group (file and name) the alert belongs to. */
  readonly group: string;
  readonly file: string;
}
