/** Result rendering moved to the query layer (query workers render off the main thread). */
export { formatPromFloat, histogramJson, promTime, resultJson } from '../../query/promql/result-json.js';

/** parsePromTime parses Prometheus' time parameter: unix seconds (float) or RFC 3339; ms or null. */
export function parsePromTime(text: string): number | null {
  if (text === '') return null;
  if (/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(text)) {
    const s = Number(text);
    return Number.isFinite(s) ? Math.round(s * 1000) : null;
  }
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text)) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}
