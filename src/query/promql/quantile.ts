/**
 * Numeric helpers shared by functions and aggregations, ported from Prometheus' promql/quantile.go
 * and functions.go so results match bit for bit where the algorithm allows.
 */

/** kahanSum holds a Neumaier-compensated running sum. */
export interface KahanState {
  sum: number;
  c: number;
}

/** kahanAdd adds `inc` into a compensated sum (Prometheus' kahanSumInc). */
export function kahanAdd(s: KahanState, inc: number): void {
  const t = s.sum + inc;
  if (!Number.isFinite(t) && !Number.isNaN(t)) s.c = 0;
  else if (Math.abs(s.sum) >= Math.abs(inc)) s.c += s.sum - t + inc;
  else s.c += inc - t + s.sum;
  s.sum = t;
}

const MIN_NORMAL = 2.2250738585072014e-308;

/** almostEqual is Prometheus' util/almost.Equal. */
export function almostEqual(a: number, b: number, epsilon: number): boolean {
  if (a === b) return true;
  const absSum = Math.abs(a) + Math.abs(b);
  const diff = Math.abs(a - b);
  if (a === 0 || b === 0 || absSum < MIN_NORMAL) return diff < epsilon * MIN_NORMAL;
  return diff / Math.min(absSum, Number.MAX_VALUE) < epsilon;
}

/** Bucket is one classic histogram bucket: cumulative count of observations <= upperBound. */
export interface Bucket {
  upperBound: number;
  count: number;
}

const SMALL_DELTA_TOLERANCE = 1e-12;

/**
 * sortAndCoalesce sorts buckets by bound (stably; a run already in order is not sorted again)
 * and merges buckets with equal bounds in place, adding each count into the first bucket of its
 * bound; it returns the bucket count, or 0 when there is no +Inf bucket (both callers then
 * answer NaN). It allocates nothing: it runs at every step of every classic histogram group.
 */
function sortAndCoalesce(buckets: Bucket[]): number {
  const len = buckets.length;
  let sorted = true;
  for (let i = 1; i < len && sorted; i++) if (buckets[i]!.upperBound < buckets[i - 1]!.upperBound) sorted = false;
  if (!sorted) buckets.sort((a, b) => (a.upperBound < b.upperBound ? -1 : a.upperBound > b.upperBound ? 1 : 0));
  if (len === 0 || buckets[len - 1]!.upperBound !== Infinity) return 0;
  let n = 1;
  for (let i = 1; i < len; i++) {
    const b = buckets[i]!, last = buckets[n - 1]!;
    if (b.upperBound === last.upperBound) last.count += b.count;
    else buckets[n++] = b;
  }
  buckets.length = n;
  return n;
}

/**
 * bucketQuantile is Prometheus' BucketQuantile: sorts by bound, requires a +Inf bucket, merges
 * equal bounds, forces monotonic counts, then interpolates linearly inside the bucket holding the
 * rank (the lowest bucket starts at 0 unless its bound is <= 0; the +Inf bucket answers with the
 * highest finite bound). `buckets` is reordered and modified.
 */
export function bucketQuantile(q: number, buckets: Bucket[]): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const n = sortAndCoalesce(buckets);
  if (n === 0) return NaN;
  // Ensure monotonicity, ignoring numerically insignificant differences.
  let prev = buckets[0]!.count;
  for (let i = 1; i < n; i++) {
    const curr = buckets[i]!.count;
    if (curr === prev) continue;
    if (almostEqual(prev, curr, SMALL_DELTA_TOLERANCE) || curr < prev) {
      buckets[i]!.count = prev;
      continue;
    }
    prev = curr;
  }
  if (n < 2) return NaN;
  const observations = buckets[n - 1]!.count;
  if (observations === 0) return NaN;
  let rank = q * observations;
  // sort.Search over the first n-1 buckets.
  let lo = 0, hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (buckets[mid]!.count >= rank) hi = mid;
    else lo = mid + 1;
  }
  const b = lo;
  if (b === n - 1) return buckets[n - 2]!.upperBound;
  if (b === 0 && buckets[0]!.upperBound <= 0) return buckets[0]!.upperBound;
  let bucketStart = 0;
  const bucketEnd = buckets[b]!.upperBound;
  let count = buckets[b]!.count;
  if (b > 0) {
    bucketStart = buckets[b - 1]!.upperBound;
    count -= buckets[b - 1]!.count;
    rank -= buckets[b - 1]!.count;
  }
  return bucketStart + (bucketEnd - bucketStart) * (rank / count);
}

