import { mkdirSync } from 'node:fs';
import type { Config } from './config/schema.js';
import { formatAddress, isLoopback, type ListenAddress } from './config/address.js';
import type { Logger } from './self/log.js';
import { VERSION } from './version.js';
import { openStore } from './store/open.js';
import type { Store } from './store/interface.js';
import { Pipeline } from './pipeline/router.js';
import { createEngine, parseMatchers } from './query/promql/engine.js';
import { QueryPool, DEFAULT_JOB_MODULES } from './query/pool/pool.js';
import { COST_JOB_MODULE, runDayDigest } from './cost/jobs.js';
import { mappingFingerprint } from './cost/day-digest.js';
import { refreshDayDigests } from './cost/day-digest-refresh.js';
import { reviveSample } from './query/pool/revive.js';
import { buildHttpServer } from './api/http/server.js';
import type { ReadinessCheck } from './api/http/deps.js';
import { startStatsd } from './ingest/statsd/listen.js';
import { remoteReadRoutes } from './query/remote-read/routes.js';
import { startGrpcApi } from './api/grpc/server.js';
import { startOtlpGrpc } from './ingest/otlp/grpc.js';
import { startOtlpHttp } from './ingest/otlp/http.js';
import { OtlpReceiver } from './ingest/otlp/receiver.js';
import { remoteWriteRoutes } from './ingest/remote-write/routes.js';
import { RuleManager } from './rules/index.js';
import { TenantRules, tenantNotifiers, tenantStateTable } from './rules/tenant-rules.js';
import { storeRuleWriter } from './rules/store-writer.js';
import type { QueryResult, Sample } from './query/promql/api.js';
import { DEFAULT_TENANT } from './model/metric-kind.js';
import { registerProcessMetrics } from './self/process-metrics.js';
import { Authenticator } from './model/auth.js';
import { tenantOf as httpTenantOf } from './api/http/auth.js';
import { grpcAuth } from './api/grpc/auth.js';
import { ReloadableGrpcCredentials, readTls } from './wire/tls.js';
import { CostSink } from './cost/cost-sink.js';
import { dimensionMap, type Dimension } from './cost/dimensions.js';
import { loadPriceTable } from './cost/prices.js';
import { analyticsRoutes } from './api/http/analytics.js';
import { grpcCosts } from './api/grpc/costs.js';
import { RemoteWriteExporter } from './export/remote-write/shipper.js';

/** Daemon is a running tallyd: what tests and the embedding API hold. */
export interface Daemon {
  readonly store: Store;
  readonly pipeline: Pipeline;
  readonly rules: TenantRules;
  /** reloadTls re-reads `tls.cert_file`/`tls.key_file` for every TLS listener (SIGHUP). */
  reloadTls(): void;
  /** costs is the cost-deriving sink every ingest path writes through (SPEC section 7). */
  readonly costs: CostSink;
  /** reloadPricing re-reads `--pricing` (or the built-in table); a bad file keeps the old table. */
  reloadPricing(): void;
  /**
   * query is the daemon's one entry for PromQL evaluation outside the HTTP/gRPC surfaces (the
   * embedding API uses it): bounded by the configured query timeout and sample limit.
   */
  readonly query: DaemonQueries;
  /** otlp decodes OTLP protobuf Export requests into the pipeline (in-process OTel exporter). */
  readonly otlp: OtlpReceiver;
  /** remoteWrite ships closed windows to the `remote_write` targets (null without targets). */
  readonly remoteWrite: RemoteWriteExporter | null;
  /** stop closes listeners, flushes every open window, commits and closes the store. */
  stop(): Promise<void>;
}

/** DaemonQueries evaluate PromQL for one tenant; times are unix ms. */
export interface DaemonQueries {
  instant(expr: string, timeMs: number, tenant?: string): Promise<QueryResult>;
  range(expr: string, startMs: number, endMs: number, stepMs: number, tenant?: string): Promise<QueryResult>;
}

/** StartOptions are what an embedder may change about how the daemon starts. */
export interface StartOptions {
  /** Spawn the query workers on the first query instead of at start (the embedded library). */
  readonly lazyQueryWorkers?: boolean;
}

type Closer = { name: string; close: () => Promise<void> };

/** COMPACT_INTERVAL_MS is how often closed raw windows are rolled up and retention applied. */
const COMPACT_INTERVAL_MS = 60_000;
/** DIGEST_DAY_TIMEOUT_MS bounds one day digest's build (a day of every LLM series of a tenant). */
const DIGEST_DAY_TIMEOUT_MS = 10 * 60_000;

