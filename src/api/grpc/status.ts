import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { QueryError, type QueryErrorType } from '../../query/promql/api.js';

/** GrpcError is a failure answered with a specific gRPC status code. */
export class GrpcError extends Error {
  readonly code: status;
  constructor(code: status, message: string) {
    super(message);
    this.code = code;
    this.name = 'GrpcError';
  }
}

/**
 * CODE_BY_QUERY_ERROR maps the engine's Prometheus error types to gRPC codes: a bad expression
 * is the caller's argument, an execution error depends on the data (a failed precondition),
 * a timeout is the deadline passing.
 */
export const CODE_BY_QUERY_ERROR: Readonly<Record<QueryErrorType, status>> = {
  bad_data: status.INVALID_ARGUMENT,
  execution: status.FAILED_PRECONDITION,
  timeout: status.DEADLINE_EXCEEDED,
  canceled: status.CANCELLED,
  internal: status.INTERNAL,
  unavailable: status.RESOURCE_EXHAUSTED,
};

function isStatusCode(x: unknown): x is status {
  return typeof x === 'number' && Number.isInteger(x) && x > 0 && x <= 16;
}

/**
 * toServiceError turns anything a handler threw into what grpc-js sends: GrpcError and errors
 * carrying a gRPC `code` keep it, QueryError maps by type, anything else is INTERNAL.
 */
export function toServiceError(err: unknown): Partial<ServiceError> {
  let code: status = status.INTERNAL;
  let details = String(err);
  if (err instanceof QueryError) {
    code = CODE_BY_QUERY_ERROR[err.type];
    details = err.message;
  } else if (err instanceof Error) {
    const c = (err as { code?: unknown }).code;
    if (isStatusCode(c)) code = c;
    details = err.message;
  }
  return { code, details, metadata: new Metadata() };
}
