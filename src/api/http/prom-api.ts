import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseDuration } from '../../config/duration.js';
import { MAX_TIME, MIN_TIME, checkRangeRequest, checkTimeBounds, type RequestProblem } from '../../query/promql/request.js';
import type { JobOptions } from '../../query/pool/runner.js';
import type { HttpDeps } from './deps.js';
import { ApiError, sendError } from './errors.js';
import { Params } from './params.js';
import { parsePromTime } from './prom-format.js';

function timeParam(p: Params, name: string, dflt: number | null): number {
  const text = p.get(name);
  if (text === '') {
    if (dflt !== null) return dflt;
    throw new ApiError('bad_data', `invalid parameter "${name}": cannot parse "" to a valid timestamp`);
  }
  const ms = parsePromTime(text);
  if (ms === null) throw new ApiError('bad_data', `invalid parameter "${name}": cannot parse "${text}" to a valid timestamp`);
  return ms;
}

function durationParam(p: Params, name: string): number | null {
  const text = p.get(name);
  if (text === '') return null;
  if (/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(text)) {
    const s = Number(text);
    if (!Number.isFinite(s)) throw new ApiError('bad_data', `invalid parameter "${name}": cannot parse "${text}" to a valid duration`);
    return Math.round(s * 1000);
  }
  const ms = parseDuration(text);
  if (ms === null) throw new ApiError('bad_data', `invalid parameter "${name}": cannot parse "${text}" to a valid duration`);
  return ms;
}

function deadline(deps: HttpDeps, p: Params): number {
  const t = durationParam(p, 'timeout');
  const ms = t === null || t <= 0 ? deps.limits.queryTimeoutMs : Math.min(t, deps.limits.queryTimeoutMs);
  return Date.now() + ms;
}

/**
 * selectors checks the `match[]` selectors on the main thread (parsing is cheap), so a bad one is
 * answered without taking a place in the query queue; the worker parses them again.
 */
function selectors(deps: HttpDeps, p: Params, required: boolean): string[] {
  const sels = p.all('match[]');
  if (sels.length === 0 && required) throw new ApiError('bad_data', 'no match[] parameter provided');
  for (const s of sels) {
    const ms = deps.parseMatchers(s);
    if (ms.every((m) => m.matchesEmpty())) throw new ApiError('bad_data', `match[] must contain at least one non-empty matcher`);
  }
  return sels;
}

function refuse(problem: RequestProblem | null): void {
  if (problem === null) return;
  throw new ApiError('bad_data', problem.param === null ? problem.message : `invalid parameter "${problem.param}": ${problem.message}`);
}

/**
 * jobOptions bounds a query job by the request's deadline and cancels it when the client goes
 * away (the response closes before it was written).
 */
function jobOptions(deps: HttpDeps, p: Params, reply: FastifyReply): JobOptions {
  const ac = new AbortController();
  const res = reply.raw;
  const onClose = () => {
    if (!res.writableEnded) ac.abort();
  };
  res.once('close', onClose);
  return { deadlineMs: deadline(deps, p), signal: ac.signal };
}