/**
 * bucketFraction is Prometheus' BucketFraction, histogram_fraction() over classic buckets: the
 * share of observations between `lower` and `upper`, interpolating linearly inside the buckets
 * the bounds fall in. NaN without a +Inf bucket, without observations or for a NaN bound; 0 when
 * lower >= upper. `buckets` is reordered.
 */
export function bucketFraction(lower: number, upper: number, buckets: Bucket[]): number {
  const n = sortAndCoalesce(buckets);
  if (n === 0) return NaN;
  const count = buckets[n - 1]!.count;
  if (count === 0 || Number.isNaN(lower) || Number.isNaN(upper)) return NaN;
  if (lower >= upper) return 0;
  let rank = 0, lowerRank = 0, upperRank = 0;
  let lowerSet = false, upperSet = false;
  for (let i = 0; i < n; i++) {
    const b = buckets[i]!;
    // As in Prometheus, the first bucket starts at 0 when its upper bound is positive.
    const lowerBound = i > 0 ? buckets[i - 1]!.upperBound : b.upperBound > 0 ? 0 : -Infinity;
    const upperBound = b.upperBound;
    const interpolate = (v: number): number => rank + ((b.count - rank) * (v - lowerBound)) / (upperBound - lowerBound);
    if (!lowerSet && lowerBound >= lower) {
      lowerRank = rank;
      lowerSet = true;
    }
    if (!upperSet && lowerBound >= upper) {
      upperRank = rank;
      upperSet = true;
    }
    if (lowerSet && upperSet) break;
    if (!lowerSet && lowerBound < lower && upperBound > lower) {
      lowerRank = interpolate(lower);
      lowerSet = true;
    }
    if (!upperSet && lowerBound < upper && upperBound > upper) {
      upperRank = interpolate(upper);
      upperSet = true;
    }
    if (lowerSet && upperSet) break;
    rank = b.count;
  }
  if (!lowerSet || lowerRank > count) lowerRank = count;
  if (!upperSet || upperRank > count) upperRank = count;
  return (upperRank - lowerRank) / count;
}

/**
 * quantileOf is Prometheus' quantile(): sorts `values` (in place) and interpolates between the
 * two closest ranks; NaN for no values, ±Inf for q outside [0, 1].
 */
export function quantileOf(q: number, values: number[]): number {
  if (values.length === 0 || Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  // Prometheus sorts NaN first (vectorByValueHeap Less treats NaN as smallest).
  values.sort((a, b) => (Number.isNaN(a) ? (Number.isNaN(b) ? 0 : -1) : Number.isNaN(b) ? 1 : a - b));
  const n = values.length;
  const rank = q * (n - 1);
  const lowerIndex = Math.max(0, Math.floor(rank));
  const upperIndex = Math.min(n - 1, lowerIndex + 1);
  const weight = rank - Math.floor(rank);
  return values[lowerIndex]! * (1 - weight) + values[upperIndex]! * weight;
}

/** parseLe parses an `le` label value as Go's strconv.ParseFloat would; NaN when invalid. */
export function parseLe(s: string): number {
  const t = s.trim();
  if (t !== s || t === '') return NaN;
  const lower = t.toLowerCase();
  if (lower === '+inf' || lower === 'inf' || lower === '+infinity' || lower === 'infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  if (lower === 'nan') return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t) && !/^[+-]?0x[0-9a-f]+$/i.test(t)) return NaN;
  return Number(t);
}

/** formatFloat renders a float as Go's strconv.FormatFloat(f, 'f', -1, 64) does. */
export function formatFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  const s = String(v);
  if (!s.includes('e')) return s;
  const [mant, expStr] = s.split('e') as [string, string];
  const exp = Number(expStr);
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  const pointPos = (mant.replace('-', '').indexOf('.') === -1 ? mant.replace('-', '').length : mant.replace('-', '').indexOf('.')) + exp;
  let out: string;
  if (pointPos <= 0) out = '0.' + '0'.repeat(-pointPos) + digits;
  else if (pointPos >= digits.length) out = digits + '0'.repeat(pointPos - digits.length);
  else out = digits.slice(0, pointPos) + '.' + digits.slice(pointPos);
  return (neg ? '-' : '') + out;
}
