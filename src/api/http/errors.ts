import type { FastifyReply } from 'fastify';
import { QueryError } from '../../query/promql/api.js';

/** ApiErrorType is Prometheus' errorType vocabulary. */
export type ApiErrorType = 'bad_data' | 'execution' | 'timeout' | 'canceled' | 'internal' | 'not_found' | 'unavailable';

/** STATUS_BY_TYPE is the HTTP status Prometheus answers for each errorType. */
export const STATUS_BY_TYPE: Readonly<Record<ApiErrorType, number>> = {
  bad_data: 400,
  execution: 422,
  timeout: 503,
  canceled: 503,
  internal: 500,
  not_found: 404,
  unavailable: 503,
};

/** ApiError is an error answered with Prometheus' error body. */
export class ApiError extends Error {
  readonly type: ApiErrorType;
  constructor(type: ApiErrorType, message: string) {
    super(message);
    this.type = type;
  }
}

/** sendError writes `{"status":"error","errorType":..,"error":..}` with the matching status code. */
export function sendError(reply: FastifyReply, err: unknown): FastifyReply {
  let type: ApiErrorType = 'internal';
  let message = String(err);
  if (err instanceof ApiError || err instanceof QueryError) {
    type = err.type;
    message = err.message;
  } else if (err instanceof Error) {
    message = err.message;
  }
  return reply.code(STATUS_BY_TYPE[type]).send({ status: 'error', errorType: type, error: message });
}
