import { SparseHistogram } from '../../model/hdr.js';
import type { QueryResult, Sample } from '../promql/api.js';

function reviveHist(h: SparseHistogram | null): SparseHistogram | null {
  // Structured cloning keeps a histogram's fields but not its class; give its methods back.
  if (h !== null && Object.getPrototypeOf(h) !== SparseHistogram.prototype) Object.setPrototypeOf(h, SparseHistogram.prototype);
  return h;
}

/** reviveSample restores a sample's histogram class after the sample crossed threads. */
export function reviveSample(s: Sample): Sample {
  reviveHist(s.h);
  return s;
}

/** reviveQueryResult restores histogram classes in a query result that crossed threads. */
export function reviveQueryResult(r: QueryResult): QueryResult {
  if (r.type === 'vector') for (const s of r.samples) reviveHist(s.h);
  else if (r.type === 'matrix') for (const s of r.series) if (s.histograms) for (const h of s.histograms) reviveHist(h);
  return r;
}