/**
 * startDaemon is the composition root: open the store, start the workers, bind the listeners.
 * Stopping runs the same steps in reverse. Data flows one way: listeners push into the pipeline,
 * the pipeline writes the store, the query surfaces read it.
 */
export async function startDaemon(cfg: Config, log: Logger, opts: StartOptions = {}): Promise<Daemon> {
  const startTimeMs = Date.now();
  mkdirSync(cfg.dataDir, { recursive: true });
  const store = await openStore({ dataDir: cfg.dataDir, rawResolutionMs: cfg.flushIntervalMs, tiers: cfg.tiers });
  const closers: Closer[] = [];
  const listening = new Map<string, boolean>();
  const auth = new Authenticator(cfg.tokens);
  const tlsReloaders: Array<() => void> = [];
  try {
    const pipeline = new Pipeline({
      store: { dataDir: cfg.dataDir, rawResolutionMs: cfg.flushIntervalMs, tiers: cfg.tiers },
      seriesTtlMs: cfg.seriesTtlMs,
      buckets: cfg.histogramBuckets,
      limits: {
        maxLabelsPerSeries: cfg.limits.labelsPerSeries,
        maxLabelNameBytes: cfg.limits.labelNameLength,
        maxLabelValueBytes: cfg.limits.labelValueLength,
        maxSeriesPerTenant: cfg.limits.seriesPerTenant,
        maxSeriesPerMetric: cfg.limits.seriesPerMetric,
      },
    });
    await pipeline.start();
    closers.push({ name: 'pipeline', close: () => pipeline.close() });
    // Every ingest path writes through the cost sink, so tokens are priced whichever path brought them.
    const costDimensions = dimensionMap(cfg.cost.dimensions as Partial<Record<Dimension, readonly string[]>>);
    const costs = new CostSink(pipeline, {
      dimensions: costDimensions,
      prices: loadPriceTable(cfg.pricing),
      // Baselines of cumulative token streams survive a restart (next to the re-price records).
      state: store.state('cost'),
      onStateError: (err) => log.warn('cost stream baseline not saved; retried at the next flush', { component: 'cost', err: String(err) }),
    });

    let remoteWrite: RemoteWriteExporter | null = null;
    if (cfg.remoteWrite.length > 0) {
      const exporter = new RemoteWriteExporter({
        targets: cfg.remoteWrite,
        querier: () => store.querier(),
        state: (table) => store.state(table),
        resolutionMs: cfg.flushIntervalMs,
        flushClosed: () => pipeline.flushClosed(),
        tenants: [...new Set([DEFAULT_TENANT, cfg.statsdTenant, ...cfg.tokens.flatMap((t) => (t.tenant ? [t.tenant] : [])), ...Object.keys(cfg.tenantRules)])],
        defaultTenant: DEFAULT_TENANT,
        externalLabels: cfg.externalLabels,
        log: log.child({ component: 'remote_write' }),
      });
      exporter.start();
      remoteWrite = exporter;
      // Closed before the pipeline: what is still queued stays on disk for the next start.
      closers.push({ name: 'remote_write', close: () => exporter.stop() });
    }

    registerProcessMetrics(() => store.stats().bytes);
    // Every query runs on the query workers, each with its own store handle: the main thread
    // only receives ingest, routes, and answers cheap endpoints (SPEC section 5, Evaluation).
    const queries = new QueryPool({
      size: cfg.queryWorkers,
      // One more thread only for rules, so a group is never late behind dashboard queries.
      ruleWorkers: 1,
      queueLength: cfg.limits.queryQueue,
      // Analytics (SPEC section 7) run on the same workers as PromQL.
      jobModules: [...DEFAULT_JOB_MODULES, COST_JOB_MODULE],
      store: { dataDir: cfg.dataDir, rawResolutionMs: cfg.flushIntervalMs, tiers: cfg.tiers },
      limits: { maxSamples: cfg.limits.queryMaxSamples, maxSeries: cfg.limits.queryMaxSeries },
      lazy: opts.lazyQueryWorkers === true,
      log: (msg, fields) => log.error(msg, { component: 'query', ...fields }),
    });
    // Listeners bind while the workers load; a query that arrives first waits in the queue.
    if (opts.lazyQueryWorkers !== true) {
      queries.start().catch((err) => log.error('query worker failed to start; it is retried', { err: String(err) }));
    }
    closers.push({ name: 'query workers', close: () => queries.close() });
    const engine = createEngine();
    const ruleWriter = storeRuleWriter(store);
    // One rule manager per tenant (src/rules/tenant-rules.ts): `--rules` for the default tenant,
    // `tenant_rules` for the others; each queries, writes and keeps its alert state in its tenant.
    const rules = new TenantRules({
      defaultTenant: DEFAULT_TENANT,
      defaultFiles: cfg.rules,
      tenantFiles: cfg.tenantRules,
      make: (tenant, files) => new RuleManager({
        files,
        // Rules take the 'rules' lane: they never wait behind a queue of dashboard queries, and
        // never hold every worker.
        queryFn: async (expr: string, tMs: number): Promise<Sample[]> => {
          const r = await queries.run('instant', { tenant, expr, timeMs: tMs, encoding: 'result' }, { deadlineMs: Date.now() + cfg.limits.queryTimeoutMs, lane: 'rules' });
          if (typeof r === 'string') return [];
          if (r.type === 'vector') return r.samples.map(reviveSample);
          if (r.type === 'scalar') return [{ labels: [], t: r.t, v: r.v, h: null }];
          return [];
        },
        parseCheck: (expr: string) => engine.parseCheck(expr),
        write: ruleWriter,
        state: store.state(tenantStateTable(tenant, DEFAULT_TENANT)),
        notifiers: tenantNotifiers(cfg.notifiers, tenant, DEFAULT_TENANT),
        externalLabels: cfg.externalLabels,
        externalURL: cfg.externalUrl || `http://${formatAddress(cfg.http)}`,
        evaluationIntervalMs: cfg.evaluationIntervalMs,
        tenant,
        log: log.child(tenant === DEFAULT_TENANT ? { component: 'rules' } : { component: 'rules', tenant }),
      }),
    });
    const readiness: ReadinessCheck[] = [
      { name: 'store', check: () => true },
      { name: 'workers', check: () => pipeline.healthy() },
    ];
    const listenerCheck = (name: string) => readiness.push({ name, check: () => listening.get(name) === true });

    warnIfExposed(cfg, log);

    const http = await buildHttpServer({
      queries,
      parseMatchers,
      tenantOf: httpTenantOf,
      auth,
      tls: cfg.tls,
      limits: cfg.limits,
      flush: () => pipeline.flushNow(),
      compact: async () => {
        await pipeline.flushNow();
        await store.compact();
      },
      tsdbStatus: () => store.stats(),
      exposition: (t: string) => pipeline.exposition(t),
      rules,
      readiness,
      log: log.child({ component: 'http' }),
      version: VERSION,
      startTimeMs,
    }, [
      { plugin: remoteReadRoutes, options: { queries, tenantOf: httpTenantOf, bodyLimit: cfg.limits.requestBodyBytes, timeoutMs: cfg.limits.queryTimeoutMs, sampleLimit: cfg.limits.queryMaxSamples } },
      { plugin: remoteWriteRoutes, options: { sink: costs, maxBytes: cfg.limits.requestBodyBytes, tenantOf: httpTenantOf } },
      {
        plugin: analyticsRoutes,
        options: {
          queries,
          timeoutMs: cfg.limits.queryTimeoutMs,
          dimensions: () => costDimensions,
          repriceDeps: () => ({ querier: store.querier(), appender: () => store.appender(), state: store.state('cost'), prices: costs.priceTable() }),
        },
      },
    ]);
    if (cfg.tls) {
      const files = cfg.tls;
      tlsReloaders.push(() => (http.server as import('node:https').Server).setSecureContext(readTls(files)));
    }
    if (cfg.http.port !== 0) {
      listenerCheck('http');
      await http.listen({ host: cfg.http.host, port: cfg.http.port });
      listening.set('http', true);
      closers.push({ name: 'http', close: () => http.close() });
      log.info('listening', { listener: 'http', address: formatAddress(cfg.http) });
    }

    if (cfg.statsd.port !== 0) {
      listenerCheck('statsd');
      const statsd = await startStatsd({
        host: cfg.statsd.host,
        port: cfg.statsd.port,
        sink: costs,
        tenant: cfg.statsdTenant,
        // With auth configured, StatsD (which carries no credentials) only accepts listed sources.
        allow: auth.enabled || cfg.statsdAllowExplicit ? [...cfg.statsdAllow] : undefined,
        log: (msg: string, fields?: Record<string, unknown>) => log.warn(msg, { component: 'statsd', ...fields }),
      });
      listening.set('statsd', true);
      closers.push({ name: 'statsd', close: () => statsd.close() });
      log.info('listening', { listener: 'statsd', address: formatAddress(cfg.statsd), transports: 'udp,tcp' });
    }

    const otlpReceiver = new OtlpReceiver({ sink: costs, promoteResourceAttributes: cfg.promoteResourceAttributes, traceAttributionWaitMs: cfg.cost.traceAttributionWaitMs });
    // Closed after the OTLP listeners, before the pipeline: call spans still waiting are written.
    closers.push({ name: 'otlp-trace-attribution', close: async () => otlpReceiver.close() });
    const otlpLog = (msg: string, fields?: Record<string, unknown>) => log.warn(msg, { component: 'otlp', ...fields });
    for (const [name, addr, start] of [['otlp-grpc', cfg.otlpGrpc, startOtlpGrpc], ['otlp-http', cfg.otlpHttp, startOtlpHttp]] as const) {
      if (addr.port === 0) continue;
      listenerCheck(name);
      const h = await start({
        address: formatAddress(addr),
        sink: costs,
        receiver: otlpReceiver,
        maxBytes: cfg.limits.requestBodyBytes,
        promoteResourceAttributes: cfg.promoteResourceAttributes,
        log: otlpLog,
        auth,
        tls: cfg.tls,
      });
      if (h.reloadTls) tlsReloaders.push(h.reloadTls);
      listening.set(name, true);
      closers.push({ name, close: () => h.close() });
      log.info('listening', { listener: name, address: formatAddress(addr) });
    }

    if (cfg.grpc.port !== 0) {
      listenerCheck('grpc');
      const grpcTls = cfg.tls ? new ReloadableGrpcCredentials(cfg.tls) : null;
      if (grpcTls) tlsReloaders.push(() => grpcTls.reload());
      const grpc = await startGrpcApi({
        address: formatAddress(cfg.grpc),
        auth: grpcAuth(auth),
        credentials: grpcTls?.credentials,
        queries,
        queryTimeoutMs: cfg.limits.queryTimeoutMs,
        alertEvents: rules.events,
        costs: grpcCosts(queries),
        log: log.child({ component: 'grpc' }),
      });
      listening.set('grpc', true);
      closers.push({ name: 'grpc', close: () => grpc.close() });
      log.info('listening', { listener: 'grpc', address: formatAddress(cfg.grpc) });
    }

    // Rollup and retention run in the background, in bounded batches that yield to the event loop.
    // After each pass, the day digests of analytics catch up with the days it settled (each built
    // on a query worker; one refresh at a time).
    const digestsStop = new AbortController();
    let digesting: Promise<void> | null = null;
    const refreshDigests = (): void => {
      const ds = store.digests;
      if (ds === undefined || digesting !== null) return;
      digesting = refreshDayDigests(ds, mappingFingerprint(costDimensions), (tenant, dayMs, span) =>
        runDayDigest(queries, { tenant, dayMs, span, dimensions: costDimensions }, { deadlineMs: Date.now() + DIGEST_DAY_TIMEOUT_MS, signal: digestsStop.signal }), digestsStop.signal)
        .then((r) => {
          if (r.built + r.removed > 0) log.info('analytics day digests refreshed', { component: 'cost', built: r.built, removed: r.removed });
          if (r.hoursBuilt + r.hoursRemoved > 0) log.debug('analytics hour digests refreshed', { component: 'cost', built: r.hoursBuilt, removed: r.hoursRemoved });
          if (r.stampsPruned > 0) log.debug('day and hour stamps before the retention pruned', { component: 'cost', pruned: r.stampsPruned });
        })
        .catch((err) => { if (!digestsStop.signal.aborted) log.warn('analytics day digests not refreshed; answers read those days from the series', { component: 'cost', err: String(err) }); })
        .finally(() => { digesting = null; });
    };
    const compactTimer = setInterval(() => {
      store.compact().then(refreshDigests, (err) => log.error('compaction failed', { err }));
    }, COMPACT_INTERVAL_MS);
    compactTimer.unref();
    closers.push({ name: 'compaction', close: async () => {
      clearInterval(compactTimer);
      digestsStop.abort();
      await digesting;
    } });

    const ruleLoad = await rules.start();
    closers.push({ name: 'rules', close: () => rules.stop() });
    if (!ruleLoad.ok) log.error('rule files refused; no rules are evaluated until a reload succeeds', { errors: ruleLoad.errors });
    for (const w of ruleLoad.warnings) log.warn('rule file repaired', { warning: w });

    let stopping: Promise<void> | null = null;
    return {
      store,
      pipeline,
      rules,
      reloadTls() {
        for (const r of tlsReloaders) r();
      },
      costs,
      reloadPricing() {
        costs.setPrices(loadPriceTable(cfg.pricing));
      },
      remoteWrite,
      otlp: otlpReceiver,
      query: {
        instant: async (expr, timeMs, t = DEFAULT_TENANT) =>
          queries.run('instant', { tenant: t, expr, timeMs, encoding: 'result' }, { deadlineMs: Date.now() + cfg.limits.queryTimeoutMs }) as Promise<QueryResult>,
        range: async (expr, startMs, endMs, stepMs, t = DEFAULT_TENANT) =>
          queries.run('range', { tenant: t, expr, startMs, endMs, stepMs, encoding: 'result' }, { deadlineMs: Date.now() + cfg.limits.queryTimeoutMs }) as Promise<QueryResult>,
      },
      stop() {
        stopping ??= (async () => {
          // Listeners first (stop accepting), then the pipeline (flush every open window), then the store.
          for (const c of [...closers].reverse()) {
            try {
              await c.close();
            } catch (err) {
              log.error('stop failed', { component: c.name, err });
            }
          }
          await store.close();
        })();
        return stopping;
      },
    };
  } catch (err) {
    for (const c of [...closers].reverse()) await c.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw err;
  }
}

