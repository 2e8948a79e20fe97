import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { labelsToRecord } from '../../model/labels.js';
import { Matcher } from '../../model/matcher.js';
import { parseDuration } from '../../config/duration.js';
import type { HttpDeps } from './deps.js';
import { ApiError, sendError } from './errors.js';
import { Params } from './params.js';
import { parsePromTime, resultJson } from './prom-format.js';

/** MAX_POINTS_PER_SERIES is Prometheus' limit on range-query resolution. */
const MAX_POINTS_PER_SERIES = 11_000;
const MIN_TIME = -9_223_372_036_854; // Prometheus' minimum time, in ms
const MAX_TIME = 9_223_372_036_854;

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

function matcherSets(deps: HttpDeps, p: Params, required: boolean): Matcher[][] {
  const sels = p.all('match[]');
  if (sels.length === 0) {
    if (required) throw new ApiError('bad_data', 'no match[] parameter provided');
    return [[]];
  }
  return sels.map((s) => {
    const ms = deps.parseMatchers(s);
    if (ms.every((m) => m.matchesEmpty())) throw new ApiError('bad_data', `match[] must contain at least one non-empty matcher`);
    return ms;
  });
}

/** promApiRoutes is the Prometheus HTTP API: query, query_range, series, labels, values, metadata. */
export async function promApiRoutes(app: FastifyInstance, opts: { deps: HttpDeps }): Promise<void> {
  const deps = opts.deps;
  const both = (url: string, handler: (req: FastifyRequest, reply: FastifyReply) => unknown) => {
    app.get(url, handler);
    app.post(url, handler);
  };
  const wrap = (fn: (p: Params, req: FastifyRequest) => unknown) => async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      const data = await fn(new Params(req), req);
      return reply.send({ status: 'success', data });
    } catch (err) {
      return sendError(reply, err);
    }
  };

  both('/api/v1/query', wrap((p, req) => {
    const expr = p.get('query');
    if (expr === '') throw new ApiError('bad_data', 'invalid parameter "query": query must not be empty');
    const t = timeParam(p, 'time', Date.now());
    const r = deps.engine.instant(deps.querier(), deps.tenantOf(req), expr, t, {
      deadlineMs: deadline(deps, p),
      maxSamples: deps.limits.queryMaxSamples,
    });
    return resultJson(r);
  }));

  both('/api/v1/query_range', wrap((p, req) => {
    const expr = p.get('query');
    const start = timeParam(p, 'start', null);
    const end = timeParam(p, 'end', null);
    if (end < start) throw new ApiError('bad_data', 'invalid parameter "end": end timestamp must not be before start time');
    const step = durationParam(p, 'step');
    if (step === null) throw new ApiError('bad_data', 'invalid parameter "step": cannot parse "" to a valid duration');
    if (step <= 0) throw new ApiError('bad_data', 'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer');
    if ((end - start) / step > MAX_POINTS_PER_SERIES) {
      throw new ApiError('bad_data', 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)');
    }
    if (expr === '') throw new ApiError('bad_data', 'invalid parameter "query": query must not be empty');
    const r = deps.engine.range(deps.querier(), deps.tenantOf(req), expr, start, end, step, {
      deadlineMs: deadline(deps, p),
      maxSamples: deps.limits.queryMaxSamples,
    });
    return resultJson(r);
  }));

  both('/api/v1/series', wrap((p, req) => {
    const sets = matcherSets(deps, p, true);
    const start = timeParam(p, 'start', MIN_TIME);
    const end = timeParam(p, 'end', MAX_TIME);
    const q = deps.querier();
    const tenant = deps.tenantOf(req);
    const seen = new Map<string, Record<string, string>>();
    for (const ms of sets) {
      for (const l of q.series(tenant, ms, start, end)) {
        const rec = labelsToRecord(l);
        seen.set(JSON.stringify(rec), rec);
      }
    }
    return [...seen.values()];
  }));

  both('/api/v1/labels', wrap((p, req) => {
    const start = timeParam(p, 'start', MIN_TIME);
    const end = timeParam(p, 'end', MAX_TIME);
    const names = new Set<string>();
    for (const ms of matcherSets(deps, p, false)) for (const n of deps.querier().labelNames(deps.tenantOf(req), ms, start, end)) names.add(n);
    return [...names].sort();
  }));

  app.get('/api/v1/label/:name/values', wrap((p, req) => {
    const name = (req.params as { name: string }).name;
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name)) throw new ApiError('bad_data', `invalid label name: "${name}"`);
    const start = timeParam(p, 'start', MIN_TIME);
    const end = timeParam(p, 'end', MAX_TIME);
    const values = new Set<string>();
    for (const ms of matcherSets(deps, p, false)) for (const v of deps.querier().labelValues(deps.tenantOf(req), name, ms, start, end)) values.add(v);
    return [...values].sort();
  }));

  app.get('/api/v1/metadata', wrap((p, req) => {
    const metric = p.get('metric');
    const limit = p.get('limit') === '' ? Infinity : Number(p.get('limit'));
    const out: Record<string, Array<{ type: string; help: string; unit: string }>> = {};
    let n = 0;
    for (const m of deps.querier().metadata(deps.tenantOf(req), metric || undefined)) {
      if (n >= limit) break;
      (out[m.metric] ??= []).push({ type: m.type, help: m.help, unit: m.unit });
      n++;
    }
    return out;
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
