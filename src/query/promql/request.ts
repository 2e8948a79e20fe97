/** MAX_POINTS_PER_SERIES is Prometheus' limit on range-query resolution. */
export const MAX_POINTS_PER_SERIES = 11_000;
/** MIN_TIME and MAX_TIME are Prometheus' time bounds in ms: the defaults of series/labels queries. */
export const MIN_TIME = -9_223_372_036_854;
export const MAX_TIME = 9_223_372_036_854;

/** RequestProblem is why a request is refused, with the parameter it names (HTTP prefixes it). */
export interface RequestProblem {
  readonly param: 'end' | 'step' | null;
  readonly message: string;
}

/**
 * checkRangeRequest holds the checks every range-query surface (HTTP, gRPC) applies before
 * queuing a query, in Prometheus' order and words: end before start, step not positive, more
 * than 11,000 points per series. Null when the request is acceptable.
 */
export function checkRangeRequest(startMs: number, endMs: number, stepMs: number): RequestProblem | null {
  if (endMs < startMs) return { param: 'end', message: 'end timestamp must not be before start time' };
  if (!(stepMs > 0)) return { param: 'step', message: 'zero or negative query resolution step widths are not accepted. Try a positive integer' };
  if ((endMs - startMs) / stepMs > MAX_POINTS_PER_SERIES) {
    return { param: null, message: 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)' };
  }
  return null;
}

/** checkTimeBounds refuses a series/labels window whose end is before its start. */
export function checkTimeBounds(startMs: number, endMs: number): RequestProblem | null {
  return endMs < startMs ? { param: 'end', message: 'end timestamp must not be before start time' } : null;
}
