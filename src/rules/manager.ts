import { EventEmitter } from 'node:events';
import type { QueryFunc } from '../query/promql/api.js';
import type { StateTable } from '../store/interface.js';
import type { AlertEvent } from './alert.js';
import { buildAlertsData, buildRulesData, type ReloadStatus } from './api-data.js';
import { checkRuleFiles } from './check.js';
import { systemClock, type Clock } from './clock.js';
import { ALERT_STATE_PREFIX, Group, groupOffsetMs, type RuleWriter } from './group.js';
import { silentLog, type RulesLog } from './log.js';
import { Notifiers, type NotifierSpec, type NotifyOptions } from './notify.js';
import { rfc3339 } from './payload.js';
import { formatProblem, type ParseCheck } from './rule-file.js';

/** RuleManagerOptions wire the manager to the rest of tallyd through narrow interfaces. */
export interface RuleManagerOptions {
  /** Rule file paths or globs (`--rules`, repeatable). */
  readonly files: readonly string[];
  /** Instant query for the rules' tenant. */
  readonly queryFn: QueryFunc;
  /** Throws when an expression does not parse (the engine's parseCheck). */
  readonly parseCheck: ParseCheck;
  /** Receives recording outputs, ALERTS and ALERTS_FOR_STATE samples. */
  readonly write: RuleWriter;
  /** Durable alert state and notification outboxes. */
  readonly state: StateTable;
  readonly notifiers?: readonly NotifierSpec[];
  readonly externalLabels?: Readonly<Record<string, string>>;
  readonly externalURL?: string;
  readonly clock?: Clock;
  readonly log?: RulesLog;
  /** Interval of groups without their own (`rule_evaluation.interval`, default 1 m). */
  readonly evaluationIntervalMs?: number;
  /** Tenant the rules run for and write to (default `default`). */
  readonly tenant?: string;
  /** Where a group sits inside its interval; default: a hash of file and name, as Prometheus. */
  readonly groupOffset?: (file: string, name: string, intervalMs: number) => number;
  readonly notify?: NotifyOptions;
}

/** ReloadResult says whether the rule files were taken; `errors` are `file:line: reason`. */
export interface ReloadResult {
  readonly ok: boolean;
  readonly errors: string[];
  readonly warnings: string[];
}

/**
 * RuleManager runs Prometheus rule files in-process: it loads and validates them, evaluates each
 * group on its own aligned schedule, keeps alert state (pending `for` start times included)
 * durable in a StateTable, queues notifications in durable outboxes and emits every alert state
 * change on `events` ('alert', AlertEvent) for the gRPC WatchAlerts stream.
 *
 * Scheduling: a group with interval I evaluates at times offset + k·I, where offset is a hash of
 * its file and name modulo I (Prometheus' EvalTimestamp), so groups spread over the interval and a
 * restart keeps the same evaluation times. A round that overruns skips the missed slots.
 *
 * A reload (SIGHUP, POST /-/reload) that finds any error keeps the running rules, logs every
 * error and shows them under `lastReload` in /api/v1/rules. Alert state carries over to rules of
 * the same group, name and position.
 */
export class RuleManager {
  /** events emits 'alert' with an AlertEvent for every pending, firing and resolved transition. */
  readonly events = new EventEmitter();
  private readonly opts: RuleManagerOptions;
  private readonly clock: Clock;
  private readonly log: RulesLog;
  private readonly notifiers: Notifiers;
  private groups: Group[] = [];
  private lastReload: ReloadStatus | null = null;
  private started = false;
  private loaded = false;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(opts: RuleManagerOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? silentLog;
    this.notifiers = new Notifiers(opts.notifiers ?? [], opts.state, this.clock, this.log, opts.externalLabels ?? {}, opts.externalURL ?? '', opts.notify);
    // An 'error'-less emitter must not throw when nobody listens; only 'alert' is emitted.
    this.events.setMaxListeners(0);
  }

  /**
   * start loads the rule files, restores persisted alert state, starts the outboxes (delivering
   * what a previous run left queued) and schedules every group. With bad files it still starts
   * the outboxes and returns the errors; the caller decides whether to exit.
   */
  async start(): Promise<ReloadResult> {
    this.started = true;
    this.notifiers.start();
    return this.reload();
  }