/** promApiRoutes is the Prometheus HTTP API: query, query_range, series, labels, values, metadata. */
export async function promApiRoutes(app: FastifyInstance, opts: { deps: HttpDeps }): Promise<void> {
  const deps = opts.deps;
  const both = (url: string, handler: (req: FastifyRequest, reply: FastifyReply) => unknown) => {
    app.get(url, handler);
    app.post(url, handler);
  };
  const wrap = (fn: (p: Params, req: FastifyRequest, reply: FastifyReply) => unknown) => async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      const data = await fn(new Params(req), req, reply);
      return reply.send({ status: 'success', data });
    } catch (err) {
      return sendError(reply, err);
    }
  };

  // Query results arrive from the worker as the `data` JSON text, so the main thread only
  // concatenates strings instead of rendering and stringifying large matrices.
  const raw = (fn: (p: Params, req: FastifyRequest, reply: FastifyReply) => Promise<string>) => async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      const data = await fn(new Params(req), req, reply);
      return reply.type('application/json; charset=utf-8').send(`{"status":"success","data":${data}}`);
    } catch (err) {
      return sendError(reply, err);
    }
  };

  both('/api/v1/query', raw(async (p, req, reply) => {
    const expr = p.get('query');
    if (expr === '') throw new ApiError('bad_data', 'invalid parameter "query": query must not be empty');
    const t = timeParam(p, 'time', Date.now());
    const r = await deps.queries.run('instant', { tenant: deps.tenantOf(req), expr, timeMs: t, encoding: 'prom-json' }, jobOptions(deps, p, reply));
    return r as string;
  }));

  both('/api/v1/query_range', raw(async (p, req, reply) => {
    const expr = p.get('query');
    const start = timeParam(p, 'start', null);
    const end = timeParam(p, 'end', null);
    if (end < start) refuse(checkTimeBounds(start, end));
    const step = durationParam(p, 'step');
    if (step === null) throw new ApiError('bad_data', 'invalid parameter "step": cannot parse "" to a valid duration');
    refuse(checkRangeRequest(start, end, step));
    if (expr === '') throw new ApiError('bad_data', 'invalid parameter "query": query must not be empty');
    const r = await deps.queries.run('range', { tenant: deps.tenantOf(req), expr, startMs: start, endMs: end, stepMs: step, encoding: 'prom-json' }, jobOptions(deps, p, reply));
    return r as string;
  }));

  both('/api/v1/series', wrap((p, req, reply) => {
    const match = selectors(deps, p, true);
    const start = timeParam(p, 'start', MIN_TIME);
    const end = timeParam(p, 'end', MAX_TIME);
    return deps.queries.run('series', { tenant: deps.tenantOf(req), match, startMs: start, endMs: end }, jobOptions(deps, p, reply));
  }));

  both('/api/v1/labels', wrap((p, req, reply) => {
    const start = timeParam(p, 'start', MIN_TIME);
    const end = timeParam(p, 'end', MAX_TIME);
    const match = selectors(deps, p, false);
    return deps.queries.run('labels', { tenant: deps.tenantOf(req), match, startMs: start, endMs: end }, jobOptions(deps, p, reply));
  }));

  app.get('/api/v1/label/:name/values', wrap((p, req, reply) => {
    const name = (req.params as { name: string }).name;
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name)) throw new ApiError('bad_data', `invalid label name: "${name}"`);
    const start = timeParam(p, 'start', MIN_TIME);
    const end = timeParam(p, 'end', MAX_TIME);
    const match = selectors(deps, p, false);
    return deps.queries.run('labelValues', { tenant: deps.tenantOf(req), name, match, startMs: start, endMs: end }, jobOptions(deps, p, reply));
  }));

  app.get('/api/v1/metadata', wrap((p, req, reply) => {
    const metric = p.get('metric');
    const limit = p.get('limit') === '' ? Infinity : Number(p.get('limit'));
    return deps.queries.run('metadata', { tenant: deps.tenantOf(req), metric, limit }, jobOptions(deps, p, reply));
  }));

  both('/api/v1/query_exemplars', wrap(() => []));

  app.get('/api/v1/status/buildinfo', wrap(() => ({
    version: deps.version,
    revision: '',
    branch: 'main',
    buildUser: 'tallyd',
    buildDate: '',
    goVersion: `node ${process.version}`,
  })));

  app.get('/api/v1/status/runtimeinfo', wrap(() => ({
    startTime: new Date(deps.startTimeMs).toISOString(),
    CWD: process.cwd(),
    reloadConfigSuccess: true,
    lastConfigTime: new Date(deps.startTimeMs).toISOString(),
    goroutineCount: 0,
    GOMAXPROCS: 1,
    storageRetention: '90d',
  })));
}
