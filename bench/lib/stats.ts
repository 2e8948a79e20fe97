// Order statistics the benchmarks report.

/** pct is the p-quantile (0..1) of an ascending array: the element at floor(p * n), clamped. */
export function pct(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** median of unsorted values (the upper middle one for an even count); the input is not changed. */
export function median(xs: readonly number[]): number {
  return pct([...xs].sort((a, b) => a - b), 0.5);
}