  /** stop ends evaluation and delivery after the work in flight; state stays stored. */
  async stop(): Promise<void> {
    this.started = false;
    await this.serial(async () => {
      await Promise.all(this.groups.map((g) => g.stop()));
      await this.notifiers.stop();
    });
  }

  /** reload re-reads the rule files; on any error the rules in force stay as they are. */
  reload(): Promise<ReloadResult> {
    return this.serial(() => this.doReload());
  }

  /** rulesData is the `data` of GET /api/v1/rules. */
  rulesData(type?: 'alert' | 'record'): Record<string, unknown> {
    return buildRulesData(this.groups, this.lastReload, type);
  }

  /** alertsData is the `data` of GET /api/v1/alerts. */
  alertsData(): Record<string, unknown> {
    return buildAlertsData(this.groups) as unknown as Record<string, unknown>;
  }

  /** pendingNotifications counts queued deliveries per receiver id. */
  pendingNotifications(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const o of this.notifiers.outboxes) out[o.id] = o.pending();
    return out;
  }

  /** idle resolves when no group evaluation and no delivery is in flight (for tests). */
  async idle(): Promise<void> {
    await Promise.all(this.groups.map((g) => g.idle()));
    await Promise.all(this.notifiers.outboxes.map((o) => o.idle()));
  }

  /** evaluateAll runs one round of every group at `ts` now, outside the schedule (tests, tools). */
  async evaluateAll(ts: number): Promise<void> {
    for (const g of this.groups) await g.evaluate(ts);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn, fn);
    this.chain = p.catch(() => undefined);
    return p;
  }

  private async doReload(): Promise<ReloadResult> {
    const check = checkRuleFiles(this.opts.files, this.opts.parseCheck);
    const errors = check.errors.map(formatProblem);
    const warnings = check.warnings.map(formatProblem);
    for (const w of check.warnings) this.log.warn('rule file repaired', { file: w.file, line: w.line, reason: w.reason });
    if (check.errors.length > 0) {
      for (const e of check.errors) this.log.error('rule file rejected', { file: e.file, line: e.line, reason: e.reason });
      this.log.error(this.loaded ? 'rules reload failed; the previous rules stay in force' : 'loading rules failed', { errors: errors.length });
      this.lastReload = { success: false, time: rfc3339(this.clock.now()), errors };
      return { ok: false, errors, warnings };
    }
    const groups = check.groups.map((def) => {
      const interval = def.intervalMs ?? this.opts.evaluationIntervalMs ?? 60_000;
      const offset = (this.opts.groupOffset ?? groupOffsetMs)(def.file, def.name, interval);
      return new Group(def, interval, offset, {
        queryFn: this.opts.queryFn,
        write: this.opts.write,
        tenant: this.opts.tenant ?? 'default',
        clock: this.clock,
        log: this.log,
        state: this.opts.state,
        templates: { externalLabels: this.opts.externalLabels ?? {}, externalURL: this.opts.externalURL ?? '' },
        notify: (g, ts) => this.notifiers.notify(g, ts),
        emit: (ev: AlertEvent) => this.events.emit('alert', ev),
      });
    });
    const old = this.groups;
    await Promise.all(old.map((g) => g.stop()));
    for (const g of groups) {
      const prev = old.find((o) => o.key === g.key);
      if (prev) g.adoptState(prev);
      else g.restore();
    }
    await this.dropStaleState(groups);
    this.groups = groups;
    this.loaded = true;
    if (this.started) for (const g of groups) g.start();
    this.lastReload = { success: true, time: rfc3339(this.clock.now()), errors: [] };
    this.log.info('rules loaded', { files: check.files.length, groups: groups.length, rules: groups.reduce((n, g) => n + g.rules.length, 0) });
    return { ok: true, errors: [], warnings };
  }

  /** dropStaleState removes persisted alerts of rules that no longer exist. */
  private async dropStaleState(groups: readonly Group[]): Promise<void> {
    const keep = new Set<string>();
    for (const g of groups) for (const k of g.stateKeys()) keep.add(k);
    const removals: Promise<void>[] = [];
    for (const [key] of this.opts.state.entries(ALERT_STATE_PREFIX)) if (!keep.has(key)) removals.push(this.opts.state.remove(key));
    await Promise.all(removals);
  }
}