/**
 * warnIfExposed warns about every non-loopback listener that anyone who reaches it may use:
 * without tokens all of them; with tokens only StatsD (it carries no credentials) when
 * `statsd.allow` admits every address.
 */
function warnIfExposed(cfg: Config, log: Logger): void {
  const authed: Array<[string, ListenAddress]> = [['http', cfg.http], ['grpc', cfg.grpc], ['otlp-grpc', cfg.otlpGrpc], ['otlp-http', cfg.otlpHttp]];
  const exposed = (a: ListenAddress) => a.port !== 0 && !isLoopback(a.host);
  if (cfg.tokens.length === 0) {
    for (const [name, a] of authed) {
      if (exposed(a)) log.warn('listener bound to a non-loopback address with no auth configured', { listener: name, address: formatAddress(a) });
    }
  }
  const statsdOpen = cfg.tokens.length === 0 && !cfg.statsdAllowExplicit ? true : cfg.statsdAllow.some((c) => /\/0$/.test(c.trim()));
  if (exposed(cfg.statsd) && statsdOpen) {
    log.warn('StatsD bound to a non-loopback address accepts from every source (StatsD carries no credentials); restrict it with statsd.allow', { listener: 'statsd', address: formatAddress(cfg.statsd) });
  }
}

/**
 * runDaemon starts tallyd and resolves to the exit code once SIGTERM or SIGINT stopped it:
 * stop accepting, flush every open window, commit, exit 0 (SPEC section 2).
 */
