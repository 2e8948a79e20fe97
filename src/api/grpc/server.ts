import type { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import type { Matcher } from '../../model/matcher.js';
import { DEFAULT_TENANT } from '../../model/metric-kind.js';
import type { QueryResult } from '../../query/promql/api.js';
import { parseMatchers as parsePromqlSelector } from '../../query/promql/engine.js';
import { MAX_TIME, MIN_TIME, checkRangeRequest, checkTimeBounds } from '../../query/promql/request.js';
import type { JobOptions, QueryRunner } from '../../query/pool/runner.js';
import { reviveQueryResult } from '../../query/pool/revive.js';
import type { Logger } from '../../self/log.js';
import { alertEventMessage, queryResponse, type AlertEventLike } from './convert.js';
import type {
  AlertEventMsg, CostsRequest, CostsResponse, LabelValuesRequest, LabelValuesResponse, QueryRangeRequest, QueryRequest,
  QueryResponse, SeriesRequest, SeriesResponse, WatchAlertsRequest,
} from './messages.js';
import { loadQueryPackage } from './service-definition.js';
import { GrpcError, toServiceError } from './status.js';

/** GrpcAuth is who a call's credentials name: their tenant (if bound to one) and scopes. */
export interface GrpcAuth {
  readonly tenant?: string | null;
  readonly scopes: readonly string[];
}

/** GrpcApiOptions are what the gRPC query API needs, as narrow functions. */
export interface GrpcApiOptions {
  /** address to bind, "host:port"; port 0 picks a free one. */
  readonly address: string;
  /** queries runs every query off the main thread (the query worker pool). */
  readonly queries: QueryRunner;
  /**
   * parseMatchers parses one series selector (`up{job="x"}`); throws QueryError('bad_data').
   * Default: the PromQL engine's parseMatchers.
   */
  readonly parseMatchers?: (selector: string) => Matcher[];
  /**
   * tenantOf names the tenant a call reads (e.g. an admin token choosing one through
   * `x-scope-orgid` metadata). Default: the token's tenant, else `default`.
   */
  readonly tenantOf?: (metadata: grpc.Metadata, auth: GrpcAuth | null) => string;
  /** alertEvents emits `'alert'` with an AlertEventLike on every alert state change. */
  readonly alertEvents?: EventEmitter;
  /** costs answers Costs; absent means the RPC answers UNIMPLEMENTED. */
  readonly costs?: (req: CostsRequest, tenant: string, opts: JobOptions) => Promise<CostsResponse>;
  /**
   * auth checks a call's metadata (`authorization: Bearer ...`). It returns who the caller is,
   * or an Error: UNAUTHENTICATED unless the error carries another gRPC `code`. Calls whose
   * scopes lack `query` get PERMISSION_DENIED. Absent means no auth.
   */
  readonly auth?: (metadata: grpc.Metadata) => GrpcAuth | Error;
  /** Longest a query may run when the client's deadline is later or absent; default 30 s. */
  readonly queryTimeoutMs?: number;
  /** Server credentials (TLS); default insecure. */
  readonly credentials?: grpc.ServerCredentials;
  readonly log: Logger;
}

/** GrpcApi is the running server. */
export interface GrpcApi {
  /** port is the bound port (useful when the address asked for port 0). */
  readonly port: number;
  /** close ends every WatchAlerts stream, then stops the server, waiting for unary calls. */
  close(): Promise<void>;
}

const SHUTDOWN_GRACE_MS = 5_000;
/** REFLECTION_PATH prefixes the gRPC server reflection methods (v1 and v1alpha). */
const REFLECTION_PATH = '/grpc.reflection.';

type Unary<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>) => Res | Promise<Res>;

/**
 * startGrpcApi serves `tallyd.v1.QueryService` (proto/tallyd/v1/query.proto) with server
 * reflection, and resolves once the address is bound.
 */
