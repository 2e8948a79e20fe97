import { EventEmitter } from 'node:events';
import type { AlertEvent } from './alert.js';
import type { RuleManager, ReloadResult } from './manager.js';
import type { NotifierSpec } from './notify.js';

/** TENANT_HEADER is the header Mimir's (and Cortex's) multi-tenant Alertmanager reads the tenant from. */
export const TENANT_HEADER = 'X-Scope-OrgID';

/** TenantRulesOptions say which files each tenant runs and how to build one tenant's manager. */
export interface TenantRulesOptions {
  /** The tenant of `--rules` (`rules:`), evaluated as before per-tenant files existed. */
  readonly defaultTenant: string;
  readonly defaultFiles: readonly string[];
  /** `tenant_rules:` — every other tenant with its rule files (paths or globs). */
  readonly tenantFiles: Readonly<Record<string, readonly string[]>>;
  /**
   * make builds the manager of one tenant: its queries run in that tenant, its recording rules
   * and ALERTS write into it, its alert state and outboxes live in a state table of its own.
   */
  readonly make: (tenant: string, files: readonly string[]) => RuleManager;
}

/** TenantReloadResult is a ReloadResult per tenant; errors in `errors` are prefixed `tenant <t>: `. */
export interface TenantReloadResult extends ReloadResult {
  readonly byTenant: ReadonlyMap<string, ReloadResult>;
}

/**
 * TenantRules runs one RuleManager per tenant: the default tenant's `--rules` and each tenant of
 * `tenant_rules`. Tenants are isolated the way the query API isolates them: a tenant's rules see
 * only its series and write only into it, the APIs show a caller only its own tenant's rules and
 * alerts, and each tenant's alert state survives a restart on its own. A reload re-reads every
 * tenant's files; a tenant whose files are bad keeps its last good rules while the others take
 * their new ones. `events` relays every tenant's 'alert' events with the event's `tenant` set,
 * for the gRPC WatchAlerts filter.
 */
export class TenantRules {
  readonly events = new EventEmitter();
  private readonly managers = new Map<string, RuleManager>();

  constructor(opts: TenantRulesOptions) {
    this.events.setMaxListeners(0);
    const all: Array<[string, readonly string[]]> = [[opts.defaultTenant, opts.defaultFiles], ...Object.entries(opts.tenantFiles)];
    for (const [tenant, files] of all) {
      const m = opts.make(tenant, files);
      m.events.on('alert', (ev: AlertEvent) => this.events.emit('alert', { ...ev, tenant }));
      this.managers.set(tenant, m);
    }
  }

  /** tenants lists every tenant that has a rule manager (the default tenant first). */
  tenants(): string[] {
    return [...this.managers.keys()];
  }

  /** start loads and schedules every tenant's rules; a tenant with bad files starts with none. */
  start(): Promise<TenantReloadResult> {
    return this.each((m) => m.start());
  }

  /** reload re-reads every tenant's files; `ok` only when every tenant's were taken. */
  reload(): Promise<TenantReloadResult> {
    return this.each((m) => m.reload());
  }

  async stop(): Promise<void> {
    await Promise.all([...this.managers.values()].map((m) => m.stop()));
  }

  /** rulesData is the `data` of GET /api/v1/rules for a caller of `tenant`. */
  rulesData(tenant: string, type?: 'alert' | 'record'): Record<string, unknown> {
    return this.managers.get(tenant)?.rulesData(type) ?? { groups: [] };
  }

  /** alertsData is the `data` of GET /api/v1/alerts for a caller of `tenant`. */
  alertsData(tenant: string): Record<string, unknown> {
    return this.managers.get(tenant)?.alertsData() ?? { alerts: [] };
  }

  /** idle resolves when no tenant has an evaluation or a delivery in flight (for tests). */
  async idle(): Promise<void> {
    await Promise.all([...this.managers.values()].map((m) => m.idle()));
  }

  private async each(fn: (m: RuleManager) => Promise<ReloadResult>): Promise<TenantReloadResult> {
    const entries = [...this.managers];
    const results = await Promise.all(entries.map(([, m]) => fn(m)));
    const byTenant = new Map<string, ReloadResult>();
    const errors: string[] = [];
    const warnings: string[] = [];
    entries.forEach(([tenant], i) => {
      const r = results[i]!;
      byTenant.set(tenant, r);
      const tag = this.managers.size > 1 ? `tenant ${tenant}: ` : '';
      for (const e of r.errors) errors.push(tag + e);
      for (const w of r.warnings) warnings.push(tag + w);
    });
    return { ok: results.every((r) => r.ok), errors, warnings, byTenant };
  }
}

/**
 * tenantNotifiers are the notifiers of a tenant's rules: the configured ones, each sending
 * `X-Scope-OrgID: <tenant>` for a tenant other than the default one, so a multi-tenant
 * Alertmanager (Mimir, Cortex) files the alerts under that tenant. A notifier whose configured
 * headers already name X-Scope-OrgID keeps its own value (the operator routed it on purpose).
 * The default tenant's notifications are unchanged.
 */
export function tenantNotifiers(specs: readonly NotifierSpec[], tenant: string, defaultTenant: string): NotifierSpec[] {
  if (tenant === defaultTenant) return [...specs];
  return specs.map((s) => {
    const headers = s.headers ?? {};
    if (Object.keys(headers).some((h) => h.toLowerCase() === TENANT_HEADER.toLowerCase())) return s;
    return { ...s, headers: { ...headers, [TENANT_HEADER]: tenant } };
  });
}

/** tenantStateTable names the state table of a tenant's alert state and outboxes ('rules' for the default tenant, as before). */
export function tenantStateTable(tenant: string, defaultTenant: string): string {
  return tenant === defaultTenant ? 'rules' : `rules/${tenant}`;
}
