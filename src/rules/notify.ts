import type { StateTable } from '../store/interface.js';
import type { Alert } from './alert.js';
import type { Clock } from './clock.js';
import type { Group } from './group.js';
import type { RulesLog } from './log.js';
import { Outbox, type SendFunc } from './outbox.js';
import { amAlert, fingerprint, webhookAlert, webhookMessage, type AmAlert, type WebhookAlert } from './payload.js';
import { AlertingRule } from './rule.js';

/** NotifierSpec is one `notifiers:` entry of the config. */
export interface NotifierSpec {
  readonly type: 'alertmanager' | 'webhook';
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** NotifyOptions tune delivery; every field has a default. */
export interface NotifyOptions {
  /** Firing alerts are re-sent to Alertmanager this often (Prometheus' --rules.alert.resend-delay, 1 m). */
  readonly resendDelayMs?: number;
  readonly send?: SendFunc;
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly maxEntries?: number;
}

/** Prometheus posts at most this many alerts per Alertmanager request. */
const AM_BATCH = 64;

/**
 * Notifiers turns each evaluation round of a group into notifications and queues them in one
 * durable outbox per receiver:
 * - `alertmanager`: Prometheus' sendAlerts — every firing alert not sent within the resend delay
 *   and every newly resolved one (re-sent while the resolution is kept, 15 m), POSTed to
 *   `<url>/api/v2/alerts` with endsAt = resolution time or validUntil;
 * - `webhook`: one Alertmanager-style message (version 4) per group when an alert starts firing
 *   or resolves, listing the group's firing alerts and the ones resolved in that round.
 */
export class Notifiers {
  readonly outboxes: Outbox[];
  private readonly specs: readonly NotifierSpec[];
  private readonly opts: NotifyOptions;
  private readonly externalLabels: Readonly<Record<string, string>>;
  private readonly externalURL: string;

  constructor(specs: readonly NotifierSpec[], state: StateTable, clock: Clock, log: RulesLog, externalLabels: Readonly<Record<string, string>>, externalURL: string, opts: NotifyOptions = {}) {
    this.specs = specs;
    this.opts = opts;
    this.externalLabels = externalLabels;
    this.externalURL = externalURL;
    this.outboxes = specs.map(
      (s) =>
        new Outbox({
          id: receiverId(s),
          headers: s.headers ?? {},
          state,
          clock,
          log,
          send: opts.send,
          initialBackoffMs: opts.initialBackoffMs,
          maxBackoffMs: opts.maxBackoffMs,
          maxEntries: opts.maxEntries,
        }),
    );
  }

  start(): void {
    for (const o of this.outboxes) o.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.outboxes.map((o) => o.stop()));
  }

  /** notify queues what one round of `group` at `ts` must tell the receivers. */
  async notify(group: Group, ts: number): Promise<void> {
    if (this.specs.length === 0) return;
    const wantAm = this.specs.some((s) => s.type === 'alertmanager');
    const wantHook = this.specs.some((s) => s.type === 'webhook');
    const resend = this.opts.resendDelayMs ?? 60_000;
    const validUntil = ts + 4 * Math.max(resend, group.intervalMs);
    const am: AmAlert[] = [];
    const hook: WebhookAlert[] = [];
    let hookChanged = false;
    for (const rule of group.rules) {
      if (!(rule instanceof AlertingRule)) continue;
      for (const a of rule.active.values()) {
        if (wantAm && needsSending(a, ts, resend)) {
          am.push(amAlert(a, rule.def.expr, this.externalURL, this.externalLabels, validUntil));
          a.lastSentAtMs = ts;
        }
        if (wantHook) {
          const firing = a.state === 'firing';
          const resolvedNow = a.state === 'inactive' && a.notified === 'firing';
          if (firing || resolvedNow) hook.push(webhookAlert(a, rule.def.expr, this.externalURL, this.externalLabels));
          if ((firing && a.notified !== 'firing') || resolvedNow) {
            hookChanged = true;
            a.notified = firing ? 'firing' : 'resolved';
            group.markDirty(rule);
          }
        }
      }
    }
    const queued: Promise<void>[] = [];
    for (let i = 0; i < this.specs.length; i++) {
      const spec = this.specs[i]!;
      const box = this.outboxes[i]!;
      if (spec.type === 'alertmanager') {
        const url = spec.url.replace(/\/$/, '') + '/api/v2/alerts';
        for (let j = 0; j < am.length; j += AM_BATCH) queued.push(box.enqueue(url, JSON.stringify(am.slice(j, j + AM_BATCH))));
      } else if (hookChanged) {
        hook.sort((x, y) => (x.fingerprint < y.fingerprint ? -1 : x.fingerprint > y.fingerprint ? 1 : 0));
        queued.push(box.enqueue(spec.url, JSON.stringify(webhookMessage(group.def.name, group.def.file, hook, 'tallyd', this.externalURL))));
      }
    }
    await Promise.all(queued);
  }
}

/** needsSending is Prometheus' Alert.needsSending. */
function needsSending(a: Alert, ts: number, resendDelayMs: number): boolean {
  if (a.state === 'pending') return false;
  if (a.resolvedAtMs > a.lastSentAtMs) return true;
  return a.lastSentAtMs + resendDelayMs < ts;
}

/** receiverId names a receiver's outbox by type and URL, so it survives restarts and reorders. */
export function receiverId(s: NotifierSpec): string {
  return `${s.type}-${fingerprint([{ name: 'url', value: s.url }])}`;
}