export async function startGrpcApi(opts: GrpcApiOptions): Promise<GrpcApi> {
  const pkgDef = loadQueryPackage();
  const pkg = grpc.loadPackageDefinition(pkgDef) as unknown as {
    tallyd: { v1: { QueryService: grpc.ServiceClientConstructor } };
  };
  const queryTimeoutMs = opts.queryTimeoutMs ?? 30_000;
  const log = opts.log;
  const parseMatchers = opts.parseMatchers ?? parsePromqlSelector;
  const streams = new Set<() => void>();

  /** authorize resolves the tenant of a call or throws the matching gRPC error. */
  const authorize = (metadata: grpc.Metadata): string => {
    let who: GrpcAuth | null = null;
    if (opts.auth) {
      const r = opts.auth(metadata);
      if (r instanceof Error) {
        const code = (r as { code?: unknown }).code;
        throw new GrpcError(typeof code === 'number' ? code : grpc.status.UNAUTHENTICATED, r.message);
      }
      if (!r.scopes.includes('query')) throw new GrpcError(grpc.status.PERMISSION_DENIED, 'the token lacks the query scope');
      who = r;
    }
    if (opts.tenantOf) return opts.tenantOf(metadata, who);
    return who?.tenant || DEFAULT_TENANT;
  };

  const deadlineOf = (call: grpc.ServerUnaryCall<unknown, unknown>): number => {
    const d = call.getDeadline();
    const client = d instanceof Date ? d.getTime() : d;
    const ms = Math.min(Date.now() + queryTimeoutMs, client);
    if (ms <= Date.now()) throw new GrpcError(grpc.status.DEADLINE_EXCEEDED, 'deadline exceeded before the query started');
    return ms;
  };

  /** jobOptions bounds a call's job by its deadline and cancels it when the client cancels. */
  const jobOptions = (call: grpc.ServerUnaryCall<unknown, unknown>): JobOptions => {
    const deadlineMs = deadlineOf(call);
    const ac = new AbortController();
    if (call.cancelled) ac.abort();
    else call.once('cancelled', () => ac.abort());
    return { deadlineMs, signal: ac.signal };
  };

  const invalid = (p: { message: string } | null): void => {
    if (p !== null) throw new GrpcError(grpc.status.INVALID_ARGUMENT, p.message);
  };

  const unary = <Req, Res>(method: string, fn: Unary<Req, Res>): grpc.handleUnaryCall<Req, Res> => {
    return (call, callback) => {
      Promise.resolve()
        .then(() => fn(call))
        .then(
          (res) => callback(null, res),
          (err: unknown) => {
            const se = toServiceError(err);
            if (se.code === grpc.status.INTERNAL) log.error('grpc call failed', { method, err: String(err) });
            callback(se as grpc.ServiceError);
          },
        );
    };
  };

  const parseSets = (match: readonly string[]): Matcher[][] =>
    match.map((sel) => {
      const ms = parseMatchers(sel);
      if (ms.every((m) => m.matchesEmpty())) {
        throw new GrpcError(grpc.status.INVALID_ARGUMENT, `match ${JSON.stringify(sel)} must contain at least one non-empty matcher`);
      }
      return ms;
    });

  const impl: grpc.UntypedServiceImplementation = {
    Query: unary<QueryRequest, QueryResponse>('Query', async (call) => {
      const tenant = authorize(call.metadata);
      const req = call.request;
      if (req.expr === '') throw new GrpcError(grpc.status.INVALID_ARGUMENT, 'expr must not be empty');
      const t = req.time_ms !== 0 ? req.time_ms : Date.now();
      const r = await opts.queries.run('instant', { tenant, expr: req.expr, timeMs: t, encoding: 'result' }, jobOptions(call));
      return queryResponse(reviveQueryResult(r as QueryResult));
    }),

    QueryRange: unary<QueryRangeRequest, QueryResponse>('QueryRange', async (call) => {
      const tenant = authorize(call.metadata);
      const { expr, start_ms: start, end_ms: end, step_ms: step } = call.request;
      if (expr === '') throw new GrpcError(grpc.status.INVALID_ARGUMENT, 'expr must not be empty');
      // The step is judged before the time bounds, as this API always did.
      if (!(step > 0)) invalid(checkRangeRequest(start, start, step));
      invalid(checkRangeRequest(start, end, step));
      const r = await opts.queries.run('range', { tenant, expr, startMs: start, endMs: end, stepMs: step, encoding: 'result' }, jobOptions(call));
      return queryResponse(reviveQueryResult(r as QueryResult));
    }),

    Series: unary<SeriesRequest, SeriesResponse>('Series', async (call) => {
      const tenant = authorize(call.metadata);
      const req = call.request;
      if (req.match.length === 0) throw new GrpcError(grpc.status.INVALID_ARGUMENT, 'no match selector provided');
      const start = req.start_ms !== 0 ? req.start_ms : MIN_TIME;
      const end = req.end_ms !== 0 ? req.end_ms : MAX_TIME;
      invalid(checkTimeBounds(start, end));
      parseSets(req.match);
      const all = await opts.queries.run('series', { tenant, match: req.match, startMs: start, endMs: end }, jobOptions(call));
      return { series: all.map((labels) => ({ labels, samples: [] })) };
    }),

    LabelValues: unary<LabelValuesRequest, LabelValuesResponse>('LabelValues', async (call) => {
      const tenant = authorize(call.metadata);
      const req = call.request;
      if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(req.name)) {
        throw new GrpcError(grpc.status.INVALID_ARGUMENT, `invalid label name: ${JSON.stringify(req.name)}`);
      }
      if (req.match.length > 0) parseSets(req.match);
      const values = await opts.queries.run('labelValues', { tenant, name: req.name, match: req.match, startMs: MIN_TIME, endMs: MAX_TIME }, jobOptions(call));
      return { values };
    }),

    Costs: unary<CostsRequest, CostsResponse>('Costs', async (call) => {
      const tenant = authorize(call.metadata);
      if (!opts.costs) throw new GrpcError(grpc.status.UNIMPLEMENTED, 'cost analytics are not enabled on this server');
      return opts.costs(call.request, tenant, jobOptions(call));
    }),

    WatchAlerts: (call: grpc.ServerWritableStream<WatchAlertsRequest, AlertEventMsg>) => {
      let tenant: string;
      try {
        tenant = authorize(call.metadata);
      } catch (err) {
        // grpc-js ends a server stream with a status when the handler emits 'error' on it.
        call.emit('error', toServiceError(err));
        return;
      }
      const emitter = opts.alertEvents;
      const onEvent = (ev: AlertEventLike) => {
        if ((ev.tenant ?? DEFAULT_TENANT) !== tenant) return;
        call.write(alertEventMessage(ev));
      };
      let done = false;
      const stop = () => {
        if (done) return;
        done = true;
        emitter?.off('alert', onEvent);
        streams.delete(end);
      };
      const end = () => {
        stop();
        call.end();
      };
      emitter?.on('alert', onEvent);
      streams.add(end);
      call.on('cancelled', stop);
      call.on('close', stop);
      call.on('error', stop);
      // Headers now, so a client sees the stream is open before the first event.
      call.sendMetadata(new grpc.Metadata());
    },
  };

  // Reflection describes the query API, so it asks for the same token as a query. Its handlers
  // come from @grpc/reflection, so the check runs in an interceptor, before they see the call.
  const reflectionAuth: grpc.ServerInterceptor = (method, call) =>
    new grpc.ServerInterceptingCall(call, {
      start: (next) => {
        next({
          onReceiveMetadata: (metadata, mdNext) => {
            if (!method.path.startsWith(REFLECTION_PATH)) return mdNext(metadata);
            try {
              authorize(metadata);
            } catch (err) {
              const e = err as Partial<GrpcError>;
              call.sendStatus({ code: typeof e.code === 'number' ? e.code : grpc.status.UNAUTHENTICATED, details: String(e.message) });
              return;
            }
            mdNext(metadata);
          },
        });
      },
    });
  const server = new grpc.Server({ interceptors: [reflectionAuth] });
  server.addService(pkg.tallyd.v1.QueryService.service, impl);
  new ReflectionService(pkgDef).addToServer(server);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(opts.address, opts.credentials ?? grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });

  let closing: Promise<void> | null = null;
  return {
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const end of [...streams]) end();
        const force = setTimeout(() => server.forceShutdown(), SHUTDOWN_GRACE_MS);
        force.unref();
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      return closing;
    },
  };
}