export async function runDaemon(cfg: Config, log: Logger): Promise<number> {
  const daemon = await startDaemon(cfg, log);
  log.info('tallyd started', { version: VERSION, data_dir: cfg.dataDir });
  return new Promise<number>((resolve) => {
    const onSignal = (sig: NodeJS.Signals) => {
      log.info('stopping', { signal: sig });
      const force = setTimeout(() => {
        log.error('stop took longer than 10 s; exiting');
        process.exit(1);
      }, 10_000);
      force.unref();
      daemon.stop().then(
        () => {
          log.info('stopped');
          resolve(0);
        },
        (err) => {
          log.error('stop failed', { err });
          resolve(1);
        },
      );
    };
    process.on('SIGHUP', () => {
      log.info('reloading rules, certificates and prices', { signal: 'SIGHUP' });
      try {
        daemon.reloadTls();
      } catch (err) {
        log.error('certificate reload failed; the previous certificate stays in use', { err: (err as Error).message });
      }
      try {
        daemon.reloadPricing();
        log.info('price table reloaded', { source: daemon.costs.priceTable().source, rows: daemon.costs.priceTable().rows.length });
      } catch (err) {
        log.error('price table reload refused; the last good table stays in force', { err: (err as Error).message });
      }
      daemon.rules.reload().then(
        (r) => (r.ok ? log.info('rules reloaded') : log.error('rule reload refused; the last good rules stay in force', { errors: r.errors })),
        (err) => log.error('rule reload failed', { err }),
      );
    });
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
}
